package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

func TestPriceHistory(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.Open(t, b)
		storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
		storetest.AddUser(t, db, "v@x.com", "VOD.L", t0)
		storetest.AddUser(t, db, "new@x.com", "NEW", t0)
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		pt := func(m int, p float64) stock.PricePoint { return stock.PricePoint{MarketTime: at(m), Price: p} }
		gbp := func(p float64, m int) stock.Price {
			q := price("VOD.L", p, at(m))
			q.Currency = "GBP"
			return q
		}
		// AAPL at minutes 0–5; VOD.L, interleaved, moved from pence to
		// pounds between minutes 1 and 2.
		ps := []stock.Price{gbp(70.5, 2), gbp(71, 3), gbp(70, 4)}
		for m, p := range []float64{10, 12, 8, 11, 15, 9} {
			ps = append(ps, price("AAPL", p, at(m)))
		}
		pence := price("VOD.L", 7000, at(0))
		pence.Currency = "GBp"
		ps = append(ps, pence, price("VOD.L", 7010, at(1)))
		ps[len(ps)-1].Currency = "GBp"
		if _, err := db.InsertPrices(ctx, ps); err != nil {
			t.Fatal(err)
		}

		history := func(email string, since, until int) stock.History {
			return stock.History{Ticker: "AAPL", Currency: "USD", Since: at(since), Until: at(until)}
		}
		tests := []struct {
			name         string
			email        string
			since, until int // minutes after t0
			maxPoints    int
			want         func(h stock.History) stock.History
			kind         stock.Kind
			msg          string
		}{
			{name: "All", email: "a@x.com", since: 0, until: 6, maxPoints: 500, want: func(h stock.History) stock.History {
				h.Points = []stock.PricePoint{pt(0, 10), pt(1, 12), pt(2, 8), pt(3, 11), pt(4, 15), pt(5, 9)}
				h.Count, h.First, h.Last, h.Min, h.Max = 6, pt(0, 10), pt(5, 9), pt(2, 8), pt(4, 15)
				return h
			}},
			// since is in the range, until is not; other tickers never are.
			{name: "SinceInclusiveUntilExclusive", email: "a@x.com", since: 1, until: 4, maxPoints: 500, want: func(h stock.History) stock.History {
				h.Points = []stock.PricePoint{pt(1, 12), pt(2, 8), pt(3, 11)}
				h.Count, h.First, h.Last, h.Min, h.Max = 3, pt(1, 12), pt(3, 11), pt(2, 8), pt(1, 12)
				return h
			}},
			{name: "Downsampled", email: "a@x.com", since: 0, until: 6, maxPoints: 2, want: func(h stock.History) stock.History {
				h.Points = []stock.PricePoint{pt(2, 8), pt(5, 9)} // the last and the lowest
				h.Count, h.First, h.Last, h.Min, h.Max = 6, pt(0, 10), pt(5, 9), pt(2, 8), pt(4, 15)
				return h
			}},
			{name: "OneCurrency", email: "v@x.com", since: 0, until: 10, maxPoints: 500, want: func(stock.History) stock.History {
				return stock.History{Ticker: "VOD.L", Currency: "GBP", Since: at(0), Until: at(10), Count: 3,
					Points: []stock.PricePoint{pt(2, 70.5), pt(3, 71), pt(4, 70)},
					First:  pt(2, 70.5), Last: pt(4, 70), Min: pt(4, 70), Max: pt(3, 71)}
			}},
			{name: "OlderRunInItsCurrency", email: "v@x.com", since: 0, until: 2, maxPoints: 500, want: func(stock.History) stock.History {
				return stock.History{Ticker: "VOD.L", Currency: "GBp", Since: at(0), Until: at(2), Count: 2,
					Points: []stock.PricePoint{pt(0, 7000), pt(1, 7010)},
					First:  pt(0, 7000), Last: pt(1, 7010), Min: pt(0, 7000), Max: pt(1, 7010)}
			}},
			{name: "EmptyRange", email: "a@x.com", since: 6, until: 60, maxPoints: 500, want: func(stock.History) stock.History {
				return stock.History{Ticker: "AAPL", Since: at(6), Until: at(60), Points: []stock.PricePoint{}}
			}},
			{name: "NoPriceYet", email: "new@x.com", since: 0, until: 6, maxPoints: 500,
				kind: stock.KindFailedPrecondition, msg: "no price collected yet for NEW"},
			{name: "UnknownUser", email: "nobody@x.com", since: 0, until: 6, maxPoints: 500,
				kind: stock.KindNotFound, msg: "user nobody@x.com not found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.PriceHistory(ctx, tt.email, at(tt.since), at(tt.until), tt.maxPoints)
				if tt.kind != "" {
					if stock.KindOf(err) != tt.kind || stock.MessageOf(err) != tt.msg {
						t.Fatalf("error = %v (kind %s), want %s %q", err, stock.KindOf(err), tt.kind, tt.msg)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want(history(tt.email, tt.since, tt.until)), got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}
