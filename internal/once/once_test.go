package once_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// The transaction and its record on every backend; internal/api's tests
// run the whole algorithm through the RPCs.

var t0 = time.Date(2026, 11, 27, 14, 30, 0, 123456000, time.UTC)

// TestOnceConcurrent sends one request id from 50 goroutines at once:
// exactly one effect is committed, every caller sees its outcome.
func TestOnceConcurrent(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		key := once.Key{ID: "0b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", Method: "m", Fingerprint: []byte("f"), Now: t0, ExpireBefore: t0.Add(-time.Hour)}
		outs, _, errs := onceConcurrently(db, key, 50, func(ctx context.Context, tx stock.Tx) (once.Outcome, error) {
			err := tx.CreateUser(ctx, stock.User{Email: "once@x.com", Ticker: "AAPL", CreateTime: t0, UpdateTime: t0})
			return once.Outcome{Body: []byte("created")}, err
		})
		for i := range 50 {
			if errs[i] != nil || string(outs[i].Body) != "created" {
				t.Errorf("caller %d: outcome %+v, err %v", i, outs[i], errs[i])
			}
		}
		testkit.WantCount(t, "users", storetest.Count(t, db, "users", ""), 1)
	})
}

// TestOnceConcurrentReplay: concurrent duplicates whose effect cannot
// fail (an insert that skips a stored row) collide on the request record
// itself: one commits, every other rolls back and replays its outcome.
func TestOnceConcurrentReplay(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		key := once.Key{ID: "2c7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", Method: "m", Fingerprint: []byte("f"), Now: t0, ExpireBefore: t0.Add(-time.Hour)}
		const n = 50
		outs, replayed, errs := onceConcurrently(db, key, n, func(ctx context.Context, tx stock.Tx) (once.Outcome, error) {
			added, err := tx.InsertPrices(ctx, []stock.Price{{Ticker: "AAPL", Price: 190, Currency: "USD", MarketTime: t0, CollectTime: t0}})
			return once.Outcome{Body: fmt.Appendf(nil, "added %d", added)}, err
		})
		for i := range n {
			if errs[i] != nil || string(outs[i].Body) != "added 1" {
				t.Errorf("caller %d: outcome %q, err %v; want the first's \"added 1\"", i, outs[i].Body, errs[i])
			}
		}
		if got := replayed; got != n-1 {
			t.Errorf("replayed = %d, want %d", got, n-1)
		}
		if c := storetest.Count(t, db, "stock_prices", ""); c != 1 {
			t.Errorf("prices = %d, want 1", c)
		}
		if c := storetest.Count(t, db, "requests", ""); c != 1 {
			t.Errorf("request records = %d, want 1", c)
		}
	})
}

// onceConcurrently runs once.Transact(db, key, fn) from n goroutines released at
// once, and returns each caller's outcome and error, and how many were
// replayed.
func onceConcurrently(db *store.DB, key once.Key, n int, fn func(context.Context, stock.Tx) (once.Outcome, error)) ([]once.Outcome, int, []error) {
	var (
		wg       sync.WaitGroup
		replayed atomic.Int32
		outs     = make([]once.Outcome, n)
		errs     = make([]error, n)
		start    = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			var r bool
			outs[i], r, errs[i] = once.Transact(context.Background(), db, key, fn)
			if r {
				replayed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return outs, int(replayed.Load()), errs
}

func TestOnceRecords(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := once.Key{ID: "1b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", Method: "m", Fingerprint: []byte("f"), Now: t0, ExpireBefore: t0.Add(-time.Hour)}
		notFound := func(ctx context.Context, tx stock.Tx) (once.Outcome, error) {
			out, _ := once.OutcomeOf(tx.DeleteUser(ctx, "ghost@x.com"))
			return out, nil
		}
		out, replayed, err := once.Transact(ctx, db, key, notFound)
		if err != nil || replayed || out.Kind != stock.KindNotFound {
			t.Fatalf("first = %+v, %v, %v", out, replayed, err)
		}
		// The stored outcome is replayed, whatever the world looks like
		// now, and the replay's own writes are rolled back.
		storetest.AddUser(t, db, "ghost@x.com", "AAPL", t0)
		out2, replayed, err := once.Transact(ctx, db, key, notFound)
		if err != nil || !replayed {
			t.Fatalf("replay = %v, %v", replayed, err)
		}
		if diff := cmp.Diff(out, out2); diff != "" {
			t.Errorf("replayed outcome mismatch (-want +got):\n%s", diff)
		}
		if n := storetest.Count(t, db, "users", "email = ?", "ghost@x.com"); n != 1 {
			t.Errorf("ghost rows after replay = %d, want 1 (the replay's delete rolled back)", n)
		}

		other := key
		other.Fingerprint = []byte("g")
		if _, _, err := once.Transact(ctx, db, other, notFound); stock.KindOf(err) != stock.KindInvalid || stock.MessageOf(err) != "request_id reused with a different request" {
			t.Errorf("reuse with other payload: %v", err)
		}

		// Once expired, the id is new and runs again.
		later := key
		later.Now, later.ExpireBefore = t0.Add(25*time.Hour), t0.Add(time.Hour)
		out3, replayed, err := once.Transact(ctx, db, later, notFound)
		if err != nil || replayed || out3.Kind != "" {
			t.Fatalf("after expiry = %+v, %v, %v; want a fresh success (ghost exists now)", out3, replayed, err)
		}

		// A failure before commit leaves neither the record nor the effect.
		boom := errors.New("injected")
		k2 := key
		k2.ID = "2b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11"
		if _, _, err := once.Transact(ctx, failCommit{db, boom}, k2, func(ctx context.Context, tx stock.Tx) (once.Outcome, error) {
			return once.Outcome{}, tx.CreateUser(ctx, stock.User{Email: "crash@x.com", Ticker: "AAPL", CreateTime: t0, UpdateTime: t0})
		}); !errors.Is(err, boom) {
			t.Fatalf("injected failure: %v", err)
		}
		testkit.WantCount(t, "users after rollback", storetest.Count(t, db, "users", "email = ?", "crash@x.com"), 0)
		testkit.WantCount(t, "records after rollback", storetest.Count(t, db, "requests", "request_id = ?", k2.ID), 0)

		purged, err := db.PurgeRequests(ctx, t0.Add(26*time.Hour))
		if err != nil || purged != 1 {
			t.Errorf("PurgeRequests = %d, %v; want 1", purged, err)
		}
	})
}

// failCommit is a real store whose record transactions fail with err
// after all their statements, the record's insert included, before the
// commit.
type failCommit struct {
	*store.DB
	err error
}

func (s failCommit) RecordTx(ctx context.Context, fn func(context.Context, once.Tx) error) error {
	return s.DB.RecordTx(ctx, func(ctx context.Context, tx once.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return s.err
	})
}

// countReads is a real store that counts the reads of request records.
type countReads struct {
	*store.DB
	reads atomic.Int32
}

func (s *countReads) Record(ctx context.Context, id string) (once.Record, bool, error) {
	s.reads.Add(1)
	return s.DB.Record(ctx, id)
}

// TestRunReads: a request reads its record at most once before its
// transaction, and only when it has a prepare step to skip, and once after
// a collision.
func TestRunReads(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		st := &countReads{DB: storetest.Open(t, b)}
		var replays, prepared atomic.Int32
		r := once.New(st, once.Config{Now: func() time.Time { return t0 }, OnReplay: func(string) { replays.Add(1) }})
		prepare := func(context.Context) error { prepared.Add(1); return nil }
		tests := []struct {
			name                    string
			id, email               string
			prepare                 bool
			wantReads, wantPrepared int32
			wantReplay              bool
			wantErr                 string
		}{
			{name: "New", id: "3b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", email: "a@x.com"},
			{name: "Replay", id: "3b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", email: "a@x.com", wantReads: 1, wantReplay: true},
			{name: "Reused", id: "3b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", email: "b@x.com", wantReads: 1,
				wantErr: "request_id reused with a different request"},
			{name: "NewWithPrepare", id: "4b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", email: "c@x.com", prepare: true, wantReads: 1, wantPrepared: 1},
			{name: "ReplayWithPrepare", id: "4b7e3f4c-55aa-4f0e-9d2c-1c1f6a0e9b11", email: "c@x.com", prepare: true, wantReads: 1, wantReplay: true},
			{name: "NoID", email: "d@x.com", prepare: true, wantPrepared: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st.reads.Store(0)
				prepared.Store(0)
				replays.Store(0)
				req := once.Request{ID: tt.id, Method: "m", Payload: []string{tt.email},
					Effect: func(ctx context.Context, tx stock.Tx) (proto.Message, error) {
						return wrapperspb.String(tt.email), tx.CreateUser(ctx, stock.User{Email: tt.email, Ticker: "AAPL", CreateTime: t0, UpdateTime: t0})
					}}
				if tt.prepare {
					req.Prepare = prepare
				}
				var resp wrapperspb.StringValue
				err := r.Run(context.Background(), req, &resp)
				if tt.wantErr != "" {
					if stock.KindOf(err) != stock.KindInvalid || stock.MessageOf(err) != tt.wantErr {
						t.Errorf("Run = %v, want KindInvalid %q", err, tt.wantErr)
					}
				} else if err != nil || resp.GetValue() != tt.email {
					t.Errorf("Run = %q, %v; want %q", resp.GetValue(), err, tt.email)
				}
				if got := st.reads.Load(); got != tt.wantReads {
					t.Errorf("record reads = %d, want %d", got, tt.wantReads)
				}
				if got := prepared.Load(); got != tt.wantPrepared {
					t.Errorf("prepare ran %d times, want %d", got, tt.wantPrepared)
				}
				if got := replays.Load() == 1; got != tt.wantReplay {
					t.Errorf("replayed = %v, want %v", got, tt.wantReplay)
				}
			})
		}
		if n := storetest.Count(t, st.DB, "users", ""); n != 3 {
			t.Errorf("users = %d, want 3 (a, c, d)", n)
		}
	})
}
