package main

import "context"

func latestCmd() *command {
	return &command{
		name:    "latest",
		args:    "EMAIL",
		summary: "latest price of the user's ticker",
		help:    "Shows the newest collected price of the ticker EMAIL tracks. Fails with NOT_FOUND if EMAIL is not registered, FAILED_PRECONDITION if no price has been collected yet.",
		example: "stockwatch latest alice@example.com",
		minArgs: 1, maxArgs: 1,
		run: func(ctx context.Context, s *session, args []string) error {
			email, err := emailArg("latest", args[0])
			if err != nil {
				return err
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			p, err := c.GetLatestPrice(ctx, email)
			if err != nil {
				return err
			}
			if s.out.json {
				return s.out.message(p)
			}
			return s.out.priceText(p)
		},
	}
}
