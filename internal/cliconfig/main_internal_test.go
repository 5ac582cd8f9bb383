package cliconfig

import (
	"bytes"
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestStatus: the context ends on SIGTERM, and run's error becomes the
// exit status and the line on stderr.
func TestStatus(t *testing.T) {
	tests := []struct {
		name       string
		signal     bool
		err        error
		want       int
		wantStderr string
	}{
		{"SignalThenNil", true, nil, ExitOK, ""},
		{"Usage", false, Usagef("prog cmd", "bad -n"), ExitUsage, "prog: bad -n (see prog cmd -h)\n"},
		{"Failed", false, errors.New("disk full"), ExitFailed, "prog: disk full\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got := status(&stderr, "prog", func(ctx context.Context) error {
				if !tt.signal {
					return tt.err
				}
				if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("context not done 10s after SIGTERM")
				}
				return tt.err
			})
			if got != tt.want || stderr.String() != tt.wantStderr {
				t.Errorf("status = %d, stderr %q; want %d, %q", got, stderr.String(), tt.want, tt.wantStderr)
			}
		})
	}
}
