package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// TestMenu drives the menu through stdin, one entry per case, and
// compares the transcript with testdata/menu_NAME.golden. Invalid answers
// must be asked again without anything reaching the server: calls is the
// number of StockService RPCs the server saw.
func TestMenu(t *testing.T) {
	t.Parallel()
	tests := []goldenCase{
		{name: "eof", input: ""},
		{name: "exit", input: "11\n"},
		{name: "quit", input: "q\n"},
		{name: "quit_word", input: " Quit \n"},
		{name: "exit_word", input: "exit\n"},
		// The e-mail given once is offered, and taken by an empty answer.
		{name: "remembered_email", input: "4\nalice@example.com\n5\n\n6\n\n2\n4\nbob@example.com\n5\n\nq\n", calls: 5},
		{name: "invalid_choice", input: "0\n12\nthree\n\n 11 \n"},
		{name: "register", input: "1\nDave@Example.com\nbrk-b\n11\n", calls: 1,
			check: func(tb testing.TB, srv *clienttest.Server) {
				if n := storetest.Count(tb, srv.DB, "users", "email = ? AND ticker = ?", "dave@example.com", "BRK-B"); n != 1 {
					tb.Errorf("dave@example.com tracking BRK-B: %d rows, want 1", n)
				}
			}},
		{name: "register_invalid", calls: 1,
			input: "1\nnot an e-mail\n\nDave <dave@example.com>\ndave@example.com\nAAPL;\n\n$$$\naapl\n11\n"},
		{name: "register_exists", input: "1\nalice@example.com\nMSFT\n11\n", calls: 1},
		{name: "register_invalid_email_eof", input: "1\nalice@\n"},
		{name: "register_invalid_ticker_eof", input: "1\ndave@example.com\nnot a ticker\n"},
		{name: "update", input: "2\nalice@example.com\nmsft\n11\n", calls: 1,
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "users tracking MSFT", storetest.Count(tb, srv.DB, "users", "ticker = ?", "MSFT"), 2)
			}},
		{name: "update_not_found", input: "2\nnobody@example.com\nMSFT\n", calls: 1},
		// The second delete takes the remembered e-mail: it is gone.
		{name: "delete", input: "3\nbob@example.com\ny\n3\n\nyes\n11\n", calls: 2,
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "users", storetest.Count(tb, srv.DB, "users", ""), 2)
			}},
		{name: "show_user", input: "4\nx\nALICE@example.com\n4\nnobody@example.com\n11\n", calls: 2},
		{name: "latest", input: "5\nalice@example.com\n5\ncarol@example.com\n5\nbob@example.com\n11\n", calls: 3},
		{name: "average", input: "6\nalice@example.com\nabc\n0\n10001\n-3\n2.5\n\n2\n11\n", calls: 1},
		{name: "average_fewer", input: "6\nbob@example.com\n10000\n11\n", calls: 1},
		{name: "average_invalid_count_eof", input: "6\nalice@example.com\nten\n"},
		// The e-mail is remembered; the range is asked again until valid,
		// and an empty answer is 24h.
		{name: "history", input: "7\nalice@example.com\n\n7\n\nsoon\n367d\n60d\n11\n", calls: 2},
		{name: "show_all", input: "8\n11\n", calls: 2},
		{name: "show_all_paged", input: "8\nmaybe\n\n\n11\n", calls: 4, arrange: manyRows},
		{name: "show_all_quit", input: "8\nq\nq\n11\n", calls: 2, arrange: manyRows},
		{name: "show_all_unauthenticated", input: "8\n11\n", token: "s3cret", calls: 1},
		{name: "delete_no", input: "3\nbob@example.com\nmaybe\n\n3\n\nn\nq\n"},
		{name: "purge", input: "9\nsoon\n-1h\n0\n30\n30d\ny\n11\n", calls: 1,
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "prices left", storetest.Count(tb, srv.DB, "stock_prices", ""), 4)
			}},
		{name: "purge_invalid_eof", input: "9\nyesterday\n"},
		// Price alert: a user without a band sets one (bad answers asked
		// again, a bad band asks for all of it again), the remembered
		// e-mail shows it and clears it; an unknown user is an error.
		{name: "alert", calls: 4,
			input: "10\nalice@example.com\nx\ns\nlots\n180\n210\n\n210\n180\nhttps://hooks.example.com/sw\nmaybe\ny\n10\n\nc\n11\n",
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "bands", storetest.Count(tb, srv.DB, "alerts", ""), 0)
			}},
		{name: "alert_show_back", input: "10\nalice@example.com\n\n11\n", calls: 1, arrange: aliceBand},
		{name: "alert_not_found", input: "10\nnobody@example.com\n11\n", calls: 1},
		{name: "alert_eof", input: "10\nalice@example.com\ns\n190\n", calls: 1},
		{name: "crlf", input: "4\r\nalice@example.com\r\n11\r\n", calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.args = []string{"-o", "json"} // -o json must not change the menu: it is for people.
			tt.run(t, "menu_"+tt.name)
		})
	}
}

// manyRows adds users and prices enough for two pages of each.
func manyRows(tb testing.TB, srv *clienttest.Server) {
	tb.Helper()
	var ps []stock.Price
	for i := range 22 {
		srv.AddUser(tb, fmt.Sprintf("user%02d@example.com", i), "GOOG")
		mt := clienttest.Now.Truncate(time.Hour).Add(-time.Duration(i) * time.Hour)
		ps = append(ps, stock.Price{Ticker: "GOOG", Price: 170 + float64(i)/4, Currency: "USD", MarketTime: mt, CollectTime: mt})
	}
	srv.InsertPrices(tb, ps...)
	srv.SetTickerStatus(tb, stock.TickerVerified, "GOOG")
}

// TestMenuInterrupted checks that Ctrl-C (the context's end) stops a menu
// waiting for input that never comes.
func TestMenuInterrupted(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		done <- run(ctx, nil, proc{stdin: pr, stdout: io.Discard, stderr: io.Discard, lookupEnv: cliconfig.MapEnv{"STOCKWATCH_ADDR": srv.Addr}.Lookup, now: time.Now})
	}()
	if _, err := io.WriteString(pw, "4\n"); err != nil { // now it waits for the e-mail
		t.Fatal(err)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitInterrupted {
			t.Errorf("exit status = %d, want %d", code, exitInterrupted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the menu did not stop when its context ended")
	}
	testkit.WantCount(t, "RPCs sent", srv.StockCalls(), 0)
}

func TestMenuUnreachableServer(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1 of the loopback: every call is refused,
	// and the menu says so and goes on.
	r := runCLI(t, t.Context(), "127.0.0.1:1", nil, "4\nalice@example.com\nq\n", "-retries", "0")
	if r.code != 0 {
		t.Errorf("exit status = %d, want 0", r.code)
	}
	if want := "Error: cannot reach stockwatchd at ADDR (connection refused) — is it running? set -addr or STOCKWATCH_ADDR\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout does not say %q:\n%s", want, r.stdout)
	}
}
