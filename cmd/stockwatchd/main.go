// Command stockwatchd is the Stockwatch daemon: the gRPC API, the price
// collector, or both (-role all, the default). See README.md for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "stockwatchd:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run runs the daemon until ctx is done. Logs and usage go to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		fmt.Fprintln(stderr, "stockwatchd:", err)
		return errUsage
	}
	d, err := newDaemon(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	return d.serve(ctx)
}
