package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// TestMySQLUnavailable: the server errors that mean "not now" are
// KindUnavailable (clients retry them); the rest are not.
func TestMySQLUnavailable(t *testing.T) {
	db, err := openMySQL("u@127.0.0.1:1/db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		number uint16
		want   bool
	}{
		{erConCount, true},
		{erServerShutdown, true},
		{erReadOnly, true},
		{erReadOnlyTx, true},
		{erConnKilled, true},
		{erClientTimeout, true},
		{erNodeNotReady, true},
		{erLockWaitTimeout, true}, // after the store's reruns; also a causal read's timeout on Galera
		{erDupEntry, false},
		{1064, false}, // syntax error
	} {
		err := db.wrap(fmt.Errorf("query: %w", &mysql.MySQLError{Number: tt.number, Message: "x"}), "op")
		if got := errors.Is(err, stock.ErrUnavailable); got != tt.want {
			t.Errorf("MySQL error %d: unavailable = %v, want %v", tt.number, got, tt.want)
		}
	}
}

// TestMySQLHosts: a mysql:// URL names one server or several (the nodes of
// a Galera cluster), in order, each with port 3306 unless given; a
// malformed list is refused with what is wrong in it.
func TestMySQLHosts(t *testing.T) {
	t.Parallel()
	want := "mysql URL: want mysql://USER[:PASS]@HOST[:PORT][,HOST[:PORT]...]/DB[?params]"
	tests := []struct {
		name, rest string
		hosts      []string
		err        string
	}{
		{"OneHost", "u@db/x", []string{"db:3306"}, ""},
		{"OneHostPort", "u:p@db:3307/x?tls=true", []string{"db:3307"}, ""},
		{"ThreeNodes", "u@h1:3311,h2:3312,h3:3313/x", []string{"h1:3311", "h2:3312", "h3:3313"}, ""},
		{"DefaultPort", "u@h1,h2:3312/x", []string{"h1:3306", "h2:3312"}, ""},
		{"IPv6", "u@[::1]:3311,[::1]/x", []string{"[::1]:3311", "[::1]:3306"}, ""},
		{"PasswordWithComma", "u:a%2Cb@h1,h2/x", []string{"h1:3306", "h2:3306"}, ""},
		{"NoHost", "u@/x", nil, want},
		{"NoUser", "h1,h2/x", nil, want},
		{"NoDB", "u@h1,h2", nil, want},
		{"QueryBeforeDB", "u@h1?x=1", nil, want},
		{"EmptyHost", "u@h1,,h3/x", nil, `mysql URL: empty host in "h1,,h3"`},
		{"TrailingComma", "u@h1,/x", nil, `mysql URL: empty host in "h1,"`},
		{"BadPort", "u@h1:3311,h2:x/x", nil, `mysql URL: invalid port in host "h2:x"`},
		{"PortTooLarge", "u@h1:65536/x", nil, `mysql URL: invalid port in host "h1:65536"`},
		{"EmptyPort", "u@h1:/x", nil, `mysql URL: invalid port in host "h1:"`},
		{"NoHostName", "u@:3311/x", nil, `mysql URL: invalid host ":3311"`},
		{"BareIPv6", "u@::1/x", nil, `mysql URL: invalid host "::1"`},
		{"Twice", "u@h1:3311,h2,h1:3311/x", nil, "mysql URL: host h1:3311 given twice"},
		{"TwiceDefaultPort", "u@h1,h1:3306/x", nil, "mysql URL: host h1:3306 given twice"},
		{"TooMany", "u@" + strings.Repeat("h,", 16) + "h/x", nil, "mysql URL: 17 hosts, at most 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, hosts, err := mysqlConfig(tt.rest)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Fatalf("mysqlConfig(%q) error = %q, want %q", tt.rest, got, tt.err)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.hosts, hosts); diff != "" {
				t.Errorf("hosts mismatch (-want +got):\n%s", diff)
			}
			if cfg.Addr != hosts[0] || cfg.DBName != "x" || cfg.User != "u" {
				t.Errorf("config: addr %q db %q user %q, want %q x u", cfg.Addr, cfg.DBName, cfg.User, hosts[0])
			}
		})
	}
}

// TestMySQLCausalReads: with several hosts (Galera nodes) every read waits
// for the node's apply queue (wsrep_sync_wait=1) unless the URL says
// otherwise; one host is left as it is (MySQL has no such variable).
func TestMySQLCausalReads(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ rest, want string }{
		{"u@h1/x", ""},
		{"u@h1/x?wsrep_sync_wait=3", "3"},
		{"u@h1,h2/x", "1"},
		{"u@h1,h2/x?wsrep_sync_wait=0", "0"},
	} {
		cfg, _, err := mysqlConfig(tt.rest)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Params["wsrep_sync_wait"]; got != tt.want {
			t.Errorf("mysqlConfig(%q): wsrep_sync_wait = %q, want %q", tt.rest, got, tt.want)
		}
	}
}
