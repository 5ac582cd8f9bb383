package main

import "context"

func averageCmd() *command {
	return &command{
		name:    "average",
		args:    "EMAIL COUNT",
		summary: "average of the user's last COUNT prices (1-10000)",
		help: "Shows the mean of the newest COUNT (1-10000) prices of the ticker EMAIL tracks, or of all of them\n" +
			"when fewer are stored. Fails with NOT_FOUND if EMAIL is not registered, FAILED_PRECONDITION if no\n" +
			"price has been collected yet.",
		example: "stockwatch average alice@example.com 10",
		minArgs: 2, maxArgs: 2,
		run: func(ctx context.Context, s *session, args []string) error {
			email, err := emailArg("average", args[0])
			if err != nil {
				return err
			}
			n, err := countArg("average", args[1])
			if err != nil {
				return err
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			a, err := c.GetAveragePrice(ctx, email, n)
			if err != nil {
				return err
			}
			if s.out.json {
				return s.out.message(a)
			}
			return s.out.averageText(a)
		},
	}
}
