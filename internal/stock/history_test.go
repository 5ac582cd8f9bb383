package stock_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
)

func TestHistoryPoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      int32
		want    int
		wantErr string
	}{
		{0, 500, ""},
		{1, 1, ""},
		{2000, 2000, ""},
		{-1, 0, "max_points must be between 1 and 2000, got -1"},
		{2001, 0, "max_points must be between 1 and 2000, got 2001"},
		{math.MaxInt32, 0, "max_points must be between 1 and 2000, got 2147483647"},
	}
	for _, tt := range tests {
		got, err := stock.HistoryPoints(tt.in)
		if tt.wantErr != "" {
			if stock.KindOf(err) != stock.KindInvalid || err.Error() != tt.wantErr {
				t.Errorf("HistoryPoints(%d) error = %v (kind %s), want %s %q", tt.in, err, stock.KindOf(err), stock.KindInvalid, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("HistoryPoints(%d) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestHistoryRange(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 21, 0, 0, 123456789, time.UTC)
	nowUS := now.Truncate(time.Microsecond)
	day := 24 * time.Hour
	var zero time.Time
	tests := []struct {
		name               string
		since, until       time.Time
		wantSince, wantEnd time.Time
		wantErr            string
	}{
		{"Defaults", zero, zero, nowUS.Add(-day), nowUS, ""},
		{"DefaultSinceBeforeUntil", zero, nowUS.Add(-day), nowUS.Add(-2 * day), nowUS.Add(-day), ""},
		{"DefaultUntilNow", nowUS.Add(-time.Hour), zero, nowUS.Add(-time.Hour), nowUS, ""},
		{"OtherZoneToUTC", now.Add(-time.Hour).In(time.FixedZone("EST", -5*3600)), zero, nowUS.Add(-time.Hour), nowUS, ""},
		{"Max", nowUS.Add(-366 * day), zero, nowUS.Add(-366 * day), nowUS, ""},
		{"OneMicrosecond", nowUS.Add(-time.Microsecond), zero, nowUS.Add(-time.Microsecond), nowUS, ""},
		{"TooLong", nowUS.Add(-366*day - time.Microsecond), zero, zero, zero, "since to until must span at most 366 days, got 8784h0m0.000001s"},
		{"Empty", nowUS, nowUS, zero, zero, "since (2026-11-29T21:00:00.123456Z) must be before until (2026-11-29T21:00:00.123456Z)"},
		{"Reversed", nowUS, nowUS.Add(-time.Hour), zero, zero, "since (2026-11-29T21:00:00.123456Z) must be before until (2026-11-29T20:00:00.123456Z)"},
		{"SinceInTheFuture", nowUS.Add(time.Hour), zero, zero, zero, "since (2026-11-29T22:00:00.123456Z) must be before until (2026-11-29T21:00:00.123456Z)"},
		{"EmptyAfterTruncation", nowUS.Add(100), nowUS.Add(900), zero, zero, "since (2026-11-29T21:00:00.123456Z) must be before until (2026-11-29T21:00:00.123456Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			since, until, err := stock.HistoryRange(tt.since, tt.until, now)
			if tt.wantErr != "" {
				if stock.KindOf(err) != stock.KindInvalid || err.Error() != tt.wantErr {
					t.Fatalf("error = %v (kind %s), want %s %q", err, stock.KindOf(err), stock.KindInvalid, tt.wantErr)
				}
				return
			}
			if err != nil || !since.Equal(tt.wantSince) || !until.Equal(tt.wantEnd) || since.Location() != time.UTC {
				t.Fatalf("= %v, %v, %v; want %v, %v", since, until, err, tt.wantSince, tt.wantEnd)
			}
		})
	}
}

// feed builds the history of prices (oldest first, one a minute from
// since, in currency cur) as a store would: newest first.
func feed(since, until time.Time, maxPoints int, cur string, prices ...float64) stock.History {
	b := stock.NewHistoryBuilder("AAPL", since, until, maxPoints)
	for i := len(prices) - 1; i >= 0; i-- {
		b.Add(since.Add(time.Duration(i)*time.Minute), prices[i], cur)
	}
	return b.History()
}

func pt(since time.Time, minute int, price float64) stock.PricePoint {
	return stock.PricePoint{MarketTime: since.Add(time.Duration(minute) * time.Minute), Price: price}
}

func TestHistoryBuilder(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 30, 14, 30, 0, 0, time.UTC)
	until := since.Add(8 * time.Minute)
	// Eight prices, one a minute: two buckets of four minutes at 8
	// points or more; the peak (9) and the trough (1) inside them.
	prices := []float64{5, 9, 4, 6, 3, 1, 7, 2}
	all := func(ps ...float64) []stock.PricePoint {
		var out []stock.PricePoint
		for i, p := range ps {
			out = append(out, pt(since, i, p))
		}
		return out
	}
	stats := stock.History{Ticker: "AAPL", Currency: "USD", Since: since, Until: until, Count: 8,
		First: pt(since, 0, 5), Last: pt(since, 7, 2), Min: pt(since, 5, 1), Max: pt(since, 1, 9)}
	with := func(points ...stock.PricePoint) stock.History {
		h := stats
		h.Points = points
		return h
	}
	tests := []struct {
		name      string
		maxPoints int
		prices    []float64
		want      stock.History
	}{
		{"AllWhenFewEnough", 8, prices, with(all(prices...)...)},
		{"AllWhenFewer", 2000, prices, with(all(prices...)...)},
		// 7 points: one bucket (7/4), its first, max, min and last.
		{"OneBucket", 7, prices, with(pt(since, 0, 5), pt(since, 1, 9), pt(since, 5, 1), pt(since, 7, 2))},
		// 4 points: still one bucket.
		{"FourPoints", 4, prices, with(pt(since, 0, 5), pt(since, 1, 9), pt(since, 5, 1), pt(since, 7, 2))},
		{"ThreePoints/LastMinMax", 3, prices, with(pt(since, 1, 9), pt(since, 5, 1), pt(since, 7, 2))},
		{"TwoPoints/LastMin", 2, prices, with(pt(since, 5, 1), pt(since, 7, 2))},
		{"OnePoint/Last", 1, prices, with(pt(since, 7, 2))},
		{"Empty", 500, nil, stock.History{Ticker: "AAPL", Since: since, Until: until, Points: []stock.PricePoint{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := feed(since, until, tt.maxPoints, "USD", tt.prices...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHistoryBuilderBuckets: with two buckets, each keeps its own
// extremes, and the points of a bucket whose extremes coincide are not
// repeated.
func TestHistoryBuilderBuckets(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 30, 14, 30, 0, 0, time.UTC)
	until := since.Add(10 * time.Minute)
	// Ten prices into 8 points: two buckets, minutes 0–4 and 5–9. In the
	// first, the lowest is the last; in the second, the first is the
	// lowest and the last the highest.
	got := feed(since, until, 8, "USD", 5, 9, 4, 6, 3, 1, 2, 3, 4, 7)
	want := []stock.PricePoint{pt(since, 0, 5), pt(since, 1, 9), pt(since, 4, 3), pt(since, 5, 1), pt(since, 9, 7)}
	if diff := cmp.Diff(want, got.Points); diff != "" {
		t.Errorf("points mismatch (-want +got):\n%s", diff)
	}
	if got.Count != 10 || got.ChangePercent() != 40 {
		t.Errorf("count %d, change %v%%; want 10, 40%%", got.Count, got.ChangePercent())
	}
}

// TestHistoryBuilderBounded: a year of one-minute prices into 500 points
// keeps every extreme within the bound, in time order.
func TestHistoryBuilderBounded(t *testing.T) {
	t.Parallel()
	since := time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC)
	until := since.Add(stock.MaxHistoryRange)
	n := int(stock.MaxHistoryRange / time.Minute)
	b := stock.NewHistoryBuilder("AAPL", since, until, 500)
	price := func(i int) float64 { return 100 + 10*math.Sin(float64(i)/997) + float64(i%13) }
	for i := n - 1; i >= 0; i-- {
		if !b.Add(since.Add(time.Duration(i)*time.Minute), price(i), "USD") {
			t.Fatal("Add refused a price in the same currency")
		}
	}
	h := b.History()
	if len(h.Points) > 500 || len(h.Points) < 400 || h.Count != n {
		t.Fatalf("%d points for %d prices, want 400–500 for %d", len(h.Points), h.Count, n)
	}
	for i := 1; i < len(h.Points); i++ {
		if !h.Points[i-1].MarketTime.Before(h.Points[i].MarketTime) {
			t.Fatalf("points %d and %d out of order: %v, %v", i-1, i, h.Points[i-1], h.Points[i])
		}
	}
	for _, p := range []stock.PricePoint{h.First, h.Last, h.Min, h.Max} {
		found := false
		for _, q := range h.Points {
			found = found || q == p
		}
		if !found {
			t.Errorf("%v (first, last, min or max) is not among the points", p)
		}
	}
}

// TestHistoryBuilderOneCurrency: prices older than a change of currency
// are left out, as for an average.
func TestHistoryBuilderOneCurrency(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 30, 14, 30, 0, 0, time.UTC)
	b := stock.NewHistoryBuilder("VOD.L", since, since.Add(time.Hour), 500)
	for _, p := range []struct {
		minute int
		price  float64
		cur    string
		want   bool
	}{{3, 0.71, "GBP", true}, {2, 0.70, "GBP", true}, {1, 70, "GBp", false}, {0, 0.69, "GBP", false}} {
		if got := b.Add(since.Add(time.Duration(p.minute)*time.Minute), p.price, p.cur); got != p.want {
			t.Errorf("Add(minute %d, %s) = %v, want %v", p.minute, p.cur, got, p.want)
		}
	}
	want := stock.History{Ticker: "VOD.L", Currency: "GBP", Since: since, Until: since.Add(time.Hour), Count: 2,
		Points: []stock.PricePoint{pt(since, 2, 0.70), pt(since, 3, 0.71)},
		First:  pt(since, 2, 0.70), Last: pt(since, 3, 0.71), Min: pt(since, 2, 0.70), Max: pt(since, 3, 0.71)}
	if diff := cmp.Diff(want, b.History()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}
