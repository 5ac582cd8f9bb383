package main

import (
	"context"
	"flag"
)

func pricesCmd() *command {
	var limit int
	return &command{
		name:    "prices",
		args:    "[TICKER]",
		summary: "stored prices, newest first (admin)",
		help: "Lists the stored prices of TICKER, or of every ticker, newest first; all pages unless -limit\n" +
			"says otherwise. With -o json: one Price object per line. Needs -token when the server has an\n" +
			"admin token (UNAUTHENTICATED otherwise).",
		example: "stockwatch prices -limit 10 AAPL",
		minArgs: 0, maxArgs: 1,
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&limit, "limit", 0, "print at most `N` prices (0: all)")
		},
		run: func(ctx context.Context, s *session, args []string) error {
			if limit < 0 {
				return usagef("prices", "-limit: must not be negative, got %d", limit)
			}
			var ticker string
			if len(args) == 1 {
				var err error
				if ticker, err = tickerArg("prices", args[0]); err != nil {
					return err
				}
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			return list(s.out, c.AllPrices(ctx, ticker, pageSize(limit)), limit, "No prices.", s.out.pricesTable)
		},
	}
}
