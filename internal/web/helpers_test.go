package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/rest/resttest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/web"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// t0 is the clock of the API and of the pages.
var t0 = time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC)

const token = "s3cret"

// env is the dashboard of a fresh database, served as the daemon serves
// it: the pages call the API over the REST gateway's in-process
// connection.
type env struct {
	db     *store.DB
	url    string
	client *http.Client // keeps cookies, follows no redirect
}

// newEnv serves the pages of a fresh database of backend b, with admin
// token adminToken ("" for none). Everything stops when tb ends.
func newEnv(tb testing.TB, b storetest.Backend, adminToken string) *env {
	tb.Helper()
	db := storetest.Open(tb, b)
	g := resttest.Gateway(tb, db, adminToken, t0)
	w, err := web.New(pb.NewStockServiceClient(g.Conn()), web.Config{
		Now:    func() time.Time { return t0 },
		Logger: slog.New(slog.NewTextHandler(tbWriter{tb}, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(w)
	tb.Cleanup(ts.Close) // before g.Close: cleanups run last first
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{db: db, url: ts.URL, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}}
}

// page is an answer: its status, Location, headers and body.
type page struct {
	code     int
	location string
	header   http.Header
	body     string
}

// get fetches path.
func (e *env) get(tb testing.TB, path string) page {
	tb.Helper()
	return e.do(tb, "GET", path, nil)
}

// post submits form to path as a same-origin browser form does.
func (e *env) post(tb testing.TB, path string, form url.Values, header ...string) page {
	tb.Helper()
	return e.do(tb, "POST", path, form, append([]string{"Sec-Fetch-Site: same-origin"}, header...)...)
}

func (e *env) do(tb testing.TB, method, path string, form url.Values, header ...string) page {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
		header = append(header, "Content-Type: application/x-www-form-urlencoded")
	}
	resp, b := testkit.HTTP(tb, e.client, method, e.url+path, body, header...)
	return page{code: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: b}
}

// want fails tb unless p has status code and contains every string of
// contains.
func (p page) want(tb testing.TB, what string, code int, contains ...string) {
	tb.Helper()
	if p.code != code {
		tb.Errorf("%s: status %d, want %d\n%s", what, p.code, code, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			tb.Errorf("%s: page lacks %q\n%s", what, s, p.body)
		}
	}
}

// wantRedirect fails tb unless p is a 303 to location.
func (p page) wantRedirect(tb testing.TB, what, location string) {
	tb.Helper()
	if p.code != http.StatusSeeOther || p.location != location {
		tb.Errorf("%s: %d to %q, want 303 to %q\n%s", what, p.code, p.location, location, p.body)
	}
}

var requestIDRE = regexp.MustCompile(`<form[^>]* id="([a-z-]+)"[^>]*>\s*<input type="hidden" name="request_id" value="([0-9a-f-]{36})">`)

// requestID returns the request id of the form with that id on p, and
// fails tb if there is none.
func (p page) requestID(tb testing.TB, form string) string {
	tb.Helper()
	for _, m := range requestIDRE.FindAllStringSubmatch(p.body, -1) {
		if m[1] == form {
			return m[2]
		}
	}
	tb.Fatalf("no form %q with a request id on the page:\n%s", form, p.body)
	return ""
}

// insertPrices stores USD prices of ticker, one a minute up to t0 - 1m,
// from prices[0] (the oldest).
func (e *env) insertPrices(tb testing.TB, ticker string, prices ...float64) {
	tb.Helper()
	var ps []stock.Price
	for i, p := range prices {
		at := t0.Add(time.Duration(i-len(prices)) * time.Minute)
		ps = append(ps, stock.Price{Ticker: ticker, Price: p, Currency: "USD", MarketTime: at, CollectTime: at.Add(time.Second)})
	}
	if _, err := e.db.InsertPrices(context.Background(), ps); err != nil {
		tb.Fatal(err)
	}
}

// hasUser reports whether the database holds the user, tracking ticker.
func (e *env) hasUser(tb testing.TB, email, ticker string) bool {
	tb.Helper()
	return storetest.Count(tb, e.db, "users", "email = ? AND ticker = ?", email, ticker) == 1
}

// form is url.Values from "key", "value" pairs.
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// tbWriter writes to tb's log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
