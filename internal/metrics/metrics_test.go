package metrics_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	_ "modernc.org/sqlite"

	"github.com/stockwatch/stockwatch/internal/metrics"
)

// TestDBPool: a pool's statistics, read through a function, come out as
// exactly the series client_golang's collector exports for the *sql.DB
// itself: names, help, types, labels and values.
func TestDBPool(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Some non-zero figures: a limit, an open and an idle-closed
	// connection, a wait.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(0)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		c, err := db.Conn(ctx)
		if err == nil {
			err = c.Close()
		}
		waited <- err
	}()
	for db.Stats().WaitCount == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if _, err := db.Conn(ctx); err != nil { // held: open_connections 1, in use 1
		t.Fatal(err)
	}

	want := prometheus.NewRegistry()
	want.MustRegister(collectors.NewDBStatsCollector(db, "writer"))
	m := metrics.New()
	m.DBPool("writer", db.Stats)
	wantText := goSQL(t, promhttp.HandlerFor(want, promhttp.HandlerOpts{}))
	if diff := cmp.Diff(wantText, goSQL(t, m.Handler())); diff != "" {
		t.Errorf("go_sql_* series mismatch (-want +got):\n%s", diff)
	}
	for _, s := range []string{"go_sql_wait_count_total", "go_sql_max_idle_closed_total", "go_sql_in_use_connections"} {
		if strings.Contains(wantText, s+`{db_name="writer"} 0`+"\n") {
			t.Errorf("%s is 0: the test compares nothing", s)
		}
	}
}

// goSQL returns the go_sql_* lines that h serves, in its text format.
func goSQL(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var b strings.Builder
	for l := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(l, "# HELP "), "# TYPE "), "go_sql_") {
			b.WriteString(l)
		}
	}
	if b.Len() == 0 {
		t.Fatal("no go_sql_* series")
	}
	return b.String()
}

// TestCache: the hits and misses of each cache are read at scrape time,
// as one counter by result.
func TestCache(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	stats := map[string][2]uint64{}
	for _, name := range []string{metrics.AverageCache, metrics.UserCache} {
		m.Cache(name, func() (uint64, uint64) { return stats[name][0], stats[name][1] })
	}
	stats[metrics.AverageCache] = [2]uint64{7, 2}
	stats[metrics.UserCache] = [2]uint64{40, 3}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var got []string
	for line := range strings.Lines(rec.Body.String()) {
		if strings.Contains(line, "_cache_lookups_total{") {
			got = append(got, strings.TrimSpace(line))
		}
	}
	want := []string{
		`stockwatch_average_cache_lookups_total{result="hit"} 7`,
		`stockwatch_average_cache_lookups_total{result="miss"} 2`,
		`stockwatch_user_cache_lookups_total{result="hit"} 40`,
		`stockwatch_user_cache_lookups_total{result="miss"} 3`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series mismatch (-want +got):\n%s", diff)
	}
}

// TestScrape: Scrape reads every sample of a /metrics page by name and
// labels, Sum adds a family's; a page that is not 200 is an error.
func TestScrape(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.Cache(metrics.UserCache, func() (uint64, uint64) { return 40, 3 })
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	got, err := metrics.Scrape(t.Context(), srv.Client(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v := got[`stockwatch_user_cache_lookups_total{result="hit"}`]; v != 40 {
		t.Errorf("hits = %v, want 40", v)
	}
	if v := metrics.Sum(got, "stockwatch_user_cache_lookups_total"); v != 43 {
		t.Errorf("sum = %v, want 43", v)
	}
	nf := httptest.NewServer(http.NotFoundHandler())
	defer nf.Close()
	_, err = metrics.Scrape(t.Context(), nf.Client(), nf.URL+"/metrics")
	if want := "GET " + nf.URL + "/metrics: 404 Not Found"; err == nil || err.Error() != want {
		t.Errorf("Scrape of a 404: %v, want %q", err, want)
	}
}
