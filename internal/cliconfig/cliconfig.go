// Package cliconfig is the command line of every Stockwatch binary: flags,
// their STOCKWATCH_* environment twins, -h, and usage errors, with one set
// of rules.
//
//   - A flag's twin is STOCKWATCH_ and the flag's name upper-cased, "-"
//     turned to "_" (-grpc-addr → STOCKWATCH_GRPC_ADDR); a short flag may
//     take the twin of its long name (-o → STOCKWATCH_OUTPUT).
//   - A configuration file (see ReadFile) may hold a value for a flag,
//     under the flag's key: its twin's name without STOCKWATCH_, lower
//     case (-server-name → server_name, -o → output).
//   - Flags win over twins, twins over the file, the file over defaults.
//   - A twin that is set counts even when empty: it sets its flag to the
//     empty string, so an empty address disables what it serves; a flag
//     that cannot be empty (a number, a duration, a boolean) rejects it
//     with an error naming the variable.
//   - -h prints the usage (and -version the version; neither has a twin) on stdout and exits 0; the environment is not
//     read first, so -h works whatever it holds.
//   - A usage error is one line on stderr, "BINARY: WHAT IS WRONG (see
//     COMMAND -h)", and exit status 2.
package cliconfig

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
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
	// NoFile names the flags that a configuration file may not set: a
	// secret, or the file's own location.
	NoFile []string
}

// Name returns the environment twin of the flag called flagName:
// "grpc-addr" → "STOCKWATCH_GRPC_ADDR"; "" for VersionFlag, which has none.
func (t Twins) Name(flagName string) string {
	if flagName == VersionFlag {
		return ""
	}
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
// set that shares flags with fs. It is Resolve without a file.
func (t Twins) Apply(fs *flag.FlagSet, lookup func(string) (string, bool), given ...*flag.FlagSet) error {
	onCmdline := map[string]bool{}
	for _, g := range append([]*flag.FlagSet{fs}, given...) {
		g.Visit(func(f *flag.Flag) { onCmdline[f.Name] = true })
	}
	_, err := t.Resolve(fs, func(name string) bool { return onCmdline[name] }, lookup, nil)
	return err
}

// Sources of a flag's value, as Resolve reports them.
const (
	SourceFlag    = "flag"
	SourceEnv     = "env"
	SourceFile    = "file"
	SourceDefault = "default"
)

// Resolve sets each flag of fs that the command line did not give
// (given reports those by name) from the first of its layers that has
// it: its twin, read with lookup (which, like os.LookupEnv, reports
// whether a variable is set), then file's key for it (file may be nil).
// A twin or key that is set but empty sets its flag to "". It returns
// where each flag's value came from (SourceFlag, SourceEnv, SourceFile or
// SourceDefault), or a *UsageError of fs's command for the first value a
// flag rejects ("invalid VAR=VALUE: REASON", "invalid key = VALUE in
// FILE: REASON") or for a key of file that names no flag of fs or one
// that Twins.NoFile excludes.
func (t Twins) Resolve(fs *flag.FlagSet, given func(name string) bool, lookup func(string) (string, bool), file *File) (map[string]string, error) {
	if err := t.checkKeys(fs, file); err != nil {
		return nil, err
	}
	sources := map[string]string{}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil {
			return
		}
		if given(f.Name) {
			sources[f.Name] = SourceFlag
			return
		}
		sources[f.Name] = SourceDefault
		name := t.Name(f.Name)
		if name == "" {
			return
		}
		if v, ok := lookup(name); ok {
			sources[f.Name] = SourceEnv
			if e := fs.Set(f.Name, v); e != nil {
				err = Usagef(fs.Name(), "invalid %s=%q: %v", name, v, e)
			}
			return
		}
		if file == nil {
			return
		}
		if v, ok := file.Values[t.Key(f.Name)]; ok {
			sources[f.Name] = SourceFile
			if e := fs.Set(f.Name, v); e != nil {
				err = Usagef(fs.Name(), "invalid %s = %q in %s: %v", t.Key(f.Name), v, file.Path, e)
			}
		}
	})
	return sources, err
}

// checkKeys returns a usage error for the first key of file, in sorted
// order, that is not the key of a flag of fs or that NoFile excludes.
func (t Twins) checkKeys(fs *flag.FlagSet, file *File) error {
	if file == nil {
		return nil
	}
	keys := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if t.Name(f.Name) != "" && !slices.Contains(t.NoFile, f.Name) {
			keys[t.Key(f.Name)] = true
		}
	})
	for _, k := range slices.Sorted(maps.Keys(file.Values)) {
		if !keys[k] {
			return Usagef(fs.Name(), "%s: unknown key %q (want one of %s)", file.Path, k, strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		}
	}
	return nil
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
		if _, ok := f.Value.(*durationValue); ok && name == "value" {
			name = "duration"
		}
		line := "  -" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		if twin != nil && twin(f.Name) != "" {
			fmt.Fprintf(w, " [%s]", twin(f.Name))
		}
		fmt.Fprintln(w)
	})
}
