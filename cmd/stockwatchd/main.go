// Command stockwatchd is the Stockwatch daemon: the gRPC API, the price
// collector, or both (-role all, the default). See README.md for its flags.
//
// Exit status: 0 after a clean shutdown or -h, 1 when the daemon fails,
// 2 for bad configuration (reported before anything starts).
package main

import (
	"context"
	"crypto/tls"
	"io"
	"os"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

func main() {
	cliconfig.Main("stockwatchd", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	})
}

// run runs the daemon until ctx is done. The usage (-h) goes to stdout,
// logs to stderr. It returns flag.ErrHelp after -h, a
// *cliconfig.UsageError for bad configuration (found before anything
// starts), and otherwise the error that stopped the daemon, or nil when
// ctx ended it.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, lookupEnv, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// Certificates are configuration too: an unreadable one fails here,
	// before the database is opened and migrated.
	var tc *tls.Config
	if cfg.runsAPI() && cfg.TLSCert != "" {
		if tc, err = serverTLS(cfg, log); err != nil {
			return cliconfig.Usage("stockwatchd", err)
		}
	}
	d, err := newDaemon(ctx, cfg, tc, log)
	if err != nil {
		return err
	}
	return d.serve(ctx)
}
