package main

import (
	"context"
	"strings"
)

func purgeCmd() *command {
	return &command{
		name:    "purge",
		args:    "OLDER_THAN",
		summary: "delete prices collected more than OLDER_THAN ago (admin)",
		help: "Deletes the prices collected more than OLDER_THAN ago. OLDER_THAN is a Go duration (36h, 90m)\n" +
			"or a number of days (30d, or 1d12h). Needs -token when the server has an admin token.",
		example: "stockwatch purge 30d",
		minArgs: 1, maxArgs: 1,
		run: func(ctx context.Context, s *session, args []string) error {
			age, err := parseAge(args[0])
			if err != nil {
				return usagef("purge", "%v", err)
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			resp, err := c.DeletePrices(ctx, age)
			if err != nil {
				return err
			}
			if s.out.json {
				return s.out.message(resp)
			}
			return s.out.text("Deleted %s collected more than %s ago.",
				plural(resp.GetDeletedCount(), "price", "prices"), strings.TrimSpace(args[0]))
		},
	}
}
