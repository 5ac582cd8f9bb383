package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stockwatch/stockwatch/internal/benchtest"
	"github.com/stockwatch/stockwatch/internal/store"
)

// The databases of a run: a fresh one per data set, on the MariaDB server
// of -mysql or in a SQLite file under the work directory.

func (h *harness) connectMySQL(ctx context.Context, br *backendReport) error {
	if h.admin != nil {
		return nil
	}
	userHost, ok := strings.CutPrefix(h.cfg.MySQL, "mysql://")
	if !ok {
		return fmt.Errorf("-mysql %q: want mysql://USER[:PASS]@HOST[:PORT]", store.Redact(h.cfg.MySQL))
	}
	userHost, _, _ = strings.Cut(userHost, "/")
	at := strings.LastIndex(userHost, "@")
	if at < 0 {
		return fmt.Errorf("-mysql %q: want mysql://USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]", store.Redact(h.cfg.MySQL))
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, _ = strings.Cut(userHost[:at], ":")
	// Several hosts (a Galera cluster's nodes, which the daemon's -db
	// takes): databases are created through the first.
	first, _, _ := strings.Cut(userHost[at+1:], ",")
	mc.Net, mc.Addr, mc.Timeout = "tcp", first, 5*time.Second
	if !strings.Contains(mc.Addr, ":") {
		mc.Addr += ":3306"
	}
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&br.dbVersion); err != nil {
		db.Close()
		return fmt.Errorf("MariaDB at %s: %w", mc.Addr, err)
	}
	h.admin = db
	if host, _, _ := strings.Cut(mc.Addr, ":"); host == "127.0.0.1" || host == "localhost" || host == "::1" {
		h.mysqlPID = serverPID(ctx, db)
	}
	return nil
}

// serverPID returns the pid of the local server db is connected to, from
// its pid file: several may run here (Galera nodes, other jobs'), so a
// process name does not tell which. It returns 0 if that fails.
func serverPID(ctx context.Context, db *sql.DB) int {
	var path string
	if err := db.QueryRowContext(ctx, "SELECT @@pid_file").Scan(&path); err != nil {
		return 0
	}
	return pidFromFile(path, "mariadbd", "mysqld")
}

// database is a fresh database of one backend, removed by drop.
type database struct {
	dsn  string
	drop func()
}

func (h *harness) newDatabase(ctx context.Context, backend, tag string) (database, error) {
	if backend == "sqlite" {
		dir := filepath.Join(h.cfg.Workdir, tag)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return database{}, err
		}
		return database{dsn: "sqlite://" + filepath.Join(dir, "stockwatch.db"), drop: func() { os.RemoveAll(dir) }}, nil
	}
	name := fmt.Sprintf("stockwatch_bench_%d_%s", h.id, tag)
	if _, err := h.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return database{}, fmt.Errorf("create database %s: %w", name, err)
	}
	userHost, _, _ := strings.Cut(strings.TrimPrefix(h.cfg.MySQL, "mysql://"), "/")
	return database{dsn: "mysql://" + userHost + "/" + name, drop: func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := h.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			h.logf("drop database %s: %v", name, err)
		}
	}}, nil
}

// preload fills db with users over tickers and prices, with the daemon's
// store.Open and benchtest.Preload, and returns how long it took.
func (h *harness) preload(ctx context.Context, db database, users, tickers, prices int) (time.Duration, error) {
	start := time.Now()
	s, err := store.Open(ctx, db.dsn, nil)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if err := benchtest.Preload(ctx, s, users, tickers, prices); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func (h *harness) dbPID(backend string) int {
	if backend == "mysql" {
		return h.mysqlPID
	}
	return 0
}
