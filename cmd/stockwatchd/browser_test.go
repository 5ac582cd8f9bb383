package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

// chromium returns the path of Debian's chromium. Without it the test
// skips, unless CI=true: there it must run.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found (CI=true: the browser test must run): %v", err)
		}
		t.Skipf("chromium not found: %v", err)
	}
	return path
}

// artifacts returns the directory for the test's screenshots:
// $STOCKWATCH_ARTIFACTS, else a temporary directory of t.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STOCKWATCH_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless chromium tab, and the console messages of its
// pages.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts chromium with a fresh profile and without background
// traffic (this machine refuses connections elsewhere), and opens a tab
// of the given size. Everything stops when t ends.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab) // first: closes the browser
	b := &browser{t: t, ctx: ctx}
	b.do(chromedp.EmulateViewport(int64(width), int64(height)))
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs steps, failing the test on an error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// load runs steps that end in a navigation (a click on a link or a submit
// button) and returns the final answer, after redirects; it fails the
// test unless that is a 200.
func (b *browser) load(what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	return b.loadStatus(what, 200, steps...)
}

// loadStatus is load for an answer of status code.
func (b *browser) loadStatus(what string, code int64, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != code {
		b.t.Fatalf("%s: %s answered %d, want %d", what, resp.URL, resp.Status, code)
	}
	return resp
}

// text returns the text content of the element with that CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression that yields a boolean.
func (b *browser) eval(expr string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return ok
}

// points returns the number of points of the chart's line.
func (b *browser) points() int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelector("#chart polyline").points.numberOfItems`))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// wantText fails the test unless the element's text contains want.
func (b *browser) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Errorf("%s = %q, want it to contain %q", sel, got, want)
	}
}

// checkPage fails the test unless every input of the page has a label
// and nothing is wider than the viewport (no sideways scrolling).
func (b *browser) checkPage(what string) {
	b.t.Helper()
	if !b.eval(`[...document.querySelectorAll("input:not([type=hidden]), select")].every(e => e.labels.length > 0)`) {
		b.t.Errorf("%s: an input has no label", what)
	}
	if !b.eval(`document.documentElement.scrollWidth <= window.innerWidth`) {
		b.t.Errorf("%s: the page is wider than the %s viewport", what, "window's")
	}
}

// screenshot saves the viewport as dir/name.
func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// errors returns the console's errors and exceptions so far: a page the
// CSP blocks, or an asset that failed to load, writes one.
func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m.Text)
		}
	}
	return out
}

// seedHistory stores a week of AAPL prices, one every ten minutes up to
// five minutes ago, in the database at url, before the daemon opens it.
func seedHistory(t *testing.T, url string, now time.Time) {
	t.Helper()
	db, err := store.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ps []stock.Price
	start := now.Add(-7 * 24 * time.Hour)
	for at := start; at.Before(now.Add(-5 * time.Minute)); at = at.Add(10 * time.Minute) {
		h := at.Sub(start).Hours()
		p := 185 + 4*math.Sin(h/9) + 1.5*math.Sin(h/1.3)
		ps = append(ps, stock.Price{Ticker: "AAPL", Price: math.Round(p*100) / 100, Currency: "USD", MarketTime: at, CollectTime: at})
	}
	if _, err := db.InsertPrices(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
}

// TestBrowser drives the dashboard in Debian's headless chromium against
// the real daemon with a fake Yahoo Finance: register through the form
// (submitted twice: one effect), the latest price and the chart, another
// range, a phone's viewport, the ticker changed by keyboard, the admin
// page, and delete with its confirmation. No page may log an error (a CSP
// violation, a failed asset). Screenshots go to $STOCKWATCH_ARTIFACTS or
// a temporary directory.
func TestBrowser(t *testing.T) {
	t.Parallel()
	const width, height = 1024, 900
	b := newBrowser(t, width, height)
	dir := artifacts(t)

	now := time.Now().UTC()
	yahoo := yahootest.NewServer(t)
	yahoo.SetQuote("AAPL", 187.42, "USD", now.Add(-2*time.Minute))
	yahoo.SetQuote("MSFT", 415.1, "USD", now.Add(-time.Minute))
	db := storetest.URL(t, storetest.SQLite)
	seedHistory(t, db, now)
	_, logs := startInProcess(t, "-db", db, "-yahoo-url", yahoo.URL(), "-interval", "1h", "-admin-token", "s3cret")
	addr := httpAddr(t, logs)
	base := "http://" + addr

	// Register, submitting the form twice with its one request id: first
	// as a script would (its answer never shown, as after a double click
	// or a lost answer), then with the button. The second submission
	// replays the first one's success.
	b.load("home", chromedp.Navigate(base+"/"))
	b.checkPage("home")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#register-email"), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS("#register-ticker"), "aapl"),
	)
	if !b.eval(`(async () => {
		const f = document.getElementById("register-form");
		const r = await fetch(f.action, {method: "POST", body: new URLSearchParams(new FormData(f)), redirect: "manual"});
		return r.type === "opaqueredirect";
	})()`) {
		t.Fatal("the first submission was not answered with a redirect")
	}
	resp := b.load("register", chromedp.Click(chromedp.CSS("#register-form button")))
	if !strings.HasSuffix(resp.URL, "/u/alice@example.com?done=registered") {
		t.Errorf("after registering: %s, want the user's page", resp.URL)
	}
	b.wantText(".notice", "Registered.")
	if code, body := restCall(t, addr, "GET", "/v1/users", "", "Authorization: Bearer s3cret"); code != 200 || strings.Count(body, `"email"`) != 1 {
		t.Errorf("users after a double submission: %d %s, want one", code, body)
	}
	if m := scrape(t, addr); m[`stockwatch_requests_replayed_total{method="/stockwatch.v1.StockService/RegisterUser"}`] != 1 {
		t.Error("the second submission was not a replay of the first")
	}

	// The latest price (from the registration's check) and the chart of
	// the last day.
	b.wantText("#latest-price", "187.42")
	b.wantText("#price-h + p + p", "as of")
	b.wantText("#chart-title", "AAPL from")
	b.wantText("nav.ranges a.current", "1 d")
	if n := b.points(); n < 140 || n > 150 {
		t.Errorf("the day's chart has %d points, want about 145 (one every ten minutes)", n)
	}
	b.checkPage("user")
	b.screenshot(dir, "web-desktop.png")

	// Another range: the week of seeded prices, downsampled.
	b.load("range 1 w", chromedp.Click(chromedp.CSS(`nav.ranges a[href*="range=1w"]`)))
	b.wantText("nav.ranges a.current", "1 w")
	if n := b.points(); n < 150 || n > 300 {
		t.Errorf("the week's chart has %d points, want 150 to 300 (1000 prices downsampled)", n)
	}

	// A phone.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.load("phone", chromedp.Navigate(base+"/u/alice@example.com"))
	b.checkPage("user on a phone")
	b.screenshot(dir, "web-phone.png")
	b.do(chromedp.EmulateViewport(width, height))

	// Change the ticker by keyboard: type, then Enter.
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("update-ticker").value = ""`))
	b.load("update", chromedp.SendKeys(chromedp.CSS("#update-ticker"), "msft"+kb.Enter))
	b.wantText(".notice", "Ticker updated.")
	b.wantText("#ticker", "MSFT")
	b.wantText("#latest-price", "415.10")

	// The admin page, after signing in.
	b.load("admin", chromedp.Navigate(base+"/admin"))
	b.checkPage("sign-in")
	b.load("sign in", chromedp.SendKeys(chromedp.CSS("#token"), "s3cret"+kb.Enter))
	b.wantText("#users", "alice@example.com")
	b.wantText("#users", "415.10 USD")
	b.checkPage("admin")
	b.screenshot(dir, "web-admin.png")

	// Delete, with the confirmation.
	b.load("user", chromedp.Navigate(base+"/u/alice@example.com"))
	b.load("confirm", chromedp.Click(chromedp.CSS("#delete-link")))
	b.wantText("h1", "Delete alice@example.com?")
	if code, _ := restCall(t, addr, "GET", "/v1/users/alice@example.com", ""); code != 200 {
		t.Errorf("the confirmation page deleted the user: GET /v1/users/alice@example.com = %d", code)
	}
	b.load("delete", chromedp.Click(chromedp.CSS("#delete-form button")))
	b.wantText(".notice", "The user was deleted.")
	if code, _ := restCall(t, addr, "GET", "/v1/users/alice@example.com", ""); code != 404 {
		t.Errorf("after delete: GET /v1/users/alice@example.com = %d, want 404", code)
	}

	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("the browser's console has errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("screenshots in %s", dir)
}
