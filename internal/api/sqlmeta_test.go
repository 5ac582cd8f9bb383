package api_test

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// sqlPayloads are strings that change the meaning of SQL built by string
// concatenation, or of LIKE patterns and escapes, on SQLite or MySQL.
var sqlPayloads = []string{
	`'; DROP TABLE users; --`,
	`'; DROP TABLE requests; --`,
	`" OR 1=1 --`,
	`' OR '1'='1`,
	`'); DELETE FROM stock_prices; --`,
	`' UNION SELECT email, ticker FROM users --`,
	`\`, `\'`, `\"`, `\\'`, `''`,
	"\x00", "a\x00b", "\x1a", // NUL and MySQL's Ctrl-Z escape
	`%`, `_`, `%_%`, `\%`, `\_`,
	"`", `/*`, `*/`, `;`, `--`, `#`, "\n", "\r\n",
}

// metaEmails are e-mail addresses built around sqlPayloads plus
// addresses net/mail accepts that are full of metacharacters.
func metaEmails() []string {
	out := []string{
		"o'brien@x.com", `"a;b"@x.com`, `"o'brien"@x.com`,
		"x'or'1'='1@x.com", "'--@x.com", "a'#@x.com", "'/*@x.com", "*/'@x.com",
		"%@x.com", "_@x.com", "a%b_c@x.com", "{'}@x.com", "`id`@x.com",
		"a|b@x.com", "$1@x.com", "a=b@x.com", "a?b@x.com", "!#$&*+/=?^_`{|}~'@x.com",
		"O'Reilly@X.com", "victim@x.com'--", "victim'@x.com",
	}
	for _, p := range sqlPayloads {
		out = append(out, p+"@x.com", "a"+p+"b@x.com", `"`+p+`"@x.com`)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestSQLMetacharacters puts SQL metacharacters in every string field a
// client controls (e-mail, ticker, page_token, request_id): each value is
// either stored verbatim (after the documented trimming and case folding)
// and read back identically, or rejected with INVALID_ARGUMENT. Nothing is
// executed: afterwards every table exists and holds exactly the rows the
// accepted requests made, and lookups with LIKE wildcards match nothing.
func TestSQLMetacharacters(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)

		// The rows an injection would reach first.
		e.register(t, "victim@x.com", "AAPL")
		e.insertPrices(t, px("AAPL", 1, t0), px("M&M.NS", 2, t0))
		model := map[string]string{"victim@x.com": "AAPL"} // users: e-mail → ticker
		records := 0                                       // at-most-once records written
		var accepted, rejected int

		t.Run("EmailLookupsMatchNothing", func(t *testing.T) {
			for _, s := range []string{"%@x.com", "_ictim@x.com", "%victim@x.com", "victim@x.co%", "victim@x.co_", "x'or'1'='1@x.com", "victim'@x.com"} {
				_, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: s})
				wantStatus(t, err, codes.NotFound, "user "+s+" not found")
				_, err = e.client.DeleteUser(ctx, &pb.DeleteUserRequest{Email: s})
				wantStatus(t, err, codes.NotFound, "user "+s+" not found")
			}
		})

		t.Run("Emails", func(t *testing.T) {
			for _, email := range metaEmails() {
				want := strings.ToLower(strings.TrimSpace(email))
				u, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: email, Ticker: "AAPL"})
				switch status.Code(err) {
				case codes.OK:
					accepted++
					records++
					if _, dup := model[want]; dup {
						t.Fatalf("register %q: OK, but %q was already registered", email, want)
					}
					model[want] = "AAPL"
					if u.GetEmail() != want {
						t.Errorf("register %q: answered e-mail %q, want %q", email, u.GetEmail(), want)
					}
					got, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: email})
					mustOK(t, err)
					if got.GetEmail() != want || got.GetTicker() != "AAPL" {
						t.Errorf("GetUser(%q) = %v, want %q tracking AAPL", email, got, want)
					}
					if n := storetest.Count(t, e.db, "users", "email = ?", want); n != 1 {
						t.Errorf("rows with email %q = %d, want 1", want, n)
					}
				case codes.InvalidArgument:
					rejected++
					if n := storetest.Count(t, e.db, "users", "email = ?", want); n != 0 {
						t.Errorf("rejected %q, but %d rows hold it", email, n)
					}
				default:
					t.Errorf("register %q: %v, want OK or INVALID_ARGUMENT", email, err)
				}
			}
		})

		// The stored outcome of a request holds the e-mail in its message;
		// it comes back verbatim on a retry.
		t.Run("StoredOutcomeMessages", func(t *testing.T) {
			for _, email := range []string{"o'brien@x.com", "x'or'1'='1@x.com", "%@x.com", "'/*@x.com"} {
				if _, ok := model[email]; !ok {
					t.Fatalf("%q was not registered", email)
				}
				id := newID(t)
				for range 2 {
					_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: email, Ticker: "MSFT"})
					wantStatus(t, err, codes.AlreadyExists, "user "+email+" already exists")
				}
				records++
			}
		})

		t.Run("Tickers", func(t *testing.T) {
			i := 0
			for _, p := range sqlPayloads {
				for _, ticker := range []string{p, "A" + p, "AAPL" + p + "X"} {
					i++
					norm := strings.ToUpper(strings.TrimSpace(ticker))
					email := fmt.Sprintf("ticker%d@x.com", i)
					u, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{Email: email, Ticker: ticker})
					if err == nil {
						// Only "-" of these is in the ticker syntax ("A--").
						accepted++
						model[email] = norm
						if u.GetTicker() != norm || storetest.Count(t, e.db, "users", "email = ? AND ticker = ?", email, norm) != 1 {
							t.Errorf("register ticker %q: stored as %q, want %q", ticker, u.GetTicker(), norm)
						}
						resp, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{Ticker: ticker})
						if err != nil || len(resp.GetPrices()) != 0 {
							t.Errorf("ListPrices(%q) = %v, %v; want no prices", ticker, resp, err)
						}
						continue
					}
					want := fmt.Sprintf("ticker %q is not a valid symbol", metaTruncate(norm))
					if norm == "" {
						want = "ticker is required"
					}
					wantStatus(t, err, codes.InvalidArgument, want)
					_, err = e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "victim@x.com", Ticker: ticker})
					wantStatus(t, err, codes.InvalidArgument, want)
					_, err = e.client.ListPrices(ctx, &pb.ListPricesRequest{Ticker: ticker})
					wantStatus(t, err, codes.InvalidArgument, want)
					rejected += 3
				}
			}
			// The metacharacters tickers may hold are kept verbatim.
			u, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "amp@x.com", Ticker: " m&m.ns "})
			mustOK(t, err)
			model["amp@x.com"] = "M&M.NS"
			accepted++
			if u.GetTicker() != "M&M.NS" || storetest.Count(t, e.db, "users", "ticker = ?", "M&M.NS") != 1 {
				t.Errorf("ticker stored as %q, want M&M.NS", u.GetTicker())
			}
			resp, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{Ticker: "m&m.ns"})
			mustOK(t, err)
			if got := resp.GetPrices(); len(got) != 1 || got[0].GetTicker() != "M&M.NS" || got[0].GetPrice() != 2 {
				t.Errorf("ListPrices(M&M.NS) = %v, want the one M&M.NS price", got)
			}
		})

		t.Run("PageTokens", func(t *testing.T) {
			enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
			for _, p := range sqlPayloads {
				for _, tok := range []string{p, enc(p), enc(`{"l":"users","e":"` + p + `"}`), enc(`{"l":"prices","t":"` + p + `","m":1,"i":1}`)} {
					_, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{PageToken: tok})
					wantStatus(t, err, codes.InvalidArgument, "invalid page_token")
					_, err = e.client.ListPrices(ctx, &pb.ListPricesRequest{PageToken: tok})
					wantStatus(t, err, codes.InvalidArgument, "invalid page_token")
					rejected += 2
				}
			}
			// A forged cursor that is a valid address is only a position:
			// the page holds the e-mails after it, compared as bytes.
			for _, cursor := range []string{"x'or'1'='1@x.com", "%@x.com", "_@x.com", "'--@x.com"} {
				resp, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{PageSize: 1000, PageToken: enc(`{"l":"users","e":"` + cursor + `"}`)})
				mustOK(t, err)
				var got, want []string
				for _, u := range resp.GetUsers() {
					got = append(got, u.GetUser().GetEmail())
				}
				for email := range model {
					if email > cursor {
						want = append(want, email)
					}
				}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("users after %q:\n got %q\nwant %q", cursor, got, want)
				}
			}
		})

		t.Run("RequestIDs", func(t *testing.T) {
			ids := append(slices.Clone(sqlPayloads),
				`'; DROP TABLE requests; -- 12345678`,  // 36 bytes, like a UUID
				`6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4'`, // one quote off a UUID
				`6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e%_`, // wildcards
			)
			for _, id := range ids {
				want := fmt.Sprintf("request_id %q is not a UUID", metaTruncate(id))
				_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "rid@x.com", Ticker: "AAPL"})
				wantStatus(t, err, codes.InvalidArgument, want)
				_, err = e.client.DeleteUser(ctx, &pb.DeleteUserRequest{RequestId: id, Email: "victim@x.com"})
				wantStatus(t, err, codes.InvalidArgument, want)
				_, err = e.client.DeletePrices(ctx, &pb.DeletePricesRequest{RequestId: id, OlderThan: durationpb.New(1)})
				wantStatus(t, err, codes.InvalidArgument, want)
				rejected += 3
			}
		})

		// Deleting by an e-mail full of wildcards deletes that row only.
		t.Run("DeleteIsExact", func(t *testing.T) {
			for _, email := range []string{"%@x.com", "_@x.com"} {
				_, err := e.client.DeleteUser(ctx, &pb.DeleteUserRequest{RequestId: newID(t), Email: email})
				mustOK(t, err)
				delete(model, email)
				records++
			}
		})

		// Every table is there, holding exactly the rows of the model.
		if n := storetest.Count(t, e.db, "users", ""); n != len(model) {
			t.Errorf("users rows = %d, want %d", n, len(model))
		}
		for email, ticker := range model {
			if n := storetest.Count(t, e.db, "users", "email = ? AND ticker = ?", email, ticker); n != 1 {
				t.Errorf("users rows (%q, %q) = %d, want 1", email, ticker, n)
			}
		}
		testkit.WantCount(t, "stock_prices rows", storetest.Count(t, e.db, "stock_prices", ""), 2)
		if n := e.requests(t); n != records {
			t.Errorf("requests rows = %d, want %d", n, records)
		}
		resp, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{PageSize: 1000})
		mustOK(t, err)
		got := map[string]string{}
		for _, u := range resp.GetUsers() {
			got[u.GetUser().GetEmail()] = u.GetUser().GetTicker()
		}
		if !maps.Equal(got, model) {
			t.Errorf("ListUsers = %v, want %v", got, model)
		}
		t.Logf("%d values accepted and read back verbatim, %d rejected with INVALID_ARGUMENT; %d users, 2 prices, %d request records intact",
			accepted, rejected, len(model), records)
	})
}

// metaTruncate shortens s as the API's messages do.
func metaTruncate(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "…"
}
