package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/rest/resttest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// t0 is the API's clock; its nanoseconds check that answers carry the
// microseconds the store keeps.
var t0 = time.Date(2026, 11, 27, 14, 30, 0, 123456789, time.UTC)

const token = "s3cret"

// env is the REST API of a fresh database, served by httptest.
type env struct {
	db  *store.DB
	url string
}

// serve returns the REST API of st, with the daemon's server options
// (admin token included), at an httptest URL. Everything stops when tb
// ends.
func serve(tb testing.TB, st api.Store) string {
	tb.Helper()
	ts := httptest.NewServer(resttest.Gateway(tb, st, token, t0))
	tb.Cleanup(ts.Close) // before g.Close: cleanups run last first
	return ts.URL
}

func newEnv(tb testing.TB, b storetest.Backend) *env {
	tb.Helper()
	db := storetest.Open(tb, b)
	return &env{db: db, url: serve(tb, db)}
}

// call is one HTTP request: its method, path, body and headers
// ("Name: value").
type call struct {
	method, path, body string
	header             []string
}

// do sends c and returns the answer's status and body.
func do(tb testing.TB, base string, c call) (int, string) {
	tb.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	resp, got := testkit.HTTP(tb, http.DefaultClient, c.method, base+c.path, body, c.header...)
	return resp.StatusCode, got
}

// want sends c and fails tb unless the answer has status code and a JSON
// body equal to wantJSON (compared as JSON values).
func (e *env) want(tb testing.TB, c call, code int, wantJSON string) string {
	tb.Helper()
	return wantAt(tb, e.url, c, code, wantJSON)
}

func wantAt(tb testing.TB, base string, c call, code int, wantJSON string) string {
	tb.Helper()
	gotCode, got := do(tb, base, c)
	// protojson's error messages hold a space or a no-break space, at
	// random, so that nobody depends on their exact text; these tests do.
	got = strings.ReplaceAll(got, "\u00a0", " ")
	if gotCode != code {
		tb.Errorf("%s %s = %d %s, want %d", c.method, c.path, gotCode, got, code)
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		tb.Fatalf("%s %s: answer is not JSON: %v\n%s", c.method, c.path, err, got)
	}
	if err := json.Unmarshal([]byte(wantJSON), &w); err != nil {
		tb.Fatalf("bad want JSON: %v\n%s", err, wantJSON)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		tb.Errorf("%s %s mismatch (-want +got):\n%s", c.method, c.path, diff)
	}
	return got
}

// status is a google.rpc.Status as the gateway writes it.
func status(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg, "details": []any{}})
	return string(b)
}

// insertPrices stores USD prices of ticker directly.
func (e *env) insertPrices(tb testing.TB, ticker string, prices map[time.Time]float64) {
	tb.Helper()
	var ps []stock.Price
	for at, p := range prices {
		ps = append(ps, stock.Price{Ticker: ticker, Price: p, Currency: "USD", MarketTime: at, CollectTime: at.Add(time.Second)})
	}
	if _, err := e.db.InsertPrices(context.Background(), ps); err != nil {
		tb.Fatal(err)
	}
}

// requests is the number of at-most-once records.
func (e *env) requests(tb testing.TB) int {
	tb.Helper()
	return storetest.Count(tb, e.db, "requests", "")
}

// bigBody is a JSON body larger than api.MaxMessageSize.
func bigBody() string {
	var b bytes.Buffer
	b.WriteString(`{"email":"big@x.com","ticker":"`)
	b.WriteString(strings.Repeat("A", api.MaxMessageSize))
	b.WriteString(`"}`)
	return b.String()
}
