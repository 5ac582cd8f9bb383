package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/stock"
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
		{"Register a user", m.register},
		{"Update a user's ticker", m.update},
		{"Delete a user", m.delete},
		{"Show a user", m.showUser},
		{"Latest value", m.latest},
		{"Average of the last X values", m.average},
		{"Show all data (users, then prices)", m.showAll},
		{"Delete data older than a period", m.purge},
		{"Exit", func(context.Context) error { return errQuit }},
	}
	// The menu prints text whatever -o says: it is for people.
	m.s.out = newPrinter(s.stdout, false, s.out.loc)
	fmt.Fprintf(m.w, "Stockwatch client, server %s. Ctrl-D exits.\n", s.cfg.addr)
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
	err := m.ask(ctx, fmt.Sprintf("Choose 1-%d: ", len(m.items)), func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > len(m.items) {
			return fmt.Errorf("please choose a number from 1 to %d", len(m.items))
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
		fmt.Fprintf(m.w, "Error: %s\n", describe(err))
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

func (m *menu) askEmail(ctx context.Context) (string, error) {
	return m.askParsed(ctx, "E-mail: ", stock.ParseEmail)
}

func (m *menu) askTicker(ctx context.Context) (string, error) {
	return m.askParsed(ctx, "Ticker (e.g. AAPL, BRK-B, ^GSPC, EURUSD=X): ", stock.ParseTicker)
}

// askParsed asks until parse, the server's own validation, accepts the
// answer, and returns its normalised form.
func (m *menu) askParsed(ctx context.Context, prompt string, parse func(string) (string, error)) (string, error) {
	var v string
	err := m.ask(ctx, prompt, func(s string) error {
		var err error
		v, err = parse(s)
		return domainErr(err)
	})
	return v, err
}

// domainErr shows a validation error by its client-safe message.
func domainErr(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(stock.MessageOf(err))
}

func (m *menu) register(ctx context.Context) error {
	return m.setTicker(ctx, (*client.Client).RegisterUser, "Registered %s, tracking %s.")
}

func (m *menu) update(ctx context.Context) error {
	return m.setTicker(ctx, (*client.Client).UpdateUser, "Updated %s, now tracking %s.")
}

// setTicker asks for an e-mail and a ticker, sends them with call
// (register or update), and prints the user's e-mail and ticker with
// format, and the ticker's status unless it is verified.
func (m *menu) setTicker(ctx context.Context, call func(*client.Client, context.Context, string, string) (*pb.User, error), format string) error {
	email, err := m.askEmail(ctx)
	if err != nil {
		return err
	}
	ticker, err := m.askTicker(ctx)
	if err != nil {
		return err
	}
	c, err := m.s.client()
	if err != nil {
		return err
	}
	u, err := call(c, ctx, email, ticker)
	if err != nil {
		return err
	}
	return m.s.out.savedText(format, u)
}

// emailAndClient asks for an e-mail and returns it with the client to
// send it with.
func (m *menu) emailAndClient(ctx context.Context) (string, *client.Client, error) {
	email, err := m.askEmail(ctx)
	if err != nil {
		return "", nil, err
	}
	c, err := m.s.client()
	return email, c, err
}

func (m *menu) delete(ctx context.Context) error {
	email, c, err := m.emailAndClient(ctx)
	if err != nil {
		return err
	}
	if _, err := c.DeleteUser(ctx, email); err != nil {
		return err
	}
	return m.s.out.text("Deleted %s.", email)
}

func (m *menu) showUser(ctx context.Context) error {
	return askAndShow(ctx, m, (*client.Client).GetUser, m.s.out.userText)
}

func (m *menu) latest(ctx context.Context) error {
	return askAndShow(ctx, m, (*client.Client).GetLatestPrice, m.s.out.priceText)
}

// askAndShow asks for an e-mail, sends it with get and prints the answer
// with show.
func askAndShow[T any](ctx context.Context, m *menu, get func(*client.Client, context.Context, string) (T, error), show func(T) error) error {
	email, c, err := m.emailAndClient(ctx)
	if err != nil {
		return err
	}
	v, err := get(c, ctx, email)
	if err != nil {
		return err
	}
	return show(v)
}

func (m *menu) average(ctx context.Context) error {
	email, err := m.askEmail(ctx)
	if err != nil {
		return err
	}
	var n int
	err = m.ask(ctx, fmt.Sprintf("How many values (%d-%d): ", stock.MinCount, stock.MaxCount), func(s string) error {
		var err error
		n, err = parseCount(s)
		return err
	})
	if err != nil {
		return err
	}
	c, err := m.s.client()
	if err != nil {
		return err
	}
	a, err := c.GetAveragePrice(ctx, email, n)
	if err != nil {
		return err
	}
	return m.s.out.averageText(a)
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

func (m *menu) purge(ctx context.Context) error {
	var (
		age string
		d   time.Duration
	)
	err := m.ask(ctx, "Delete prices older than (e.g. 36h, 30d): ", func(s string) error {
		var err error
		d, err = parseAge(s)
		age = strings.TrimSpace(s)
		return err
	})
	if err != nil {
		return err
	}
	c, err := m.s.client()
	if err != nil {
		return err
	}
	resp, err := c.DeletePrices(ctx, d)
	if err != nil {
		return err
	}
	return m.s.out.text("Deleted %s collected more than %s ago.", plural(resp.GetDeletedCount(), "price", "prices"), age)
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
