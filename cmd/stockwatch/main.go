// Command stockwatch is the Stockwatch client. Without a command it runs
// the interactive menu; with one (register, update, delete, user, latest,
// average, users, prices, purge, health, version, config show) it
// performs that one operation, for scripts. Run "stockwatch help" for the
// commands and flags.
//
// The command line is parsed by spf13/cobra: flags may come before or
// after the arguments, with one dash or two; "help", "completion" and
// "did you mean" come with it. The flags' environment twins and the
// configuration file follow the rules of package cliconfig, which the
// daemon shares.
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

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	code := run(ctx, os.Args[1:], proc{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv,
		now: time.Now, terminal: isatty.IsTerminal(os.Stdin.Fd()),
	})
	stop()
	os.Exit(code)
}

// proc is what the program takes from its process.
type proc struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	now            func() time.Time // the clock of "2 min ago"
	terminal       bool             // stdin is a terminal: a confirmation can be asked
}

// usagef returns a usage error of the command cmd ("" for the top
// level): a missing or malformed argument, an unknown command, an
// unusable flag. It exits with status 2, pointing to cmd's -h.
func usagef(cmd, format string, args ...any) error {
	return cliconfig.Usagef(strings.TrimSpace("stockwatch "+cmd), format, args...)
}

// run is the whole program: it parses args (flags with environment twins
// read through p.lookupEnv and an optional configuration file, with the
// rules of package cliconfig), runs the menu or one command, and returns
// the exit status. TZ, when set, is the time zone of the times printed.
func run(ctx context.Context, args []string, p proc) int {
	a := &app{proc: p, cfg: defaultConfig(), entries: map[*cobra.Command]entry{}}
	a.cfg.config = cliconfig.DefaultFilePath(p.lookupEnv, "config.toml")
	root := a.rootCmd()
	root.SetArgs(longFlags(args, flagNames(root)))
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return a.exit
	case ctx.Err() != nil:
		fmt.Fprintln(a.stderr, "stockwatch: interrupted")
		return exitInterrupted
	}
	return a.fail(err)
}

// app is one run of the program: its configuration and command tree.
type app struct {
	proc
	cfg     config
	global  *flag.FlagSet     // the global flags, which cliconfig resolves
	sources map[string]string // where each global flag's value came from
	file    string            // the configuration file read; "" for none
	entries map[*cobra.Command]entry
	exit    int // the status of a run without error: the menu's
}

// entry is a command of the table with the flag set of its own flags.
type entry struct {
	cmd *command
	fs  *flag.FlagSet
}

// rootCmd returns the command tree: the menu at the top, a command for
// each of commands(), config show, and cobra's help and completion.
func (a *app) rootCmd() *cobra.Command {
	a.global = cliconfig.NewFlagSet("stockwatch")
	a.cfg.register(a.global)
	root := &cobra.Command{
		Use:           "stockwatch",
		Short:         "the Stockwatch client",
		Version:       cliconfig.BinaryVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          unknownCommand,
		// Suggest "register" for "regster": 2 edits, as cobra's own
		// suggestions do when it reports an unknown command itself.
		SuggestionsMinimumDistance: 2,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := a.setup(c)
			if err != nil {
				return err
			}
			defer s.close()
			if _, err := s.client(); err != nil {
				return err
			}
			a.exit = runMenu(c.Context(), s, a.stdin)
			return nil
		},
	}
	root.SetVersionTemplate("stockwatch {{.Version}}\n")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().AddGoFlagSet(a.global)
	_ = root.RegisterFlagCompletionFunc("o", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	for _, cmd := range commands() {
		root.AddCommand(a.cobraCmd(cmd))
	}
	root.AddCommand(a.configCmd())
	cobraHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		switch e, ok := a.entries[c]; {
		case c == root:
			printUsage(c.OutOrStdout(), a.global)
		case ok:
			e.cmd.printUsage(c.OutOrStdout(), e.fs)
		default:
			cobraHelp(c, args)
		}
	})
	return root
}

// cobraCmd returns the cobra command that runs cmd. A command that asks
// for confirmation gets -yes (-y) to skip it.
func (a *app) cobraCmd(cmd *command) *cobra.Command {
	fs := cliconfig.NewFlagSet("stockwatch " + cmd.name)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	var yes bool
	c := &cobra.Command{
		Use:     strings.TrimSpace(cmd.name + " " + cmd.synopsis()),
		Short:   cmd.summary,
		Long:    cmd.help,
		Example: "  " + cmd.example,
		Args:    cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return a.runCommand(c, cmd, args, yes)
		},
	}
	if cmd.confirm != nil {
		fs.BoolVar(&yes, "yes", false, "do not ask for confirmation (-y for short); needed when stdin is not a terminal")
		y := pflag.PFlagFromGoFlag(fs.Lookup("yes"))
		y.Shorthand = "y"
		c.Flags().AddFlag(y)
	}
	c.Flags().AddGoFlagSet(fs)
	a.entries[c] = entry{cmd: cmd, fs: fs}
	return c
}

// runCommand runs cmd with its arguments args: configuration, then the
// arguments, then the confirmation, then the call. A failed call is
// returned with the arguments, which its message names.
func (a *app) runCommand(c *cobra.Command, cmd *command, args []string, yes bool) error {
	s, err := a.setup(c)
	if err != nil {
		return err
	}
	defer s.close()
	p, err := cmd.parse(args)
	if err != nil {
		return err
	}
	if cmd.confirm != nil && !yes {
		if err := a.confirm(c.Context(), cmd, p); err != nil {
			return err
		}
	}
	if err := cmd.run(c.Context(), s, p); err != nil {
		return &opError{err: err, p: p}
	}
	return nil
}

// setup resolves the global flags of c's command line (flags, then their
// twins, then the configuration file), checks them, and returns the
// session they configure.
func (a *app) setup(c *cobra.Command) (*session, error) {
	given := func(name string) bool {
		f := c.Flags().Lookup(name)
		return f != nil && f.Changed
	}
	if err := a.resolve(given); err != nil {
		return nil, err
	}
	if err := a.cfg.validate(); err != nil {
		return nil, err
	}
	if err := a.cfg.readToken(); err != nil {
		return nil, err
	}
	tz, _ := a.lookupEnv("TZ")
	out := newPrinter(a.stdout, a.cfg.output == "json", location(tz), a.now)
	return &session{cfg: a.cfg, stdout: a.stdout, stderr: a.stderr, out: out}, nil
}

// resolve gives each global flag that the command line did not give its
// value from its twin or the configuration file. The file's location
// comes first, from -config or its twin alone (the file cannot move
// itself); a missing file is an error only when one was named.
func (a *app) resolve(given func(string) bool) error {
	tw := twins()
	src, err := tw.Resolve(a.global, given, a.lookupEnv, nil)
	if err != nil {
		return err
	}
	if a.cfg.config != "" {
		file, err := cliconfig.ReadFile(a.cfg.config, src["config"] == cliconfig.SourceDefault)
		if err != nil {
			return usagef("", "-config: %v", err)
		}
		if file != nil {
			a.file = file.Path
			if src, err = tw.Resolve(a.global, given, a.lookupEnv, file); err != nil {
				return err
			}
		}
	}
	a.sources = src
	return nil
}

// unknownCommand rejects an argument of the top level, which takes none:
// it names a command that does not exist, and the nearest ones.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += ": did you mean " + strings.Join(s, " or ") + "?"
	}
	return usagef("", "%s", msg)
}

// flagError returns a flag that is unknown, lacks its value or does not
// parse as a usage error of the command c.
func flagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "" {
		// pflag names the first letter of "-1h"; the whole word is clearer.
		w := ne.GetSpecifiedShortnames()
		err = fmt.Errorf("unknown flag: -%s", w)
		if w[0] >= '0' && w[0] <= '9' || w[0] == '.' {
			err = fmt.Errorf("%w (put -- before an argument that starts with -)", err)
		}
	}
	if !c.HasParent() {
		return usagef("", "%v", err)
	}
	return usagef(c.Name(), "%s: %v", c.Name(), err)
}

// flagNames returns the names of the long flags (more than one letter)
// of c and its subcommands, with cobra's help and version.
func flagNames(c *cobra.Command) map[string]bool {
	names := map[string]bool{"help": true, "version": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.PersistentFlags(), c.Flags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if len(f.Name) > 1 {
					names[f.Name] = true
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(c)
	return names
}

// longFlags returns args with each "-name" or "-name=value" before "--"
// whose name is in long written "--name": pflag reads one dash as a
// cluster of one-letter flags, but Stockwatch's flags, like the daemon's
// (Go's flag package), take one dash or two.
func longFlags(args []string, long map[string]bool) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, arg := range out {
		if arg == "--" {
			break
		}
		if len(arg) < 3 || arg[0] != '-' || arg[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(arg[1:], "=")
		if long[name] {
			out[i] = "-" + arg
		}
	}
	return out
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
