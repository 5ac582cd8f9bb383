package main

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/stock"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// envMain, when set, makes the test binary run the client's main instead
// of the tests: the pseudo-terminal test runs the real program this way.
const envMain = "STOCKWATCH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// seeded starts a test server with opts and the data every CLI test
// starts from:
//   - alice@example.com tracks AAPL, which has 4 prices (one 40 days old);
//   - bob@example.com tracks VOD.L (prices in GBp);
//   - carol@example.com tracks MSFT, which has no price yet;
//   - AAPL and VOD.L are verified, MSFT is not yet.
func seeded(tb testing.TB, opts clienttest.Options) *clienttest.Server {
	tb.Helper()
	srv := clienttest.Start(tb, opts)
	srv.AddUser(tb, "alice@example.com", "AAPL")
	srv.AddUser(tb, "bob@example.com", "VOD.L")
	srv.AddUser(tb, "carol@example.com", "MSFT")
	srv.SetTickerStatus(tb, stock.TickerVerified, "AAPL", "VOD.L")
	at := func(d time.Duration) time.Time { return clienttest.Now.Truncate(time.Minute).Add(d) }
	old := clienttest.Now.Add(-40 * 24 * time.Hour).Truncate(time.Minute)
	srv.InsertPrices(tb,
		stock.Price{Ticker: "AAPL", Price: 180, Currency: "USD", MarketTime: old, CollectTime: old},
		stock.Price{Ticker: "AAPL", Price: 187.1, Currency: "USD", MarketTime: at(-3 * time.Minute), CollectTime: at(-3 * time.Minute)},
		stock.Price{Ticker: "AAPL", Price: 187.25, Currency: "USD", MarketTime: at(-2 * time.Minute), CollectTime: at(-2 * time.Minute)},
		stock.Price{Ticker: "AAPL", Price: 187.42, Currency: "USD", MarketTime: at(-time.Minute), CollectTime: at(-time.Minute)},
		stock.Price{Ticker: "VOD.L", Price: 72.34, Currency: "GBp", MarketTime: at(-2 * time.Minute), CollectTime: at(-time.Minute)},
	)
	return srv
}

// result is one run of the client.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the client in-process against addr with env (on top of
// TZ=UTC and STOCKWATCH_ADDR=addr) and stdin, which is not a terminal, at
// clienttest.Now.
func runCLI(tb testing.TB, ctx context.Context, addr string, env map[string]string, stdin string, args ...string) result {
	tb.Helper()
	return runProc(tb, ctx, addr, env, stdin, false, args...)
}

// runProc is runCLI, with stdin a terminal if terminal.
func runProc(tb testing.TB, ctx context.Context, addr string, env map[string]string, stdin string, terminal bool, args ...string) result {
	tb.Helper()
	e := cliconfig.MapEnv{"TZ": "UTC", "STOCKWATCH_ADDR": addr}
	maps.Copy(e, env)
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, proc{
		stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, lookupEnv: e.Lookup,
		now: func() time.Time { return clienttest.Now }, terminal: terminal,
	})
	out := strings.ReplaceAll(stdout.String(), addr, "ADDR")
	errOut := strings.ReplaceAll(stderr.String(), addr, "ADDR")
	return result{code: code, stdout: out, stderr: errOut}
}

// goldenCase is one run of the client against a server holding the seed
// data (see seeded), its output compared with a golden file.
type goldenCase struct {
	name  string
	args  []string
	env   map[string]string
	input string // stdin
	token string // the server's admin token
	// arrange runs after the seed; check after the command.
	arrange func(tb testing.TB, srv *clienttest.Server)
	check   func(tb testing.TB, srv *clienttest.Server)
	code    int
	calls   int // StockService RPCs expected; -1: don't check
}

// run runs tc against a fresh seeded server and compares its output with
// testdata/golden.golden (see checkGolden); the exit status and the
// number of RPCs the server saw must be tc's.
func (tc goldenCase) run(t *testing.T, golden string) {
	t.Helper()
	srv := seeded(t, clienttest.Options{AdminToken: tc.token})
	if tc.arrange != nil {
		tc.arrange(t, srv)
	}
	r := runCLI(t, t.Context(), srv.Addr, tc.env, tc.input, tc.args...)
	if r.code != tc.code {
		t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
	}
	if got := srv.StockCalls(); tc.calls >= 0 && got != tc.calls {
		t.Errorf("RPCs sent = %d, want %d", got, tc.calls)
	}
	// A webhook secret is random: its golden shows its form.
	r.stdout = secretRE.ReplaceAllString(r.stdout, "whsec_BASE64")
	checkGolden(t, golden, r)
	if tc.check != nil {
		tc.check(t, srv)
	}
}

// secretRE matches a webhook secret: "whsec_" and the base64 of 32 bytes.
var secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/]{43}=`)

// checkGolden compares a run's output with testdata/name.golden: stdout,
// then stderr after a marker when there is any. -update rewrites it.
func checkGolden(tb testing.TB, name string, r result) {
	tb.Helper()
	got := r.stdout
	if r.stderr != "" {
		got += "--- stderr ---\n" + r.stderr
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
