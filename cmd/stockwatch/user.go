package main

import "context"

func userCmd() *command {
	return &command{
		name:    "user",
		args:    "EMAIL",
		summary: "show a user",
		help: "Shows the user EMAIL: the ticker tracked, its status (verified, unverified: not checked with Yahoo Finance\n" +
			"yet, or unknown to Yahoo Finance), and when the user was registered and last updated. Fails with\n" +
			"NOT_FOUND if EMAIL is not registered.",
		example: "stockwatch user alice@example.com",
		minArgs: 1, maxArgs: 1,
		run: func(ctx context.Context, s *session, args []string) error {
			email, err := emailArg("user", args[0])
			if err != nil {
				return err
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			u, err := c.GetUser(ctx, email)
			if err != nil {
				return err
			}
			if s.out.json {
				return s.out.message(u)
			}
			return s.out.userText(u)
		},
	}
}
