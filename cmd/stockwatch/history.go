package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// historyPoints is the number of points history asks for: one character
// each of a sparkline that fits a terminal line with room to spare.
const historyPoints = 60

// The bounds of latest -every: often enough to see each price the
// collector stores within seconds, seldom enough that a forgotten watch
// costs the server next to nothing.
const (
	defaultEvery = 15 * time.Second
	minEvery     = time.Second // as check's message says
	maxEvery     = time.Hour
)

// period is the -since flag of history: how far back from now, as
// purge's OLDER_THAN reads it (36h, 7d, 1d12h).
type period struct {
	arg string        // as given
	d   time.Duration // parsed by check
}

// flags defines -since.
func (pd *period) flags(fs *flag.FlagSet) {
	fs.StringVar(&pd.arg, "since", "24h", "how far back from now: a Go `duration` or days (24h, 7d, 30d; at most 366d)")
}

// check parses -since.
func (pd *period) check() error {
	d, err := parseRange(pd.arg)
	if err != nil {
		return fmt.Errorf("-since: %w", err)
	}
	pd.d = d
	return nil
}

// ask is the menu's question for the range: an empty answer keeps 24h.
func (pd *period) ask() arg {
	return arg{name: "SINCE", prompt: "How far back (e.g. 24h, 7d, 30d) [24h]: ", parse: func(_ *params, s string) error {
		if s == "" {
			s = "24h"
		}
		d, err := parseRange(s)
		if err != nil {
			return err
		}
		pd.arg, pd.d = s, d
		return nil
	}}
}

// parseRange parses the range of a history, as parseAge does, and bounds
// it by the server's stock.MaxHistoryRange.
func parseRange(s string) (time.Duration, error) {
	d, err := parseAge(s)
	if err != nil {
		return 0, err
	}
	if d > stock.MaxHistoryRange {
		return 0, fmt.Errorf("period %q is longer than %dd", s, stock.MaxHistoryRange/(24*time.Hour))
	}
	return d, nil
}

func historyCmd() *command {
	var since period
	return &command{
		name:    "history",
		args:    []arg{emailArg},
		summary: "sparkline of the user's prices, with first/last/min/max",
		help: "Shows the prices of the ticker EMAIL tracks over the last -since (24h by default; 7d, 30d, at most\n" +
			"366d) as a one-line sparkline of up to 60 points, then the first, last, lowest and highest price and\n" +
			"the change from first to last. With -o json: the PriceHistory object. Fails with NOT_FOUND if EMAIL\n" +
			"is not registered.",
		example: "stockwatch history alice@example.com -since 7d",
		flags:   since.flags,
		check:   since.check,
		asks:    []arg{since.ask()},
		run: func(ctx context.Context, s *session, p params) error {
			// The range ends at the printer's clock, which also dates the
			// prices of latest: one clock for the client.
			until := s.out.now()
			_, err := respond(ctx, s, p, func(ctx context.Context, c *client.Client, p params) (*pb.PriceHistory, error) {
				return c.GetPriceHistory(ctx, p.email, until.Add(-since.d), until, historyPoints)
			}, func(out *printer, _ params, h *pb.PriceHistory) error {
				return out.historyText(h, since.arg)
			})
			return err
		},
	}
}

// watch holds the flags of latest: -watch and -every.
type watch struct {
	on    bool
	every time.Duration
}

func (w *watch) flags(fs *flag.FlagSet) {
	fs.BoolVar(&w.on, "watch", false, "query again every -every until Ctrl-C; print a line when the price or its market time changes")
	cliconfig.DurationVar(fs, &w.every, "every", defaultEvery, "the `interval` of -watch (1s to 1h)")
}

// check bounds -every.
func (w *watch) check() error {
	if w.every < minEvery || w.every > maxEvery {
		return fmt.Errorf("-every: must be from 1s to 1h, got %s", w.every)
	}
	return nil
}

// run is latest's run: one call, or with -watch a call every -every
// until ctx ends.
func (w *watch) run(ctx context.Context, s *session, p params) error {
	if !w.on {
		return rpc(byEmail((*client.Client).GetLatestPrice), answer((*printer).priceText))(ctx, s, p)
	}
	t := time.NewTicker(w.every)
	defer t.Stop()
	return watchLatest(ctx, s, p, func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	})
}

// watchLatest prints the latest price of p.email as latest does, then,
// each time wait returns nil, asks again and prints it again only when
// the price or its market time changed. It returns nil when ctx ends
// (Ctrl-C is a normal way to stop), or the first failed call's error.
func watchLatest(ctx context.Context, s *session, p params, wait func(context.Context) error) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	var last *pb.Price
	for {
		pr, err := c.GetLatestPrice(ctx, p.email)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		}
		if last == nil || pr.GetPrice() != last.GetPrice() || !proto.Equal(pr.GetMarketTime(), last.GetMarketTime()) {
			if s.out.json {
				err = s.out.message(pr)
			} else {
				err = s.out.priceText(pr)
			}
			if err != nil {
				return err
			}
			last = pr
		}
		if wait(ctx) != nil {
			return nil
		}
	}
}
