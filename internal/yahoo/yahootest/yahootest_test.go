package yahootest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/yahoo/yahootest"
)

type reply struct {
	Status      int
	ContentType string
	Body        string
}

func get(tb testing.TB, srv *yahootest.Server, path, userAgent string) reply {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL()+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: read body: %v", path, err)
	}
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

const browser = "Mozilla/5.0 (test)"

func TestServer_Defaults(t *testing.T) {
	t.Parallel()
	const jsonType = "application/json;charset=utf-8"
	tests := []struct {
		name, path, userAgent string
		want                  reply
	}{
		{"AAPL", "/v8/finance/chart/AAPL?range=1d&interval=1m", browser,
			reply{200, jsonType, string(yahootest.Fixture("chart-AAPL.json"))}},
		{"VOD.L", "/v8/finance/chart/VOD.L", browser,
			reply{200, jsonType, string(yahootest.Fixture("chart-VOD.L.json"))}},
		{"Unknown", "/v8/finance/chart/ZZZZ", browser,
			reply{404, jsonType, string(yahootest.Fixture("chart-not-found.json"))}},
		{"GoUserAgentIsThrottled", "/v8/finance/chart/AAPL", "Go-http-client/1.1",
			reply{429, "text/plain;charset=utf-8", string(yahootest.Fixture("too-many-requests.txt"))}},
		{"OtherPath", "/v7/finance/quote?symbols=AAPL", browser,
			reply{404, "text/plain; charset=utf-8", "no such endpoint\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := yahootest.NewServer(t)
			if diff := cmp.Diff(tt.want, get(t, srv, tt.path, tt.userAgent)); diff != "" {
				t.Errorf("GET %s mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestServer_SetQuote(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	srv.SetQuote("^GSPC", 6144.15, "USD", time.Unix(1739998800, 0))
	got := get(t, srv, "/v8/finance/chart/%5EGSPC", browser)
	// Only the four meta fields differ from the AAPL fixture.
	want := string(yahootest.Fixture("chart-AAPL.json"))
	for _, r := range []struct{ from, to string }{
		{`"symbol":"AAPL"`, `"symbol":"^GSPC"`},
		{`"regularMarketPrice":244.87`, `"regularMarketPrice":6144.15`},
		{`"regularMarketTime":1739998801`, `"regularMarketTime":1739998800`},
	} {
		want = replaceOnce(t, want, r.from, r.to)
	}
	if diff := cmp.Diff(canonical(t, want), canonical(t, got.Body)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	if got.Status != 200 {
		t.Errorf("status = %d, want 200", got.Status)
	}
}

func TestServer_CountsAndRecords(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	if _, ok := srv.LastRequest(); ok {
		t.Errorf("LastRequest() on a new server: ok = true, want false")
	}
	get(t, srv, "/v8/finance/chart/AAPL?range=1d", browser)
	get(t, srv, "/v8/finance/chart/AAPL", browser)
	get(t, srv, "/v8/finance/chart/%5EGSPC", "ua-2")
	get(t, srv, "/elsewhere", browser)

	if got, want := srv.Requests(), int64(4); got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
	for symbol, want := range map[string]int64{"AAPL": 2, "^GSPC": 1, "%5EGSPC": 0, "VOD.L": 0} {
		if got := srv.RequestsFor(symbol); got != want {
			t.Errorf("RequestsFor(%q) = %d, want %d", symbol, got, want)
		}
	}
	want := []yahootest.Request{
		{Symbol: "AAPL", RequestURI: "/v8/finance/chart/AAPL?range=1d", UserAgent: browser},
		{Symbol: "AAPL", RequestURI: "/v8/finance/chart/AAPL", UserAgent: browser},
		{Symbol: "^GSPC", RequestURI: "/v8/finance/chart/%5EGSPC", UserAgent: "ua-2"},
		{Symbol: "", RequestURI: "/elsewhere", UserAgent: browser},
	}
	if diff := cmp.Diff(want, srv.Received()); diff != "" {
		t.Errorf("Received() mismatch (-want +got):\n%s", diff)
	}
	last, ok := srv.LastRequest()
	if diff := cmp.Diff(want[3], last); !ok || diff != "" {
		t.Errorf("LastRequest() ok = %t, mismatch (-want +got):\n%s", ok, diff)
	}
}

func TestServer_FaultPrecedenceAndClearing(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	status := func(symbol string) int { return get(t, srv, "/v8/finance/chart/"+symbol, browser).Status }

	srv.SetGlobalFault(yahootest.Fault{Kind: yahootest.FaultServerError})
	srv.SetFault("AAPL", yahootest.Fault{Kind: yahootest.FaultStatus, Status: 503})
	got := []int{status("AAPL"), status("VOD.L")}
	srv.SetFault("AAPL", yahootest.Fault{})
	got = append(got, status("AAPL"))
	srv.SetGlobalFault(yahootest.Fault{})
	got = append(got, status("AAPL"), status("VOD.L"))

	want := []int{503, 500, 500, 200, 200}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
}

func TestServer_DelayEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	srv.SetFault("AAPL", yahootest.Fault{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/v8/finance/chart/AAPL", nil)
	req.Header.Set("User-Agent", browser)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("GET with a 1h delay answered %s", resp.Status)
	}
	// The server's cleanup would hang for an hour if the handler ignored
	// the cancellation.
}

func replaceOnce(tb testing.TB, s, from, to string) string {
	tb.Helper()
	if n := strings.Count(s, from); n != 1 {
		tb.Fatalf("%q occurs %d times, want once", from, n)
	}
	return strings.Replace(s, from, to, 1)
}

// canonical decodes a JSON document so that key order does not matter and
// numbers keep their text.
func canonical(tb testing.TB, s string) any {
	tb.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("decode %q: %v", s, err)
	}
	return v
}

// TestServer_Budget: past its budget the server answers as Yahoo's edge
// does, 429 with its plain-text body and Retry-After, whatever the
// symbol; the next window serves again.
func TestServer_Budget(t *testing.T) {
	t.Parallel()
	srv := yahootest.NewServer(t)
	srv.SetBudget(2, 300*time.Millisecond, 1500*time.Millisecond)
	limited := reply{429, "text/plain;charset=utf-8", string(yahootest.Fixture("too-many-requests.txt"))}
	aapl := reply{200, "application/json;charset=utf-8", string(yahootest.Fixture("chart-AAPL.json"))}
	for i, want := range []reply{aapl, {404, "application/json;charset=utf-8", string(yahootest.Fixture("chart-not-found.json"))}, limited} {
		path := "/v8/finance/chart/AAPL"
		if i == 1 {
			path = "/v8/finance/chart/ZZZZ"
		}
		if diff := cmp.Diff(want, get(t, srv, path, browser)); diff != "" {
			t.Errorf("request %d mismatch (-want +got):\n%s", i, diff)
		}
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL()+"/v8/finance/chart/VOD.L", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", browser)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("over budget: HTTP %d, Retry-After %q; want 429 and 2 (1.5s rounded up)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	testkit.WantCount(t, "RateLimited", srv.RateLimited(), 2)
	time.Sleep(300 * time.Millisecond)
	if diff := cmp.Diff(aapl, get(t, srv, "/v8/finance/chart/AAPL", browser)); diff != "" {
		t.Errorf("next window mismatch (-want +got):\n%s", diff)
	}
	srv.SetBudget(0, 0, 0)
	for range 3 {
		if got := get(t, srv, "/v8/finance/chart/AAPL", browser); got.Status != 200 {
			t.Errorf("without a budget: HTTP %d, want 200", got.Status)
		}
	}
}
