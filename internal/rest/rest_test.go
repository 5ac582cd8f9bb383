package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

var t0us = t0.Truncate(time.Microsecond)

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

const bearer = "Authorization: Bearer " + token

// TestPaths walks every REST path of the API once, in the order a user
// would, with the answers' exact JSON.
func TestPaths(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		user := func(ticker string) string {
			return fmt.Sprintf(`{"email":"alice@x.com","ticker":%q,"create_time":%q,"update_time":%q,"ticker_status":"TICKER_STATUS_UNVERIFIED"}`,
				ticker, ts(t0us), ts(t0us))
		}
		price := func(ago time.Duration, p float64) string {
			return fmt.Sprintf(`{"ticker":"MSFT","price":%v,"currency":"USD","market_time":%q,"collect_time":%q}`,
				p, ts(t0us.Add(-ago)), ts(t0us.Add(-ago+time.Second)))
		}
		point := func(ago time.Duration, p float64) string {
			return fmt.Sprintf(`{"market_time":%q,"price":%v}`, ts(t0us.Add(-ago)), p)
		}
		steps := []struct {
			name    string
			call    call
			code    int
			want    string
			prepare func()
		}{
			{name: "RegisterUser", call: call{method: "POST", path: "/v1/users", body: `{"email":"Alice@X.com","ticker":"aapl"}`},
				code: 200, want: user("AAPL")},
			{name: "GetUser", call: call{method: "GET", path: "/v1/users/alice@x.com"}, code: 200, want: user("AAPL")},
			{name: "GetUser/Escaped", call: call{method: "GET", path: "/v1/users/alice%40x.com"}, code: 200, want: user("AAPL")},
			{name: "UpdateUser", call: call{method: "PATCH", path: "/v1/users/alice@x.com", body: `{"ticker":"msft"}`},
				code: 200, want: user("MSFT")},
			{name: "GetLatestPrice/NoneYet", call: call{method: "GET", path: "/v1/users/alice@x.com/latest-price"},
				code: 400, want: status(9, "no price collected yet for MSFT")},
			{name: "GetLatestPrice", call: call{method: "GET", path: "/v1/users/alice@x.com/latest-price"},
				prepare: func() {
					e.insertPrices(t, "MSFT", map[time.Time]float64{t0us.Add(-2 * time.Hour): 100, t0us.Add(-time.Hour): 110})
				},
				code: 200, want: price(time.Hour, 110)},
			{name: "GetAveragePrice", call: call{method: "GET", path: "/v1/users/alice@x.com/average-price?count=5"},
				code: 200, want: fmt.Sprintf(`{"ticker":"MSFT","average":105,"currency":"USD","count":2,"requested":5,"oldest_market_time":%q,"newest_market_time":%q}`,
					ts(t0us.Add(-2*time.Hour)), ts(t0us.Add(-time.Hour)))},
			{name: "GetPriceHistory/Defaults", call: call{method: "GET", path: "/v1/users/alice@x.com/price-history"},
				code: 200, want: fmt.Sprintf(`{"ticker":"MSFT","currency":"USD","since":%q,"until":%q,"points":[%s,%s],"count":2,
					"first":%s,"last":%s,"min":%s,"max":%s,"change_percent":10}`,
					ts(t0us.Add(-24*time.Hour)), ts(t0us), point(2*time.Hour, 100), point(time.Hour, 110),
					point(2*time.Hour, 100), point(time.Hour, 110), point(2*time.Hour, 100), point(time.Hour, 110))},
			{name: "GetPriceHistory/Query", call: call{method: "GET", path: "/v1/users/alice@x.com/price-history?since=" + ts(t0us.Add(-90*time.Minute)) +
				"&until=" + ts(t0us) + "&max_points=1"},
				code: 200, want: fmt.Sprintf(`{"ticker":"MSFT","currency":"USD","since":%q,"until":%q,"points":[%s],"count":1,
					"first":%s,"last":%s,"min":%s,"max":%s,"change_percent":0}`,
					ts(t0us.Add(-90*time.Minute)), ts(t0us), point(time.Hour, 110),
					point(time.Hour, 110), point(time.Hour, 110), point(time.Hour, 110), point(time.Hour, 110))},
			{name: "ListUsers", call: call{method: "GET", path: "/v1/users", header: []string{bearer}},
				code: 200, want: fmt.Sprintf(`{"users":[{"user":%s,"latest_price":%s}],"next_page_token":""}`, user("MSFT"), price(time.Hour, 110))},
			{name: "ListPrices", call: call{method: "GET", path: "/v1/prices?ticker=msft&page_size=2", header: []string{bearer}},
				code: 200, want: fmt.Sprintf(`{"prices":[%s,%s],"next_page_token":""}`, price(time.Hour, 110), price(2*time.Hour, 100))},
			// Collected more than 90 minutes before t0: the older price.
			{name: "DeletePrices", call: call{method: "POST", path: "/v1/prices:purge", body: `{"older_than":"5400s"}`, header: []string{bearer}},
				code: 200, want: `{"deleted_count":"1"}`},
			{name: "DeleteUser", call: call{method: "DELETE", path: "/v1/users/alice@x.com"}, code: 200, want: `{}`},
			{name: "GetUser/Deleted", call: call{method: "GET", path: "/v1/users/alice@x.com"},
				code: 404, want: status(5, "user alice@x.com not found")},
		}
		for _, s := range steps {
			if !t.Run(s.name, func(t *testing.T) {
				if s.prepare != nil {
					s.prepare()
				}
				e.want(t, s.call, s.code, s.want)
			}) {
				return // later steps depend on this one
			}
		}
	})
}

// failingStore fails every read of a user with err.
type failingStore struct {
	api.Store
	err error
}

func (s failingStore) GetUser(context.Context, string) (stock.User, error) {
	return stock.User{}, s.err
}

// TestErrorStatuses: every error the API answers reaches a REST client as
// a google.rpc.Status with the standard gRPC→HTTP status, and so do the
// gateway's own (routing, body) errors.
func TestErrorStatuses(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		e.want(t, call{method: "POST", path: "/v1/users", body: `{"email":"taken@x.com","ticker":"AAPL"}`}, 200,
			fmt.Sprintf(`{"email":"taken@x.com","ticker":"AAPL","create_time":%q,"update_time":%q,"ticker_status":"TICKER_STATUS_UNVERIFIED"}`, ts(t0us), ts(t0us)))
		tests := []struct {
			name string
			call call
			code int
			want string
		}{
			{"InvalidArgument/Email", call{method: "GET", path: "/v1/users/not-an-email"}, 400, status(3, `email "not-an-email" is not a valid address`)},
			{"InvalidArgument/Ticker", call{method: "POST", path: "/v1/users", body: `{"email":"a@x.com","ticker":"AAPL$"}`}, 400, status(3, `ticker "AAPL$" is not a valid symbol`)},
			{"InvalidArgument/Count", call{method: "GET", path: "/v1/users/taken@x.com/average-price?count=0"}, 400, status(3, "count must be between 1 and 10000, got 0")},
			{"InvalidArgument/MaxPoints", call{method: "GET", path: "/v1/users/taken@x.com/price-history?max_points=2001"}, 400, status(3, "max_points must be between 1 and 2000, got 2001")},
			{"InvalidArgument/Range", call{method: "GET", path: "/v1/users/taken@x.com/price-history?since=" + ts(t0us)}, 400,
				status(3, "since (2026-11-27T14:30:00.123456Z) must be before until (2026-11-27T14:30:00.123456Z)")},
			{"InvalidArgument/SinceNotATime", call{method: "GET", path: "/v1/users/taken@x.com/price-history?since=yesterday"}, 400,
				status(3, `parsing field "since": parsing time "yesterday" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse "yesterday" as "2006"`)},
			{"InvalidArgument/CountNotANumber", call{method: "GET", path: "/v1/users/taken@x.com/average-price?count=many"}, 400,
				status(3, `parsing field "count": strconv.ParseInt: parsing "many": invalid syntax`)},
			{"InvalidArgument/OlderThan", call{method: "POST", path: "/v1/prices:purge", body: `{"older_than":"0s"}`, header: []string{bearer}}, 400,
				status(3, "older_than must be positive, got 0s")},
			{"InvalidArgument/RequestID", call{method: "DELETE", path: "/v1/users/taken@x.com?request_id=abc"}, 400, status(3, `request_id "abc" is not a UUID`)},
			{"InvalidArgument/NotJSON", call{method: "POST", path: "/v1/users", body: `email=a@x.com`}, 400,
				status(3, "invalid character 'e' looking for beginning of value")},
			{"InvalidArgument/UnknownField", call{method: "POST", path: "/v1/users", body: `{"email":"a@x.com","tickr":"AAPL"}`}, 400,
				status(3, `proto: (line 1:20): unknown field "tickr"`)},
			{"InvalidArgument/BodyTooLarge", call{method: "POST", path: "/v1/users", body: bigBody()}, 400, status(3, "http: request body too large")},
			{"NotFound", call{method: "GET", path: "/v1/users/nobody@x.com/latest-price"}, 404, status(5, "user nobody@x.com not found")},
			{"AlreadyExists", call{method: "POST", path: "/v1/users", body: `{"email":"taken@x.com","ticker":"MSFT"}`}, 409, status(6, "user taken@x.com already exists")},
			{"FailedPrecondition", call{method: "GET", path: "/v1/users/taken@x.com/price-history"}, 400, status(9, "no price collected yet for AAPL")},
			{"Unauthenticated", call{method: "GET", path: "/v1/prices"}, 401, status(16, "admin token required")},
			{"Routing/UnknownPath", call{method: "GET", path: "/v1/tickers"}, 404, status(5, "Not Found")},
			{"Routing/MethodNotAllowed", call{method: "PUT", path: "/v1/users/taken@x.com"}, 405, status(12, "method not allowed")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.want(t, tt.call, tt.code, tt.want)
			})
		}
	})

	// The errors of a failing database, through a store that fails.
	for _, tt := range []struct {
		name string
		err  error
		code int
		want string
	}{
		{"Unavailable", fmt.Errorf("get user: %w", stock.ErrUnavailable), 503, status(14, "database unavailable")},
		{"Aborted", fmt.Errorf("get user: %w", stock.ErrAborted), 409, status(10, "request conflicted with a concurrent one; retry")},
		{"Internal", fmt.Errorf("get user: no such table: users"), 500, status(13, "internal error")},
		{"DeadlineExceeded", context.DeadlineExceeded, 504, status(4, "deadline exceeded")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := serve(t, failingStore{err: tt.err})
			wantAt(t, url, call{method: "GET", path: "/v1/users/a@x.com"}, tt.code, tt.want)
		})
	}
}

const key = "5f0c6b9e-2a43-4c8e-9b1d-3f6a7c2e8d10"

// TestIdempotencyKey: the header carries a mutation's request id, so that
// a retry replays the first answer, and a reuse with another request is
// refused with the message a gRPC client gets.
func TestIdempotencyKey(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b)
		user := func(email, ticker string) string {
			return fmt.Sprintf(`{"email":%q,"ticker":%q,"create_time":%q,"update_time":%q,"ticker_status":"TICKER_STATUS_UNVERIFIED"}`,
				email, ticker, ts(t0us), ts(t0us))
		}
		register := func(email string, header ...string) call {
			return call{method: "POST", path: "/v1/users", body: fmt.Sprintf(`{"email":%q,"ticker":"AAPL"}`, email), header: header}
		}

		t.Run("Replay", func(t *testing.T) {
			first := e.want(t, register("a@x.com", "Idempotency-Key: "+key), 200, user("a@x.com", "AAPL"))
			// Without the key, the same body is a new request: the user exists.
			e.want(t, register("a@x.com"), 409, status(6, "user a@x.com already exists"))
			// With it, the first answer again, byte for byte.
			if _, again := do(t, e.url, register("a@x.com", "Idempotency-Key: "+key)); again != first {
				t.Errorf("replay = %s, want the first answer %s", again, first)
			}
			// The key is a structured-field string: quoted, it is the same key.
			e.want(t, register("a@x.com", `Idempotency-Key: "`+strings.ToUpper(key)+`"`), 200, user("a@x.com", "AAPL"))
		})
		t.Run("ReusedWithAnotherBody", func(t *testing.T) {
			e.want(t, register("b@x.com", "Idempotency-Key: "+key), 400, status(3, "request_id reused with a different request"))
			e.want(t, call{method: "DELETE", path: "/v1/users/a@x.com", header: []string{"Idempotency-Key: " + key}}, 400,
				status(3, "request_id reused with a different request"))
		})
		t.Run("BodyRequestID", func(t *testing.T) {
			const id = "0b7e0a57-95cb-4b1f-8f3a-1c1b7f0f2a11"
			c := call{method: "POST", path: "/v1/users", body: `{"request_id":"` + id + `","email":"c@x.com","ticker":"AAPL"}`}
			e.want(t, c, 200, user("c@x.com", "AAPL"))
			e.want(t, c, 200, user("c@x.com", "AAPL"))
			// The header and the body may both say it.
			c.header = []string{"Idempotency-Key: " + id}
			e.want(t, c, 200, user("c@x.com", "AAPL"))
			// A query parameter is the body of a DELETE.
			del := call{method: "DELETE", path: "/v1/users/c@x.com?request_id=" + id}
			e.want(t, del, 400, status(3, "request_id reused with a different request"))
		})
		t.Run("HeaderAndBodyDiffer", func(t *testing.T) {
			c := call{method: "POST", path: "/v1/users", body: `{"request_id":"` + key + `","email":"d@x.com","ticker":"AAPL"}`,
				header: []string{"Idempotency-Key: 0b7e0a57-95cb-4b1f-8f3a-1c1b7f0f2a11"}}
			e.want(t, c, 400, status(3, "the Idempotency-Key header and request_id differ"))
		})
		t.Run("TwoHeaders", func(t *testing.T) {
			e.want(t, register("d@x.com", "Idempotency-Key: "+key, "Idempotency-Key: "+key), 400, status(3, "more than one Idempotency-Key header"))
		})
		t.Run("NotAUUID", func(t *testing.T) {
			e.want(t, register("d@x.com", "Idempotency-Key: abc"), 400, status(3, `request_id "abc" is not a UUID`))
		})
		t.Run("GeneratedWithoutKey", func(t *testing.T) {
			before := e.requests(t)
			e.want(t, register("e@x.com"), 200, user("e@x.com", "AAPL"))
			e.want(t, call{method: "PATCH", path: "/v1/users/e@x.com", body: `{"ticker":"AAPL"}`}, 200, user("e@x.com", "AAPL"))
			if got := e.requests(t); got != before+2 {
				t.Errorf("%d request records after two calls without a key, want %d: the server gives each an id", got, before+2)
			}
		})
		t.Run("IgnoredOnReads", func(t *testing.T) {
			e.want(t, call{method: "GET", path: "/v1/users/e@x.com", header: []string{"Idempotency-Key: abc"}}, 200, user("e@x.com", "AAPL"))
		})
	})
}

// TestAdminAuth: the admin paths take the token as a bearer
// Authorization header; the others need none.
func TestAdminAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite)
	for _, tt := range []struct {
		name   string
		header []string
		code   int
		want   string
	}{
		{"NoToken", nil, 401, status(16, "admin token required")},
		{"WrongToken", []string{"Authorization: Bearer nope"}, 401, status(16, "invalid admin token")},
		{"OtherScheme", []string{"Authorization: Basic " + token}, 401, status(16, "invalid admin token")},
		{"TwoTokens", []string{bearer, bearer}, 401, status(16, "admin token required")},
		{"Token", []string{bearer}, 200, `{"users":[],"next_page_token":""}`},
		{"SchemeAnyCase", []string{"Authorization: bEaReR " + token}, 200, `{"users":[],"next_page_token":""}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.want(t, call{method: "GET", path: "/v1/users", header: tt.header}, tt.code, tt.want)
		})
	}
	t.Run("AllAdminPaths", func(t *testing.T) {
		for _, c := range []call{{method: "GET", path: "/v1/users"}, {method: "GET", path: "/v1/prices"},
			{method: "POST", path: "/v1/prices:purge", body: `{"older_than":"1s"}`}} {
			e.want(t, c, 401, status(16, "admin token required"))
		}
	})
	t.Run("UserPathsNeedNone", func(t *testing.T) {
		e.want(t, call{method: "GET", path: "/v1/users/nobody@x.com"}, 404, status(5, "user nobody@x.com not found"))
	})
}

// TestOpenAPI: /openapi.json is the generated document, with exactly the
// API's paths and methods.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	url := serve(t, failingStore{})
	code, body := do(t, url, call{method: "GET", path: "/openapi.json"})
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d", code)
	}
	var doc struct {
		Swagger string                    `json:"swagger"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				got = append(got, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(got)
	want := []string{
		"DELETE /v1/users/{email}",
		"DELETE /v1/users/{email}/alert",
		"GET /v1/prices",
		"GET /v1/users",
		"GET /v1/users/{email}",
		"GET /v1/users/{email}/alert",
		"GET /v1/users/{email}/average-price",
		"GET /v1/users/{email}/latest-price",
		"GET /v1/users/{email}/notifications",
		"GET /v1/users/{email}/price-history",
		"PATCH /v1/users/{email}",
		"POST /v1/prices:purge",
		"POST /v1/users",
		"PUT /v1/users/{email}/alert",
	}
	if diff := cmp.Diff(want, got); diff != "" || doc.Swagger != "2.0" {
		t.Errorf("swagger %q, paths mismatch (-want +got):\n%s", doc.Swagger, diff)
	}
	if code, _ := do(t, url, call{method: "POST", path: "/openapi.json"}); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /openapi.json = %d, want 405", code)
	}
}
