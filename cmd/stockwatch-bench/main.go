// Command stockwatch-bench is the benchmark harness (BENCHMARKS.md). It is
// for benchmarking only and is not shipped.
//
//	stockwatch-bench run [flags]       the whole benchmark (what make bench runs)
//	stockwatch-bench ceiling -db URL   the ceiling server, started by run
//
// run preloads a database per backend, builds and starts the real daemon
// (cmd/stockwatchd, -role api) and the ceiling server, each in a process
// of its own, drives both with a closed-loop gRPC load generator, checks
// price-query scaling at two table sizes and the collector's cycle time
// against a fake upstream, and prints markdown tables of the results and
// of their ratios to the ceilings measured in the same run.
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
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "stockwatch-bench:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// usageErr turns a flag parsing error (already printed by the FlagSet)
// into errUsage, keeping flag.ErrHelp.
func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}

const usage = `usage:
  stockwatch-bench run [flags]        run the benchmark; -h lists the flags
  stockwatch-bench ceiling -db URL    serve the ceilings (started by run)
`

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "ceiling":
		err = cmdCeiling(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n%s", args[0], usage)
		return errUsage
	}
	return err
}
