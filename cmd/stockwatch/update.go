package main

import "context"

func updateCmd() *command {
	return &command{
		name:    "update",
		args:    "EMAIL TICKER",
		summary: "change the ticker a user tracks",
		help: "Makes the registered user EMAIL track TICKER instead, and says when TICKER is not verified with Yahoo\n" +
			"Finance yet. Fails with NOT_FOUND if EMAIL is not registered, INVALID_ARGUMENT if Yahoo Finance does not\n" +
			"know TICKER.",
		example: "stockwatch update alice@example.com MSFT",
		minArgs: 2, maxArgs: 2,
		run: func(ctx context.Context, s *session, args []string) error {
			email, err := emailArg("update", args[0])
			if err != nil {
				return err
			}
			ticker, err := tickerArg("update", args[1])
			if err != nil {
				return err
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			u, err := c.UpdateUser(ctx, email, ticker)
			if err != nil {
				return err
			}
			if s.out.json {
				return s.out.message(u)
			}
			return s.out.savedText("Updated %s, now tracking %s.", u)
		},
	}
}
