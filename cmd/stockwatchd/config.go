package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/store"
)

// config is the daemon's whole configuration: defaults, overridden by
// STOCKWATCH_* environment variables, overridden by flags.
type config struct {
	Role            string
	DB              string
	GRPCAddr        string
	HTTPAddr        string
	Interval        time.Duration
	YahooURL        string
	BreakerFailures uint
	BreakerTimeout  time.Duration
	Concurrency     int
	DedupTTL        time.Duration
	Retention       time.Duration
	VerifyTickers   bool
	LogFormat       string
	LogLevel        string
	AdminToken      string
	TLSCert         string
	TLSKey          string
	TLSClientCA     string
	ShutdownTimeout time.Duration
}

func (c config) runsAPI() bool       { return c.Role == "all" || c.Role == "api" }
func (c config) runsCollector() bool { return c.Role == "all" || c.Role == "collector" }

// envName is the environment twin of a flag: -grpc-addr → STOCKWATCH_GRPC_ADDR.
func envName(flagName string) string {
	return "STOCKWATCH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads the configuration from args and getenv. It returns
// flag.ErrHelp for -h, and otherwise an error naming the offending flag.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("stockwatchd", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.Role, "role", "all", "what to run: all, api or collector")
	fs.StringVar(&c.DB, "db", "sqlite://stockwatch.db", "database: sqlite://PATH, sqlite://:memory: or mysql://USER[:PASS]@HOST[:PORT]/DB[?params]")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "localhost:50051", "gRPC listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", "localhost:9464", "HTTP address of /metrics, /healthz and /readyz; empty disables")
	fs.DurationVar(&c.Interval, "interval", 60*time.Second, "collection period")
	fs.StringVar(&c.YahooURL, "yahoo-url", "https://query2.finance.yahoo.com", "base URL of the quote source")
	fs.UintVar(&c.BreakerFailures, "breaker-failures", 5, "consecutive upstream failures that open the circuit breaker")
	fs.DurationVar(&c.BreakerTimeout, "breaker-timeout", 30*time.Second, "circuit breaker recovery timeout (OPEN to HALF-OPEN)")
	fs.IntVar(&c.Concurrency, "concurrency", 4, "collector: upstream requests in flight at once")
	fs.DurationVar(&c.DedupTTL, "dedup-ttl", 24*time.Hour, "how long a request id is remembered")
	fs.DurationVar(&c.Retention, "retention", 0, "collector deletes prices older than this each cycle; 0 keeps all")
	fs.BoolVar(&c.VerifyTickers, "verify-tickers", true, "check a new ticker with the quote source at register and update")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.AdminToken, "admin-token", "", "when set, admin RPCs require 'authorization: Bearer <token>'")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.TLSClientCA, "tls-client-ca", "", "CA file (PEM) that client certificates must chain to (mTLS)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight requests may finish at shutdown")
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: stockwatchd [flags]\n\nEvery flag has an environment twin STOCKWATCH_<FLAG> (e.g. STOCKWATCH_GRPC_ADDR); flags win.\n\n")
		fs.PrintDefaults()
	}

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil && envErr == nil {
				envErr = fmt.Errorf("invalid %s=%q: %v", name, v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch c.Role {
	case "all", "api", "collector":
	default:
		return fmt.Errorf("-role: unknown role %q (want all, api or collector)", c.Role)
	}
	if err := store.CheckDSN(c.DB); err != nil {
		return fmt.Errorf("-db: %v", err)
	}
	if c.runsAPI() && c.GRPCAddr == "" {
		return errors.New("-grpc-addr: must not be empty")
	}
	for _, d := range []struct {
		name     string
		v        time.Duration
		positive bool
	}{
		{"-interval", c.Interval, true},
		{"-breaker-timeout", c.BreakerTimeout, true},
		{"-dedup-ttl", c.DedupTTL, true},
		{"-retention", c.Retention, false},
		{"-shutdown-timeout", c.ShutdownTimeout, false},
	} {
		if d.v < 0 || d.positive && d.v == 0 {
			return fmt.Errorf("%s: must be positive, got %s", d.name, d.v)
		}
	}
	if c.BreakerFailures < 1 {
		return errors.New("-breaker-failures: must be at least 1")
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		return fmt.Errorf("-concurrency: must be between 1 and 64, got %d", c.Concurrency)
	}
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
		"interval", c.Interval, "yahoo_url", c.YahooURL, "breaker_failures", c.BreakerFailures,
		"breaker_timeout", c.BreakerTimeout, "concurrency", c.Concurrency, "dedup_ttl", c.DedupTTL,
		"retention", c.Retention, "verify_tickers", c.VerifyTickers, "admin_token", token,
		"tls", c.TLSCert != "", "mtls", c.TLSClientCA != "",
	}
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
