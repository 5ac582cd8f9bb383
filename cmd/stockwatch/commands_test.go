package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// TestCommands runs every subcommand against a real in-process server
// holding the seed data, and compares its output (text and JSON) with
// testdata/NAME.golden. "go test -update" rewrites the golden files.
func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []goldenCase{
		// The top level.
		{name: "help", args: []string{"-h"}},
		{name: "unknown_command", args: []string{"buy", "AAPL"}, code: 2},
		{name: "bad_flag", args: []string{"-frobnicate", "users"}, code: 2},
		{name: "bad_output", args: []string{"-o", "yaml", "users"}, code: 2},
		{name: "bad_env", args: []string{"users"}, env: map[string]string{"STOCKWATCH_TIMEOUT": "soon"}, code: 2},
		{name: "bad_tls_file", args: []string{"-ca", "testdata/nonexistent.pem", "health"}, code: 2},
		{name: "did_you_mean", args: []string{"regster", "alice@example.com", "AAPL"}, code: 2},
		{name: "did_you_mean_json", args: []string{"-o", "json", "lates"}, code: 2},
		{name: "help_command", args: []string{"help", "register"}},
		{name: "help_double_dash", args: []string{"prices", "--help"}},
		{name: "bad_timeout_unit", args: []string{"users", "-timeout", "5"}, code: 2},
		{name: "bad_timeout_unit_env", args: []string{"users"}, env: map[string]string{"STOCKWATCH_TIMEOUT": "5"}, code: 2},

		// Flags after the arguments, with one dash or two.
		{name: "latest_flag_after", args: []string{"latest", "alice@example.com", "-o", "json"}, calls: 1},
		{name: "prices_flag_after", args: []string{"prices", "AAPL", "-limit", "2"}, calls: 1},
		{name: "prices_double_dash", args: []string{"prices", "--limit=2", "AAPL", "--o=json"}, calls: 1},

		// The environment twins, with the rules of package cliconfig: a
		// variable set but empty sets its flag to empty; flags win, even
		// given after the command name, even over a bad variable; -h
		// works whatever the environment holds.
		{name: "empty_env_addr", args: []string{"health"}, env: map[string]string{"STOCKWATCH_ADDR": ""}, code: 2},
		{name: "empty_env_output", args: []string{"users"}, env: map[string]string{"STOCKWATCH_OUTPUT": ""}, code: 2},
		{name: "empty_env_retries", args: []string{"users"}, env: map[string]string{"STOCKWATCH_RETRIES": ""}, code: 2},
		{name: "empty_env_token", args: []string{"users", "-limit", "1"}, env: map[string]string{"STOCKWATCH_TOKEN": ""}, calls: 1},
		{name: "flag_wins_over_empty_env", args: []string{"user", "-o", "json", "alice@example.com"}, env: map[string]string{"STOCKWATCH_OUTPUT": ""}, calls: 1},
		{name: "flag_wins_over_bad_env", args: []string{"user", "-timeout", "5s", "alice@example.com"}, env: map[string]string{"STOCKWATCH_TIMEOUT": "soon"}, calls: 1},
		{name: "help_with_bad_env", args: []string{"-h"}, env: map[string]string{"STOCKWATCH_TIMEOUT": "soon"}},
		{name: "command_help_with_bad_env", args: []string{"version", "-h"}, env: map[string]string{"STOCKWATCH_TIMEOUT": "soon"}},

		// register
		{name: "register", args: []string{"register", "Dave@Example.com", "brk-b"}, calls: 1,
			check: func(tb testing.TB, srv *clienttest.Server) {
				if n := storetest.Count(tb, srv.DB, "users", "email = ? AND ticker = ?", "dave@example.com", "BRK-B"); n != 1 {
					tb.Errorf("dave@example.com tracking BRK-B: %d rows, want 1", n)
				}
			}},
		{name: "register_json", args: []string{"-o", "json", "register", "dave@example.com", "AAPL"}, calls: 1},
		{name: "register_exists", args: []string{"register", "alice@example.com", "MSFT"}, code: 1, calls: 1},
		{name: "register_unknown_ticker", args: []string{"register", "dave@example.com", "MSFT"}, code: 1, calls: 1, arrange: msftUnknown},
		{name: "register_bad_email", args: []string{"register", "Alice <alice@example.com>", "AAPL"}, code: 2},
		{name: "register_bad_ticker", args: []string{"register", "dave@example.com", "AAPL;DROP"}, code: 2},
		{name: "register_missing_arg", args: []string{"register", "dave@example.com"}, code: 2},
		{name: "register_help", args: []string{"register", "-h"}},

		// update
		{name: "update", args: []string{"update", "alice@example.com", "msft"}, calls: 1},
		{name: "update_json", args: []string{"update", "-o", "json", "alice@example.com", "MSFT"}, calls: 1},
		{name: "update_not_found", args: []string{"update", "nobody@example.com", "MSFT"}, code: 1, calls: 1},
		{name: "update_extra_arg", args: []string{"update", "alice@example.com", "MSFT", "GOOG"}, code: 2},
		{name: "update_help", args: []string{"update", "-h"}},

		// delete
		{name: "delete", args: []string{"delete", "bob@example.com", "-y"}, calls: 1,
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "users", storetest.Count(tb, srv.DB, "users", ""), 2)
			}},
		{name: "delete_json", args: []string{"-o", "json", "delete", "-y", "bob@example.com"}, calls: 1},
		{name: "delete_not_found", args: []string{"delete", "--yes", "nobody@example.com"}, code: 1, calls: 1},
		{name: "delete_not_found_json", args: []string{"delete", "--yes", "nobody@example.com", "-o", "json"}, code: 1, calls: 1},
		{name: "delete_without_terminal", args: []string{"delete", "bob@example.com"}, code: 2},
		{name: "delete_without_terminal_json", args: []string{"delete", "bob@example.com", "-o", "json"}, code: 2},
		{name: "delete_help", args: []string{"delete", "-h"}},

		// user
		{name: "user", args: []string{"user", "alice@example.com"}, calls: 1},
		{name: "user_json", args: []string{"-o", "json", "user", "ALICE@example.com"}, calls: 1},
		{name: "user_unverified", args: []string{"user", "carol@example.com"}, calls: 1},
		{name: "user_unknown_ticker", args: []string{"user", "carol@example.com"}, calls: 1, arrange: msftUnknown},
		{name: "user_unknown_ticker_json", args: []string{"-o", "json", "user", "carol@example.com"}, calls: 1, arrange: msftUnknown},
		{name: "user_not_found", args: []string{"user", "nobody@example.com"}, code: 1, calls: 1},
		{name: "user_not_found_json", args: []string{"user", "nobody@example.com", "-o", "json"}, code: 1, calls: 1},
		{name: "user_bad_email", args: []string{"user", "alice"}, code: 2},
		{name: "user_help", args: []string{"user", "-h"}},

		// latest
		{name: "latest", args: []string{"latest", "alice@example.com"}, calls: 1},
		{name: "latest_json", args: []string{"-o", "json", "latest", "alice@example.com"}, calls: 1},
		{name: "latest_other_zone", args: []string{"latest", "bob@example.com"}, env: map[string]string{"TZ": "Asia/Tokyo"}, calls: 1},
		{name: "latest_no_price", args: []string{"latest", "carol@example.com"}, code: 1, calls: 1},
		{name: "latest_not_found", args: []string{"latest", "nobody@example.com"}, code: 1, calls: 1},
		{name: "latest_unknown_ticker", args: []string{"latest", "carol@example.com"}, code: 1, calls: 1, arrange: msftUnknown},
		{name: "latest_help", args: []string{"latest", "-h"}},

		// average
		{name: "average", args: []string{"average", "alice@example.com", "3"}, calls: 1},
		{name: "average_json", args: []string{"-o", "json", "average", "alice@example.com", "3"}, calls: 1},
		{name: "average_fewer", args: []string{"average", "alice@example.com", "10"}, calls: 1},
		{name: "average_no_price", args: []string{"average", "carol@example.com", "5"}, code: 1, calls: 1},
		{name: "average_count_zero", args: []string{"average", "alice@example.com", "0"}, code: 2},
		{name: "average_count_not_number", args: []string{"average", "alice@example.com", "ten"}, code: 2},
		{name: "average_help", args: []string{"average", "-h"}},

		// latest -watch (its runs until Ctrl-C are in TestLatestWatch)
		{name: "latest_watch_not_found", args: []string{"latest", "-watch", "nobody@example.com"}, code: 1, calls: 1},
		{name: "latest_bad_every", args: []string{"latest", "alice@example.com", "-watch", "-every", "10ms"}, code: 2},
		{name: "latest_every_too_long", args: []string{"latest", "alice@example.com", "-watch", "--every=2h"}, code: 2},
		{name: "latest_every_no_unit", args: []string{"latest", "alice@example.com", "-watch", "-every", "5"}, code: 2},

		// history
		{name: "history", args: []string{"history", "alice@example.com"}, calls: 1},
		{name: "history_days", args: []string{"history", "-since", "60d", "alice@example.com"}, calls: 1},
		{name: "history_json", args: []string{"-o", "json", "history", "alice@example.com", "-since", "60d"}, calls: 1},
		{name: "history_flat", args: []string{"history", "bob@example.com", "--since=1d12h"}, calls: 1},
		{name: "history_empty_range", args: []string{"history", "alice@example.com", "-since", "1m"}, calls: 1},
		{name: "history_empty_range_json", args: []string{"history", "alice@example.com", "-since", "1m", "-o", "json"}, calls: 1},
		{name: "history_no_price", args: []string{"history", "carol@example.com"}, code: 1, calls: 1},
		{name: "history_not_found", args: []string{"history", "nobody@example.com"}, code: 1, calls: 1},
		{name: "history_bad_since", args: []string{"history", "alice@example.com", "-since", "a while"}, code: 2},
		{name: "history_since_too_long", args: []string{"history", "alice@example.com", "-since", "367d"}, code: 2},
		{name: "history_since_zero", args: []string{"history", "alice@example.com", "-since", "0d"}, code: 2},
		{name: "history_help", args: []string{"history", "-h"}},

		// alert-set, alert-show, alert-clear, notifications
		{name: "alert_set", args: []string{"alert-set", "alice@example.com", "-above", "210", "-below", "180"}, calls: 1,
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "bands", storetest.Count(tb, srv.DB, "alerts", "email = ? AND above = 210 AND below = 180", "alice@example.com"), 1)
			}},
		{name: "alert_set_webhook", args: []string{"alert-set", "alice@example.com", "-below", "180", "-webhook", "https://hooks.example.com/sw", "-email"}, calls: 1},
		{name: "alert_set_webhook_json", args: []string{"-o", "json", "alert-set", "alice@example.com", "-above", "210", "--webhook=https://hooks.example.com/sw"}, calls: 1},
		{name: "alert_set_again", args: []string{"alert-set", "alice@example.com", "-above", "200", "-webhook", "https://hooks.example.com/sw"}, calls: 1, arrange: aliceBand},
		{name: "alert_set_not_found", args: []string{"alert-set", "nobody@example.com", "-above", "210"}, code: 1, calls: 1},
		{name: "alert_set_no_threshold", args: []string{"alert-set", "alice@example.com", "-webhook", "https://hooks.example.com/sw"}, code: 2},
		{name: "alert_set_above_not_number", args: []string{"alert-set", "alice@example.com", "-above", "lots"}, code: 2},
		{name: "alert_set_inverted", args: []string{"alert-set", "alice@example.com", "-above", "180", "-below", "210"}, code: 2},
		{name: "alert_set_negative", args: []string{"alert-set", "alice@example.com", "-below=-5"}, code: 2},
		{name: "alert_set_bad_webhook", args: []string{"alert-set", "alice@example.com", "-above", "210", "-webhook", "ftp://hooks.example.com"}, code: 2},
		{name: "alert_set_help", args: []string{"alert-set", "-h"}},
		{name: "alert_show", args: []string{"alert-show", "alice@example.com"}, calls: 1, arrange: aliceBand},
		{name: "alert_show_json", args: []string{"alert-show", "alice@example.com", "-o", "json"}, calls: 1, arrange: aliceBand},
		{name: "alert_show_none", args: []string{"alert-show", "bob@example.com"}, code: 1, calls: 1},
		{name: "alert_show_none_json", args: []string{"-o", "json", "alert-show", "bob@example.com"}, code: 1, calls: 1},
		{name: "alert_show_not_found", args: []string{"alert-show", "nobody@example.com"}, code: 1, calls: 1},
		{name: "alert_clear", args: []string{"alert-clear", "alice@example.com"}, calls: 1, arrange: aliceBand,
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "bands", storetest.Count(tb, srv.DB, "alerts", ""), 0)
			}},
		{name: "alert_clear_json", args: []string{"-o", "json", "alert-clear", "alice@example.com"}, calls: 1, arrange: aliceBand},
		{name: "alert_clear_none", args: []string{"alert-clear", "alice@example.com"}, code: 1, calls: 1},
		{name: "notifications", args: []string{"notifications", "alice@example.com"}, calls: 1, arrange: aliceCrossings},
		{name: "notifications_json", args: []string{"notifications", "-o", "json", "alice@example.com"}, calls: 1, arrange: aliceCrossings},
		{name: "notifications_limit", args: []string{"notifications", "alice@example.com", "-limit", "1"}, calls: 1, arrange: aliceCrossings},
		{name: "notifications_none", args: []string{"notifications", "bob@example.com"}, calls: 1},
		{name: "notifications_not_found", args: []string{"notifications", "nobody@example.com"}, code: 1, calls: 1},
		{name: "notifications_help", args: []string{"notifications", "-h"}},

		// users
		{name: "users", args: []string{"users"}, calls: 1},
		{name: "users_json", args: []string{"users", "-o", "json"}, calls: 1},
		{name: "users_limit", args: []string{"users", "-limit", "2"}, calls: 1},
		{name: "users_env_json", args: []string{"users"}, env: map[string]string{"STOCKWATCH_OUTPUT": "json"}, calls: 1},
		{name: "users_unauthenticated", args: []string{"users"}, token: "s3cret", code: 1, calls: 1},
		{name: "users_token", args: []string{"-token", "s3cret", "users", "-limit", "1"}, token: "s3cret", calls: 1},
		{name: "users_token_env", args: []string{"users", "-limit", "1"}, token: "s3cret", env: map[string]string{"STOCKWATCH_TOKEN": "s3cret"}, calls: 1},
		{name: "users_wrong_token", args: []string{"users", "-token", "guess"}, token: "s3cret", code: 1, calls: 1},
		{name: "users_unauthenticated_json", args: []string{"users", "-o", "json"}, token: "s3cret", code: 1, calls: 1},
		{name: "users_help", args: []string{"users", "-h"}},

		// prices
		{name: "prices", args: []string{"prices"}, calls: 1},
		{name: "prices_json", args: []string{"-o", "json", "prices"}, calls: 1},
		{name: "prices_ticker", args: []string{"prices", "aapl"}, calls: 1},
		{name: "prices_limit", args: []string{"prices", "-limit", "2", "AAPL"}, calls: 1},
		{name: "prices_none", args: []string{"prices", "MSFT"}, calls: 1},
		{name: "prices_bad_ticker", args: []string{"prices", "not a ticker"}, code: 2},
		{name: "prices_unauthenticated", args: []string{"prices"}, token: "s3cret", code: 1, calls: 1},
		{name: "prices_help", args: []string{"prices", "-h"}},

		// purge
		{name: "purge", args: []string{"purge", "30d", "-y"}, calls: 1,
			check: func(tb testing.TB, srv *clienttest.Server) {
				testkit.WantCount(tb, "prices left", storetest.Count(tb, srv.DB, "stock_prices", ""), 4)
			}},
		{name: "purge_json", args: []string{"-o", "json", "purge", "36h", "-yes"}, calls: 1},
		{name: "purge_none_json", args: []string{"-o", "json", "purge", "3650d", "-y"}, calls: 1},
		{name: "purge_without_terminal", args: []string{"purge", "30d"}, code: 2},
		{name: "purge_bad_period", args: []string{"purge", "a while"}, code: 2},
		{name: "purge_negative", args: []string{"purge", "--", "-1h"}, code: 2},
		{name: "purge_zero", args: []string{"purge", "0d"}, code: 2},
		{name: "purge_looks_like_flag", args: []string{"purge", "-1h"}, code: 2},
		{name: "purge_unauthenticated", args: []string{"purge", "30d", "-y"}, token: "s3cret", code: 1, calls: 1},
		{name: "purge_wrong_token", args: []string{"purge", "30d", "-y", "-token", "guess"}, token: "s3cret", code: 1, calls: 1},
		{name: "purge_help", args: []string{"purge", "-h"}},

		// health
		{name: "health", args: []string{"health"}},
		{name: "health_json", args: []string{"-o", "json", "health"}},
		{name: "health_not_serving", args: []string{"health"}, code: 1,
			arrange: func(tb testing.TB, srv *clienttest.Server) {
				srv.Health.SetServingStatus(pb.StockService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
			}},
		{name: "health_help", args: []string{"health", "-h"}},

		// version
		{name: "version", args: []string{"version"}},
		{name: "version_json", args: []string{"-o", "json", "version"}},
		{name: "version_extra_arg", args: []string{"version", "now"}, code: 2},
		{name: "version_help", args: []string{"version", "-h"}},

		// A server failure that outlives the retries.
		{name: "unavailable", args: []string{"-retries", "1", "user", "alice@example.com"}, code: 1, calls: 2,
			arrange: func(tb testing.TB, srv *clienttest.Server) { srv.FailBefore("GetUser", 2, codes.Unavailable) }},
		{name: "timeout", args: []string{"-timeout", "50ms", "-retries", "0", "user", "alice@example.com"}, code: 1, calls: 1,
			arrange: func(tb testing.TB, srv *clienttest.Server) { srv.Hang("GetUser", 1) }},
		// -retries 0 is one attempt and no retry, however it is given
		// (client.Options reads 0 as "the default" and -1 as none).
		{name: "retries_zero", args: []string{"-retries", "0", "user", "alice@example.com"}, code: 1, calls: 1,
			arrange: func(tb testing.TB, srv *clienttest.Server) { srv.FailBefore("GetUser", 5, codes.Unavailable) }},
		{name: "retries_zero_env", args: []string{"user", "alice@example.com"}, env: map[string]string{"STOCKWATCH_RETRIES": "0"}, code: 1, calls: 1,
			arrange: func(tb testing.TB, srv *clienttest.Server) { srv.FailBefore("GetUser", 5, codes.Unavailable) }},
		{name: "retries_zero_after_command", args: []string{"user", "-retries", "0", "alice@example.com"}, env: map[string]string{"STOCKWATCH_RETRIES": "2"}, code: 1, calls: 1,
			arrange: func(tb testing.TB, srv *clienttest.Server) { srv.FailBefore("GetUser", 5, codes.Unavailable) }},
		{name: "retries_env", args: []string{"user", "alice@example.com"}, env: map[string]string{"STOCKWATCH_RETRIES": "2"}, code: 1, calls: 3,
			arrange: func(tb testing.TB, srv *clienttest.Server) { srv.FailBefore("GetUser", 5, codes.Unavailable) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, tt.name)
		})
	}
}

// aliceBand sets alice's band on AAPL: above 190, below 185, by e-mail.
func aliceBand(tb testing.TB, srv *clienttest.Server) {
	srv.SetAlert(tb, "alice@example.com", 190, 185)
}

// aliceCrossings sets alice's band and stores two newer AAPL prices that
// cross it, up then down; the notifier sent the first and gave up on the
// second.
func aliceCrossings(tb testing.TB, srv *clienttest.Server) {
	aliceBand(tb, srv)
	at := clienttest.Now.Truncate(time.Minute)
	srv.InsertPrices(tb,
		stock.Price{Ticker: "AAPL", Price: 191.5, Currency: "USD", MarketTime: at.Add(-30 * time.Second), CollectTime: at.Add(-30 * time.Second)},
		stock.Price{Ticker: "AAPL", Price: 184.9, Currency: "USD", MarketTime: at, CollectTime: at},
	)
	srv.Deliver(tb, nil, errors.New("smtp: 550 mailbox unavailable"))
}

// msftUnknown settles MSFT (carol's ticker) as unknown to Yahoo Finance.
func msftUnknown(tb testing.TB, srv *clienttest.Server) {
	srv.SetTickerStatus(tb, stock.TickerUnknown, "MSFT")
}

// TestListingsPageThroughAll checks that prices and users fetch every
// page, not just the first.
func TestListingsPageThroughAll(t *testing.T) {
	t.Parallel()
	srv := seeded(t, clienttest.Options{})
	const extra = 1234
	ps := make([]stock.Price, extra)
	for i := range ps {
		mt := clienttest.Now.Add(-time.Duration(i+10) * time.Minute)
		ps[i] = stock.Price{Ticker: "GOOG", Price: 170, Currency: "USD", MarketTime: mt, CollectTime: mt}
	}
	srv.InsertPrices(t, ps...)

	r := runCLI(t, t.Context(), srv.Addr, nil, "", "-o", "json", "prices")
	if r.code != 0 {
		t.Fatalf("exit status = %d; stderr:\n%s", r.code, r.stderr)
	}
	if got, want := strings.Count(r.stdout, "\n"), extra+5; got != want {
		t.Errorf("prices printed = %d, want %d", got, want)
	}
	if n := srv.Calls("ListPrices"); n != 2 {
		t.Errorf("ListPrices calls = %d, want 2 pages of 1000", n)
	}

	r = runCLI(t, t.Context(), srv.Addr, nil, "", "prices", "-limit", "1500", "GOOG")
	if got, want := strings.Count(r.stdout, "\n"), extra+1; r.code != 0 || got != want {
		t.Errorf("prices -limit 1500 GOOG: exit %d, %d lines, want 0 and %d (header + rows)", r.code, got, want)
	}
}

// TestRegisterRetriedAfterLostReply: the server commits the registration
// but the reply is lost twice; the command retries with the same request
// id, reports success, and the database holds one user and one request.
func TestRegisterRetriedAfterLostReply(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	srv.FailAfterCommit("RegisterUser", 2, codes.Unavailable)
	r := runCLI(t, t.Context(), srv.Addr, nil, "", "register", "dave@example.com", "AAPL")
	if r.code != 0 || r.stdout != "Registered dave@example.com, tracking AAPL.\nTicker AAPL is not verified yet: a price should appear within a minute.\n" {
		t.Fatalf("exit status %d, stdout %q, stderr %q; want 0 and the registration", r.code, r.stdout, r.stderr)
	}
	ids := srv.RequestIDs("RegisterUser")
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] || ids[0] == "" {
		t.Errorf("request ids of the attempts = %q, want one id three times", ids)
	}
	testkit.WantCount(t, "users", storetest.Count(t, srv.DB, "users", ""), 1)
	testkit.WantCount(t, "request records", storetest.Count(t, srv.DB, "requests", ""), 1)
}

// TestUsageErrorOrder checks which usage error a command line with more
// than one mistake reports: the number of arguments first, then the
// flags' values, then each argument, all before the client is dialed.
func TestUsageErrorOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // stderr
	}{
		{"count_before_limit", []string{"users", "-limit", "-1", "extra"},
			"stockwatch: users: want no arguments (see stockwatch users -h)\n"},
		{"limit", []string{"users", "-limit", "-1"},
			"stockwatch: -limit: must not be negative, got -1 (see stockwatch users -h)\n"},
		{"limit_before_ticker", []string{"prices", "-limit", "-2", "not a ticker"},
			"stockwatch: -limit: must not be negative, got -2 (see stockwatch prices -h)\n"},
		{"limit_before_dial", []string{"-ca", "testdata/nonexistent.pem", "prices", "-limit", "-3"},
			"stockwatch: -limit: must not be negative, got -3 (see stockwatch prices -h)\n"},
		{"first_bad_argument", []string{"average", "alice", "0"},
			"stockwatch: email \"alice\" is not a valid address (see stockwatch average -h)\n"},
		{"argument_before_dial", []string{"-ca", "testdata/nonexistent.pem", "register", "alice@example.com", "AAPL;DROP"},
			"stockwatch: ticker \"AAPL;DROP\" is not a valid symbol (see stockwatch register -h)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// No server: a usage error is reported before any dial.
			r := runCLI(t, t.Context(), "127.0.0.1:1", nil, "", tt.args...)
			if r.code != 2 || r.stdout != "" || r.stderr != tt.want {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing and %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
}

// TestAlertRetriedAfterLostReply: the server commits alert-set or
// alert-clear but the reply is lost twice; the command retries with the
// same request id and reports the one effect (the set's secret too, from
// the replay), not NOT_FOUND or a second secret.
func TestAlertRetriedAfterLostReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method string
		args         []string
		arrange      func(testing.TB, *clienttest.Server)
		want         *regexp.Regexp // stdout
		bands        int
	}{
		{"set", "SetAlert", []string{"alert-set", "alice@example.com", "-above", "210"}, nil,
			regexp.MustCompile(`\AAlert set for alice@example.com: AAPL above 210.00, by e-mail.\nWebhook secret: whsec_[A-Za-z0-9+/]{43}=\n`), 1},
		{"clear", "DeleteAlert", []string{"alert-clear", "alice@example.com"}, aliceBand,
			regexp.MustCompile(`\ACleared the price alert of alice@example.com.\n\z`), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := seeded(t, clienttest.Options{})
			if tt.arrange != nil {
				tt.arrange(t, srv)
			}
			srv.FailAfterCommit(tt.method, 2, codes.Unavailable)
			r := runCLI(t, t.Context(), srv.Addr, nil, "", tt.args...)
			if r.code != 0 || !tt.want.MatchString(r.stdout) {
				t.Fatalf("exit status %d, stdout %q, stderr %q; want 0 and %s", r.code, r.stdout, r.stderr, tt.want)
			}
			ids := srv.RequestIDs(tt.method)
			if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] || ids[0] == "" {
				t.Errorf("request ids of the attempts = %q, want one id three times", ids)
			}
			testkit.WantCount(t, "bands", storetest.Count(t, srv.DB, "alerts", ""), tt.bands)
			testkit.WantCount(t, "request records", storetest.Count(t, srv.DB, "requests", ""), 1)
		})
	}
}
