package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestCeilings: the ceiling table can be created twice, ReadCeiling reads
// a ticker's newest price, PointReadCeiling a user's ticker, WriteCeiling
// writes both of its rows or, on a taken key, neither, and InsertCeiling
// writes its row once.
func TestCeilings(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for range 2 {
			if err := db.CreateCeilingTable(ctx); err != nil {
				t.Fatalf("CreateCeilingTable: %v", err)
			}
		}

		if _, err := db.ReadCeiling(ctx, "AAPL"); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("ReadCeiling of a ticker without prices: %v, want sql.ErrNoRows", err)
		}
		if _, err := db.InsertPrices(ctx, []stock.Price{price("AAPL", 10, t0), price("AAPL", 40, t0.Add(time.Minute)), price("MSFT", 99, t0.Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.ReadCeiling(ctx, "AAPL"); err != nil || got != 40 {
			t.Errorf("ReadCeiling(AAPL) = %v, %v; want 40, nil", got, err)
		}

		if _, err := db.PointReadCeiling(ctx, "a@x.com"); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("PointReadCeiling of an unknown user: %v, want sql.ErrNoRows", err)
		}
		storetest.MustExec(t, db, `INSERT INTO users (email, ticker, create_time, update_time) VALUES ('a@x.com', 'MSFT', 1, 1)`)
		if got, err := db.PointReadCeiling(ctx, "a@x.com"); err != nil || got != "MSFT" {
			t.Errorf("PointReadCeiling(a@x.com) = %q, %v; want MSFT, nil", got, err)
		}

		if err := db.WriteCeiling(ctx, "k1", 7); err != nil {
			t.Fatalf("WriteCeiling: %v", err)
		}
		if n := storetest.Count(t, db, "bench_scratch", "k IN (?, ?) AND v = ?", "k1a", "k1b", 7); n != 2 {
			t.Errorf("after WriteCeiling: %d rows, want 2", n)
		}
		if err := db.WriteCeiling(ctx, "k1", 8); err == nil {
			t.Error("WriteCeiling of a taken key: no error")
		}
		if n := storetest.Count(t, db, "bench_scratch", ""); n != 2 {
			t.Errorf("after a failed WriteCeiling: %d rows, want 2", n)
		}
		if err := db.InsertCeiling(ctx, "k2", 9); err != nil {
			t.Fatalf("InsertCeiling: %v", err)
		}
		if err := db.InsertCeiling(ctx, "k2", 10); err == nil {
			t.Error("InsertCeiling of a taken key: no error")
		}
		if n := storetest.Count(t, db, "bench_scratch", "k = ? AND v = ?", "k2", 9); n != 1 {
			t.Errorf("after InsertCeiling: %d rows, want 1", n)
		}
	})
}
