package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"time"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/notifier"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/yahoo"
)

// config is the daemon's whole configuration: defaults, overridden by
// STOCKWATCH_* environment variables, overridden by flags.
type config struct {
	Role            string
	DB              string
	GRPCAddr        string
	HTTPAddr        string
	MaxConnections  int
	Interval        time.Duration
	UserCacheTTL    time.Duration
	PriceCachePoll  time.Duration
	YahooURL        string
	BreakerFailures uint
	BreakerTimeout  time.Duration
	Concurrency     int
	DedupTTL        time.Duration
	Retention       time.Duration
	VerifyTickers   bool
	VerifyRate      float64
	VerifyBurst     int
	VerifyPerCycle  int
	LogFormat       string
	LogLevel        string
	AdminToken      string
	TLSCert         string
	TLSKey          string
	TLSClientCA     string
	ShutdownTimeout time.Duration
	AlertHysteresis float64 // percent
	NotifyAttempts  int
	NotifyLease     time.Duration
	NotifyKeep      time.Duration
	SMTPURL         string
	MailFrom        string
	NATSURL         string
}

func (c config) runsAPI() bool       { return c.Role == "all" || c.Role == "api" }
func (c config) runsCollector() bool { return c.Role == "all" || c.Role == "collector" }
func (c config) runsNotifier() bool  { return c.Role == "all" || c.Role == "notifier" }

// parseConfig reads the configuration from args and the environment
// (through lookupEnv, which reports whether a variable is set), with the
// rules of package cliconfig. For -h it prints the usage to stdout, and
// for -version the version, and returns flag.ErrHelp (exit status 0);
// any other error is a *cliconfig.UsageError that names the offending
// flag or variable.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (config, error) {
	var c config
	fs := cliconfig.NewFlagSet("stockwatchd")
	fs.StringVar(&c.Role, "role", "all", "what to run: all, api, collector or notifier")
	fs.StringVar(&c.DB, "db", "sqlite://stockwatch.db", "database: sqlite://PATH, sqlite://:memory: or mysql://USER[:PASS]@HOST[:PORT]/DB[?params]")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "localhost:50051", "gRPC listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", "localhost:9464", "HTTP address of the dashboard, the REST API, /metrics, /healthz and /readyz; empty disables")
	fs.IntVar(&c.MaxConnections, "max-connections", 100, "gRPC connections served at once; more wait until one closes")
	cliconfig.DurationVar(fs, &c.Interval, "interval", 60*time.Second, "collection period")
	cliconfig.DurationVar(fs, &c.UserCacheTTL, "user-cache-ttl", 60*time.Second, "API: how long the ticker a user follows is kept for price reads; a change made through another replica shows here within it (through this daemon: at once); the prices kept (-price-cache-poll) are used only for users kept. Default and most: -interval (give the API the collectors' -interval); 0 keeps none")
	cliconfig.DurationVar(fs, &c.PriceCachePoll, "price-cache-poll", time.Second, "API: how often the database is asked whether prices changed; in between, each ticker's newest price is kept in memory for the price reads of users kept (-user-cache-ttl), and a price stored or deleted by another replica or collector shows here within twice it (through this daemon: at once). Default 1s, or -interval if shorter (0 if that is under 100ms); at most -interval, at least 100ms; 0 keeps none")
	fs.StringVar(&c.YahooURL, "yahoo-url", yahoo.DefaultBaseURL, "base URL of the quote source")
	fs.UintVar(&c.BreakerFailures, "breaker-failures", 5, "consecutive upstream failures that open the circuit breaker")
	cliconfig.DurationVar(fs, &c.BreakerTimeout, "breaker-timeout", 30*time.Second, "circuit breaker recovery timeout (OPEN to HALF-OPEN)")
	fs.IntVar(&c.Concurrency, "concurrency", 4, "collector: upstream requests in flight at once")
	cliconfig.DurationVar(fs, &c.DedupTTL, "dedup-ttl", 24*time.Hour, "how long a request id is remembered")
	cliconfig.DurationVar(fs, &c.Retention, "retention", 0, "collector deletes prices older than this each cycle; 0 keeps all")
	fs.BoolVar(&c.VerifyTickers, "verify-tickers", true, "check a new ticker with the quote source at register and update")
	fs.Float64Var(&c.VerifyRate, "verify-rate", 0.2, "API: ticker checks sent to the quote source per second, at most; beyond it a new ticker is accepted unverified")
	fs.IntVar(&c.VerifyBurst, "verify-burst", 5, "API: ticker checks that may go out at once within -verify-rate")
	fs.IntVar(&c.VerifyPerCycle, "verify-per-cycle", 10, "collector: unverified or unknown tickers checked per cycle, at most (verified ones are always fetched)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.AdminToken, "admin-token", "", "when set, admin RPCs require 'authorization: Bearer <token>'")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM), for the gRPC and the HTTP port")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.TLSClientCA, "tls-client-ca", "", "CA file (PEM) that client certificates must chain to (mTLS)")
	cliconfig.DurationVar(fs, &c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight requests may finish at shutdown")
	fs.IntVar(&c.NotifyAttempts, "notify-attempts", 8, "notifier: delivery attempts of a notification before it is failed")
	cliconfig.DurationVar(fs, &c.NotifyLease, "notify-lease", 2*time.Minute, "notifier: how long a claim of due notifications holds; a notifier that dies leaves them to others after it")
	cliconfig.DurationVar(fs, &c.NotifyKeep, "notify-keep", 30*24*time.Hour, "notifier: how long sent and failed notifications are kept; 0 keeps all")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "notifier: SMTP server of e-mail alerts, smtp://[USER:PASS@]HOST[:PORT][?starttls=mandatory|opportunistic|none] or smtps://…; empty: e-mail alerts fail")
	fs.StringVar(&c.MailFrom, "mail-from", "", "notifier: sender address of e-mail alerts (needed with -smtp-url)")
	fs.StringVar(&c.NATSURL, "nats-url", "", "NATS server(s) with JetStream, nats://HOST:PORT[,…]: prices and alert crossings are also published there (stream STOCKWATCH, subjects stockwatch.prices.TICKER and stockwatch.alerts.TICKER); the notifier role publishes; empty: no events")
	fs.Float64Var(&c.AlertHysteresis, "alert-hysteresis", 100*stock.DefaultHysteresis, "API: percent of a threshold by which a price must come back inside an alert band to re-arm it (bands keep the value they were set with)")

	version := cliconfig.AddVersion(fs)

	// The command line first, so that -h works whatever the environment
	// holds and a flag given there makes its variable irrelevant.
	if err := cliconfig.Parse(fs, args, stdout, func(w io.Writer) { printUsage(w, fs) }); err != nil {
		return c, err
	}
	if *version {
		fmt.Fprintf(stdout, "stockwatchd %s\n", cliconfig.BinaryVersion())
		return c, flag.ErrHelp
	}
	if err := cliconfig.NoArgs(fs); err != nil {
		return c, err
	}
	if err := (cliconfig.Twins{}).Apply(fs, lookupEnv); err != nil {
		return c, err
	}
	if !isSet(fs, "user-cache-ttl") {
		c.UserCacheTTL = c.Interval
	}
	if !isSet(fs, "price-cache-poll") {
		c.PriceCachePoll = min(c.PriceCachePoll, c.Interval)
		if c.PriceCachePoll < minPriceCachePoll {
			c.PriceCachePoll = 0 // an -interval too short to poll within
		}
	}
	return c, cliconfig.Usage(fs.Name(), c.validate())
}

// isSet reports whether the flag name was given, on the command line or by
// its twin.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// printUsage prints the daemon's -h text, its flags with their twins.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: stockwatchd [flags]\n\n%s\n", cliconfig.TwinsHeading)
	cliconfig.PrintFlags(w, fs, nil, cliconfig.Twins{}.Name)
}

// validate returns an error naming the first flag whose value is wrong,
// before anything starts.
func (c config) validate() error {
	for _, check := range []func() error{c.validatePlaces, c.validateLimits, c.validateOutputs} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validatePlaces checks the role, the database URL and the listen
// addresses.
func (c config) validatePlaces() error {
	switch c.Role {
	case "all", "api", "collector", "notifier":
	default:
		return fmt.Errorf("-role: unknown role %q (want all, api, collector or notifier)", c.Role)
	}
	if err := store.CheckDSN(c.DB); err != nil {
		return fmt.Errorf("-db: %v", err)
	}
	if c.runsAPI() {
		if c.GRPCAddr == "" {
			return errors.New("-grpc-addr: must not be empty")
		}
		if err := checkListenAddr(c.GRPCAddr); err != nil {
			return fmt.Errorf("-grpc-addr: %v", err)
		}
		if c.MaxConnections < 1 {
			return fmt.Errorf("-max-connections: must be at least 1, got %d", c.MaxConnections)
		}
	}
	if c.HTTPAddr != "" {
		if err := checkListenAddr(c.HTTPAddr); err != nil {
			return fmt.Errorf("-http-addr: %v", err)
		}
	}
	return nil
}

// minPriceCachePoll is the shortest -price-cache-poll: each poll is a
// query.
const minPriceCachePoll = 100 * time.Millisecond

// validateLimits checks the durations, counts and rates.
func (c config) validateLimits() error {
	for _, d := range []struct {
		name     string
		v        time.Duration
		positive bool
	}{
		{"-interval", c.Interval, true},
		{"-breaker-timeout", c.BreakerTimeout, true},
		{"-dedup-ttl", c.DedupTTL, true},
		{"-retention", c.Retention, false},
		{"-user-cache-ttl", c.UserCacheTTL, false},
		{"-price-cache-poll", c.PriceCachePoll, false},
		{"-shutdown-timeout", c.ShutdownTimeout, false},
		{"-notify-keep", c.NotifyKeep, false},
	} {
		if d.v < 0 || d.positive && d.v == 0 {
			return fmt.Errorf("%s: must be positive, got %s", d.name, d.v)
		}
	}
	// A replica that did not write must not lag more than a cycle (the
	// collectors' -interval, which every role should be given).
	if c.runsAPI() && c.UserCacheTTL > c.Interval {
		return fmt.Errorf("-user-cache-ttl: must be at most -interval (%s), got %s", c.Interval, c.UserCacheTTL)
	}
	if c.runsAPI() && c.PriceCachePoll > c.Interval {
		return fmt.Errorf("-price-cache-poll: must be at most -interval (%s), got %s", c.Interval, c.PriceCachePoll)
	}
	if c.runsAPI() && c.PriceCachePoll > 0 && c.PriceCachePoll < minPriceCachePoll {
		return fmt.Errorf("-price-cache-poll: must be 0 or at least %s, got %s", minPriceCachePoll, c.PriceCachePoll)
	}
	// The breaker counts in a uint32: a larger value must not wrap.
	if c.BreakerFailures < 1 || c.BreakerFailures > math.MaxUint32 {
		return fmt.Errorf("-breaker-failures: must be between 1 and %d, got %d", uint32(math.MaxUint32), c.BreakerFailures)
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		return fmt.Errorf("-concurrency: must be between 1 and 64, got %d", c.Concurrency)
	}
	if !(c.VerifyRate > 0) || math.IsInf(c.VerifyRate, 0) {
		return fmt.Errorf("-verify-rate: must be a positive number of checks per second, got %v", c.VerifyRate)
	}
	if c.VerifyBurst < 1 || c.VerifyBurst > 1000 {
		return fmt.Errorf("-verify-burst: must be between 1 and 1000, got %d", c.VerifyBurst)
	}
	if !(c.AlertHysteresis > 0 && c.AlertHysteresis <= 50) {
		return fmt.Errorf("-alert-hysteresis: must be a percent above 0 and at most 50, got %v", c.AlertHysteresis)
	}
	if c.VerifyPerCycle < 1 || c.VerifyPerCycle > 10000 {
		return fmt.Errorf("-verify-per-cycle: must be between 1 and 10000, got %d", c.VerifyPerCycle)
	}
	return nil
}

// validateOutputs checks the upstream URL, the log settings and the TLS
// files' flags (the files themselves are read by serverTLS).
func (c config) validateOutputs() error {
	if u, err := url.Parse(c.YahooURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-yahoo-url: %q is not an http(s) URL", c.YahooURL)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("-log-format: unknown format %q (want text or json)", c.LogFormat)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("-log-level: unknown level %q (want debug, info, warn or error)", c.LogLevel)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("-tls-cert and -tls-key: give both or neither")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return errors.New("-tls-client-ca: needs -tls-cert and -tls-key")
	}
	if c.NotifyLease < time.Second {
		return fmt.Errorf("-notify-lease: must be at least 1s, got %s", c.NotifyLease)
	}
	if c.NotifyAttempts < 1 || c.NotifyAttempts > 100 {
		return fmt.Errorf("-notify-attempts: must be between 1 and 100, got %d", c.NotifyAttempts)
	}
	if c.NATSURL != "" {
		if err := checkNATSURL(c.NATSURL); err != nil {
			return fmt.Errorf("-nats-url: %v", err)
		}
	}
	if c.SMTPURL != "" {
		if _, err := notifier.NewEmail(c.SMTPURL, c.MailFrom, nil); err != nil {
			return fmt.Errorf("-smtp-url/-mail-from: %v", err)
		}
	}
	return nil
}

// checkListenAddr reports a TCP listen address that net.Listen would
// reject for its syntax, so that it fails before the database is opened.
// It returns nil for an address that may still fail to bind.
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if port == "" {
		return nil // any free port, like "0"
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("address %s: invalid port %q", addr, port)
	}
	return nil
}

// logValue lists the configuration for the start-up log, secrets redacted.
func (c config) logValue() []any {
	token := ""
	if c.AdminToken != "" {
		token = "(set)"
	}
	return []any{
		"role", c.Role, "db", store.Redact(c.DB), "grpc_addr", c.GRPCAddr, "http_addr", c.HTTPAddr,
		"max_connections", c.MaxConnections,
		"interval", c.Interval, "user_cache_ttl", c.UserCacheTTL, "price_cache_poll", c.PriceCachePoll, "yahoo_url", c.YahooURL, "breaker_failures", c.BreakerFailures,
		"breaker_timeout", c.BreakerTimeout, "concurrency", c.Concurrency, "dedup_ttl", c.DedupTTL,
		"retention", c.Retention, "verify_tickers", c.VerifyTickers, "verify_rate", c.VerifyRate,
		"verify_burst", c.VerifyBurst, "verify_per_cycle", c.VerifyPerCycle, "admin_token", token,
		"tls", c.TLSCert != "", "mtls", c.TLSClientCA != "",
		"alert_hysteresis", c.AlertHysteresis, "notify_attempts", c.NotifyAttempts, "notify_lease", c.NotifyLease, "notify_keep", c.NotifyKeep, "smtp_url", redactURL(c.SMTPURL), "mail_from", c.MailFrom, "nats_url", redactNATS(c.NATSURL),
	}
}

// redactURL returns u with any password replaced by "xxxxx".
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid)"
	}
	return p.Redacted()
}

func newLogger(c config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel)) // validated
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
