package main

import (
	"strings"
	"testing"

	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestAddrList: -addr takes several replicas, checked before any call;
// calls go to those that serve, so one that is gone is not an error.
func TestAddrList(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ addr, want string }{
		{"a:1,,b:2", "server 2 of 3 is empty"},
		{"a:1,b", `"b": want host:port`},
		{"a:1,b:99999", `"b:99999": port "99999" is not a number in 1-65535`},
		{"a:1,a:1", "a:1 given twice"},
		{"dns:///stockwatch.internal", `"dns:///stockwatch.internal": want host:port (want dns:///host:port)`},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, t.Context(), "localhost:50051", nil, "", "-addr", tt.addr, "health")
			want := "stockwatch: -addr: " + tt.want + " (see stockwatch -h)\n"
			if r.code != 2 || r.stdout != "" || r.stderr != want {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", r.code, r.stdout, r.stderr, want)
			}
		})
	}

	db := storetest.Open(t, storetest.SQLite)
	live := seeded(t, clienttest.Options{DB: db})
	dead := clienttest.Start(t, clienttest.Options{DB: db})
	dead.Stop()
	addr := dead.Addr + "," + live.Addr
	for range 3 { // whichever replica a call would have gone to first
		r := runCLI(t, t.Context(), addr, nil, "", "-retries", "1", "user", "alice@example.com")
		if r.code != 0 || !strings.Contains(r.stdout, "alice@example.com") {
			t.Errorf("with %s gone: exit %d, stdout %q, stderr %q", dead.Addr, r.code, r.stdout, r.stderr)
		}
	}
}
