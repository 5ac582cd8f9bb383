package main

import "context"

func registerCmd() *command {
	return &command{
		name:    "register",
		args:    "EMAIL TICKER",
		summary: "register a user who tracks TICKER",
		help: "Registers EMAIL to track TICKER, and says when TICKER is not verified with Yahoo Finance yet. Fails with\n" +
			"ALREADY_EXISTS if EMAIL is registered, INVALID_ARGUMENT if Yahoo Finance does not know TICKER.",
		example: "stockwatch register alice@example.com AAPL",
		minArgs: 2, maxArgs: 2,
		run: func(ctx context.Context, s *session, args []string) error {
			email, err := emailArg("register", args[0])
			if err != nil {
				return err
			}
			ticker, err := tickerArg("register", args[1])
			if err != nil {
				return err
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			u, err := c.RegisterUser(ctx, email, ticker)
			if err != nil {
				return err
			}
			if s.out.json {
				return s.out.message(u)
			}
			return s.out.savedText("Registered %s, tracking %s.", u)
		},
	}
}
