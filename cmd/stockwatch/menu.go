package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// menuPageSize is how many rows "Show all data" prints before it asks
// whether to go on: about a screenful.
const menuPageSize = 20

// errQuit ends the menu: EOF on stdin or the Exit entry.
var errQuit = errors.New("quit")

// menu is the interactive client. It reads answers line by line, so a
// pipe works as well as a terminal; every answer is checked with the
// server's own validation before anything is sent, and an invalid one is
// asked again.
type menu struct {
	s     *session
	in    *lines
	w     io.Writer
	items []menuItem
	email string // the e-mail last given, offered as the default
}

type menuItem struct {
	title string
	run   func(ctx context.Context) error
}

// runMenu runs the menu until Exit, EOF (status 0) or ctx's end (130).
func runMenu(ctx context.Context, s *session, stdin io.Reader) int {
	done := make(chan struct{})
	defer close(done)
	m := &menu{s: s, in: newLines(stdin, done), w: s.stdout}
	m.items = []menuItem{
		{"Register a user", m.command("register")},
		{"Update a user's ticker", m.command("update")},
		{"Delete a user", m.command("delete")},
		{"Show a user", m.command("user")},
		{"Latest value", m.command("latest")},
		{"Average of the last X values", m.command("average")},
		{"Price history (sparkline)", m.command("history")},
		{"Show all data (users, then prices)" + admin(s.cfg), m.showAll},
		{"Delete data older than a period" + admin(s.cfg), m.command("purge")},
		{"Price alert (show, set, clear)", m.alert},
		{"Exit", func(context.Context) error { return errQuit }},
	}
	// The menu prints text whatever -o says: it is for people.
	m.s.out = newPrinter(s.stdout, false, s.out.loc, s.out.now)
	fmt.Fprintf(m.w, "Stockwatch client, server %s. q or Ctrl-D exits.\n", s.cfg.addr)
	if s.cfg.token == "" {
		fmt.Fprintln(m.w, "No admin token is set: the (admin) entries work only if the server has none (-token, STOCKWATCH_TOKEN or token_file sets one).")
	}
	for {
		err := m.once(ctx)
		switch {
		case errors.Is(err, errQuit):
			return exitOK
		case ctx.Err() != nil:
			fmt.Fprintln(m.w)
			return exitInterrupted
		case err != nil:
			fmt.Fprintf(s.stderr, "stockwatch: reading input: %v\n", err)
			return exitFailed
		}
	}
}

// once shows the menu, runs one entry and reports its failure, if any, as
// one line. It returns only the errors that end the menu.
func (m *menu) once(ctx context.Context) error {
	fmt.Fprintln(m.w)
	for i, it := range m.items {
		fmt.Fprintf(m.w, "  %d) %s\n", i+1, it.title)
	}
	var item menuItem
	err := m.ask(ctx, fmt.Sprintf("Choose 1-%d or q: ", len(m.items)), func(s string) error {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "q", "quit", "exit":
			item = m.items[len(m.items)-1]
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > len(m.items) {
			return fmt.Errorf("please choose a number from 1 to %d, or q to quit", len(m.items))
		}
		item = m.items[n-1]
		return nil
	})
	if err != nil {
		return err
	}
	err = item.run(ctx)
	var ue *cliconfig.UsageError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errQuit), errors.Is(err, io.EOF), ctx.Err() != nil:
		return err
	case errors.As(err, &ue):
		fmt.Fprintf(m.w, "Error: %s\n", ue)
	default:
		fmt.Fprintf(m.w, "Error: %s\n", explain(err, m.s.cfg).Message)
	}
	return nil
}

// ask prints prompt and reads answers until check accepts one, printing
// check's complaint after each rejected answer. EOF returns errQuit.
func (m *menu) ask(ctx context.Context, prompt string, check func(string) error) error {
	for {
		fmt.Fprint(m.w, prompt)
		line, err := m.in.next(ctx)
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(m.w)
			return errQuit
		}
		if err != nil {
			return err
		}
		if err := check(line); err != nil {
			fmt.Fprintf(m.w, "  %v\n", err)
			continue
		}
		return nil
	}
}

// command is the entry that runs the command name: it asks for each of
// the command's arguments until the server's rules accept the answer (an
// empty e-mail is the one given last), asks for confirmation if the
// command does, then runs it. The menu's printer prints text whatever -o
// says.
func (m *menu) command(name string) func(ctx context.Context) error {
	c := lookup(name)
	return func(ctx context.Context) error {
		var p params
		for _, a := range append(slices.Clip(c.args), c.asks...) {
			prompt := a.prompt
			if a.name == emailArg.name && m.email != "" {
				prompt = fmt.Sprintf("E-mail [%s]: ", m.email)
			}
			err := m.ask(ctx, prompt, func(s string) error {
				if a.name == emailArg.name && strings.TrimSpace(s) == "" && m.email != "" {
					s = m.email
				}
				return a.parse(&p, s)
			})
			if err != nil {
				return err
			}
		}
		if p.email != "" {
			m.email = p.email
		}
		if c.confirm != nil {
			ok, err := m.confirm(ctx, c.confirm(p))
			if err != nil || !ok {
				return err
			}
		}
		if err := c.run(ctx, m.s, p); err != nil {
			return &opError{err: err, p: p}
		}
		return nil
	}
}

// confirm asks whether to do what, "No" by default; after a no it says
// that nothing was done.
func (m *menu) confirm(ctx context.Context, what string) (bool, error) {
	var ok bool
	err := m.ask(ctx, fmt.Sprintf("Really %s? [y/N] ", what), func(s string) error {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "y", "yes":
			ok = true
		case "", "n", "no":
			ok = false
		default:
			return errors.New("please answer y or n")
		}
		return nil
	})
	if err == nil && !ok {
		fmt.Fprintln(m.w, "Nothing deleted.")
	}
	return ok, err
}

// admin marks a menu entry that needs the admin token when the server
// has one, unless a token is configured.
func admin(cfg config) string {
	if cfg.token != "" {
		return ""
	}
	return " (admin)"
}

// showAll prints the users with their latest price, then the prices,
// menuPageSize rows at a time.
func (m *menu) showAll(ctx context.Context) error {
	c, err := m.s.client()
	if err != nil {
		return err
	}
	fmt.Fprintln(m.w, "Users:")
	err = showPages(ctx, m, "users", c.UserPages(ctx, menuPageSize), (*pb.ListUsersResponse).GetUsers, m.s.out.usersTable)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.w, "Prices, newest first:")
	return showPages(ctx, m, "prices", c.PricePages(ctx, "", menuPageSize), (*pb.ListPricesResponse).GetPrices, m.s.out.pricesTable)
}

// showPages prints the rows of each page as a table, and asks before
// each next page (which is fetched only if the answer is yes); "No
// <what>." when there are no rows at all.
func showPages[P interface{ GetNextPageToken() string }, T any](ctx context.Context, m *menu, what string,
	pages iter.Seq2[P, error], rows func(P) []T, table func([]T) error) error {
	shown := 0
	for page, err := range pages {
		if err != nil {
			return err
		}
		if r := rows(page); len(r) > 0 {
			if err := table(r); err != nil {
				return err
			}
			shown += len(r)
		}
		if page.GetNextPageToken() == "" {
			break
		}
		if more, err := m.more(ctx, what); err != nil || !more {
			return err
		}
	}
	if shown == 0 {
		fmt.Fprintf(m.w, "No %s.\n", what)
	}
	return nil
}

// more asks whether to show the next page of what.
func (m *menu) more(ctx context.Context, what string) (bool, error) {
	var more bool
	err := m.ask(ctx, fmt.Sprintf("-- more %s: Enter shows the next page, q stops -- ", what), func(s string) error {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "":
			more = true
		case "q":
			more = false
		default:
			return errors.New("press Enter for more, or q to stop")
		}
		return nil
	})
	return more, err
}

// lines delivers stdin line by line. A goroutine does the reading so that
// a prompt can give up when ctx ends (Ctrl-C) while a read blocks.
type lines struct {
	ch  chan string
	err error // set before ch closes: nil for EOF
}

// newLines starts reading r; the reader stops once done is closed (after
// its current read returns).
func newLines(r io.Reader, done <-chan struct{}) *lines {
	l := &lines{ch: make(chan string)}
	go func() {
		defer close(l.ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case l.ch <- strings.TrimSuffix(sc.Text(), "\r"):
			case <-done:
				return
			}
		}
		l.err = sc.Err()
	}()
	return l
}

// next returns the next line without its end, io.EOF at the end of the
// input, or ctx's error.
func (l *lines) next(ctx context.Context) (string, error) {
	select {
	case s, ok := <-l.ch:
		if !ok {
			if l.err != nil {
				return "", l.err
			}
			return "", io.EOF
		}
		return s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
