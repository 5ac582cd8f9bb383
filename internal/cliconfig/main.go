package cliconfig

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is a binary's main: it runs run with a context that ends on
// SIGINT or SIGTERM, then exits the process with the status that Exit
// gives for run's error, reported on stderr under the name binary. It
// does not return.
func Main(binary string, run func(ctx context.Context) error) {
	os.Exit(status(os.Stderr, binary, run))
}

// status is Main without the exit.
func status(stderr io.Writer, binary string, run func(ctx context.Context) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal the default handling comes back, so a second
	// one ends a shutdown that hangs.
	context.AfterFunc(ctx, stop)
	return Exit(stderr, binary, run(ctx))
}
