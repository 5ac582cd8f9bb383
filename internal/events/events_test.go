package events_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stockwatch/stockwatch/internal/events"
	"github.com/stockwatch/stockwatch/internal/events/natstest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

func jetStream(tb testing.TB, url string) jetstream.JetStream {
	tb.Helper()
	nc, err := events.Connect(url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// TestPublishTwiceIsDropped, on the shared server: the stream is created
// and then updated to the same configuration without error, and an event
// published twice is stored once, the second ack saying duplicate.
func TestPublishTwiceIsDropped(t *testing.T) {
	url := natstest.Shared(t)
	js := jetStream(t, url)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	name, prefix := "SWTEST_"+hex.EncodeToString(b), "swtest_"+hex.EncodeToString(b)
	cfg := events.StreamConfig()
	cfg.Name, cfg.Subjects, cfg.MaxBytes = name, []string{prefix + ".>"}, 1<<20
	for range 2 {
		if err := events.EnsureStream(ctx, js, cfg); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { js.DeleteStream(context.Background(), name) })
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if d := st.CachedInfo().Config.Duplicates; d != events.Duplicates {
		t.Errorf("duplicate window = %v, want %v", d, events.Duplicates)
	}
	e := stock.Event{ID: 42, Subject: prefix + ".prices.AAPL", Payload: []byte(`{"type":"price"}`)}
	for i, want := range []bool{false, true} {
		dup, err := events.Publish(ctx, js, name, e)
		if err != nil || dup != want {
			t.Fatalf("publish #%d: duplicate %v, %v; want %v", i+1, dup, err, want)
		}
	}
	msgs := natstest.Messages(t, url, name)
	if len(msgs) != 1 || msgs[0].Headers().Get(jetstream.MsgIDHeader) != "evt_42" || string(msgs[0].Data()) != string(e.Payload) {
		t.Fatalf("stream holds %d messages (%v); want the one evt_42", len(msgs), msgs)
	}
	// A stream that does not capture the subject is an error, not a loss.
	e.Subject = "elsewhere.AAPL"
	if _, err := events.Publish(ctx, js, name, e); err == nil {
		t.Fatal("publish to a subject no stream captures: no error")
	}
}

// counter counts the publisher's results.
type counter struct {
	mu sync.Mutex
	n  map[events.Result]int
}

func (c *counter) add(r events.Result, n int) { c.mu.Lock(); c.n[r] += n; c.mu.Unlock() }
func (c *counter) get(r events.Result) int    { c.mu.Lock(); defer c.mu.Unlock(); return c.n[r] }

func eventually(tb testing.TB, what string, d time.Duration, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pending returns db's unpublished events.
func pending(tb testing.TB, db *store.DB) int64 {
	tb.Helper()
	n, err := db.PendingEvents(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestPublisherThroughNATSRestart: a publisher on a private nats-server
// publishes every price event once; while the server is stopped prices
// are still stored at once and their events wait; once it is back they
// are published, and events published again (their marks lost, as when
// a publisher dies between the ack and the mark) are dropped by
// JetStream's duplicate window, which outlives the restart.
func TestPublisherThroughNATSRestart(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		srv := natstest.Start(t)
		ctx, cancel := context.WithCancel(context.Background())
		db, err := store.Open(ctx, storetest.URL(t, b), nil, store.WithEvents())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c := &counter{n: map[events.Result]int{}}
		pub := events.New(db, jetStream(t, srv.URL), events.Config{
			Poll: 50 * time.Millisecond, PublishTimeout: 500 * time.Millisecond, Batch: 7, OnResult: c.add,
		})
		done := make(chan error)
		go func() { done <- pub.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		insert := func(from, to int) {
			t.Helper()
			for i := from; i < to; i++ {
				start := time.Now()
				p := stock.Price{Ticker: "AAPL", Price: float64(200 + i), Currency: "USD", MarketTime: base.Add(time.Duration(i) * time.Minute), CollectTime: time.Now()}
				if _, err := db.InsertPrices(ctx, []stock.Price{p}); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Fatalf("storing a price took %v: the outbox must not wait for NATS", d)
				}
			}
		}
		insert(0, 10)
		eventually(t, "the first 10 events published", 10*time.Second, func() bool { return pending(t, db) == 0 })

		srv.Stop()
		insert(10, 20)
		eventually(t, "a publish to fail while NATS is down", 10*time.Second, func() bool { return c.get(events.ResultError) > 0 })
		time.Sleep(time.Second) // a few more attempts while it is down
		if n := pending(t, db); n == 0 {
			t.Fatal("all events marked published while NATS was down")
		}
		srv.Restart()
		eventually(t, "the events of the outage published", 20*time.Second, func() bool { return pending(t, db) == 0 })

		// Lose every mark: all 20 are published again, within the window.
		storetest.MustExec(t, db, `UPDATE events SET publish_time = 0`)
		dupBefore := c.get(events.ResultDuplicate)
		eventually(t, "the events published again", 20*time.Second, func() bool { return pending(t, db) == 0 })

		msgs := natstest.Messages(t, srv.URL, events.StreamName)
		var got, want []string
		for i, m := range msgs {
			got = append(got, m.Headers().Get(jetstream.MsgIDHeader)+" "+m.Subject())
			want = append(want, fmt.Sprintf("evt_%d stockwatch.prices.AAPL", i+1))
		}
		for len(want) < 20 {
			want = append(want, fmt.Sprintf("evt_%d stockwatch.prices.AAPL", len(want)+1))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("stream mismatch (-want +got):\n%s", diff)
		}
		if d := c.get(events.ResultDuplicate) - dupBefore; d != 20 {
			t.Errorf("%d of the 20 republished events acknowledged as duplicates; want 20", d)
		}
		// A publish that timed out during the outage may have been sent
		// when the connection came back: its retry is a duplicate too.
		if p := c.get(events.ResultPublished); p+dupBefore != 20 {
			t.Errorf("%d events stored as new and %d duplicates before the marks were lost; want 20 in all", p, dupBefore)
		}
		fmt.Printf("nats-restart (%s): 20 events, each once in the stream; %d publishes without an ack during the outage; %d duplicates dropped (%d retries of the outage, 20 republished)\n",
			b, c.get(events.ResultError), c.get(events.ResultDuplicate), dupBefore)
	})
}

// TestBatchStopsAtHalfTheLease: a batch that has published for half its
// lease leaves the rest to the publisher's next claim (so that no other
// publisher takes over a claim still being published), and every event
// still reaches the stream once.
func TestBatchStopsAtHalfTheLease(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.URL(t, storetest.SQLite), nil, store.WithEvents())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	js := jetStream(t, srv.URL)
	if err := events.EnsureStream(ctx, js, events.StreamConfig()); err != nil {
		t.Fatal(err)
	}
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 5 {
		p := stock.Price{Ticker: "MSFT", Price: float64(400 + i), Currency: "USD", MarketTime: base.Add(time.Duration(i) * time.Minute), CollectTime: base}
		if _, err := db.InsertPrices(ctx, []stock.Price{p}); err != nil {
			t.Fatal(err)
		}
	}
	// Every reading of the clock is 10 s after the one before.
	var mu sync.Mutex
	now := base
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(10 * time.Second); return now }
	pub := events.New(db, js, events.Config{Owner: "p", Lease: 30 * time.Second, Now: clock})
	n, err := pub.Once(ctx)
	if err != nil || n != 5 {
		t.Fatalf("Once = %d, %v; want 5 claimed", n, err)
	}
	if left := pending(t, db); left == 0 || left == 5 {
		t.Fatalf("after the first batch %d of 5 pending; want some published and the rest left", left)
	}
	for i := 0; pending(t, db) > 0; i++ {
		if i == 5 {
			t.Fatalf("%d events never published", pending(t, db))
		}
		if _, err := pub.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if msgs := natstest.Messages(t, srv.URL, events.StreamName); len(msgs) != 5 {
		t.Fatalf("stream holds %d messages, want 5", len(msgs))
	}
}
