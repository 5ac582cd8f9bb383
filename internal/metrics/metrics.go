// Package metrics defines Stockwatch's Prometheus metrics and serves them.
// The daemon wires components to it through their callbacks, so no
// component imports Prometheus.
package metrics

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stockwatch/stockwatch/internal/breaker"
	"github.com/stockwatch/stockwatch/internal/collector"
)

// Metrics holds every series the daemon exports, on a registry of its own
// (no global state).
type Metrics struct {
	reg  *prometheus.Registry
	GRPC *grpcprom.ServerMetrics // per-RPC counts by code and latency histograms

	cycleSeconds prometheus.Histogram
	tickers      *prometheus.CounterVec
	rowsInserted prometheus.Counter
	pricesPurged prometheus.Counter
	cycleErrors  prometheus.Counter
	rejected     *prometheus.CounterVec
	transitions  *prometheus.CounterVec
	replays      *prometheus.CounterVec
	checks       *prometheus.CounterVec
	notified     *prometheus.CounterVec
	notifyDelay  prometheus.Histogram
}

// New returns the metrics, registered with Go runtime and process
// collectors on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		GRPC: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}))),
		cycleSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stockwatch_collector_cycle_duration_seconds", Help: "Wall time of one collection cycle.",
			Buckets: []float64{.01, .05, .1, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}),
		tickers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockwatch_collector_tickers_total", Help: "Tickers fetched by the collector, by outcome (ok, unknown, failed).",
		}, []string{"outcome"}),
		rowsInserted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockwatch_collector_rows_inserted_total", Help: "Price rows the collector stored.",
		}),
		pricesPurged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockwatch_collector_prices_purged_total", Help: "Price rows deleted by -retention.",
		}),
		cycleErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stockwatch_collector_cycle_errors_total", Help: "Cycles cut short by a database error.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockwatch_collector_quotes_rejected_total",
			Help: "Quotes the collector did not store because their market time cannot be right, by reason (future: ahead of the clock beyond the allowed skew; past: before any real quote).",
		}, []string{"reason"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockwatch_breaker_transitions_total", Help: "Circuit breaker state changes, by from and to state.",
		}, []string{"from", "to"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockwatch_requests_replayed_total", Help: "Mutating requests answered from a stored outcome (at-most-once), by method.",
		}, []string{"method"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockwatch_ticker_checks_total", Help: "Ticker checks at register and update, by result (verified, unknown, failed, skipped: budget spent).",
		}, []string{"result"}),
		notified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stockwatch_notifications_total",
			Help: "Alert notifications the notifier handled, by channel and result (sent, retry, failed: given up, deferred: breaker open, lost: claim taken over).",
		}, []string{"channel", "result"}),
		notifyDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stockwatch_notification_latency_seconds", Help: "From a crossing's price being stored to its notification being sent.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}),
	}
	for _, outcome := range []string{"ok", "unknown", "failed"} {
		m.tickers.WithLabelValues(outcome)
	}
	for _, reason := range []string{"future", "past"} {
		m.rejected.WithLabelValues(reason)
	}
	for _, result := range []string{"verified", "unknown", "failed", "skipped"} {
		m.checks.WithLabelValues(result)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.GRPC, m.cycleSeconds, m.tickers, m.rowsInserted, m.pricesPurged, m.cycleErrors, m.rejected, m.transitions, m.replays, m.checks,
		m.notified, m.notifyDelay,
	)
	return m
}

// Cycle records one collection cycle.
func (m *Metrics) Cycle(r collector.Result) {
	m.cycleSeconds.Observe(r.Duration.Seconds())
	m.tickers.WithLabelValues("ok").Add(float64(r.Fetched))
	m.tickers.WithLabelValues("unknown").Add(float64(r.Unknown))
	m.tickers.WithLabelValues("failed").Add(float64(r.Failed))
	m.rowsInserted.Add(float64(r.Inserted))
	m.pricesPurged.Add(float64(r.Purged))
	m.rejected.WithLabelValues("future").Add(float64(r.RejectedFuture))
	m.rejected.WithLabelValues("past").Add(float64(r.RejectedPast))
	if r.Err != nil && !errors.Is(r.Err, context.Canceled) {
		m.cycleErrors.Inc()
	}
}

// Notification records what became of one claimed notification, and for
// a sent one the time since its crossing was stored.
func (m *Metrics) Notification(channel, result string, latency time.Duration) {
	m.notified.WithLabelValues(channel, result).Inc()
	if result == "sent" {
		m.notifyDelay.Observe(latency.Seconds())
	}
}

// NotificationsDue exports the notifications waiting for delivery, read
// at scrape time by due (which returns an error when it cannot tell). It
// panics if called twice.
func (m *Metrics) NotificationsDue(due func(context.Context) (int64, error)) {
	m.countGauge("stockwatch_notifications_due", "Alert notifications waiting for delivery (-1: the database did not answer).", due)
}

// countGauge registers the gauge name, read at scrape time by count
// within 2s: -1 when count returns an error (the database did not
// answer). It panics if called twice with one name.
func (m *Metrics) countGauge(name, help string, count func(context.Context) (int64, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// Caches of the store, for Cache: what a lookup of each is for.
const (
	AverageCache = "average" // rows of price_sums, for averages
	UserCache    = "user"    // users' tickers, for price reads
	PriceCache   = "price"   // tickers' newest prices, for price reads
)

var cacheHelp = map[string]string{
	AverageCache: "Averages by whether their price_sums row was kept in memory (hit) or read (miss).",
	UserCache:    "Price reads by whether the user's ticker was kept in memory (hit) or looked up (miss).",
	PriceCache:   "Price reads of a kept user's ticker by whether its newest price was kept in memory (hit) or read (miss).",
}

// Cache exports, read at scrape time from stats, how many lookups of one
// of the store's caches (AverageCache, UserCache, PriceCache) found what they needed
// in memory (hit) and how many read it from the database (miss), as
// stockwatch_NAME_cache_lookups_total{result}. It panics if called twice
// for one cache, or for another name.
func (m *Metrics) Cache(name string, stats func() (hits, misses uint64)) {
	help, ok := cacheHelp[name]
	if !ok {
		panic("metrics: no cache " + name)
	}
	for _, r := range []struct {
		result string
		pick   func(hits, misses uint64) uint64
	}{
		{"hit", func(h, _ uint64) uint64 { return h }},
		{"miss", func(_, m uint64) uint64 { return m }},
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "stockwatch_" + name + "_cache_lookups_total", Help: help,
			ConstLabels: prometheus.Labels{"result": r.result},
		}, func() float64 { return float64(r.pick(stats())) }))
	}
}

// BreakerTransition records a circuit breaker state change.
func (m *Metrics) BreakerTransition(from, to string) {
	m.transitions.WithLabelValues(from, to).Inc()
}

// BreakerState exports the breaker's current state, read at scrape time
// by state(): 0 closed, 1 half-open, 2 open. It panics if called twice.
func (m *Metrics) BreakerState(state func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stockwatch_breaker_state", Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
	}, state))
}

// BreakerCalls exports the breaker's cumulative calls by result, read at
// scrape time from counts: success and failure (as the breaker counted the
// upstream's answer), excluded (not counted: the caller gave up) and
// rejected (refused while open, without calling the upstream). It panics
// if called twice.
func (m *Metrics) BreakerCalls(counts func() breaker.Counts) {
	m.reg.MustRegister(&breakerCalls{
		desc: prometheus.NewDesc("stockwatch_breaker_calls_total",
			"Calls through the circuit breaker, by result (success, failure, excluded, rejected).", []string{"result"}, nil),
		counts: counts,
	})
}

type breakerCalls struct {
	desc   *prometheus.Desc
	counts func() breaker.Counts
}

func (c *breakerCalls) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *breakerCalls) Collect(ch chan<- prometheus.Metric) {
	n := c.counts()
	for _, r := range []struct {
		result string
		v      uint64
	}{{"success", n.Successes}, {"failure", n.Failures}, {"excluded", n.Excluded}, {"rejected", n.Rejected}} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(r.v), r.result)
	}
}

// TickerCheck counts a ticker check at register or update by its result.
func (m *Metrics) TickerCheck(result string) { m.checks.WithLabelValues(result).Inc() }

// Replayed counts a mutating request answered from its stored outcome.
func (m *Metrics) Replayed(method string) { m.replays.WithLabelValues(method).Inc() }

// DBPool exports the statistics of a connection pool, read at scrape time
// by stats, as the go_sql_* series with db_name=name: the series of
// client_golang's collectors.NewDBStatsCollector, which would need the
// *sql.DB itself. It panics if called twice with one name.
func (m *Metrics) DBPool(name string, stats func() sql.DBStats) {
	c := &dbPool{stats: stats}
	for _, s := range dbPoolSeries {
		c.descs = append(c.descs, prometheus.NewDesc("go_sql_"+s.name, s.help, nil, prometheus.Labels{"db_name": name}))
	}
	m.reg.MustRegister(c)
}

// dbPoolSeries are the go_sql_* series of a pool, named, described and
// typed as collectors.NewDBStatsCollector does.
var dbPoolSeries = []struct {
	name, help string
	typ        prometheus.ValueType
	value      func(sql.DBStats) float64
}{
	{"max_open_connections", "Maximum number of open connections to the database.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) }},
	{"open_connections", "The number of established connections both in use and idle.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.OpenConnections) }},
	{"in_use_connections", "The number of connections currently in use.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.InUse) }},
	{"idle_connections", "The number of idle connections.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.Idle) }},
	{"wait_count_total", "The total number of connections waited for.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.WaitCount) }},
	{"wait_duration_seconds_total", "The total time blocked waiting for a new connection.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }},
	{"max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxIdleClosed) }},
	{"max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxIdleTimeClosed) }},
	{"max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxLifetimeClosed) }},
}

type dbPool struct {
	stats func() sql.DBStats
	descs []*prometheus.Desc // by dbPoolSeries
}

func (c *dbPool) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *dbPool) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for i, s := range dbPoolSeries {
		ch <- prometheus.MustNewConstMetric(c.descs[i], s.typ, s.value(st))
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
