package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/breaker"
	"github.com/stockwatch/stockwatch/internal/certpool"
	"github.com/stockwatch/stockwatch/internal/collector"
	"github.com/stockwatch/stockwatch/internal/events"
	"github.com/stockwatch/stockwatch/internal/metrics"
	"github.com/stockwatch/stockwatch/internal/notifier"
	"github.com/stockwatch/stockwatch/internal/rest"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/web"
	"github.com/stockwatch/stockwatch/internal/yahoo"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// daemon is the running process: its listeners, servers and database.
type daemon struct {
	cfg    config
	log    *slog.Logger
	db     *store.DB
	grpc   *grpc.Server
	health *health.Server
	tls    *tls.Config  // the API's; nil without -tls-cert
	glis   net.Listener // nil unless the API runs
	hlis   net.Listener // nil when -http-addr is empty
	met    *metrics.Metrics
	httpIn handlers             // the HTTP handlers running
	quotes *breaker.Breaker     // the collector's quote source; nil unless the collector runs
	verify *breaker.Breaker     // the API's ticker checks'; nil without them
	coll   *collector.Collector // nil unless the collector runs
	notif  *notifier.Notifier   // nil unless the notifier runs
	pub    *events.Publisher    // nil unless the notifier runs with -nats-url
	nc     *nats.Conn           // the publisher's; nil without it
	rest   *rest.Gateway        // the REST/JSON API; nil unless the API runs with -http-addr
	web    *web.Server          // the dashboard; nil when rest is
}

// storeOptions returns the store's options for cfg: users' tickers kept
// for -user-cache-ttl and, where the API runs and users are kept (the
// prices kept serve only their reads), tickers' newest prices kept between
// polls every -price-cache-poll (for at most -interval, the bound if a
// writer does not tell: store.WithPriceCache); and with -nats-url
// events written into the outbox along with the prices every role stores
// (and only then: the default writes none).
func storeOptions(cfg config) []store.Option {
	opts := []store.Option{store.WithUserCache(cfg.UserCacheTTL)}
	if cfg.runsAPI() && cfg.UserCacheTTL > 0 {
		opts = append(opts, store.WithPriceCache(cfg.PriceCachePoll, cfg.Interval))
	}
	if cfg.NATSURL != "" {
		opts = append(opts, store.WithEvents())
	}
	return opts
}

// newDaemon opens the database and sets up what cfg runs, with tc (from
// serverTLS, or nil) as the API's TLS configuration. It returns an error
// naming what failed, having closed whatever it had opened.
func newDaemon(ctx context.Context, cfg config, tc *tls.Config, log *slog.Logger) (_ *daemon, err error) {
	owner := collectorOwner()
	attrs := cfg.logValue()
	if cfg.runsCollector() {
		attrs = append(attrs, "collector_owner", owner)
	}
	log.Info("starting stockwatchd", attrs...)
	d := &daemon{cfg: cfg, log: log, met: metrics.New(), tls: tc}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	// Listen first: an address in use fails before the database is
	// opened, so a mistaken start leaves no SQLite file behind.
	if err := d.listen(); err != nil {
		return nil, err
	}
	if d.db, err = store.Open(ctx, cfg.DB, log, storeOptions(cfg)...); err != nil {
		return nil, fmt.Errorf("open database %s: %w", store.Redact(cfg.DB), err)
	}
	for name, stats := range d.db.PoolStats() {
		d.met.DBPool(name, stats)
	}
	d.met.Cache(metrics.AverageCache, d.db.AverageCacheStats)
	d.met.Cache(metrics.UserCache, d.db.UserCacheStats)
	d.met.Cache(metrics.PriceCache, d.db.PriceCacheStats)
	d.setupQuotes()
	if cfg.runsCollector() {
		d.coll = collector.New(d.db, d.quotes, collector.Config{
			Interval: cfg.Interval, Concurrency: cfg.Concurrency, Retention: cfg.Retention, Logger: log,
			Owner:   owner,
			OnCycle: d.met.Cycle,
			// Another collector behind the same address would be rate
			// limited too: keep those tickers while Retry-After holds.
			KeepClaim:     yahoo.IsRateLimited,
			MaxUnverified: cfg.VerifyPerCycle,
		})
	}
	if cfg.runsNotifier() {
		if err := d.setupNotifier(owner); err != nil {
			return nil, err
		}
		if cfg.NATSURL != "" {
			if err := d.setupEvents(owner); err != nil {
				return nil, err
			}
		}
	}
	if cfg.runsAPI() {
		if err := d.setupAPI(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// listen opens the listeners that cfg asks for: the API's (limited to
// -max-connections) and the HTTP server's. It returns an error naming the
// flag whose address cannot be listened on; close closes what it opened.
func (d *daemon) listen() error {
	if d.cfg.runsAPI() {
		lis, err := listenTCP("-grpc-addr", d.cfg.GRPCAddr)
		if err != nil {
			return err
		}
		// With api.MaxConcurrentStreams per connection, this bounds the
		// streams, and so the memory, that clients can make the API hold.
		// A connection beyond the limit waits in the kernel's accept queue.
		d.glis = netutil.LimitListener(lis, d.cfg.MaxConnections)
	}
	if d.cfg.HTTPAddr != "" {
		lis, err := listenTCP("-http-addr", d.cfg.HTTPAddr)
		if err != nil {
			return err
		}
		d.hlis = netutil.LimitListener(lis, httpMaxConnections)
	}
	return nil
}

// listenTCP listens on addr, the value of the flag named flagName. An
// address in use is said in words, with what to do.
func listenTCP(flagName, addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s: %s is already in use (another stockwatchd?): stop what listens there or choose another address", flagName, addr)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	return lis, nil
}

// setupQuotes sets up the quote source of the collector and that of the
// API's ticker checks, as the configuration needs them: one Yahoo client,
// whose Retry-After holds both (Yahoo rate-limits per address), behind a
// breaker each, so that failing checks never open the collector's breaker.
// The checks also have a budget (-verify-rate): the collector's fetches
// keep priority.
func (d *daemon) setupQuotes() {
	checks := d.cfg.runsAPI() && d.cfg.VerifyTickers
	if !d.cfg.runsCollector() && !checks {
		return
	}
	yc := yahoo.New(d.cfg.YahooURL)
	// validate checked that -breaker-failures fits in a uint32.
	bcfg := breaker.Config{
		Name: "yahoo", Failures: uint32(d.cfg.BreakerFailures), Timeout: d.cfg.BreakerTimeout,
		IsFailure: yahoo.IsFailure, Logger: d.log,
	}
	if d.cfg.runsCollector() {
		cc := bcfg
		cc.OnStateChange = func(from, to breaker.State) { d.met.BreakerTransition(from.String(), to.String()) }
		d.quotes = breaker.New(yc, cc)
		d.met.BreakerState(func() float64 { return float64(d.quotes.State()) })
		d.met.BreakerCalls(d.quotes.Counts)
	}
	if checks {
		vc := bcfg
		vc.Name = "yahoo-verify"
		d.verify = breaker.New(yc, vc)
	}
}

// setupNotifier sets up the delivery of alert notifications: webhooks
// always, e-mail with -smtp-url. Its breakers are its own: a channel
// being down never reaches the collector.
func (d *daemon) setupNotifier(owner string) error {
	senders := map[stock.Channel]notifier.Sender{stock.ChannelWebhook: notifier.NewWebhook(nil, nil)}
	if d.cfg.SMTPURL != "" {
		e, err := notifier.NewEmail(d.cfg.SMTPURL, d.cfg.MailFrom, nil)
		if err != nil {
			return fmt.Errorf("-smtp-url: %w", err)
		}
		senders[stock.ChannelEmail] = e
	}
	d.notif = notifier.New(d.db, senders, notifier.Config{
		Owner: owner, MaxAttempts: d.cfg.NotifyAttempts, Lease: d.cfg.NotifyLease, Keep: d.cfg.NotifyKeep, Logger: d.log,
		BreakerFailures: uint32(d.cfg.BreakerFailures), BreakerTimeout: d.cfg.BreakerTimeout,
		OnResult: func(ch stock.Channel, r notifier.Result, latency time.Duration) {
			d.met.Notification(string(ch), string(r), latency)
		},
	})
	d.met.NotificationsDue(d.db.DueNotifications)
	return nil
}

func (d *daemon) setupAPI() error {
	opts := api.ServerOptions(d.log, d.cfg.AdminToken, d.met.GRPC.UnaryServerInterceptor())
	if d.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(d.tls)))
	}
	d.grpc = grpc.NewServer(opts...)
	acfg := api.Config{DedupTTL: d.cfg.DedupTTL, Logger: d.log, OnReplay: d.met.Replayed, AlertHysteresis: d.cfg.AlertHysteresis / 100}
	if d.verify != nil {
		acfg.Quoter, acfg.OnCheck = d.verify, d.met.TickerCheck
		acfg.VerifyRate, acfg.VerifyBurst = d.cfg.VerifyRate, d.cfg.VerifyBurst
	}
	srv := api.New(d.db, acfg)
	srv.Register(d.grpc)
	if d.cfg.HTTPAddr != "" {
		if err := d.setupREST(srv); err != nil {
			return err
		}
	}
	d.health = health.NewServer()
	healthpb.RegisterHealthServer(d.grpc, d.health)
	reflection.Register(d.grpc)
	d.met.GRPC.InitializeMetrics(d.grpc)
	d.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	d.health.SetServingStatus(pb.StockService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)

	if d.cfg.AdminToken == "" && !isLoopback(d.glis.Addr()) {
		d.log.Warn("the API listens on a non-loopback address without -admin-token: anyone who reaches it can list and delete data", "addr", d.glis.Addr().String())
	}
	return nil
}

// serverTLS loads the API's certificate, key and client CA. It returns an
// error naming the flag whose file is unreadable or invalid.
func serverTLS(cfg config, log *slog.Logger) (*tls.Config, error) {
	if fi, err := os.Stat(cfg.TLSKey); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("TLS key file is readable by other users", "file", cfg.TLSKey, "mode", fi.Mode().Perm().String())
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TLSClientCA != "" {
		pool, err := certpool.Load(cfg.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("-tls-client-ca: %w", err)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// collectorOwner names this process in ticker claims: host, pid and a
// random part. Host and pid let an operator tell collectors apart in the
// collector_claims table and the logs; the random part keeps two
// containers apart that share a host name (host networking) and are both
// pid 1.
func collectorOwner() string {
	host, _ := os.Hostname()
	return ownerID(host, os.Getpid(), rand.Text()[:8])
}

// ownerID is collectorOwner's format, at most 64 bytes (the claims
// column): a long host name loses its start, never the pid or the random
// part.
func ownerID(host string, pid int, random string) string {
	owner := fmt.Sprintf("%s-%d-%s", host, pid, random)
	return owner[max(0, len(owner)-64):]
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// serve runs until ctx is done or a component fails, then shuts down:
// health turns NOT_SERVING, the listeners stop accepting, in-flight
// requests get -shutdown-timeout to finish, and the database closes last.
func (d *daemon) serve(ctx context.Context) error {
	defer d.close()
	g, gctx := errgroup.WithContext(ctx)
	if d.grpc != nil {
		d.log.Info("serving gRPC", "addr", d.glis.Addr().String())
		g.Go(func() error {
			if err := d.grpc.Serve(d.glis); err != nil {
				return fmt.Errorf("grpc: %w", err)
			}
			return nil
		})
		g.Go(func() error { d.purgeRequests(gctx); return nil })
	}
	if d.coll != nil {
		g.Go(func() error { return d.coll.Run(gctx) })
	}
	if d.notif != nil {
		g.Go(func() error { return d.notif.Run(gctx) })
	}
	if d.pub != nil {
		g.Go(func() error { return d.pub.Run(gctx) })
	}
	var hs *http.Server
	if d.hlis != nil {
		hs = newHTTPServer(d.httpHandler())
		d.log.Info("serving HTTP", "addr", d.hlis.Addr().String(), "tls", d.tls != nil)
		g.Go(func() error {
			serve := func() error { return hs.Serve(d.hlis) }
			if d.tls != nil {
				// The API's TLS settings, client CA included: the REST
				// API and the pages reach the same operations.
				hs.TLSConfig = d.tls.Clone()
				serve = func() error { return hs.ServeTLS(d.hlis, "", "") }
			}
			if err := serve(); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		d.log.Info("shutting down", "timeout", d.cfg.ShutdownTimeout)
		d.shutdown(hs)
		return nil
	})
	err := g.Wait()
	if ctx.Err() != nil && err == nil {
		d.log.Info("stopped")
	}
	return err
}

func (d *daemon) shutdown(hs *http.Server) {
	var wg sync.WaitGroup
	if d.grpc != nil {
		d.health.Shutdown() // NOT_SERVING, so balancers drain us first
		wg.Go(func() {
			done := make(chan struct{})
			go func() { d.grpc.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-time.After(d.cfg.ShutdownTimeout):
				d.log.Warn("in-flight requests did not finish in time; cancelling them")
				d.grpc.Stop()
				// Stop waits for the handlers (WaitForHandlers), and so
				// does GracefulStop: the database outlives them.
				<-done
			}
		})
	}
	if hs != nil {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), d.cfg.ShutdownTimeout)
			defer cancel()
			if hs.Shutdown(ctx) != nil {
				// Closing the connections cancels the handlers'
				// contexts; Close does not wait for them, d.httpIn does.
				_ = hs.Close()
			}
			d.httpIn.wait()
		})
	}
	wg.Wait()
}

// purgeRequests forgets request records older than -dedup-ttl, every
// tenth of it (at least every second, at most hourly), until ctx is done.
func (d *daemon) purgeRequests(ctx context.Context) {
	every := min(max(d.cfg.DedupTTL/10, time.Second), time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := d.db.PurgeRequests(ctx, time.Now().Add(-d.cfg.DedupTTL))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			d.log.Warn("purging expired request records failed", "err", err)
		case n > 0:
			d.log.Info("purged expired request records", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Bounds of the HTTP server (-http-addr). Its clients are probes, metrics
// scrapers, REST clients and browsers on the pages: small requests (a
// REST body or a form is at most 64 KiB), answers within seconds (/readyz
// gives the database 2s).
const (
	httpMaxConnections    = 64 // beyond it, connections wait to be accepted
	httpMaxHeaderBytes    = 16 << 10
	httpReadHeaderTimeout = 5 * time.Second
	httpReadTimeout       = 10 * time.Second
	httpWriteTimeout      = 30 * time.Second
	// Longer than a scrape interval, so that a scraper keeps its
	// connection.
	httpIdleTimeout = 2 * time.Minute
)

// newHTTPServer returns the server of -http-addr with its bounds.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
	}
}

func (d *daemon) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.met.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	if d.rest != nil {
		mux.Handle("/v1/", d.rest)
		mux.Handle("/openapi.json", d.rest)
	}
	if d.web != nil {
		mux.Handle("/", d.web) // every other path
	}
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.db.Ping(ctx); err != nil {
			d.log.Warn("not ready", "err", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		// Which database server new connections go to: with several
		// hosts in -db, the node the daemon fails over to changes.
		if node := d.db.Node(); node != "" {
			fmt.Fprintf(w, "ready: database %s\n", node)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// Counted so that shutdown closes the database after the last one.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.httpIn.start() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		defer d.httpIn.done()
		mux.ServeHTTP(w, r)
	})
}

// handlers counts running handlers so that shutdown can wait for them. A
// sync.WaitGroup would not do: a handler may start while wait waits.
type handlers struct {
	mu      sync.Mutex
	n       int
	stopped bool
	idle    *sync.Cond // on mu; n fell to 0
}

// start counts a handler in, and returns false once wait was called.
func (h *handlers) start() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	h.n++
	return true
}

func (h *handlers) done() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n--; h.n == 0 && h.idle != nil {
		h.idle.Broadcast()
	}
}

// wait refuses new handlers and returns when the running ones have.
func (h *handlers) wait() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	h.idle = sync.NewCond(&h.mu)
	for h.n > 0 {
		h.idle.Wait()
	}
}

func (d *daemon) close() {
	if d.glis != nil {
		d.glis.Close()
	}
	if d.hlis != nil {
		d.hlis.Close()
	}
	if d.rest != nil {
		d.rest.Close() // after the HTTP handlers (shutdown), before the database
	}
	if d.nc != nil {
		d.nc.Close()
	}
	if d.db != nil {
		if err := d.db.Close(); err != nil {
			d.log.Warn("closing database", "err", err)
		}
	}
}
