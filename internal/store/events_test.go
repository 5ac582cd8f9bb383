package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// openEvents returns a fresh database of b opened with events on, closed
// when tb ends.
func openEvents(tb testing.TB, b storetest.Backend) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), storetest.URL(tb, b), nil, store.WithEvents())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// eventsOf returns every event of db as "subject payload", oldest first,
// claiming them for a test owner.
func eventsOf(tb testing.TB, db *store.DB) []string {
	tb.Helper()
	evs, err := db.ClaimEvents(context.Background(), "reader", t0, t0.Add(time.Minute), 1000)
	if err != nil {
		tb.Fatal(err)
	}
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Subject+" "+string(e.Payload))
	}
	return out
}

// TestEventsWrittenWithPrices: with events on, a price that moves its
// ticker's newest on writes a price event, and a crossing an alert
// event, in the price's transaction (a failed commit leaves none, the
// retry writes them once); a late price older than the newest writes
// none. Without WithEvents nothing is written.
func TestEventsWrittenWithPrices(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		for _, on := range []bool{false, true} {
			db := storetest.Open(t, b)
			if on {
				db = openEvents(t, b)
			}
			quote := crossAfterFailedCommit(t, db, func() {
				if n := storetest.Count(t, db, "events", ""); n != 0 {
					t.Fatalf("after a failed commit: %d events; want none", n)
				}
			})
			// Older than the newest: stored, not news.
			if _, err := db.InsertPrices(ctx, []stock.Price{price("AAPL", 100, t0)}); err != nil {
				t.Fatal(err)
			}
			want := []string{}
			if on {
				mt, ct := t0.Add(time.Minute).Format(time.RFC3339Nano), quote[0].CollectTime.UTC().Format(time.RFC3339Nano)
				want = []string{
					`stockwatch.prices.AAPL {"type":"price","ticker":"AAPL","price":211,"currency":"USD","market_time":"` + mt + `","collect_time":"` + ct + `"}`,
					`stockwatch.alerts.AAPL {"type":"alert.crossed","email":"a@x.com","ticker":"AAPL","direction":"above","threshold":210,"price":211,"currency":"USD","market_time":"` + mt + `"}`,
				}
			}
			if diff := cmp.Diff(want, eventsOf(t, db)); diff != "" {
				t.Errorf("events (on=%v) mismatch (-want +got):\n%s", on, diff)
			}
		}
	})
}

// TestClaimEvents: two publishers split the pending events; a mark by a
// publisher whose claim passed to another changes nothing; an expired
// claim is taken over; published events are not claimed again; the purge
// deletes old events and tells the unpublished ones it dropped.
func TestClaimEvents(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := openEvents(t, b)
		var ps []stock.Price
		for i := range 5 {
			ps = append(ps, price("AAPL", float64(200+i), t0.Add(time.Duration(i)*time.Minute)))
		}
		if _, err := db.InsertPrices(ctx, ps); err != nil {
			t.Fatal(err)
		}
		ids := func(evs []stock.Event) []int64 {
			var out []int64
			for _, e := range evs {
				out = append(out, e.ID)
			}
			return out
		}
		// The events' ids in order: not consecutive on Galera, whose nodes
		// interleave auto-increments.
		var all []int64
		_, w := db.Pools()
		rows, err := w.QueryContext(ctx, `SELECT id FROM events ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			all = append(all, id)
		}
		if rows.Close(); len(all) != 5 {
			t.Fatalf("events = %v, want 5", all)
		}
		now := t0.Add(time.Hour)
		a, err := db.ClaimEvents(ctx, "a", now, now.Add(time.Minute), 3)
		if err != nil {
			t.Fatal(err)
		}
		bb, err := db.ClaimEvents(ctx, "b", now, now.Add(time.Minute), 3)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[:3], ids(a)); diff != "" {
			t.Errorf("a's claim mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(all[3:], ids(bb)); diff != "" {
			t.Errorf("b's claim mismatch (-want +got):\n%s", diff)
		}
		// a's claim expires; b takes 1–3 over, so a's late mark is ignored.
		later := now.Add(2 * time.Minute)
		bb, err = db.ClaimEvents(ctx, "b", later, later.Add(time.Minute), 10)
		if err != nil || len(bb) != 5 {
			t.Fatalf("b's second claim = %v, %v; want all 5 (its own and a's expired)", ids(bb), err)
		}
		if n, err := db.PublishedEvents(ctx, "a", all[:3], later); err != nil || n != 0 {
			t.Fatalf("a's mark after losing its claim = %d, %v; want 0", n, err)
		}
		if n, err := db.PublishedEvents(ctx, "b", all[:3], later); err != nil || n != 3 {
			t.Fatalf("b's mark = %d, %v; want 3", n, err)
		}
		if n, err := db.PendingEvents(ctx); err != nil || n != 2 {
			t.Fatalf("PendingEvents = %d, %v; want 2", n, err)
		}
		after := later.Add(time.Hour)
		c, err := db.ClaimEvents(ctx, "c", after, after.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[3:], ids(c)); diff != "" {
			t.Errorf("claim after the marks mismatch (-want +got):\n%s", diff)
		}
		// The events were created at their prices' collect times: all
		// before the cut.
		published, dropped, err := db.PurgeEvents(ctx, after)
		if err != nil || published != 3 || dropped != 2 {
			t.Fatalf("PurgeEvents = %d published, %d dropped, %v; want 3, 2", published, dropped, err)
		}
		if n := storetest.Count(t, db, "events", ""); n != 0 {
			t.Fatalf("%d events left after the purge; want 0", n)
		}
	})
}
