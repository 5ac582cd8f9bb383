package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestMigrationsRerunWithoutVersionRow: MySQL commits a migration's DDL on
// its own, so a start stopped during migration N leaves N's changes in
// place and goose's version before N. For every embedded migration of each
// backend, the next start must apply N again, succeed, and leave the schema
// of a fresh database.
func TestMigrationsRerunWithoutVersionRow(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		versions, err := store.MigrationVersions(string(b))
		if err != nil {
			t.Fatal(err)
		}
		want := schema(t, b, storetest.Open(t, b))
		for _, v := range versions {
			t.Run(fmt.Sprintf("%05d", v), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				url := storetest.URL(t, b)
				db, err := store.OpenUpTo(ctx, url, v)
				if err != nil {
					t.Fatalf("migrate up to %d: %v", v, err)
				}
				// As if the start stopped after the DDL of v, before goose
				// recorded it.
				storetest.MustExec(t, db, `DELETE FROM goose_db_version WHERE version_id = ?`, v)
				db.Close()

				db, err = store.Open(ctx, url, nil)
				if err != nil {
					t.Fatalf("start after migration %d ran without its version row: %v", v, err)
				}
				defer db.Close()
				if diff := cmp.Diff(versions, appliedVersions(t, db)); diff != "" {
					t.Errorf("applied versions mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, schema(t, b, db)); diff != "" {
					t.Errorf("schema mismatch with a fresh database (-want +got):\n%s", diff)
				}
				storetest.AddUser(t, db, "a@x.com", "AAPL", t0)
				p := price("AAPL", 10, t0)
				if _, err := db.InsertPrices(ctx, []stock.Price{p}); err != nil {
					t.Fatal(err)
				}
				got, err := db.LatestPrice(ctx, "a@x.com")
				if err != nil {
					t.Fatal(err)
				}
				p.ID = got.ID
				if diff := cmp.Diff(p, got); diff != "" {
					t.Errorf("LatestPrice mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// appliedVersions returns the migration versions goose recorded in db,
// ascending.
func appliedVersions(tb testing.TB, db *store.DB) []int64 {
	tb.Helper()
	return queryColumn[int64](tb, db, `SELECT version_id FROM goose_db_version WHERE version_id > 0 AND is_applied ORDER BY version_id`)
}

// schema describes db's tables, columns and indexes, one sorted line each.
func schema(tb testing.TB, b storetest.Backend, db *store.DB) []string {
	tb.Helper()
	q := `SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || COALESCE(sql, '') FROM sqlite_master`
	if b == storetest.MySQL {
		q = `SELECT CONCAT_WS(' ', 'table', table_name, engine, table_collation)
			FROM information_schema.tables WHERE table_schema = DATABASE()
			UNION ALL
			SELECT CONCAT_WS(' ', 'column', table_name, ordinal_position, column_name, column_type,
				is_nullable, COALESCE(column_default, 'no default'), extra, collation_name)
			FROM information_schema.columns WHERE table_schema = DATABASE()
			UNION ALL
			SELECT CONCAT_WS(' ', 'index', table_name, index_name, non_unique, seq_in_index, column_name)
			FROM information_schema.statistics WHERE table_schema = DATABASE()`
	}
	lines := queryColumn[string](tb, db, q)
	slices.Sort(lines)
	return lines
}

// queryColumn returns the single column of query's rows.
func queryColumn[T any](tb testing.TB, db *store.DB, query string) []T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, w := db.Pools()
	rows, err := w.QueryContext(ctx, query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var col []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		col = append(col, v)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return col
}
