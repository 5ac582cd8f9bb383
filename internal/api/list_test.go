package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"

	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// walkUsers lists all users page by page and returns the pages.
func walkUsers(tb testing.TB, ctx context.Context, c pb.StockServiceClient, size int32) [][]*pb.UserWithPrice {
	tb.Helper()
	return walk(tb, "ListUsers", func(token string) ([]*pb.UserWithPrice, string) {
		resp, err := c.ListUsers(ctx, &pb.ListUsersRequest{PageSize: size, PageToken: token})
		mustOK(tb, err)
		return resp.GetUsers(), resp.GetNextPageToken()
	})
}

// walkPrices lists all prices of ticker page by page and returns the pages.
func walkPrices(tb testing.TB, ctx context.Context, c pb.StockServiceClient, ticker string, size int32) [][]*pb.Price {
	tb.Helper()
	return walk(tb, "ListPrices", func(token string) ([]*pb.Price, string) {
		resp, err := c.ListPrices(ctx, &pb.ListPricesRequest{Ticker: ticker, PageSize: size, PageToken: token})
		mustOK(tb, err)
		return resp.GetPrices(), resp.GetNextPageToken()
	})
}

// walk follows page tokens from the first page until one has no next
// token, and returns the pages; it fails tb after 100 pages.
func walk[T any](tb testing.TB, method string, page func(token string) ([]T, string)) [][]T {
	tb.Helper()
	var pages [][]T
	token := ""
	for {
		var p []T
		p, token = page(token)
		pages = append(pages, p)
		if token == "" {
			return pages
		}
		if len(pages) > 100 {
			tb.Fatalf("%s does not end", method)
		}
	}
}

func pageSizes[T any](pages [][]T) []int {
	var n []int
	for _, p := range pages {
		n = append(n, len(p))
	}
	return n
}

func flatten[T any](pages [][]T) []T {
	var all []T
	for _, p := range pages {
		all = append(all, p...)
	}
	return all
}

func TestListUsers(t *testing.T) {
	eachEnv(t, options{token: adminToken}, func(t *testing.T, e *env) {
		ctx := admin(ctxTimeout(t), adminToken)
		// Registered out of order; listed by e-mail.
		for _, u := range []struct{ email, ticker string }{
			{"erin@x.com", "MSFT"}, {"bob@x.com", "AAPL"}, {"dave@x.com", "NVDA"}, {"alice@x.com", "AAPL"}, {"carol@x.com", "MSFT"},
		} {
			e.register(t, u.email, u.ticker)
		}
		m := t0.Add(-time.Hour).Truncate(time.Second)
		aapl := px("AAPL", 194, m.Add(time.Minute))
		msft := px("MSFT", 412, m)
		e.insertPrices(t, aapl, px("AAPL", 190, m), msft) // no NVDA price

		user := func(email, ticker string, latest stock.Price) *pb.UserWithPrice {
			u := &pb.UserWithPrice{User: &pb.User{Email: email, Ticker: ticker, CreateTime: tsp(t0us), UpdateTime: tsp(t0us), TickerStatus: unverified}}
			if latest.Ticker != "" {
				u.LatestPrice = pricePB(latest)
			}
			return u
		}
		all := []*pb.UserWithPrice{
			user("alice@x.com", "AAPL", aapl),
			user("bob@x.com", "AAPL", aapl),
			user("carol@x.com", "MSFT", msft),
			user("dave@x.com", "NVDA", stock.Price{}), // latest_price omitted
			user("erin@x.com", "MSFT", msft),
		}

		for _, tt := range []struct {
			size      int32
			wantSizes []int
		}{
			{size: 0, wantSizes: []int{5}}, // default 100
			{size: 1, wantSizes: []int{1, 1, 1, 1, 1}},
			{size: 2, wantSizes: []int{2, 2, 1}},
			{size: 4, wantSizes: []int{4, 1}},
			{size: 5, wantSizes: []int{5}}, // an exact fit has no empty trailing page
			{size: 1000, wantSizes: []int{5}},
		} {
			t.Run(fmt.Sprintf("OK/PageSize%d", tt.size), func(t *testing.T) {
				pages := walkUsers(t, ctx, e.client, tt.size)
				diffProto(t, tt.wantSizes, pageSizes(pages))
				diffProto(t, all, flatten(pages))
			})
		}

		for _, tt := range []struct {
			name string
			req  *pb.ListUsersRequest
			msg  string
		}{
			{"InvalidArgument/PageSizeNegative", &pb.ListUsersRequest{PageSize: -1}, "page_size must not be negative, got -1"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.client.ListUsers(ctx, tt.req)
				wantStatus(t, err, codes.InvalidArgument, tt.msg)
			})
		}
	})
}

// TestListPageSizes: page_size 0 serves pages of 100, and a page_size
// above 1000 pages of 1000.
func TestListPageSizes(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		var ps []stock.Price
		for i := range 1001 {
			ps = append(ps, px("AAPL", float64(i), t0.Add(-time.Duration(i)*time.Minute).Truncate(time.Second)))
		}
		e.insertPrices(t, ps...)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		for i := range 101 {
			g.Go(func() error {
				_, err := e.client.RegisterUser(gctx, &pb.RegisterUserRequest{Email: fmt.Sprintf("u%03d@x.com", i), Ticker: "AAPL"})
				return err
			})
		}
		mustOK(t, g.Wait())

		t.Run("ListUsers", func(t *testing.T) {
			pages := walkUsers(t, ctx, e.client, 0)
			diffProto(t, []int{100, 1}, pageSizes(pages))
			if got := flatten(pages)[100].GetUser().GetEmail(); got != "u100@x.com" {
				t.Errorf("last user = %q, want u100@x.com", got)
			}
		})
		t.Run("ListPrices", func(t *testing.T) {
			pages := walkPrices(t, ctx, e.client, "", 0)
			diffProto(t, []int{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 1}, pageSizes(pages))
			if got := flatten(pages)[1000].GetPrice(); got != 1000 {
				t.Errorf("oldest price = %v, want 1000", got)
			}
		})
		t.Run("ListPricesAboveMax", func(t *testing.T) {
			pages := walkPrices(t, ctx, e.client, "", 5000)
			diffProto(t, []int{1000, 1}, pageSizes(pages))
		})
	})
}

func TestListPrices(t *testing.T) {
	eachEnv(t, options{token: adminToken}, func(t *testing.T, e *env) {
		ctx := admin(ctxTimeout(t), adminToken)
		m := t0.Add(-time.Hour).Truncate(time.Second)
		// Inserted out of order. Two prices share a market time, so that a
		// page boundary falls between equal market times.
		e.insertPrices(t,
			px("AAPL", 3, m.Add(2*time.Minute)),
			px("MSFT", 5, m.Add(4*time.Minute)),
			px("AAPL", 1, m),
			px("MSFT", 33, m.Add(2*time.Minute)),
			px("AAPL", 4, m.Add(3*time.Minute)),
			px("MSFT", 2, m.Add(time.Minute)),
		)

		// One page holds everything; its order is the reference.
		resp, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{})
		mustOK(t, err)
		all := resp.GetPrices()
		if resp.GetNextPageToken() != "" {
			t.Errorf("single page has next_page_token %q", resp.GetNextPageToken())
		}
		if len(all) != 6 {
			t.Fatalf("ListPrices returned %d prices, want 6", len(all))
		}
		if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].GetMarketTime().AsTime().After(all[j].GetMarketTime().AsTime()) }) {
			t.Errorf("prices are not newest first: %v", all)
		}
		var got []float64
		for _, p := range all {
			got = append(got, p.GetPrice())
		}
		// 3 and 33 share a market time; either order is newest first.
		if want, alt := []float64{5, 4, 3, 33, 2, 1}, []float64{5, 4, 33, 3, 2, 1}; !equalFloats(got, want) && !equalFloats(got, alt) {
			t.Errorf("prices = %v, want %v (or %v)", got, want, alt)
		}
		diffProto(t, pricePB(px("MSFT", 5, m.Add(4*time.Minute))), all[0])

		var aapl, msft []*pb.Price
		for _, p := range all {
			if p.GetTicker() == "AAPL" {
				aapl = append(aapl, p)
			} else {
				msft = append(msft, p)
			}
		}
		for _, tt := range []struct {
			name      string
			ticker    string
			size      int32
			want      []*pb.Price
			wantSizes []int
		}{
			{name: "OK/All/PageSize1", size: 1, want: all, wantSizes: []int{1, 1, 1, 1, 1, 1}},
			{name: "OK/All/PageSize2", size: 2, want: all, wantSizes: []int{2, 2, 2}},
			{name: "OK/All/PageSize3", size: 3, want: all, wantSizes: []int{3, 3}}, // boundary between equal market times
			{name: "OK/All/PageSize4", size: 4, want: all, wantSizes: []int{4, 2}},
			{name: "OK/Ticker/PageSize2", ticker: "AAPL", size: 2, want: aapl, wantSizes: []int{2, 1}},
			{name: "OK/TickerNormalised/PageSize2", ticker: " msft ", size: 2, want: msft, wantSizes: []int{2, 1}},
			{name: "OK/TickerWithoutPrices", ticker: "NVDA", size: 2, want: nil, wantSizes: []int{0}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				pages := walkPrices(t, ctx, e.client, tt.ticker, tt.size)
				diffProto(t, tt.wantSizes, pageSizes(pages))
				diffProto(t, tt.want, flatten(pages))
			})
		}

		for _, tt := range []struct {
			name string
			req  *pb.ListPricesRequest
			msg  string
		}{
			{"InvalidArgument/PageSizeNegative", &pb.ListPricesRequest{PageSize: -1}, "page_size must not be negative, got -1"},
			{"InvalidArgument/Ticker", &pb.ListPricesRequest{Ticker: "AAPL$"}, `ticker "AAPL$" is not a valid symbol`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.client.ListPrices(ctx, tt.req)
				wantStatus(t, err, codes.InvalidArgument, tt.msg)
			})
		}
	})
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPageTokens: a page token only continues the listing it came from.
func TestPageTokens(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		for _, email := range []string{"a@x.com", "b@x.com", "c@x.com"} {
			e.register(t, email, "AAPL")
		}
		m := t0.Add(-time.Hour).Truncate(time.Second)
		e.insertPrices(t, px("AAPL", 1, m), px("AAPL", 2, m.Add(time.Minute)), px("AAPL", 3, m.Add(2*time.Minute)),
			px("MSFT", 1, m), px("MSFT", 2, m.Add(time.Minute)), px("MSFT", 3, m.Add(2*time.Minute)))

		usersPage, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{PageSize: 1})
		mustOK(t, err)
		aaplPage, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{Ticker: "aapl", PageSize: 1})
		mustOK(t, err)
		allPage, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{PageSize: 1})
		mustOK(t, err)
		usersTok, aaplTok, allTok := usersPage.GetNextPageToken(), aaplPage.GetNextPageToken(), allPage.GetNextPageToken()
		if usersTok == "" || aaplTok == "" || allTok == "" {
			t.Fatalf("missing next_page_token: users %q, AAPL prices %q, all prices %q", usersTok, aaplTok, allTok)
		}
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

		t.Run("OK/PricesTokenSameTickerOtherSpelling", func(t *testing.T) {
			resp, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{Ticker: "AAPL", PageSize: 1, PageToken: aaplTok})
			mustOK(t, err)
			if got := resp.GetPrices(); len(got) != 1 || got[0].GetTicker() != "AAPL" || got[0].GetPrice() != 2 {
				t.Errorf("second AAPL page = %v, want AAPL at 2", got)
			}
		})

		usersCases := []struct{ name, token string }{
			{"Garbage", "not a token!"},
			{"NotBase64JSON", enc("hello")},
			{"PaddedBase64", base64.URLEncoding.EncodeToString([]byte(`{"l":"users","e":"ab@x.com"}`))}, // 28 bytes: padded
			{"TooLong", strings.Repeat("A", 600)},
			{"ForgedBadEmail", enc(`{"l":"users","e":"not-an-email"}`)},
			{"ForgedWithPriceFields", enc(`{"l":"users","e":"a@x.com","i":5}`)},
			{"FromListPrices", allTok},
			{"FromListPricesWithTicker", aaplTok},
		}
		for _, tt := range usersCases {
			t.Run("ListUsers/InvalidArgument/"+tt.name, func(t *testing.T) {
				_, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{PageSize: 1, PageToken: tt.token})
				wantStatus(t, err, codes.InvalidArgument, "invalid page_token")
			})
		}

		pricesCases := []struct{ name, ticker, token string }{
			{"Garbage", "", "not a token!"},
			{"NotBase64JSON", "", enc("[1,2,3]")},
			{"ForgedZeroID", "", enc(`{"l":"prices","m":1,"i":0}`)},
			{"ForgedNegativeTime", "", enc(`{"l":"prices","m":-1,"i":3}`)},
			{"ForgedWithEmail", "", enc(`{"l":"prices","e":"a@x.com","i":3}`)},
			{"FromListUsers", "", usersTok},
			{"TickerATokenUsedWithTickerB", "MSFT", aaplTok},
			{"TickerTokenUsedWithoutTicker", "", aaplTok},
			{"UnfilteredTokenUsedWithTicker", "AAPL", allTok},
		}
		for _, tt := range pricesCases {
			t.Run("ListPrices/InvalidArgument/"+tt.name, func(t *testing.T) {
				_, err := e.client.ListPrices(ctx, &pb.ListPricesRequest{Ticker: tt.ticker, PageSize: 1, PageToken: tt.token})
				wantStatus(t, err, codes.InvalidArgument, "invalid page_token")
			})
		}
	})
}
