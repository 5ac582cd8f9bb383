// Command stockwatch-bench is the benchmark harness (BENCHMARKS.md). It is
// for benchmarking only and is not shipped.
//
//	stockwatch-bench run [flags]       the whole benchmark (what make bench runs)
//	stockwatch-bench ceiling -db URL   the ceiling server, started by run
//
// run preloads a database per backend (and per -prices size), builds and
// starts the real daemon (cmd/stockwatchd, -role api) and the ceiling
// server, each in a process of its own, drives both with a closed-loop
// gRPC load generator, checks price-query scaling at two table sizes and
// the collector's cycle time against a fake upstream, and prints markdown
// tables of the results, of their ratios to the ceilings measured in the
// same run, and of their growth from size to size.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

func main() {
	cliconfig.Main("stockwatch-bench", func(ctx context.Context) error {
		return realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	})
}

const usage = `usage:
  stockwatch-bench run [flags]        run the benchmark; -h lists the flags
  stockwatch-bench ceiling -db URL    serve the ceilings (started by run)
`

// realMain runs one subcommand. It returns flag.ErrHelp after printing a
// usage on stdout, a *cliconfig.UsageError for a bad command line, or
// the error that stopped the subcommand.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cliconfig.Usagef("stockwatch-bench", "missing command: run or ceiling")
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "ceiling":
		return cmdCeiling(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	default:
		return cliconfig.Usagef("stockwatch-bench", "unknown command %q", args[0])
	}
}

// printUsage prints the -h text of the subcommand whose flags fs holds;
// synopsis follows the command's name.
func printUsage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "Usage: %s %s\n\nFlags:\n", fs.Name(), synopsis)
	cliconfig.PrintFlags(w, fs, nil, nil)
}
