package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client"
)

// command is one subcommand: plain data and functions, declared in the
// table of commands.go.
type command struct {
	name    string
	args    []arg  // the positional arguments, in order
	summary string // one line for the command list
	help    string // a paragraph for "stockwatch NAME -h"
	example string // one invocation
	// flags defines the command's own flags, if any.
	flags func(fs *flag.FlagSet)
	// check, if set, checks the values of those flags (after the number
	// of arguments, before their values); its error is the message of a
	// usage error.
	check func() error
	// asks are the menu's questions after those of args, for what the
	// command line gives as flags (history's range): their parse stores
	// the answer where the flag would have.
	asks []arg
	// confirm, if set, makes the command ask before it runs (skipped
	// with -y): it returns what the command will do with p, "delete
	// alice@example.com", for "Really delete alice@example.com? [y/N]".
	confirm func(p params) string
	// run performs the command with its parsed arguments. A failed RPC
	// is returned as the client returned it.
	run func(ctx context.Context, s *session, p params) error
}

// lookup returns the command name, or nil if there is none.
func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// synopsis is the command's arguments as usage shows them: "EMAIL
// COUNT", "[TICKER]", "" for none.
func (c *command) synopsis() string {
	names := make([]string, len(c.args))
	for i, a := range c.args {
		names[i] = a.name
		if a.optional {
			names[i] = "[" + a.name + "]"
		}
	}
	return strings.Join(names, " ")
}

func (c *command) argsDesc() string {
	if len(c.args) == 0 {
		return "no arguments"
	}
	return c.synopsis()
}

// parse checks the command's positional arguments args (their number,
// then the flags' values, then each argument) and returns them parsed.
// Any mistake is a usage error.
func (c *command) parse(args []string) (params, error) {
	required := 0
	for _, a := range c.args {
		if !a.optional {
			required++
		}
	}
	if n := len(args); n < required || n > len(c.args) {
		return params{}, usagef(c.name, "%s: want %s", c.name, c.argsDesc())
	}
	if c.check != nil {
		if err := c.check(); err != nil {
			return params{}, usagef(c.name, "%s", err)
		}
	}
	var p params
	for i, s := range args {
		if err := c.args[i].parse(&p, s); err != nil {
			return params{}, usagef(c.name, "%s", err)
		}
	}
	return p, nil
}

// rpc is the run of a command that is one call: see respond.
func rpc[R proto.Message](call func(context.Context, *client.Client, params) (R, error), text func(*printer, params, R) error) func(context.Context, *session, params) error {
	return func(ctx context.Context, s *session, p params) error {
		_, err := respond(ctx, s, p, call, text)
		return err
	}
}

// respond sends p with call, on the session's client, and prints the
// response: its protojson with -o json, else with text. It returns the
// response, or the first error: the dial's (a usage error), the call's
// as the client returned it, or the printer's.
func respond[R proto.Message](ctx context.Context, s *session, p params,
	call func(context.Context, *client.Client, params) (R, error), text func(*printer, params, R) error) (R, error) {
	var zero R
	c, err := s.client()
	if err != nil {
		return zero, err
	}
	r, err := call(ctx, c, p)
	if err != nil {
		return zero, err
	}
	if s.out.json {
		err = s.out.message(r)
	} else {
		err = text(s.out, p, r)
	}
	return r, err
}

func (c *command) printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: stockwatch %s [flags]\n\n", strings.TrimSpace(c.name+" "+c.synopsis()))
	fmt.Fprintf(w, "%s\n\nExample:\n  %s\n", c.help, c.example)
	own := false
	fs.VisitAll(func(*flag.Flag) { own = true })
	if own {
		fmt.Fprintf(w, "\nFlags:\n")
		cliconfig.PrintFlags(w, fs, nil, nil)
	}
	fmt.Fprintf(w, "\nFlags may come before or after the arguments, with one dash or two; the global\nflags are listed by 'stockwatch help'.\n")
}

// printUsage prints the top-level usage.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage:
  stockwatch [flags]                   interactive menu
  stockwatch COMMAND [ARGS] [flags]    one operation, for scripts

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-24s %s\n", strings.TrimSpace(c.name+" "+c.synopsis()), c.summary)
	}
	fmt.Fprint(w, `  config show              print the effective configuration, secrets redacted
  completion SHELL         print the completion script for bash, zsh, fish or powershell
  help [COMMAND]           print this, or a command's usage and an example

Flags may come before or after the arguments, with one dash or two (-o json,
--limit=2). -version prints the client's version.

`+cliconfig.TwinsHeading+`
`)
	cliconfig.PrintFlags(w, fs, nil, twins().Name)
	fmt.Fprint(w, `
Configuration file: -config, else $XDG_CONFIG_HOME/stockwatch/config.toml, else
~/.config/stockwatch/config.toml (optional): TOML keys named like the twins
without STOCKWATCH_ (addr, output, token_file, server_name, ...); the token
itself only through -token-file. Flags win over twins, twins over the file, the
file over defaults.

Text output prints times in the local time zone (TZ) and prices with their
currency's usual decimals. JSON output is the protojson of each response, one
object per line; errors are JSON on stderr too.

Exit status: 0 success, 1 the operation failed (the message ends with the gRPC
code), 2 usage error.
`)
}
