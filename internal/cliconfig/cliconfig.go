// Package cliconfig is the command line of every Stockwatch binary: flags,
// their STOCKWATCH_* environment twins, -h, and usage errors, with one set
// of rules.
//
//   - A flag's twin is STOCKWATCH_ and the flag's name upper-cased, "-"
//     turned to "_" (-grpc-addr → STOCKWATCH_GRPC_ADDR); a short flag may
//     take the twin of its long name (-o → STOCKWATCH_OUTPUT).
//   - Flags win over twins, twins over defaults.
//   - A twin that is set counts even when empty: it sets its flag to the
//     empty string, so an empty address disables what it serves; a flag
//     that cannot be empty (a number, a duration, a boolean) rejects it
//     with an error naming the variable.
//   - -h prints the usage on stdout and exits 0; the environment is not
//     read first, so -h works whatever it holds.
//   - A usage error is one line on stderr, "BINARY: WHAT IS WRONG (see
//     COMMAND -h)", and exit status 2.
package cliconfig

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses shared by the binaries.
const (
	ExitOK     = 0 // success, or -h
	ExitFailed = 1 // the program ran and failed
	ExitUsage  = 2 // a usage error: nothing was done
)

// TwinsHeading introduces, in a usage text, the flags that PrintFlags
// lists with their twins.
const TwinsHeading = "Flags (each has an environment twin, in brackets; flags win over twins; a twin\nthat is set but empty sets its flag to empty):"

// UsageError is a mistake in a command line or its environment: a flag
// that is unknown or does not parse, a missing or stray argument, a value
// the program cannot use. Exit reports it and returns ExitUsage.
type UsageError struct {
	// Cmd is the command whose -h helps: "stockwatchd", "stockwatch
	// register". Empty means the binary itself.
	Cmd string
	// Err says what is wrong; it is the whole message.
	Err error
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage returns err as a usage error of cmd, or nil for a nil err.
func Usage(cmd string, err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Cmd: cmd, Err: err}
}

// Usagef returns a usage error of cmd with a formatted message.
func Usagef(cmd, format string, args ...any) error {
	return &UsageError{Cmd: cmd, Err: fmt.Errorf(format, args...)}
}

// Exit reports err on stderr for the binary and returns its exit status:
// ExitOK for nil or flag.ErrHelp (Parse has printed the usage),
// ExitUsage for a *UsageError, in one line "BINARY: MESSAGE (see CMD
// -h)", and ExitFailed for any other error, as "BINARY: MESSAGE".
func Exit(stderr io.Writer, binary string, err error) int {
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		cmd := ue.Cmd
		if cmd == "" {
			cmd = binary
		}
		fmt.Fprintf(stderr, "%s: %s (see %s -h)\n", binary, ue.Err, cmd)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "%s: %s\n", binary, err)
		return ExitFailed
	}
}

// NewFlagSet returns an empty flag set for the command cmd ("stockwatchd",
// "stockwatch register"). It prints nothing of its own: Parse prints the
// usage for -h, and Exit reports the errors.
func NewFlagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// Parse parses args with fs, a set from NewFlagSet. For -h or -help it
// prints usage on stdout and returns flag.ErrHelp; for a flag that is
// unknown, lacks its value or does not parse, a *UsageError of fs's
// command, whose message begins with the subcommand's name if fs is a
// subcommand's ("purge: flag provided but not defined: -1h").
func Parse(fs *flag.FlagSet, args []string, stdout io.Writer, usage func(io.Writer)) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return flag.ErrHelp
	}
	if _, sub, ok := strings.Cut(fs.Name(), " "); ok {
		err = fmt.Errorf("%s: %w", sub, err)
	}
	return Usage(fs.Name(), err)
}

// NoArgs returns a *UsageError naming the first argument Parse left in
// fs, for a command that takes flags only, or nil when there is none.
func NoArgs(fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	return Usagef(fs.Name(), "unexpected argument %q (flags start with -)", fs.Arg(0))
}

// Twins names the environment twins of a binary's flags. The zero value
// names every twin after its own flag.
type Twins struct {
	// Aliases maps a short flag to the long name its twin is formed
	// from: {"o": "output"} makes STOCKWATCH_OUTPUT the twin of -o.
	Aliases map[string]string
}

// Name returns the environment twin of the flag called flagName:
// "grpc-addr" → "STOCKWATCH_GRPC_ADDR".
func (t Twins) Name(flagName string) string {
	if long, ok := t.Aliases[flagName]; ok {
		flagName = long
	}
	return "STOCKWATCH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// MapEnv is an environment held in a map, as tests give one to a
// binary's run in place of the process's.
type MapEnv map[string]string

// Lookup returns the value of the variable key and whether it is set, as
// os.LookupEnv does.
func (m MapEnv) Lookup(key string) (string, bool) {
	v, ok := m[key]
	return v, ok
}

// Apply sets each flag of fs from its twin, read with lookup (which, like
// os.LookupEnv, reports whether a variable is set), unless the command
// line gave the flag: Parse has run on fs and on given, a subcommand's
// set that shares flags with fs. A twin that is set but empty sets its
// flag to "". A value the flag rejects is a *UsageError of fs's command,
// "invalid VAR=VALUE: REASON"; Apply stops at the first.
func (t Twins) Apply(fs *flag.FlagSet, lookup func(string) (string, bool), given ...*flag.FlagSet) error {
	onCmdline := map[string]bool{}
	for _, g := range append([]*flag.FlagSet{fs}, given...) {
		g.Visit(func(f *flag.Flag) { onCmdline[f.Name] = true })
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || onCmdline[f.Name] {
			return
		}
		name := t.Name(f.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = Usagef(fs.Name(), "invalid %s=%q: %v", name, v, e)
		}
	})
	return err
}

// PrintFlags prints the flags of fs that keep selects (all when keep is
// nil), in the layout of flag.PrintDefaults but one form for every flag,
// each followed by its twin in brackets when twin is not nil.
func PrintFlags(w io.Writer, fs *flag.FlagSet, keep func(*flag.Flag) bool, twin func(flagName string) string) {
	fs.VisitAll(func(f *flag.Flag) {
		if keep != nil && !keep(f) {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		line := "  -" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		if twin != nil {
			fmt.Fprintf(w, " [%s]", twin(f.Name))
		}
		fmt.Fprintln(w)
	})
}
