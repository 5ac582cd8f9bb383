package stock

import (
	"slices"
	"time"
)

// Limits of a price history request.
const (
	DefaultHistoryPoints = 500
	MaxHistoryPoints     = 2000
	// DefaultHistoryRange is the range when since is not given: the last
	// day up to until.
	DefaultHistoryRange = 24 * time.Hour
	// MaxHistoryRange bounds the rows one request reads: a year of
	// one-minute prices (about 527,000) plus a leap day.
	MaxHistoryRange = 366 * 24 * time.Hour
)

// HistoryPoints maps the number of points asked of a history to the one
// served: 0 means DefaultHistoryPoints. It returns an error of KindInvalid
// for a number outside 1…MaxHistoryPoints.
func HistoryPoints(n int32) (int, error) {
	switch {
	case n == 0:
		return DefaultHistoryPoints, nil
	case n < 1 || n > MaxHistoryPoints:
		return 0, Errorf(KindInvalid, "max_points must be between 1 and %d, got %d", MaxHistoryPoints, n)
	}
	return int(n), nil
}

// HistoryRange returns the range [since, until) of a history, truncated to
// the microseconds the store keeps: a zero until means now, a zero since
// DefaultHistoryRange before until. It returns an error of KindInvalid
// unless since is before until and the range spans at most
// MaxHistoryRange.
func HistoryRange(since, until, now time.Time) (time.Time, time.Time, error) {
	if until.IsZero() {
		until = now
	}
	until = until.UTC().Truncate(time.Microsecond)
	if since.IsZero() {
		since = until.Add(-DefaultHistoryRange)
	}
	since = since.UTC().Truncate(time.Microsecond)
	switch {
	case !since.Before(until):
		return time.Time{}, time.Time{}, Errorf(KindInvalid, "since (%s) must be before until (%s)",
			since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
	case until.Sub(since) > MaxHistoryRange:
		return time.Time{}, time.Time{}, Errorf(KindInvalid, "since to until must span at most %d days, got %s",
			MaxHistoryRange/(24*time.Hour), until.Sub(since))
	}
	return since, until, nil
}

// PricePoint is one price of a history.
type PricePoint struct {
	MarketTime time.Time
	Price      float64
}

// History is a ticker's prices in a range [Since, Until), downsampled to
// at most a given number of points, all in one currency: the newest run
// of prices in the newest price's currency, as for Average.
type History struct {
	Ticker   string
	Currency string // "" when the range holds no price
	Since    time.Time
	Until    time.Time
	// Points are in market time order: every price of the range when
	// there are no more than asked, else the downsampled ones (see
	// HistoryBuilder).
	Points []PricePoint
	// Count is the number of prices the points stand for.
	Count int
	// First, Last, Min and Max are over all Count prices, not only the
	// points (but each of them is also a point). Zero when Count is 0.
	First, Last, Min, Max PricePoint
}

// ChangePercent returns the change from First to Last in percent, or 0
// when First is 0 (no price, or a worthless one).
func (h History) ChangePercent() float64 {
	if h.First.Price == 0 {
		return 0
	}
	return (h.Last.Price - h.First.Price) / h.First.Price * 100
}

// HistoryBuilder builds a History from prices fed newest first, holding at
// most about twice the points asked, however many prices it is fed.
//
// Downsampling: the range is cut into max(1, maxPoints/4) buckets of equal
// time; each bucket with prices keeps its first, last, lowest and highest
// (fewer when they coincide), so a chart of the points keeps every peak
// and trough. With maxPoints below 4, the one bucket keeps, in this order
// of preference, the last, the lowest, the highest and the first price.
type HistoryBuilder struct {
	h       History
	max     int
	buckets int64
	span    int64 // of the range, in microseconds
	raw     []PricePoint
	cur     bucket
	sampled []PricePoint // newest first
	done    bool         // a price in another currency was seen
}

// bucket is one bucket's extremes; n is 0 for no bucket yet.
type bucket struct {
	index                  int64
	n                      int
	first, last, low, high PricePoint
}

// NewHistoryBuilder returns a builder of ticker's history in [since,
// until) with at most maxPoints points (at least 1).
func NewHistoryBuilder(ticker string, since, until time.Time, maxPoints int) *HistoryBuilder {
	maxPoints = max(maxPoints, 1)
	return &HistoryBuilder{
		h:       History{Ticker: ticker, Since: since, Until: until},
		max:     maxPoints,
		buckets: int64(max(1, maxPoints/4)),
		span:    max(until.Sub(since).Microseconds(), 1),
	}
}

// Add feeds the next price, older than the one before it. It returns
// false, and ignores the price, once a price was in another currency than
// the newest: the caller can stop feeding.
func (b *HistoryBuilder) Add(t time.Time, price float64, currency string) bool {
	if b.done {
		return false
	}
	p := PricePoint{MarketTime: t, Price: price}
	h := &b.h
	if h.Count == 0 {
		h.Currency, h.Last, h.Min, h.Max = currency, p, p, p
	} else if currency != h.Currency {
		b.done = true
		return false
	}
	h.Count++
	widen(&h.First, &h.Min, &h.Max, p)
	if len(b.raw) <= b.max {
		b.raw = append(b.raw, p)
	}
	i := min(max(t.Sub(h.Since).Microseconds(), 0)*b.buckets/b.span, b.buckets-1)
	if b.cur.n > 0 && i != b.cur.index {
		b.flush()
	}
	if b.cur.n == 0 {
		b.cur = bucket{index: i, last: p, low: p, high: p}
	}
	c := &b.cur
	c.n++
	widen(&c.first, &c.low, &c.high, p)
	return true
}

// widen takes p, older than the points before it, into a run's first
// (oldest), lowest and highest points.
func widen(first, low, high *PricePoint, p PricePoint) {
	*first = p
	if p.Price < low.Price {
		*low = p
	}
	if p.Price > high.Price {
		*high = p
	}
}

// flush appends the current bucket's points, newest first, and empties it.
func (b *HistoryBuilder) flush() {
	c := b.cur
	var keep []PricePoint
	for _, p := range []PricePoint{c.last, c.low, c.high, c.first} {
		if len(keep) < b.max && !slices.Contains(keep, p) {
			keep = append(keep, p)
		}
	}
	slices.SortFunc(keep, func(x, y PricePoint) int { return y.MarketTime.Compare(x.MarketTime) })
	b.sampled = append(b.sampled, keep...)
	b.cur = bucket{}
}

// History returns the history of the prices fed, in market time order.
func (b *HistoryBuilder) History() History {
	h := b.h
	pts := b.raw
	if h.Count > b.max {
		if b.cur.n > 0 {
			b.flush()
		}
		pts = b.sampled
	}
	h.Points = make([]PricePoint, len(pts))
	for i, p := range pts {
		h.Points[len(pts)-1-i] = p
	}
	return h
}
