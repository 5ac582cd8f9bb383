package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestWriteRoundTrips: on MySQL a write transaction sends its statements in
// as few round trips as it can (docs/storage.md, "Round trips"): START
// TRANSACTION with the first statement whose answer it needs, the writes
// whose answers it does not need with the next one or with the COMMIT. A
// batch that fails is run again one statement at a time, so that its error
// is its own statement's. A Galera node (CI runs this on one) gets one
// statement per round trip.
func TestWriteRoundTrips(t *testing.T) {
	url, proxy := storetest.ProxiedMySQL(t, storetest.URL(t, storetest.MySQL))
	db := storetest.OpenURL(t, url)
	pipelined := !storetest.IsGalera(t, db)
	if db.Pipelined() != pipelined {
		t.Fatalf("pipelined %v on a server with galera %v", db.Pipelined(), !pipelined)
	}
	ctx := context.Background()
	now := time.Now()
	record := func(ctx context.Context, tx once.Tx, id string) error {
		return tx.InsertRecord(ctx, once.Record{ID: id, Method: "m", Fingerprint: []byte{1}, Created: now})
	}
	register := func(email, id string) func() error { // what RegisterUser runs
		return func() error {
			return db.RecordTx(ctx, func(ctx context.Context, tx once.Tx) error {
				if err := tx.CreateUser(ctx, stock.User{Email: email, Ticker: "AAPL", CreateTime: now, UpdateTime: now}); err != nil {
					return err
				}
				if _, _, err := tx.TickerStatus(ctx, "AAPL"); err != nil {
					return err
				}
				return record(ctx, tx, id)
			})
		}
	}
	remove := func(email, id string) func() error { // what DeleteUser runs
		return func() error {
			return db.RecordTx(ctx, func(ctx context.Context, tx once.Tx) error {
				if err := tx.DeleteUser(ctx, email); err != nil {
					return err
				}
				return record(ctx, tx, id)
			})
		}
	}
	update := func(email, ticker, id string) func() error { // what UpdateUser runs
		return func() error {
			return db.RecordTx(ctx, func(ctx context.Context, tx once.Tx) error {
				if _, err := tx.UpdateUser(ctx, email, ticker, now); err != nil {
					return err
				}
				if _, _, err := tx.TickerStatus(ctx, ticker); err != nil {
					return err
				}
				return record(ctx, tx, id)
			})
		}
	}
	if err := register("warm@example.com", "00000000-0000-4000-8000-000000000000")(); err != nil {
		t.Fatal(err) // the pool's connection is open from here on
	}
	if err := register("band@example.com", "00000000-0000-4000-8000-00000000000b")(); err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
		_, err := tx.SetAlert(ctx, stock.Alert{Email: "band@example.com", Above: 500, Channels: []stock.Channel{stock.ChannelEmail}, Hysteresis: 0.005})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	commands := storetest.MySQLCommands(proxy)
	for _, tt := range []struct {
		name        string
		run         func() error
		wantErr     string
		roundTrips  int // pipelined
		unpipelined int
	}{
		// INSERT user + SELECT status; INSERT record + COMMIT.
		{"register", register("a@example.com", "00000000-0000-4000-8000-000000000001"), "", 2, 5},
		// SELECT user FOR UPDATE; UPDATE user, DELETE band + SELECT
		// status; INSERT record + COMMIT.
		{"update", update("a@example.com", "MSFT", "00000000-0000-4000-8000-000000000005"), "", 3, 6},
		// The same for a user with a band: its DELETE is counted, a round
		// trip of its own.
		{"update with a band", update("band@example.com", "MSFT", "00000000-0000-4000-8000-000000000006"), "", 4, 7},
		// DELETE user (its count is needed); DELETE band, notifications,
		// INSERT record + COMMIT.
		{"delete", remove("a@example.com", "00000000-0000-4000-8000-000000000002"), "", 2, 6},
		// The batch fails at the queued INSERT (1) and rolls back (1); then
		// START TRANSACTION (1), INSERT (1) finds the duplicate, ROLLBACK (1).
		{"register an existing e-mail", register("warm@example.com", "00000000-0000-4000-8000-000000000003"),
			"user warm@example.com already exists", 5, 3},
		{"delete a missing user", remove("a@example.com", "00000000-0000-4000-8000-000000000004"),
			"user a@example.com not found", 2, 3}, // (START TRANSACTION +) DELETE finds none; ROLLBACK
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := commands()
			err := tt.run()
			if got := errString(err); got != tt.wantErr {
				t.Fatalf("error %q, want %q", got, tt.wantErr)
			}
			want := tt.roundTrips
			if !pipelined {
				want = tt.unpipelined
			}
			if got := commands() - before; got != want {
				t.Errorf("%d round trips, want %d (pipelined %v)", got, want, pipelined)
			}
		})
	}
	if n := storetest.Count(t, db, "requests", ""); n != 6 {
		t.Errorf("%d request records, want 6 (two warm-ups, register, two updates, delete)", n)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return stock.MessageOf(err)
}

var _ once.Store = (*store.DB)(nil)

// TestPipelineLostCommit: a pipelined transaction whose COMMIT batch is
// not answered (the connection lost, the caller gone) is not run again:
// the COMMIT may have been applied. Only an error the server sent, which
// stopped the batch before its COMMIT, runs it again statement by
// statement.
func TestPipelineLostCommit(t *testing.T) {
	url, proxy := storetest.ProxiedMySQL(t, storetest.URL(t, storetest.MySQL))
	db := storetest.OpenURL(t, url)
	if !db.Pipelined() {
		t.Skip("not pipelined here (a Galera node)")
	}
	now := time.Now()
	for _, tt := range []struct {
		name  string
		cut   func(cancel context.CancelFunc) // before the COMMIT batch
		check func(error) bool
		want  string
	}{
		{"connection lost", func(context.CancelFunc) { proxy.Cut(); proxy.Restore() },
			func(err error) bool { return errors.Is(err, stock.ErrUnavailable) }, "unavailable"},
		{"caller gone", func(cancel context.CancelFunc) { cancel() },
			func(err error) bool { return errors.Is(err, context.Canceled) }, "context.Canceled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db.SetBeforeCommit(func(context.Context) error { tt.cut(cancel); return nil })
			defer db.SetBeforeCommit(nil)
			runs := 0
			err := db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error {
				runs++
				return tx.CreateUser(ctx, stock.User{Email: "lost@example.com", Ticker: "AAPL", CreateTime: now, UpdateTime: now})
			})
			if !tt.check(err) {
				t.Errorf("error %v, want %s", err, tt.want)
			}
			if runs != 1 {
				t.Errorf("ran %d times, want 1", runs)
			}
		})
	}
}

// TestOneStatementPerQuery: only the pipelined transactions' own pool takes
// several statements in one query; on every other, a second statement is
// refused, so no value could stack one.
func TestOneStatementPerQuery(t *testing.T) {
	db := storetest.Open(t, storetest.MySQL)
	r, w := db.Pools()
	for name, p := range map[string]*sql.DB{"reader": r, "writer": w} {
		var one int
		err := p.QueryRowContext(context.Background(), "SELECT 1; SELECT 2").Scan(&one)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1064 {
			t.Errorf("%s pool: two statements in one query gave %v (%d), want error 1064", name, err, one)
		}
	}
}
