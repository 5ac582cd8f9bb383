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

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client"
)

// Exit statuses: cliconfig's, and the shell's for an interrupt.
const (
	exitOK          = cliconfig.ExitOK
	exitFailed      = cliconfig.ExitFailed
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// usagef returns a usage error of the command cmd ("" for the top
// level): a missing or malformed argument, an unknown command, an
// unusable flag. It exits with status 2, pointing to cmd's -h.
func usagef(cmd, format string, args ...any) error {
	return cliconfig.Usagef(strings.TrimSpace("stockwatch "+cmd), format, args...)
}

// run is the whole program: it parses args (flags with environment twins
// read through lookupEnv, with the rules of package cliconfig), runs the
// menu or one command, and returns the exit status. TZ, when set, is the
// time zone of the times printed.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	cfg := defaultConfig()
	fs := cliconfig.NewFlagSet("stockwatch")
	cfg.register(fs)
	if err := cliconfig.Parse(fs, args, stdout, func(w io.Writer) { printUsage(w, fs) }); err != nil {
		return fail(stderr, err)
	}
	var (
		cmd *command
		sub []*flag.FlagSet // the command's flag set, if there is a command
	)
	if fs.NArg() > 0 {
		name := fs.Arg(0)
		if cmd = lookup(name); cmd == nil {
			return fail(stderr, usagef("", "unknown command %q", name))
		}
		cfs := cliconfig.NewFlagSet("stockwatch " + name)
		// The global flags are accepted after the command name too:
		// "stockwatch users -o json".
		cfg.register(cfs)
		if cmd.flags != nil {
			cmd.flags(cfs)
		}
		if err := cliconfig.Parse(cfs, fs.Args()[1:], stdout, func(w io.Writer) { cmd.printUsage(w, cfs) }); err != nil {
			return fail(stderr, err)
		}
		sub = append(sub, cfs)
	}
	// After both command lines, so that a global flag given after the
	// command name wins over its twin too.
	if err := twins().Apply(fs, lookupEnv, sub...); err != nil {
		return fail(stderr, err)
	}
	if err := cfg.validate(); err != nil {
		return fail(stderr, err)
	}
	tz, _ := lookupEnv("TZ")
	s := &session{cfg: cfg, stdout: stdout, stderr: stderr, out: newPrinter(stdout, cfg.output == "json", location(tz))}
	defer s.close()

	if cmd == nil {
		if _, err := s.client(); err != nil {
			return fail(stderr, err)
		}
		return runMenu(ctx, s, stdin)
	}
	p, err := cmd.parse(sub[0].Args())
	if err != nil {
		return fail(stderr, err)
	}
	err = cmd.run(ctx, s, p)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(stderr, "stockwatch: interrupted")
		return exitInterrupted
	}
	return fail(stderr, err)
}

// fail reports err on stderr and returns its exit status: cliconfig's
// for nil, -h and a usage error; 1 for anything else (a failed
// operation, whose gRPC code the message names).
func fail(stderr io.Writer, err error) int {
	var ue *cliconfig.UsageError
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.As(err, &ue) {
		return cliconfig.Exit(stderr, "stockwatch", err)
	}
	fmt.Fprintf(stderr, "stockwatch: %s\n", describe(err))
	return exitFailed
}

// location is the time zone times are printed in: tz (the value of TZ)
// if it names one, else the process's local zone.
func location(tz string) *time.Location {
	tz = strings.TrimPrefix(tz, ":")
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
