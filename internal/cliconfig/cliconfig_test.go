package cliconfig_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

func TestTwinsName(t *testing.T) {
	t.Parallel()
	short := cliconfig.Twins{Aliases: map[string]string{"o": "output"}}
	tests := []struct {
		name  string
		twins cliconfig.Twins
		flag  string
		want  string
	}{
		{"OneWord", cliconfig.Twins{}, "addr", "STOCKWATCH_ADDR"},
		{"Dashes", cliconfig.Twins{}, "grpc-addr", "STOCKWATCH_GRPC_ADDR"},
		{"TwoDashes", cliconfig.Twins{}, "tls-client-ca", "STOCKWATCH_TLS_CLIENT_CA"},
		{"Alias", short, "o", "STOCKWATCH_OUTPUT"},
		{"NotAnAlias", short, "server-name", "STOCKWATCH_SERVER_NAME"},
		{"ShortWithoutAlias", cliconfig.Twins{}, "o", "STOCKWATCH_O"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.twins.Name(tt.flag); got != tt.want {
				t.Errorf("Name(%q) = %q, want %q", tt.flag, got, tt.want)
			}
		})
	}
}

// values are the flags of testFlags, one of each kind the binaries use.
type values struct {
	Addr    string
	N       int
	U       uint
	D       time.Duration
	B       bool
	Verbose bool
}

// wantUsage fails tb unless err, what call returned, is a usage error of
// cmd with message msg.
func wantUsage(tb testing.TB, call string, err error, cmd, msg string) {
	tb.Helper()
	var ue *cliconfig.UsageError
	if !errors.As(err, &ue) {
		tb.Fatalf("%s = %v, want a *UsageError", call, err)
	}
	if ue.Cmd != cmd || ue.Error() != msg {
		tb.Errorf("%s = %q of %q, want %q of %q", call, ue.Error(), ue.Cmd, msg, cmd)
	}
}

func defaults() values {
	return values{Addr: "localhost:1", N: 3, U: 5, D: time.Second, B: true}
}

func testFlags(cmd string, v *values) *flag.FlagSet {
	fs := cliconfig.NewFlagSet(cmd)
	fs.StringVar(&v.Addr, "http-addr", v.Addr, "an address; empty disables")
	fs.IntVar(&v.N, "n", v.N, "an int")
	fs.UintVar(&v.U, "u", v.U, "a uint")
	cliconfig.DurationVar(fs, &v.D, "d", v.D, "a duration")
	fs.BoolVar(&v.B, "b", v.B, "a bool")
	return fs
}

// parseFlags returns default values and their testFlags set named prog,
// parsed from args.
func parseFlags(tb testing.TB, args []string) (*values, *flag.FlagSet) {
	tb.Helper()
	v := defaults()
	fs := testFlags("prog", &v)
	if err := cliconfig.Parse(fs, args, io.Discard, func(io.Writer) {}); err != nil {
		tb.Fatal(err)
	}
	return &v, fs
}

// wantValues fails tb unless got is the defaults as change leaves them.
func wantValues(tb testing.TB, got values, change func(*values)) {
	tb.Helper()
	want := defaults()
	change(&want)
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Errorf("values mismatch (-want +got):\n%s", diff)
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(*values) // the fields that differ from the defaults
	}{
		{"NoTwinSet", nil, nil, func(*values) {}},
		{"TwinsSet", nil, map[string]string{"STOCKWATCH_HTTP_ADDR": "127.0.0.1:9", "STOCKWATCH_N": "7", "STOCKWATCH_U": "9", "STOCKWATCH_D": "2m", "STOCKWATCH_B": "false"},
			func(v *values) { v.Addr, v.N, v.U, v.D, v.B = "127.0.0.1:9", 7, 9, 2*time.Minute, false }},
		{"EmptyStringTwinEmpties", nil, map[string]string{"STOCKWATCH_HTTP_ADDR": ""}, func(v *values) { v.Addr = "" }},
		{"FlagWinsOverTwin", []string{"-n", "1"}, map[string]string{"STOCKWATCH_N": "7"}, func(v *values) { v.N = 1 }},
		{"FlagWinsOverBadTwin", []string{"-d", "5s"}, map[string]string{"STOCKWATCH_D": "soon"}, func(v *values) { v.D = 5 * time.Second }},
		{"FlagWinsOverEmptyTwin", []string{"-http-addr", "127.0.0.1:0"}, map[string]string{"STOCKWATCH_HTTP_ADDR": ""}, func(v *values) { v.Addr = "127.0.0.1:0" }},
		{"EmptyFlagWinsOverTwin", []string{"-http-addr="}, map[string]string{"STOCKWATCH_HTTP_ADDR": "127.0.0.1:0"}, func(v *values) { v.Addr = "" }},
		{"FlagEqualToDefaultWins", []string{"-n", "3"}, map[string]string{"STOCKWATCH_N": "7"}, func(*values) {}},
		{"OtherVariablesIgnored", nil, map[string]string{"STOCKWATCH_X": "1", "N": "7", "stockwatch_n": "7"}, func(*values) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, fs := parseFlags(t, tt.args)
			if err := (cliconfig.Twins{}).Apply(fs, cliconfig.MapEnv(tt.env).Lookup); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			wantValues(t, *got, tt.want)
		})
	}
}

func TestApplyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"BadInt", map[string]string{"STOCKWATCH_N": "many"}, `invalid STOCKWATCH_N="many": parse error`},
		{"BadDuration", map[string]string{"STOCKWATCH_D": "soon"}, `invalid STOCKWATCH_D="soon": not a duration like 90s, 5m or 1h30m`},
		{"UintOutOfRange", map[string]string{"STOCKWATCH_U": "18446744073709551616"}, `invalid STOCKWATCH_U="18446744073709551616": value out of range`},
		// Only a string flag can be empty.
		{"EmptyInt", map[string]string{"STOCKWATCH_N": ""}, `invalid STOCKWATCH_N="": parse error`},
		{"EmptyUint", map[string]string{"STOCKWATCH_U": ""}, `invalid STOCKWATCH_U="": parse error`},
		{"EmptyDuration", map[string]string{"STOCKWATCH_D": ""}, `invalid STOCKWATCH_D="": not a duration like 90s, 5m or 1h30m`},
		{"EmptyBool", map[string]string{"STOCKWATCH_B": ""}, `invalid STOCKWATCH_B="": parse error`},
		// The first in flag order is reported.
		{"FirstOfTwo", map[string]string{"STOCKWATCH_N": "x", "STOCKWATCH_B": "y"}, `invalid STOCKWATCH_B="y": parse error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := defaults()
			fs := testFlags("prog", &v)
			wantUsage(t, "Apply", (cliconfig.Twins{}).Apply(fs, cliconfig.MapEnv(tt.env).Lookup), "prog", tt.want)
		})
	}
}

// TestApplyGiven checks a subcommand's set: a global flag given after the
// command name wins over its twin, the others take theirs.
func TestApplyGiven(t *testing.T) {
	t.Parallel()
	v := defaults()
	global := testFlags("prog", &v)
	if err := cliconfig.Parse(global, []string{"-b=false", "cmd", "-n", "1"}, io.Discard, func(io.Writer) {}); err != nil {
		t.Fatal(err)
	}
	sub := testFlags("prog cmd", &v)
	sub.BoolVar(&v.Verbose, "v", false, "the command's own flag")
	if err := cliconfig.Parse(sub, global.Args()[1:], io.Discard, func(io.Writer) {}); err != nil {
		t.Fatal(err)
	}
	lookup := (cliconfig.MapEnv{"STOCKWATCH_N": "7", "STOCKWATCH_B": "true", "STOCKWATCH_D": "1m", "STOCKWATCH_V": "true"}).Lookup
	if err := (cliconfig.Twins{}).Apply(global, lookup, sub); err != nil {
		t.Fatal(err)
	}
	wantValues(t, v, func(want *values) {
		want.N, want.B, want.D = 1, false, time.Minute // STOCKWATCH_V: -v is not global
	})
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cmd string
		args      []string
		wantErr   string // "" for flag.ErrHelp
	}{
		{"Help", "prog", []string{"-h"}, ""},
		{"HelpLong", "prog", []string{"-help"}, ""},
		{"HelpDoubleDash", "prog cmd", []string{"--help"}, ""},
		{"UnknownFlag", "prog", []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"MissingValue", "prog", []string{"-n"}, "flag needs an argument: -n"},
		{"BadValue", "prog", []string{"-d=abc"}, `invalid value "abc" for flag -d: not a duration like 90s, 5m or 1h30m`},
		{"SubcommandNamed", "prog cmd", []string{"-1h"}, "cmd: flag provided but not defined: -1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := defaults()
			fs := testFlags(tt.cmd, &v)
			var stdout bytes.Buffer
			err := cliconfig.Parse(fs, tt.args, &stdout, func(w io.Writer) { fmt.Fprintln(w, "usage of", tt.cmd) })
			if tt.wantErr == "" {
				if !errors.Is(err, flag.ErrHelp) {
					t.Fatalf("Parse = %v, want flag.ErrHelp", err)
				}
				if got, want := stdout.String(), "usage of "+tt.cmd+"\n"; got != want {
					t.Errorf("stdout = %q, want %q", got, want)
				}
				return
			}
			wantUsage(t, "Parse", err, tt.cmd, tt.wantErr)
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestNoArgs(t *testing.T) {
	t.Parallel()
	v := defaults()
	fs := testFlags("prog run", &v)
	if err := fs.Parse([]string{"-n", "1"}); err != nil {
		t.Fatal(err)
	}
	if err := cliconfig.NoArgs(fs); err != nil {
		t.Errorf("NoArgs without arguments = %v, want nil", err)
	}
	if err := fs.Parse([]string{"-n", "1", "api", "x"}); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, "NoArgs", cliconfig.NoArgs(fs), "prog run", `unexpected argument "api" (flags start with -)`)
}

func TestExit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"Success", nil, cliconfig.ExitOK, ""},
		{"Help", flag.ErrHelp, cliconfig.ExitOK, ""},
		{"Usage", cliconfig.Usagef("", "-o: unknown format %q", "yaml"), cliconfig.ExitUsage, "prog: -o: unknown format \"yaml\" (see prog -h)\n"},
		{"UsageOfSubcommand", cliconfig.Usagef("prog cmd", "cmd: want EMAIL"), cliconfig.ExitUsage, "prog: cmd: want EMAIL (see prog cmd -h)\n"},
		{"UsageWrapped", fmt.Errorf("parse: %w", cliconfig.Usage("prog", errors.New("bad"))), cliconfig.ExitUsage, "prog: bad (see prog -h)\n"},
		{"Failure", errors.New("open db: refused"), cliconfig.ExitFailed, "prog: open db: refused\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if code := cliconfig.Exit(&stderr, "prog", tt.err); code != tt.code {
				t.Errorf("Exit = %d, want %d", code, tt.code)
			}
			if diff := cmp.Diff(tt.stderr, stderr.String()); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsageOfNil(t *testing.T) {
	t.Parallel()
	if err := cliconfig.Usage("prog", nil); err != nil {
		t.Errorf("Usage(nil) = %v, want nil", err)
	}
}

func TestPrintFlags(t *testing.T) {
	t.Parallel()
	v := defaults()
	fs := testFlags("prog", &v)
	var token string
	fs.StringVar(&token, "token", "", "admin `token`")
	tests := []struct {
		name string
		keep func(*flag.Flag) bool
		twin func(string) string
		want string
	}{
		{"WithTwins", func(f *flag.Flag) bool { return f.Name != "u" && f.Name != "d" }, cliconfig.Twins{}.Name, `  -b
    	a bool (default true) [STOCKWATCH_B]
  -http-addr string
    	an address; empty disables (default localhost:1) [STOCKWATCH_HTTP_ADDR]
  -n int
    	an int (default 3) [STOCKWATCH_N]
  -token token
    	admin token [STOCKWATCH_TOKEN]
`},
		{"AllWithoutTwins", nil, nil, `  -b
    	a bool (default true)
  -d duration
    	a duration (default 1s)
  -http-addr string
    	an address; empty disables (default localhost:1)
  -n int
    	an int (default 3)
  -token token
    	admin token
  -u uint
    	a uint (default 5)
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sb strings.Builder
			cliconfig.PrintFlags(&sb, fs, tt.keep, tt.twin)
			if diff := cmp.Diff(tt.want, sb.String()); diff != "" {
				t.Errorf("PrintFlags mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
