package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// failoverBound is how long the daemon may take to serve reads and writes
// again after its database node is SIGKILLed. Reads move at once (the next
// request on each pooled connection to the dead node fails, the next
// connection goes to another node); commits wait on every node until the
// others declare the dead one gone (evs.suspect_timeout, 5s by default).
const failoverBound = 15 * time.Second

// TestGaleraNodeLoss: the daemon, given every node of a Galera cluster
// (storetest.EnvGalera), keeps serving when the node it uses is SIGKILLed
// — reads and writes succeed again within failoverBound, /readyz names
// the node it moved to, no acknowledged write is lost or applied twice —
// and the killed node rejoins with every write. It kills node 1 of the
// cluster that scripts/galera.sh started, so it runs alone.
func TestGaleraNodeLoss(t *testing.T) {
	nodes, all := storetest.Galera(t)
	hostOf := func(url string) string {
		rest := url[strings.LastIndex(url, "@")+1:]
		return rest[:strings.Index(rest, "/")]
	}
	addr, logs := startInProcess(t, "-role", "api", "-db", all, "-verify-tickers=false")
	c := dial(t, addr)
	h := httpAddr(t, logs)
	ctx := context.Background()
	readyz := func() (int, string) {
		resp, err := http.Get("http://" + h + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, body := readyz(); code != http.StatusOK || body != "ready: database "+hostOf(nodes[0]) {
		t.Fatalf("/readyz = %d %q, want 200 naming node 1", code, body)
	}
	if _, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "reader@galera.example", Ticker: "AAPL"}); err != nil {
		t.Fatal(err)
	}

	// 4 writers register users, each retrying its request id until
	// answered, as a client does; 4 readers read. Every outcome has its
	// time, to measure the gap the node loss makes.
	type result struct {
		at    time.Time
		code  codes.Code
		write bool
	}
	var (
		mu      sync.Mutex
		writes  = map[string]string{} // e-mail → request id, acknowledged
		results []result
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	// send runs rpc within the failover bound and notes its outcome; it
	// reports false, without running rpc, once the run is stopping.
	send := func(write bool, rpc func(context.Context) error) (ok, sent bool) {
		select {
		case <-stop:
			return false, false
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, failoverBound)
		defer cancel()
		err := rpc(cctx)
		mu.Lock()
		results = append(results, result{time.Now(), status.Code(err), write})
		mu.Unlock()
		return err == nil, true
	}
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				email, id := fmt.Sprintf("w%d-%d@galera.example", g, i), uuid.NewString()
				for {
					ok, sent := send(true, func(ctx context.Context) error {
						_, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: email, Ticker: "AAPL"})
						return err
					})
					if !sent {
						return
					}
					if ok {
						mu.Lock()
						writes[email] = id
						mu.Unlock()
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
		wg.Go(func() {
			for {
				_, sent := send(false, func(ctx context.Context) error {
					_, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "reader@galera.example"})
					return err
				})
				if !sent {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(time.Second)
	storetest.GaleraNode(t, "kill", 1)
	killed := time.Now() // the script returns once the process is gone
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			storetest.GaleraNode(t, "start", 1)
		}
	})
	eventually2 := func(what string, f func() bool) time.Duration {
		t.Helper()
		for !f() {
			if time.Since(killed) > failoverBound {
				t.Fatalf("%s: not within %v of the node's loss", what, failoverBound)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Since(killed)
	}
	// served returns when reads (write false) or writes succeeded again.
	served := func(write bool) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range results {
				if r.write == write && r.code == codes.OK && r.at.After(killed) {
					return true
				}
			}
			return false
		}
	}
	eventually2("reads to succeed again", served(false))
	eventually2("writes to succeed again", served(true))
	var body string
	eventually2("/readyz to name node 2", func() bool {
		var code int
		code, body = readyz()
		return code == http.StatusOK && body == "ready: database "+hostOf(nodes[1])
	})
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	// The longest gap between successes of reads and of writes, and every
	// code seen.
	codesSeen := map[codes.Code]int{}
	var gap [2]time.Duration
	var last [2]time.Time
	for _, r := range results {
		codesSeen[r.code]++
		k := 0
		if r.write {
			k = 1
		}
		if r.code == codes.OK {
			if !last[k].IsZero() && r.at.Sub(last[k]) > gap[k] {
				gap[k] = r.at.Sub(last[k])
			}
			last[k] = r.at
		}
	}
	for code, n := range codesSeen {
		if code != codes.OK && code != codes.Unavailable && code != codes.Aborted {
			t.Errorf("%d requests answered %v, want only OK, UNAVAILABLE or ABORTED (retryable)", n, code)
		}
	}

	rejoin := storetest.GaleraNode(t, "start", 1)
	restarted = true
	// Every acknowledged write is on the rejoined node, once, with the
	// request record of its id (reads there wait for what it has to apply).
	check := storetest.OpenURL(t, nodes[0]+"?wsrep_sync_wait=1")
	_, r := check.Pools()
	for email, id := range writes {
		var n int
		if err := r.QueryRow(`SELECT COUNT(*) FROM users u JOIN requests q ON q.request_id = ? WHERE u.email = ?`, id, email).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s (request %s): %d rows with its record on the rejoined node, want 1", email, id, n)
		}
	}
	fmt.Printf("galera node loss: %d writes acknowledged, %d requests (codes %v) through a SIGKILL of node 1; longest gap between successes %v for reads, %v for writes; /readyz %q; node 1 Synced again %v after its start, all writes there\n",
		len(writes), len(results), codesSeen, gap[0].Round(time.Millisecond), gap[1].Round(time.Millisecond), body, rejoin.Round(time.Second))
}
