package storetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvGalera names the variable holding the URL of a MariaDB Galera cluster
// for the tests that need one, every node listed:
// mysql://root@127.0.0.1:3311,127.0.0.1:3312,127.0.0.1:3313/test, as
// scripts/galera.sh up starts it. Those tests kill and restart nodes, so
// CI sets it only in a step of its own, never beside the other tests.
const EnvGalera = "STOCKWATCH_TEST_GALERA"

// Galera returns the URLs of a fresh, empty database on the cluster of
// STOCKWATCH_TEST_GALERA, removed when tb ends: one URL per node (a single
// host each, in the variable's order) and one with every node, as -db
// takes it. It skips tb when the variable is unset, and fails it when the
// URL is malformed or its first node unreachable.
func Galera(tb testing.TB) (nodes []string, all string) {
	tb.Helper()
	base := os.Getenv(EnvGalera)
	if base == "" {
		tb.Skipf("%s not set; skipping the Galera cluster tests (scripts/galera.sh up starts one)", EnvGalera)
	}
	rest, ok := strings.CutPrefix(base, "mysql://")
	at := strings.LastIndex(rest, "@")
	slash := strings.Index(rest[at+1:], "/")
	if !ok || at < 0 || slash < 0 {
		tb.Fatalf("%s=%q: want mysql://USER[:PASS]@HOST:PORT,HOST:PORT.../DB", EnvGalera, base)
	}
	hostEnd := at + 1 + slash
	hosts := strings.Split(rest[at+1:hostEnd], ",")
	admin := adminDB(tb, rest[:at+1]+hosts[0])
	name := "sw_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database on %s: %v", hosts[0], err)
	}
	tb.Cleanup(func() {
		// Through any node that answers: the test may have killed one.
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	// The other nodes apply the CREATE a moment later (DDL runs in total
	// order, but only the node that ran it waits for it): a test that
	// connects to them at once would not find the database yet.
	for _, h := range hosts[1:] {
		waitSchema(tb, rest[:at+1]+h, name)
	}
	_, params, _ := strings.Cut(rest[hostEnd+1:], "?")
	if params != "" {
		params = "?" + params
	}
	for _, h := range hosts {
		nodes = append(nodes, "mysql://"+rest[:at+1]+h+"/"+name+params)
	}
	return nodes, "mysql://" + rest[:hostEnd] + "/" + name + params
}

// waitSchema waits, for up to 10s, until database name exists on the
// server of userHost (USER[:PASS]@HOST:PORT).
func waitSchema(tb testing.TB, userHost, name string) {
	tb.Helper()
	db := adminDB(tb, userHost)
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := db.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
		if err == nil && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("database %s not on %s after 10s: %v", name, userHost[strings.LastIndex(userHost, "@")+1:], err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// GaleraNode runs scripts/galera.sh with op ("kill" or "start") on node n
// (1-based) of the cluster that scripts/galera.sh up started, and returns
// how long it took; start returns once the node is Synced. It fails tb
// if the script does.
func GaleraNode(tb testing.TB, op string, n int) time.Duration {
	tb.Helper()
	script := filepath.Join(repoRoot(tb), "scripts", "galera.sh")
	t0 := time.Now()
	out, err := exec.Command("bash", script, op, strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		tb.Fatalf("galera.sh %s %d: %v\n%s", op, n, err, out)
	}
	return time.Since(t0)
}

// repoRoot returns the directory of go.mod, above the test's directory.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			tb.Fatal("no go.mod above the test's directory")
		}
		dir = up
	}
}

// GaleraURL returns the URL with every node of nodes (as Galera returns
// them: one host each, same user, database and parameters), starting with
// node first (0-based) and going round: the -db of a replica that prefers
// its own node and fails over to the next ones.
func GaleraURL(nodes []string, first int) string {
	hosts := make([]string, len(nodes))
	var head, tail string
	for i, u := range nodes {
		at := strings.LastIndex(u, "@")
		slash := at + 1 + strings.Index(u[at+1:], "/")
		head, tail = u[:at+1], u[slash:]
		hosts[(i-first+len(nodes))%len(nodes)] = u[at+1 : slash]
	}
	return head + strings.Join(hosts, ",") + tail
}
