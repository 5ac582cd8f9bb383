package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

// command is one subcommand; each lives in a file of its name.
type command struct {
	name    string
	args    string // argument synopsis, e.g. "EMAIL TICKER"
	summary string // one line for the command list
	help    string // a paragraph for "stockwatch NAME -h"
	example string // one invocation
	// minArgs and maxArgs bound the positional arguments.
	minArgs, maxArgs int
	// flags defines the command's own flags, if any.
	flags func(fs *flag.FlagSet)
	// run performs the command. Mistakes in args are usage errors
	// (usagef); a failed RPC is returned as the client returned it.
	run func(ctx context.Context, s *session, args []string) error
}

// commands returns the commands in the order "stockwatch -h" lists them.
// They are built per call: a command's flag values live in its closure.
func commands() []*command {
	return []*command{
		registerCmd(), updateCmd(), deleteCmd(), userCmd(), latestCmd(), averageCmd(),
		usersCmd(), pricesCmd(), purgeCmd(), healthCmd(), versionCmd(),
	}
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (c *command) argsDesc() string {
	switch {
	case c.maxArgs == 0:
		return "no arguments"
	case c.args == "":
		return "no arguments"
	}
	return c.args
}

func (c *command) printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: stockwatch [flags] %s\n\n", strings.TrimSpace(c.name+" "+c.args))
	fmt.Fprintf(w, "%s\n\nExample:\n  %s\n", c.help, c.example)
	own := false
	fs.VisitAll(func(f *flag.Flag) { own = own || !globalFlags[f.Name] })
	if own {
		fmt.Fprintf(w, "\nFlags:\n")
		cliconfig.PrintFlags(w, fs, func(f *flag.Flag) bool { return !globalFlags[f.Name] }, nil)
	}
	fmt.Fprintf(w, "\nThe global flags (see 'stockwatch -h') may also follow the command name.\n")
}

// printUsage prints the top-level usage.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage:
  stockwatch [flags]                   interactive menu
  stockwatch [flags] COMMAND [ARGS]    one operation, for scripts

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-24s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprint(w, `
Run 'stockwatch COMMAND -h' for a command's usage and an example.

`+cliconfig.TwinsHeading+`
`)
	cliconfig.PrintFlags(w, fs, nil, twins().Name)
	fmt.Fprint(w, `
Text output prints times in the local time zone (TZ). JSON output is the
protojson of each response, one object per line.

Exit status: 0 success, 1 the operation failed (the message names the gRPC
code), 2 usage error.
`)
}
