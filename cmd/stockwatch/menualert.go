package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"google.golang.org/grpc/status"
)

// alert is the menu's "Price alert" entry: it asks for the e-mail, shows
// the band (alert-show), then offers to set it (alert-set, asking for
// what its flags give) or to clear it (alert-clear). It runs the
// commands' own declarations, so the rules and the output are theirs.
func (m *menu) alert(ctx context.Context) error {
	var p params
	prompt := emailArg.prompt
	if m.email != "" {
		prompt = fmt.Sprintf("E-mail [%s]: ", m.email)
	}
	err := m.ask(ctx, prompt, func(s string) error {
		if strings.TrimSpace(s) == "" && m.email != "" {
			s = m.email
		}
		return emailArg.parse(&p, s)
	})
	if err != nil {
		return err
	}
	m.email = p.email
	set := true
	if err := lookup("alert-show").run(ctx, m.s, p); err != nil {
		st, ok := status.FromError(err)
		if !ok || !noBand(st) {
			return &opError{err: err, p: p}
		}
		fmt.Fprintf(m.w, "%s has no price alert.\n", p.email)
		set = false
	}
	choices := "s sets one, Enter goes back: "
	if set {
		choices = "s sets another, c clears it, Enter goes back: "
	}
	var choice string
	err = m.ask(ctx, choices, func(s string) error {
		choice = strings.ToLower(strings.TrimSpace(s))
		if choice == "" || choice == "s" || (set && choice == "c") {
			return nil
		}
		if set {
			return errors.New("please answer s, c or Enter")
		}
		return errors.New("please answer s or Enter")
	})
	if err != nil {
		return err
	}
	var c *command
	switch choice {
	case "":
		return nil
	case "c":
		c = lookup("alert-clear")
	case "s":
		if c, err = m.askBand(ctx); err != nil {
			return err
		}
	}
	if err := c.run(ctx, m.s, p); err != nil {
		return &opError{err: err, p: p}
	}
	return nil
}

// askBand asks for the values of alert-set's flags until its check
// accepts them, and returns the command holding them.
func (m *menu) askBand(ctx context.Context) (*command, error) {
	for {
		c := lookup("alert-set")
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.flags(fs)
		for _, q := range []struct{ flag, prompt string }{
			{"above", "Tell when the price rises above (empty: no upper line): "},
			{"below", "Tell when the price falls below (empty: no lower line): "},
			{"webhook", "Webhook URL (empty: e-mail only): "},
		} {
			err := m.ask(ctx, q.prompt, func(s string) error {
				s = strings.TrimSpace(s)
				if s == "" {
					return nil
				}
				if q.flag != "webhook" {
					if _, err := strconv.ParseFloat(s, 64); err != nil {
						return fmt.Errorf("%q is not a number", s)
					}
				}
				return fs.Set(q.flag, s)
			})
			if err != nil {
				return nil, err
			}
		}
		if fs.Lookup("webhook").Value.String() != "" {
			var both bool
			err := m.ask(ctx, "Also by e-mail? [y/N] ", func(s string) error {
				switch strings.ToLower(strings.TrimSpace(s)) {
				case "y", "yes":
					both = true
				case "", "n", "no":
				default:
					return errors.New("please answer y or n")
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			if both {
				_ = fs.Set("email", "true") // a bool flag takes "true"
			}
		}
		err := c.check()
		if err == nil {
			return c, nil
		}
		fmt.Fprintf(m.w, "  %v; again:\n", err)
	}
}
