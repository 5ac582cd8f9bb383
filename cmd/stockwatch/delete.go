package main

import "context"

func deleteCmd() *command {
	return &command{
		name:    "delete",
		args:    "EMAIL",
		summary: "delete a user",
		help:    "Deletes the user EMAIL. Prices stay: they belong to the ticker. Fails with NOT_FOUND if EMAIL is not registered.",
		example: "stockwatch delete alice@example.com",
		minArgs: 1, maxArgs: 1,
		run: func(ctx context.Context, s *session, args []string) error {
			email, err := emailArg("delete", args[0])
			if err != nil {
				return err
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			resp, err := c.DeleteUser(ctx, email)
			if err != nil {
				return err
			}
			if s.out.json {
				return s.out.message(resp)
			}
			return s.out.text("Deleted %s.", email)
		},
	}
}
