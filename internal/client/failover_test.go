package client_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	many := strings.Repeat("h:1,", client.MaxServers) + "h:2"
	tests := []struct {
		addr string
		want string // the error; "" for none
	}{
		{"localhost:50051", ""},
		{"a:1,b:2,c:3", ""},
		{" a:1, b:2 ", ""},
		{"[::1]:1,127.0.0.1:2", ""},
		{"dns:///stockwatch.internal:50051", ""},
		{"dns://10.0.0.2:53/stockwatch.internal:50051", ""},
		{"unix:///run/stockwatch.sock", ""},
		{"", "empty address"},
		{"  ", "empty address"},
		{"a:1,,b:2", "server 2 of 3 is empty"},
		{"a:1,", "server 2 of 2 is empty"},
		{"a:1,b", `"b": want host:port`},
		{"a:1,:2", `":2": no host`},
		{"a:1,b:http", `"b:http": port "http" is not a number in 1-65535`},
		{"a:1,b:0", `"b:0": port "0" is not a number in 1-65535`},
		{"a:1,b:65536", `"b:65536": port "65536" is not a number in 1-65535`},
		{"a:1,b:2,a:1", "a:1 given twice"},
		{"a:1,dns:///b:2", `"dns:///b:2": a list takes host:port only`},
		{many, fmt.Sprintf("%d servers: at most %d", client.MaxServers+1, client.MaxServers)},
		{"dns:///stockwatch.internal", `"dns:///stockwatch.internal": want host:port (want dns:///host:port)`},
		{"dns:stockwatch.internal:50051", `"dns:stockwatch.internal:50051": want dns:///host:port`},
		{"dns:///:50051", `"dns:///:50051": no host (want dns:///host:port)`},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			err := client.CheckAddr(tt.addr)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckAddr(%q) = %q, want %q", tt.addr, got, tt.want)
			}
			c, err := client.Dial(tt.addr, client.Options{})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Dial(%q): %v", tt.addr, err)
			case tt.want != "" && (err == nil || err.Error() != "dial: "+tt.want):
				t.Errorf("Dial(%q) = %v, want %q", tt.addr, err, "dial: "+tt.want)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

// replicas starts n API servers over one database and returns them with
// a client of all of them (see dialAddr), connected to each.
func replicas(tb testing.TB, n int, opts client.Options) ([]*clienttest.Server, *client.Client) {
	tb.Helper()
	db := storetest.Open(tb, storetest.SQLite)
	var srvs []*clienttest.Server
	var addrs []string
	for range n {
		s := clienttest.Start(tb, clienttest.Options{DB: db})
		srvs = append(srvs, s)
		addrs = append(addrs, s.Addr)
	}
	c, _ := dialAddr(tb, strings.Join(addrs, ","), opts)
	warm(tb, c, srvs...)
	return srvs, c
}

// warm calls Health until every one of srvs has answered one, so that
// the client is connected to all of them.
func warm(tb testing.TB, c *client.Client, srvs ...*clienttest.Server) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := true
		for _, s := range srvs {
			all = all && s.Calls("Check") > 0
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatal("the client did not reach every replica within 10s")
		}
		if _, err := c.Health(tb.Context()); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestRetryOnAnotherReplica: a register whose reply each replica in turn
// loses after committing is retried on the next replica with the same
// request id, until one answers: the user is registered once and every
// replica saw the one request id.
func TestRetryOnAnotherReplica(t *testing.T) {
	t.Parallel()
	srvs, c := replicas(t, 3, client.Options{Retries: 4})
	for _, s := range srvs {
		s.FailAfterCommit("RegisterUser", 1, codes.Unavailable)
	}
	u, err := c.RegisterUser(t.Context(), "alice@example.com", "AAPL")
	if err != nil {
		t.Fatalf("RegisterUser: %v", err)
	}
	if u.GetEmail() != "alice@example.com" {
		t.Errorf("response = %v", u)
	}
	var ids []string
	for i, s := range srvs {
		got := s.RequestIDs("RegisterUser")
		if len(got) == 0 {
			t.Errorf("replica %d saw no attempt: the retries did not go round", i+1)
		}
		ids = append(ids, got...)
	}
	checkOneID(t, ids, 4)
	testkit.WantCount(t, "request records", storetest.Count(t, srvs[0].DB, "requests", ""), 1)
	testkit.WantCount(t, "users", storetest.Count(t, srvs[0].DB, "users", ""), 1)
}

// TestUnhealthyReplicaGetsNoCalls: a replica whose health status is
// NOT_SERVING gets no calls until it is SERVING again. The calls are about
// no user (ListUsers): they go round the replicas.
func TestUnhealthyReplicaGetsNoCalls(t *testing.T) {
	t.Parallel()
	srvs, c := replicas(t, 3, client.Options{})
	srvs[0].AddUser(t, "alice@example.com", "AAPL")
	list := func() {
		t.Helper()
		if _, err := c.ListUsers(t.Context(), 10, ""); err != nil {
			t.Fatal(err)
		}
	}
	name := pb.StockService_ServiceDesc.ServiceName
	srvs[1].Health.SetServingStatus(name, healthpb.HealthCheckResponse_NOT_SERVING)
	// The health stream tells the client at once, but asynchronously:
	// wait until calls have gone round the two others twice in a row.
	deadline := time.Now().Add(10 * time.Second)
	for streak := 0; streak < 6; {
		before := srvs[1].Calls("ListUsers")
		list()
		streak++
		if srvs[1].Calls("ListUsers") != before {
			streak = 0
		}
		if time.Now().After(deadline) {
			t.Fatal("the NOT_SERVING replica still gets calls after 10s")
		}
	}
	before := [3]int{srvs[0].Calls("ListUsers"), srvs[1].Calls("ListUsers"), srvs[2].Calls("ListUsers")}
	for range 30 {
		list()
	}
	got := [3]int{srvs[0].Calls("ListUsers") - before[0], srvs[1].Calls("ListUsers") - before[1], srvs[2].Calls("ListUsers") - before[2]}
	if got[1] != 0 || got[0] != 15 || got[2] != 15 {
		t.Errorf("calls per replica = %v, want [15 0 15]", got)
	}

	srvs[1].Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	deadline = time.Now().Add(10 * time.Second)
	for srvs[1].Calls("ListUsers") == before[1] {
		list()
		if time.Now().After(deadline) {
			t.Fatal("the replica SERVING again gets no calls after 10s")
		}
	}
}

// TestUserAffinity: the calls about one user, in any spelling of the
// e-mail, go to one replica (so that the replica that made a change
// answers the reads that follow); users are spread over the replicas.
// When a user's replica is NOT_SERVING, the user's calls go to one other
// replica, and the users of the others stay where they were; when it is
// SERVING again, they come back.
func TestUserAffinity(t *testing.T) {
	t.Parallel()
	srvs, c := replicas(t, 3, client.Options{})
	var users []string
	for i := range 24 {
		users = append(users, fmt.Sprintf("user%d@example.com", i))
		srvs[0].AddUser(t, users[i], "AAPL")
	}
	// where returns the replica that served the calls about email, failing
	// t if they went to more than one (but while the client learns of a
	// change of health: then the last one).
	settled := true
	where := func(email string) int {
		t.Helper()
		served := -1
		for _, spelling := range []string{email, " " + strings.ToUpper(email), email} {
			var before [3]int
			for i, s := range srvs {
				before[i] = s.Calls("GetUser")
			}
			if _, err := c.GetUser(t.Context(), spelling); err != nil {
				t.Fatal(err)
			}
			for i, s := range srvs {
				if s.Calls("GetUser") == before[i] {
					continue
				}
				if settled && served >= 0 && served != i {
					t.Fatalf("the calls about %s went to replicas %d and %d", email, served+1, i+1)
				}
				served = i
			}
		}
		return served
	}
	home := map[string]int{}
	perReplica := [3]int{}
	for _, u := range users {
		home[u] = where(u)
		perReplica[home[u]]++
	}
	for i, n := range perReplica {
		if n == 0 {
			t.Errorf("replica %d is no user's: users per replica %v", i+1, perReplica)
		}
	}

	name := pb.StockService_ServiceDesc.ServiceName
	srvs[1].Health.SetServingStatus(name, healthpb.HealthCheckResponse_NOT_SERVING)
	deadline := time.Now().Add(10 * time.Second)
	settled = false
	for moved := false; !moved; {
		moved = true
		for _, u := range users {
			if home[u] == 1 && where(u) == 1 {
				moved = false
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the NOT_SERVING replica still gets its users' calls after 10s")
		}
	}
	settled = true
	for _, u := range users {
		if home[u] != 1 && where(u) != home[u] {
			t.Errorf("%s moved from replica %d, which is SERVING", u, home[u]+1)
		}
	}

	srvs[1].Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	deadline = time.Now().Add(10 * time.Second)
	settled = false
	for back := false; !back; {
		back = true
		for _, u := range users {
			back = back && where(u) == home[u]
		}
		if time.Now().After(deadline) {
			t.Fatal("the users of the replica SERVING again are not back after 10s")
		}
	}
}

// TestReplicaDiesUnderLoad: 8 clients' writers register, update and
// delete their own users through one client of 3 replicas; one replica
// stops mid-load, dropping the calls in flight. Every call succeeds (the
// ones it dropped retried on another replica) and takes effect once.
func TestReplicaDiesUnderLoad(t *testing.T) {
	t.Parallel()
	srvs, c := replicas(t, 3, client.Options{
		Retries: 5, BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})

	const writers, users = 8, 25 // 3 writes each
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range users {
				email := fmt.Sprintf("w%d.u%d@example.com", w, i)
				if _, err := c.RegisterUser(t.Context(), email, "AAPL"); err != nil {
					errs <- fmt.Errorf("register %s: %w", email, err)
					return
				}
				u, err := c.UpdateUser(t.Context(), email, "MSFT")
				if err != nil || u.GetTicker() != "MSFT" {
					errs <- fmt.Errorf("update %s: %v (%v)", email, err, u)
					return
				}
				done.Add(2)
				if i%2 == 0 { // keep the odd ones
					if _, err := c.DeleteUser(t.Context(), email); err != nil {
						errs <- fmt.Errorf("delete %s: %w", email, err)
						return
					}
					done.Add(1)
				}
			}
		})
	}
	// Stop replica 2 a third of the way through.
	total := int64(writers * (2*users + (users+1)/2))
	for done.Load() < total/3 {
		time.Sleep(time.Millisecond)
	}
	srvs[1].Stop()
	stoppedAt := srvs[1].StockCalls()
	others := srvs[0].StockCalls() + srvs[2].StockCalls()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srvs[0].StockCalls() + srvs[2].StockCalls() - others; n == 0 {
		t.Error("the other replicas served nothing after the stop")
	}
	if stoppedAt == 0 {
		t.Error("replica 2 served nothing before its stop")
	}
	testkit.WantCount(t, "request records", storetest.Count(t, srvs[0].DB, "requests", ""), int(total))
	testkit.WantCount(t, "users", storetest.Count(t, srvs[0].DB, "users", ""), writers*(users/2))
	testkit.WantCount(t, "users tracking MSFT", storetest.Count(t, srvs[0].DB, "users", "ticker = ?", "MSFT"), writers*(users/2))
	if _, err := c.GetUser(t.Context(), "w0.u1@example.com"); err != nil {
		t.Errorf("read after the stop: %v", err)
	}
}

// TestAllReplicasDown: with every replica gone the call fails UNAVAILABLE
// after its retries, naming a connection error.
func TestAllReplicasDown(t *testing.T) {
	t.Parallel()
	var addrs []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, l.Addr().String())
		l.Close()
	}
	c, s := dialAddr(t, strings.Join(addrs, ","), client.Options{Retries: 2})
	_, err := c.GetUser(t.Context(), "alice@example.com")
	wantCode(t, err, codes.Unavailable)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "connection refused") {
		t.Errorf("message = %q, want the connection error", msg)
	}
	if len(s.got) != 2 {
		t.Errorf("backoff waits = %v, want 2", s.got)
	}
}

// TestDNSTarget: dns:///name:port balances over what the name resolves
// to (localhost: 127.0.0.1, and ::1 where nothing listens).
func TestDNSTarget(t *testing.T) {
	t.Parallel()
	srv := clienttest.Start(t, clienttest.Options{})
	_, port, _ := net.SplitHostPort(srv.Addr)
	c, _ := dialAddr(t, "dns:///localhost:"+port, client.Options{})
	resp, err := c.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("status = %v", resp.GetStatus())
	}
}

// TestNoReplicaServing: with every replica NOT_SERVING, a call (Health
// too) fails UNAVAILABLE, saying so, instead of reaching one of them.
func TestNoReplicaServing(t *testing.T) {
	t.Parallel()
	srvs, c := replicas(t, 2, client.Options{Retries: 1})
	for _, s := range srvs {
		s.Health.SetServingStatus(pb.StockService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Health(t.Context())
		if status.Code(err) == codes.Unavailable {
			if msg := status.Convert(err).Message(); !strings.Contains(msg, "health check failed") {
				t.Errorf("message = %q, want the failed health check", msg)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Health with no replica serving: %v, want UNAVAILABLE within 10s", err)
		}
	}
}
