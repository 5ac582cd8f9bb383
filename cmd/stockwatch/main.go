// Command stockwatch is the Stockwatch client. Without a command it runs
// the interactive menu; with one (register, update, delete, user, latest,
// average, users, prices, purge, health, version) it performs that one
// operation, for scripts. Run "stockwatch -h" for the flags.
//
// Exit status: 0 success, 1 the operation failed (stderr names the gRPC
// code), 2 usage error, 130 interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/stockwatch/stockwatch/internal/client"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// usageError is a mistake in the command line: a missing or malformed
// argument, an unknown command, an unusable flag. It exits with status 2.
type usageError struct {
	msg string
	cmd string // the command whose -h helps, "" for the top level
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), cmd: cmd}
}

// run is the whole program: it parses args (flags with environment twins
// read through getenv), runs the menu or one command, and returns the exit
// status. TZ from getenv, when set, is the time zone of the times printed.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("stockwatch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.register(fs)
	// Asked-for help goes to stdout; a flag mistake gets one line and a
	// hint on stderr.
	fs.Usage = func() {}
	if err := cfg.fromEnv(fs, getenv); err != nil {
		return fail(stderr, err)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs)
			return exitOK
		}
		return fail(stderr, usagef("", "%v", err))
	}
	if err := cfg.validate(); err != nil {
		return fail(stderr, err)
	}
	s := &session{cfg: cfg, stdout: stdout, stderr: stderr, out: newPrinter(stdout, cfg.output == "json", location(getenv))}
	defer s.close()

	if fs.NArg() == 0 {
		if _, err := s.client(); err != nil {
			return fail(stderr, err)
		}
		return runMenu(ctx, s, stdin)
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	cmd := lookup(name)
	if cmd == nil {
		return fail(stderr, usagef("", "unknown command %q", name))
	}
	sub := flag.NewFlagSet(name, flag.ContinueOnError)
	sub.SetOutput(io.Discard)
	// The global flags are accepted after the command name too:
	// "stockwatch users -o json".
	s.cfg.register(sub)
	if cmd.flags != nil {
		cmd.flags(sub)
	}
	sub.Usage = func() {}
	if err := sub.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.printUsage(stdout, sub)
			return exitOK
		}
		return fail(stderr, usagef(name, "%s: %v", name, err))
	}
	if err := s.cfg.validate(); err != nil {
		return fail(stderr, err)
	}
	s.out = newPrinter(stdout, s.cfg.output == "json", s.out.loc)
	if n := sub.NArg(); n < cmd.minArgs || n > cmd.maxArgs {
		return fail(stderr, usagef(name, "%s: want %s", name, cmd.argsDesc()))
	}
	err := cmd.run(ctx, s, sub.Args())
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(stderr, "stockwatch: interrupted")
		return exitInterrupted
	}
	return fail(stderr, err)
}

// fail reports err on stderr and returns its exit status: 0 for nil, 2
// for a usage error, 1 for anything else (a failed operation, whose gRPC
// code the message names).
func fail(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "stockwatch: %s\n", ue.msg)
		if ue.cmd != "" {
			fmt.Fprintf(stderr, "Run 'stockwatch %s -h' for usage.\n", ue.cmd)
		} else {
			fmt.Fprintln(stderr, "Run 'stockwatch -h' for usage.")
		}
		return exitUsage
	}
	fmt.Fprintf(stderr, "stockwatch: %s\n", describe(err))
	return exitFailed
}

// location is the time zone times are printed in: TZ if it names one,
// else the process's local zone.
func location(getenv func(string) string) *time.Location {
	tz := strings.TrimPrefix(getenv("TZ"), ":")
	if tz == "" {
		return time.Local
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.Local
	}
	return loc
}

// session is what a command or the menu works with: the configuration,
// the output, and a client dialed on first use.
type session struct {
	cfg            config
	out            *printer
	stdout, stderr io.Writer
	c              *client.Client
}

// client returns the session's client, dialing it on first use. A dial
// error is a configuration mistake (an unreadable TLS file): a usage error.
func (s *session) client() (*client.Client, error) {
	if s.c != nil {
		return s.c, nil
	}
	c, err := client.Dial(s.cfg.addr, s.cfg.options())
	if err != nil {
		return nil, usagef("", "%v", err)
	}
	s.c = c
	return c, nil
}

func (s *session) close() {
	if s.c != nil {
		s.c.Close()
	}
}
