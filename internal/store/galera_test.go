package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// The tests of this file need the Galera cluster of scripts/galera.sh
// (storetest.EnvGalera); they change its nodes' state, so they do not run
// in parallel with each other.

// TestGaleraMigrateOnce: replicas starting together on the three nodes of
// a cluster — DDL runs in total order on every node, goose's lock is a row
// that certification lets one node take — apply each migration once, and
// all start.
func TestGaleraMigrateOnce(t *testing.T) {
	files, err := filepath.Glob("migrations/mysql/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	for round := range 3 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			nodes, _ := storetest.Galera(t)
			var (
				logs testkit.LogBuffer
				log  = slog.New(slog.NewTextHandler(&logs, nil))
				dbs  = make([]*store.DB, len(nodes))
				g    errgroup.Group
			)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			t0 := time.Now()
			for i, u := range nodes {
				g.Go(func() (err error) {
					dbs[i], err = store.Open(ctx, u, log)
					return err
				})
			}
			err := g.Wait()
			for _, db := range dbs {
				if db != nil {
					t.Cleanup(func() { db.Close() })
				}
			}
			if err != nil {
				t.Fatalf("replicas starting together: %v", err)
			}
			t.Logf("3 replicas on 3 nodes started in %v", time.Since(t0))
			testkit.WantCount(t, "migrations applied by the 3 replicas", strings.Count(logs.String(), "applied migration"), len(files))
			for i, db := range dbs {
				_, w := db.Pools()
				var rows, versions, top int
				if err := w.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT version_id), MAX(version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&rows, &versions, &top); err != nil {
					t.Fatalf("node %d: %v", i+1, err)
				}
				if rows != len(files) || versions != len(files) || top != len(files) {
					t.Errorf("node %d: goose_db_version has %d rows, %d versions, top %d; want %d of each", i+1, rows, versions, top, len(files))
				}
				// Every replica serves, on its own node.
				storetest.AddUser(t, db, fmt.Sprintf("n%d@galera.example", i+1), "AAPL", t0)
			}
		})
	}
}

// TestGaleraTablesHavePrimaryKeys: Galera replicates rows by primary key;
// a table without one is replicated slowly or refused (wsrep_mode
// REQUIRED_PRIMARY_KEY). Every table Stockwatch creates, goose's included,
// has one.
func TestGaleraTablesHavePrimaryKeys(t *testing.T) {
	nodes, _ := storetest.Galera(t)
	db := storetest.OpenURL(t, nodes[0])
	_, w := db.Pools()
	rows, err := w.Query(`SELECT t.table_name FROM information_schema.tables t
		WHERE t.table_schema = DATABASE() AND NOT EXISTS (
			SELECT 1 FROM information_schema.table_constraints c
			WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		t.Errorf("table %s has no primary key", name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n := storetest.Count(t, db, "information_schema.tables", "table_schema = DATABASE()"); n < 5 {
		t.Errorf("%d tables, want the migrations' and goose's", n)
	}
}

// TestGaleraConnectorSkipsNodes: with every node in the URL, a new
// connection skips a node that is not Synced (desynced), and connections
// on a node that leaves the primary component (isolated from the others)
// are dropped, the next ones going to a node that is ready.
func TestGaleraConnectorSkipsNodes(t *testing.T) {
	nodes, all := storetest.Galera(t)
	addr := func(i int) string {
		rest := nodes[i][strings.LastIndex(nodes[i], "@")+1:]
		return rest[:strings.Index(rest, "/")]
	}
	ctx := context.Background()
	n1 := nodeAdmin(t, nodes[0])

	t.Run("Desynced", func(t *testing.T) {
		db := storetest.OpenURL(t, all)
		if got := db.Node(); got != addr(0) {
			t.Fatalf("Node() = %q, want the first node %s", got, addr(0))
		}
		mustExec(t, n1, "SET GLOBAL wsrep_desync = ON")
		defer func() {
			mustExec(t, n1, "SET GLOBAL wsrep_desync = OFF")
			waitSynced(t, n1) // Joined for a moment first
		}()
		fresh := storetest.OpenURL(t, all)
		if err := fresh.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fresh.Node(); got != addr(1) {
			t.Errorf("with node 1 desynced, Node() = %q, want %s", got, addr(1))
		}
	})

	t.Run("NonPrimary", func(t *testing.T) {
		db := storetest.OpenURL(t, all)
		storetest.AddUser(t, db, "before@galera.example", "AAPL", t0)
		if got := db.Node(); got != addr(0) {
			t.Fatalf("Node() = %q, want the first node %s", got, addr(0))
		}
		mustExec(t, n1, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'")
		isolated := time.Now()
		defer func() {
			mustExec(t, n1, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'")
			waitSynced(t, n1)
		}()
		// Node 1 notices it is alone after the group's timeouts; until
		// then it serves, after that its connections say "not ready".
		var notReady, other int
		deadline := time.Now().Add(60 * time.Second)
		for {
			if time.Now().After(deadline) {
				t.Fatalf("still on %s 60s after isolating node 1 (%d unavailable answers)", db.Node(), notReady)
			}
			_, err := db.GetUser(ctx, "before@galera.example")
			switch {
			case err == nil && db.Node() != addr(0):
				t.Logf("isolated node 1: %d unavailable answers, then served by %s after %v", notReady, db.Node(), time.Since(isolated).Round(time.Millisecond))
				if notReady == 0 {
					t.Errorf("no read failed while node 1 left the primary component")
				}
				if other > 0 {
					t.Errorf("%d errors other than unavailable", other)
				}
				return
			case errors.Is(err, stock.ErrUnavailable):
				notReady++
			case err != nil:
				other++
				t.Logf("read: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// admin returns a connection pool on the node of url (a one-host URL).
func nodeAdmin(tb testing.TB, url string) *sql.DB {
	tb.Helper()
	rest := strings.TrimPrefix(url, "mysql://")
	at := strings.LastIndex(rest, "@")
	slash := strings.Index(rest[at:], "/") + at
	db, err := sql.Open("mysql", rest[:at]+"@tcp("+rest[at+1:slash]+")/")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	return db
}

func mustExec(tb testing.TB, db *sql.DB, stmt string) {
	tb.Helper()
	if _, err := db.Exec(stmt); err != nil {
		tb.Fatalf("%s: %v", stmt, err)
	}
}

// waitSynced waits until the node of db is Synced again, for a minute.
func waitSynced(tb testing.TB, db *sql.DB) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var name, state string
		err := db.QueryRow("SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'").Scan(&name, &state)
		if err == nil && state == "Synced" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("node not Synced after a minute: %q %v", state, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
