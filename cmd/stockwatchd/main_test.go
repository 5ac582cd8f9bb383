package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/tlstest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// hint ends the one line of every configuration error.
const hint = " (see stockwatchd -h)"

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	// No case may get as far as opening the database.
	dir := t.TempDir()
	db := filepath.Join(dir, "never.db")
	t.Cleanup(func() {
		if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a configuration error opened the database (stat: %v)", err)
		}
	})
	pki := tlstest.New(t, "localhost")
	garbage := writeFile(t, dir, "garbage.pem", []byte("not PEM\n"))
	missing := filepath.Join(dir, "missing.pem")
	tlsArgs := func(extra ...string) []string {
		return append([]string{"-role", "api", "-db", "sqlite://" + db}, extra...)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // all of stderr, but for the hint that ends it
	}{
		{"UnknownRole", []string{"-role", "web"}, nil, `stockwatchd: -role: unknown role "web" (want all, api, collector or notifier)`},
		{"MalformedDB", []string{"-db", "postgres://x"}, nil, `stockwatchd: -db: unsupported database URL "postgres://x": want sqlite://PATH or mysql://USER[:PASS]@HOST[:PORT]/DB`},
		{"MySQLWithoutDB", []string{"-db", "mysql://root@localhost"}, nil, `stockwatchd: -db: mysql URL: want mysql://USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]/DB[?params]`},
		{"NegativeRetention", []string{"-retention", "-1h"}, nil, `stockwatchd: -retention: must be positive, got -1h0m0s`},
		{"ZeroInterval", []string{"-interval", "0s"}, nil, `stockwatchd: -interval: must be positive, got 0s`},
		{"UserCacheTTLOverInterval", []string{"-interval", "10s", "-user-cache-ttl", "11s"}, nil, `stockwatchd: -user-cache-ttl: must be at most -interval (10s), got 11s`},
		{"PriceCachePollOverInterval", []string{"-interval", "10s", "-price-cache-poll", "11s"}, nil, `stockwatchd: -price-cache-poll: must be at most -interval (10s), got 11s`},
		{"PriceCachePollTooShort", []string{"-price-cache-poll", "99ms"}, nil, `stockwatchd: -price-cache-poll: must be 0 or at least 100ms, got 99ms`},
		{"NegativePriceCachePollEnv", nil, map[string]string{"STOCKWATCH_PRICE_CACHE_POLL": "-1s"}, `stockwatchd: -price-cache-poll: must be positive, got -1s`},
		{"NegativeUserCacheTTLEnv", nil, map[string]string{"STOCKWATCH_USER_CACHE_TTL": "-1s"}, `stockwatchd: -user-cache-ttl: must be positive, got -1s`},
		{"ZeroBreakerFailures", []string{"-breaker-failures", "0"}, nil, `stockwatchd: -breaker-failures: must be between 1 and 4294967295, got 0`},
		{"BreakerFailuresOverflowUint32", []string{"-breaker-failures", "4294967296"}, nil, `stockwatchd: -breaker-failures: must be between 1 and 4294967295, got 4294967296`},
		{"BreakerFailuresOverflowUint64", []string{"-breaker-failures", "18446744073709551616"}, nil, `stockwatchd: invalid value "18446744073709551616" for flag -breaker-failures: value out of range`},
		{"ZeroMaxConnections", []string{"-max-connections", "0"}, nil, `stockwatchd: -max-connections: must be at least 1, got 0`},
		{"NegativeMaxConnectionsEnv", nil, map[string]string{"STOCKWATCH_MAX_CONNECTIONS": "-5"}, `stockwatchd: -max-connections: must be at least 1, got -5`},
		{"BadMaxConnectionsEnv", nil, map[string]string{"STOCKWATCH_MAX_CONNECTIONS": "many"}, `stockwatchd: invalid STOCKWATCH_MAX_CONNECTIONS="many": parse error`},
		{"BadLogFormat", []string{"-log-format", "xml"}, nil, `stockwatchd: -log-format: unknown format "xml" (want text or json)`},
		{"ZeroVerifyRate", []string{"-verify-rate", "0"}, nil, `stockwatchd: -verify-rate: must be a positive number of checks per second, got 0`},
		{"NaNVerifyRate", nil, map[string]string{"STOCKWATCH_VERIFY_RATE": "NaN"}, `stockwatchd: -verify-rate: must be a positive number of checks per second, got NaN`},
		{"InfVerifyRate", []string{"-verify-rate", "+Inf"}, nil, `stockwatchd: -verify-rate: must be a positive number of checks per second, got +Inf`},
		{"BadVerifyRateEnv", nil, map[string]string{"STOCKWATCH_VERIFY_RATE": "fast"}, `stockwatchd: invalid STOCKWATCH_VERIFY_RATE="fast": parse error`},
		{"ZeroVerifyBurst", []string{"-verify-burst", "0"}, nil, `stockwatchd: -verify-burst: must be between 1 and 1000, got 0`},
		{"ZeroVerifyPerCycle", []string{"-verify-per-cycle", "0"}, nil, `stockwatchd: -verify-per-cycle: must be between 1 and 10000, got 0`},
		{"NegativeNotifyKeep", []string{"-notify-keep", "-1h"}, nil, `stockwatchd: -notify-keep: must be positive, got -1h0m0s`},
		{"ShortNotifyLease", []string{"-notify-lease", "500ms"}, nil, `stockwatchd: -notify-lease: must be at least 1s, got 500ms`},
		{"ZeroNotifyAttempts", []string{"-notify-attempts", "0"}, nil, `stockwatchd: -notify-attempts: must be between 1 and 100, got 0`},
		{"SMTPURLScheme", []string{"-smtp-url", "http://mail", "-mail-from", "a@x.com"}, nil, `stockwatchd: -smtp-url/-mail-from: want smtp://[USER:PASS@]HOST[:PORT][?starttls=mandatory|opportunistic|none] or smtps://…`},
		{"SMTPWithoutMailFrom", []string{"-smtp-url", "smtp://mail"}, nil, `stockwatchd: -smtp-url/-mail-from: mail from: email is required`},
		{"NATSURLScheme", []string{"-nats-url", "http://nats:4222"}, nil, `stockwatchd: -nats-url: "http://nats:4222" is not a nats:// or tls:// URL`},
		{"NATSURLEnvSecondHost", nil, map[string]string{"STOCKWATCH_NATS_URL": "nats://a:4222, nats://u:pw@"}, `stockwatchd: -nats-url: "nats://u:xxxxx@" is not a nats:// or tls:// URL`},
		{"ZeroAlertHysteresis", []string{"-alert-hysteresis", "0"}, nil, `stockwatchd: -alert-hysteresis: must be a percent above 0 and at most 50, got 0`},
		{"AlertHysteresisNaN", nil, map[string]string{"STOCKWATCH_ALERT_HYSTERESIS": "NaN"}, `stockwatchd: -alert-hysteresis: must be a percent above 0 and at most 50, got NaN`},
		{"KeyWithoutCert", []string{"-tls-key", "k.pem"}, nil, `stockwatchd: -tls-cert and -tls-key: give both or neither`},
		{"BadEnv", nil, map[string]string{"STOCKWATCH_INTERVAL": "soon"}, `stockwatchd: invalid STOCKWATCH_INTERVAL="soon": not a duration like 90s, 5m or 1h30m`},
		{"FlagWinsOverEnv", []string{"-role", "nope"}, map[string]string{"STOCKWATCH_ROLE": "api"}, `stockwatchd: -role: unknown role "nope" (want all, api, collector or notifier)`},
		{"EnvTwin", nil, map[string]string{"STOCKWATCH_ROLE": "nope"}, `stockwatchd: -role: unknown role "nope" (want all, api, collector or notifier)`},

		// A command-line mistake: one line, not the usage.
		{"BadFlagValue", []string{"-interval=abc"}, nil, `stockwatchd: invalid value "abc" for flag -interval: not a duration like 90s, 5m or 1h30m`},
		{"UnknownFlag", []string{"-bogus"}, nil, `stockwatchd: flag provided but not defined: -bogus`},
		{"MissingFlagValue", []string{"-role"}, nil, `stockwatchd: flag needs an argument: -role`},
		{"StrayArgument", []string{"api"}, nil, `stockwatchd: unexpected argument "api" (flags start with -)`},

		// Every duration says what a number without its unit lacks.
		{"IntervalWithoutUnit", []string{"-interval", "5"}, nil, `stockwatchd: invalid value "5" for flag -interval: missing unit: try 5s`},
		{"BreakerTimeoutWithoutUnit", []string{"-breaker-timeout=30"}, nil, `stockwatchd: invalid value "30" for flag -breaker-timeout: missing unit: try 30s`},
		{"DedupTTLWithoutUnit", []string{"-dedup-ttl", "1.5"}, nil, `stockwatchd: invalid value "1.5" for flag -dedup-ttl: missing unit: try 1.5s`},
		{"RetentionWithoutUnitEnv", nil, map[string]string{"STOCKWATCH_RETENTION": "720"}, `stockwatchd: invalid STOCKWATCH_RETENTION="720": missing unit: try 720s`},
		{"ShutdownTimeoutWithoutUnitEnv", nil, map[string]string{"STOCKWATCH_SHUTDOWN_TIMEOUT": "10"}, `stockwatchd: invalid STOCKWATCH_SHUTDOWN_TIMEOUT="10": missing unit: try 10s`},

		// A variable that is set but empty sets its flag to empty.
		{"EmptyEnvRole", nil, map[string]string{"STOCKWATCH_ROLE": ""}, `stockwatchd: -role: unknown role "" (want all, api, collector or notifier)`},
		{"EmptyEnvDB", nil, map[string]string{"STOCKWATCH_DB": ""}, `stockwatchd: -db: unsupported database URL "": want sqlite://PATH or mysql://USER[:PASS]@HOST[:PORT]/DB`},
		{"EmptyEnvDuration", nil, map[string]string{"STOCKWATCH_INTERVAL": ""}, `stockwatchd: invalid STOCKWATCH_INTERVAL="": not a duration like 90s, 5m or 1h30m`},
		{"EmptyEnvBool", nil, map[string]string{"STOCKWATCH_VERIFY_TICKERS": ""}, `stockwatchd: invalid STOCKWATCH_VERIFY_TICKERS="": parse error`},
		{"EmptyEnvUint", nil, map[string]string{"STOCKWATCH_BREAKER_FAILURES": ""}, `stockwatchd: invalid STOCKWATCH_BREAKER_FAILURES="": parse error`},

		// Listen addresses are checked before anything starts.
		{"GRPCAddrSyntax", []string{"-grpc-addr", "nope"}, nil, `stockwatchd: -grpc-addr: address nope: missing port in address`},
		{"GRPCAddrBadPort", []string{"-grpc-addr", "localhost:99999"}, nil, `stockwatchd: -grpc-addr: address localhost:99999: invalid port "99999"`},
		{"HTTPAddrSyntax", []string{"-http-addr", "nope"}, nil, `stockwatchd: -http-addr: address nope: missing port in address`},
		{"HTTPAddrEnvSyntax", nil, map[string]string{"STOCKWATCH_HTTP_ADDR": "[::1"}, `stockwatchd: -http-addr: address [::1: missing ']' in address`},

		// So are the TLS files.
		{"TLSCertMissing", tlsArgs("-tls-cert", missing, "-tls-key", pki.ServerKeyFile), nil, `stockwatchd: -tls-cert/-tls-key: open ` + missing + `: no such file or directory`},
		{"TLSKeyMissing", tlsArgs("-tls-cert", pki.ServerCertFile, "-tls-key", missing), nil, `stockwatchd: -tls-cert/-tls-key: open ` + missing + `: no such file or directory`},
		{"TLSCertNotPEM", tlsArgs("-tls-cert", garbage, "-tls-key", pki.ServerKeyFile), nil, `stockwatchd: -tls-cert/-tls-key: tls: failed to find any PEM data in certificate input`},
		{"TLSKeyMismatch", tlsArgs("-tls-cert", pki.ServerCertFile, "-tls-key", pki.ClientKeyFile), nil, `stockwatchd: -tls-cert/-tls-key: tls: private key does not match public key`},
		{"TLSClientCAMissing", tlsArgs("-tls-cert", pki.ServerCertFile, "-tls-key", pki.ServerKeyFile, "-tls-client-ca", missing), nil, `stockwatchd: -tls-client-ca: open ` + missing + `: no such file or directory`},
		{"TLSClientCANotPEM", tlsArgs("-tls-cert", pki.ServerCertFile, "-tls-key", pki.ServerKeyFile, "-tls-client-ca", garbage), nil, `stockwatchd: -tls-client-ca: no PEM certificate in ` + garbage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, cliconfig.MapEnv(tt.env).Lookup, &stdout, &stderr)
			if code := cliconfig.Exit(&stderr, "stockwatchd", err); code != cliconfig.ExitUsage {
				t.Fatalf("run() = %v: exit status %d, want %d", err, code, cliconfig.ExitUsage)
			}
			if diff := cmp.Diff(tt.want+hint+"\n", stderr.String()); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

// TestAddressInUse checks that a listen address in use stops the daemon
// before the database is opened: no SQLite file is left behind.
func TestAddressInUse(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	addr := taken.Addr().String()
	for _, flagName := range []string{"-grpc-addr", "-http-addr"} {
		t.Run(flagName, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "stockwatch.db")
			args := []string{"-db", "sqlite://" + db, "-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", flagName, addr}
			err := run(t.Context(), args, noEnv, io.Discard, io.Discard)
			want := flagName + ": " + addr + " is already in use (another stockwatchd?): stop what listens there or choose another address"
			if err == nil || err.Error() != want {
				t.Fatalf("run() = %v, want %q", err, want)
			}
			if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the database file exists after the failure (stat: %v)", err)
			}
		})
	}
}

// TestConfigEnv checks how the environment twins combine with the flags.
func TestConfigEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(*config) // the fields that differ from the defaults
	}{
		{"Defaults", nil, nil, func(*config) {}},
		{"EmptyHTTPAddrDisables", nil, map[string]string{"STOCKWATCH_HTTP_ADDR": ""}, func(c *config) { c.HTTPAddr = "" }},
		{"EmptyAdminToken", nil, map[string]string{"STOCKWATCH_ADMIN_TOKEN": ""}, func(*config) {}},
		{"EnvSets", nil, map[string]string{"STOCKWATCH_INTERVAL": "5s", "STOCKWATCH_VERIFY_TICKERS": "false"}, func(c *config) {
			c.Interval, c.UserCacheTTL, c.VerifyTickers = 5*time.Second, 5*time.Second, false
		}},
		{"FlagWinsOverEmptyEnv", []string{"-http-addr", "127.0.0.1:0"}, map[string]string{"STOCKWATCH_HTTP_ADDR": ""}, func(c *config) { c.HTTPAddr = "127.0.0.1:0" }},
		{"FlagWinsOverBadEnv", []string{"-interval", "5s"}, map[string]string{"STOCKWATCH_INTERVAL": "soon"}, func(c *config) { c.Interval, c.UserCacheTTL = 5*time.Second, 5*time.Second }},
		{"UserCacheTTLEnv", []string{"-interval", "10m"}, map[string]string{"STOCKWATCH_USER_CACHE_TTL": "30s"}, func(c *config) { c.Interval, c.UserCacheTTL = 10*time.Minute, 30*time.Second }},
		{"UserCacheTTLOff", []string{"-user-cache-ttl", "0s"}, nil, func(c *config) { c.UserCacheTTL = 0 }},
		{"CollectorIgnoresUserCacheTTL", []string{"-role", "collector", "-interval", "10s", "-user-cache-ttl", "1m"}, nil, func(c *config) {
			c.Role, c.Interval, c.UserCacheTTL = "collector", 10*time.Second, time.Minute
		}},
		{"PriceCachePollEnv", nil, map[string]string{"STOCKWATCH_PRICE_CACHE_POLL": "5s"}, func(c *config) { c.PriceCachePoll = 5 * time.Second }},
		{"PriceCachePollOff", []string{"-price-cache-poll", "0s"}, nil, func(c *config) { c.PriceCachePoll = 0 }},
		{"PriceCachePollAtMostInterval", []string{"-interval", "200ms"}, nil, func(c *config) {
			c.Interval, c.UserCacheTTL, c.PriceCachePoll = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
		}},
		{"PriceCachePollOffUnderMinimum", []string{"-interval", "50ms"}, nil, func(c *config) {
			c.Interval, c.UserCacheTTL, c.PriceCachePoll = 50*time.Millisecond, 50*time.Millisecond, 0
		}},
		{"CollectorIgnoresPriceCacheMinimum", []string{"-role", "collector", "-price-cache-poll", "1ms"}, nil, func(c *config) {
			c.Role, c.PriceCachePoll = "collector", time.Millisecond
		}},
		{"CollectorIgnoresPriceCachePoll", []string{"-role", "collector", "-interval", "10s", "-price-cache-poll", "1m"}, nil, func(c *config) {
			c.Role, c.Interval, c.UserCacheTTL, c.PriceCachePoll = "collector", 10*time.Second, 10*time.Second, time.Minute
		}},
		{"EmptyFlagWinsOverEnv", []string{"-http-addr="}, map[string]string{"STOCKWATCH_HTTP_ADDR": "127.0.0.1:0"}, func(c *config) { c.HTTPAddr = "" }},
		{"MaxConnectionsEnv", nil, map[string]string{"STOCKWATCH_MAX_CONNECTIONS": "5000"}, func(c *config) { c.MaxConnections = 5000 }},
		{"CollectorIgnoresMaxConnections", []string{"-role", "collector", "-max-connections", "0"}, nil, func(c *config) { c.Role, c.MaxConnections = "collector", 0 }},
		{"CollectorIgnoresGRPCAddr", []string{"-role", "collector", "-grpc-addr", "nope"}, nil, func(c *config) { c.Role, c.GRPCAddr = "collector", "nope" }},
		{"PortByName", []string{"-http-addr", "localhost:http"}, nil, func(c *config) { c.HTTPAddr = "localhost:http" }},
		{"BreakerFailuresMaxUint32", []string{"-breaker-failures", "4294967295"}, nil, func(c *config) { c.BreakerFailures = 4294967295 }},
		{"AlertHysteresisEnv", nil, map[string]string{"STOCKWATCH_ALERT_HYSTERESIS": "1.5"}, func(c *config) { c.AlertHysteresis = 1.5 }},
		{"VerifyBudget", []string{"-verify-burst", "2", "-verify-per-cycle", "3"}, map[string]string{"STOCKWATCH_VERIFY_RATE": "1.5"}, func(c *config) {
			c.VerifyRate, c.VerifyBurst, c.VerifyPerCycle = 1.5, 2, 3
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, err := parseConfig(nil, noEnv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			tt.want(&want)
			got, err := parseConfig(tt.args, cliconfig.MapEnv(tt.env).Lookup, io.Discard)
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHelp checks that -h and -help print the usage on stdout, and nothing
// on stderr, whatever the environment holds.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{arg}, cliconfig.MapEnv{"STOCKWATCH_INTERVAL": "soon"}.Lookup, &stdout, &stderr)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("run() = %v, want flag.ErrHelp", err)
			}
			if !strings.HasPrefix(stdout.String(), "Usage: stockwatchd [flags]\n") || !strings.Contains(stdout.String(), "-breaker-failures") {
				t.Errorf("stdout is not the usage:\n%s", stdout.String())
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr = %q, want nothing", stderr.String())
			}
		})
	}
}

// TestExitStatus runs the binary: bad configuration exits 2 with one line
// and the hint, -h exits 0.
func TestExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon binary")
	}
	t.Parallel()
	bin := buildDaemon(t)
	tests := []struct {
		name           string
		args           []string
		status         int
		stdout, stderr string // stdout: a prefix
	}{
		{"BadFlagValue", []string{"-interval=abc"}, 2, "", `stockwatchd: invalid value "abc" for flag -interval: not a duration like 90s, 5m or 1h30m` + hint + "\n"},
		{"IntervalWithoutUnit", []string{"-interval", "5"}, 2, "", `stockwatchd: invalid value "5" for flag -interval: missing unit: try 5s` + hint + "\n"},
		{"Version", []string{"-version"}, 0, "stockwatchd (devel)", ""},
		{"UnknownFlag", []string{"-bogus"}, 2, "", `stockwatchd: flag provided but not defined: -bogus` + hint + "\n"},
		{"BadAddress", []string{"-grpc-addr", "nope"}, 2, "", "stockwatchd: -grpc-addr: address nope: missing port in address" + hint + "\n"},
		{"Help", []string{"-h"}, 0, "Usage: stockwatchd [flags]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin, tt.args...)
			cmd.Dir = t.TempDir() // the default -db is relative
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := 0
			if ee, ok := err.(*exec.ExitError); ok {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tt.status {
				t.Errorf("exit status %d, want %d", status, tt.status)
			}
			if diff := cmp.Diff(tt.stderr, stderr.String()); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(stdout.String(), tt.stdout) || tt.stdout == "" && stdout.Len() > 0 {
				t.Errorf("stdout = %q, want it to start with %q", stdout.String(), tt.stdout)
			}
		})
	}
}

// buildDaemon compiles the daemon binary once per test into a temp dir.
func buildDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stockwatchd")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startDaemon starts bin with args and returns the process, the gRPC
// address it logged, and its log lines (also kept for failures).
func startDaemon(t *testing.T, bin string, args ...string) (*exec.Cmd, string, *logLines) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-grpc-addr", "127.0.0.1:0", "-http-addr", "", "-log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	logs := &logLines{}
	addr := logs.follow(stderr, func(text string) { t.Log(text) })
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("daemon exited before serving gRPC")
		}
		return cmd, a, logs
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start serving within 30s")
	}
	return nil, "", nil
}

func TestDaemonEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon binary")
	}
	t.Parallel()
	bin := buildDaemon(t)
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "e2e.db")
	cmd, addr, _ := startDaemon(t, bin, "-role", "api", "-db", dbURL, "-verify-tickers=false")

	conn := dialConn(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "stockwatch.v1.StockService"})
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	if hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, want SERVING", hc.GetStatus())
	}
	c := pb.NewStockServiceClient(conn)
	u, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f", Email: "Ada@Example.com", Ticker: "aapl"})
	if err != nil {
		t.Fatalf("RegisterUser: %v", err)
	}
	if u.GetEmail() != "ada@example.com" || u.GetTicker() != "AAPL" {
		t.Fatalf("RegisterUser = %v, want ada@example.com tracking AAPL", u)
	}
	got, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "ada@example.com"})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.GetTicker() != "AAPL" {
		t.Fatalf("GetUser ticker = %q, want AAPL", got.GetTicker())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if err := testkit.Receive(t, done, 15*time.Second, "daemon did not exit after SIGTERM"); err != nil {
		t.Fatalf("daemon exit after SIGTERM: %v, want status 0", err)
	}
	// A restart on the same database keeps the user.
	_, addr, _ = startDaemon(t, bin, "-role", "api", "-db", dbURL, "-verify-tickers=false")
	if _, err := dial(t, addr).GetUser(ctx, &pb.GetUserRequest{Email: "ada@example.com"}); err != nil {
		t.Fatalf("GetUser after restart: %v", err)
	}
}

// TestSecondSignal checks that a second SIGTERM ends a shutdown that is
// waiting for an in-flight request: the process dies of the signal.
func TestSecondSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon binary")
	}
	t.Parallel()
	bin := buildDaemon(t)
	cmd, addr, logs := startDaemon(t, bin, "-role", "api", "-db", "sqlite://"+filepath.Join(t.TempDir(), "sig.db"),
		"-verify-tickers=false", "-shutdown-timeout", "5m")
	conn := dialConn(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A request that never ends: its message is never sent. The health
	// check after it on the same connection makes sure the server has it.
	if _, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, pb.StockService_GetUser_FullMethodName); err != nil {
		t.Fatal(err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a 'shutting down' log line", func() bool { return logs.find(map[string]any{"msg": "shutting down"}) != nil })
	select {
	case err := <-done:
		t.Fatalf("daemon exited (%v) with a request in flight and 5m to wait", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("daemon exit after the second SIGTERM: %v, want death by SIGTERM", err)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			t.Errorf("daemon exit after the second SIGTERM: %v, want death by SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon still running 10s after the second SIGTERM")
	}
}
