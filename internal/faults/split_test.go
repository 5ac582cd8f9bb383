package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

const (
	splitRounds = 50
	// splitHold is how long the executing replica waits inside its
	// transaction, after taking the request id's key, in every other
	// round: long enough that its twin surely arrives meanwhile and has to
	// wait on the key.
	splitHold = 30 * time.Millisecond
)

// replica is one API server with its own connection pool on the shared
// database, reached over TCP.
type replica struct {
	name    string
	db      *store.DB
	stub    pb.StockServiceClient
	replays atomic.Int64 // answers from a stored outcome
	hold    atomic.Int64 // a time.Duration: see holdStore
}

// holdStore is the real store with a pause at the start of every
// at-most-once transaction, before its effect and its request record.
type holdStore struct {
	*store.DB
	hold *atomic.Int64
}

func (s holdStore) RecordTx(ctx context.Context, fn func(context.Context, once.Tx) error) error {
	return s.DB.RecordTx(ctx, func(ctx context.Context, tx once.Tx) error {
		if d := time.Duration(s.hold.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return fn(ctx, tx)
	})
}

var _ api.Store = holdStore{}

// serveReplica serves the API on db over 127.0.0.1:0 with a clock skewed
// by skew: were a request executed by both replicas, their answers could
// not be equal.
func serveReplica(tb testing.TB, name string, db *store.DB, skew time.Duration) *replica {
	tb.Helper()
	r := &replica{name: name, db: db}
	srv := grpc.NewServer()
	api.New(holdStore{DB: db, hold: &r.hold}, api.Config{
		Now:      func() time.Time { return time.Now().Add(skew) },
		OnReplay: func(string) { r.replays.Add(1) },
	}).Register(srv)
	r.stub = pb.NewStockServiceClient(testkit.ServeGRPC(tb, srv))
	return r
}

// answer is what one replica answered.
type answer struct {
	code     codes.Code
	msg      string
	body     []byte // OK: the response, deterministically encoded
	latency  time.Duration
	attempts int
}

func (a answer) same(b answer) bool {
	return a.code == b.code && a.msg == b.msg && bytes.Equal(a.body, b.body)
}

// splitStep is one mutation of a round and the answer it must get.
type splitStep struct {
	name     string
	send     func(ctx context.Context, stub pb.StockServiceClient, id string) (proto.Message, error)
	wantCode codes.Code
	wantMsg  string
	want     func(resp []byte) row // the e-mail's row afterwards
}

// TestSplitDuplicates: the same request id sent at the same moment to two
// API replicas on one database — a client's retry that a load balancer
// routed to another replica while the first attempt was still running —
// takes effect once, and both replicas answer with the same bytes.
//
// MariaDB only: SQLite serves one process (docs/storage.md), so there is
// no second replica to send to.
func TestSplitDuplicates(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t, storetest.MySQL)
	splitDuplicates(t, "mysql", [2]string{url, url}, url, splitRounds)
}

// TestSplitDuplicatesGalera is TestSplitDuplicates with the two replicas on
// two nodes of a Galera cluster (storetest.EnvGalera), 100 rounds (500
// pairs): the twin on the other node conflicts at commit (certification
// failure, a deadlock to the store, which reruns its transaction) instead
// of waiting on a row lock, and must still replay the first answer.
func TestSplitDuplicatesGalera(t *testing.T) {
	nodes, _ := storetest.Galera(t)
	// The test's own reads are causal (wsrep_sync_wait): they see what the
	// other node committed before they began.
	splitDuplicates(t, "galera", [2]string{nodes[0], nodes[1]}, nodes[0]+"?wsrep_sync_wait=1", 100)
}

// splitDuplicates runs rounds of splitSteps against two replicas on urls
// and checks the database through checkURL.
func splitDuplicates(t *testing.T, backend string, urls [2]string, checkURL string, rounds int) {
	began := time.Now()
	seed := seed(t)
	t.Logf("seed %d (%s=%d replays the choices)", seed, envSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	// Both replicas start at once, as after a deploy: their migrations
	// meet on the migration lock.
	var (
		dbs   [2]*store.DB
		opens [2]time.Duration
		g     errgroup.Group
	)
	for i := range dbs {
		g.Go(func() (err error) {
			t0 := time.Now()
			dbs[i], err = store.Open(ctx, urls[i], nil)
			opens[i] = time.Since(t0)
			return err
		})
	}
	err := g.Wait()
	t.Logf("replicas started at once: store.Open took %v and %v", opens[0], opens[1])
	for _, db := range dbs {
		if db != nil {
			t.Cleanup(func() { db.Close() })
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	check := storetest.OpenURL(t, checkURL)
	reps := [2]*replica{serveReplica(t, "a", dbs[0], 0), serveReplica(t, "b", dbs[1], time.Second)}
	_, sqldb := check.Pools()

	var (
		pairs, identical, oneEffect, held, waited, retried int
		executedBy                                         = map[string]int{}
		byMethod                                           = map[string]int{}
	)
	for round := range rounds {
		email := fmt.Sprintf("split%02d@split.example", round)
		tk := func(s string) string { return fmt.Sprintf("R%02d%s", round, s) }
		var created int64
		user := func(resp []byte) row {
			u := new(pb.User)
			if err := proto.Unmarshal(resp, u); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			return row{present: true, ticker: u.GetTicker(), createUS: u.GetCreateTime().AsTime().UnixMicro(), updateUS: u.GetUpdateTime().AsTime().UnixMicro()}
		}
		steps := []splitStep{
			{name: "RegisterUser", wantCode: codes.OK,
				send: func(ctx context.Context, s pb.StockServiceClient, id string) (proto.Message, error) {
					return s.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: email, Ticker: tk("A")})
				},
				want: func(resp []byte) row {
					u := user(resp)
					created = u.createUS
					if u.ticker != tk("A") || u.createUS != u.updateUS {
						t.Errorf("round %d: register answered %v", round, u)
					}
					return u
				}},
			{name: "UpdateUser", wantCode: codes.OK,
				send: func(ctx context.Context, s pb.StockServiceClient, id string) (proto.Message, error) {
					return s.UpdateUser(ctx, &pb.UpdateUserRequest{RequestId: id, Email: email, Ticker: tk("B")})
				},
				want: func(resp []byte) row {
					u := user(resp)
					if u.ticker != tk("B") || u.createUS != created {
						t.Errorf("round %d: update answered %v, want %s created %d", round, u, tk("B"), created)
					}
					return u
				}},
			{name: "RegisterUser", wantCode: codes.AlreadyExists, wantMsg: fmt.Sprintf("user %s already exists", email),
				send: func(ctx context.Context, s pb.StockServiceClient, id string) (proto.Message, error) {
					return s.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: email, Ticker: tk("C")})
				},
				want: nil}, // unchanged
			{name: "DeleteUser", wantCode: codes.OK,
				send: func(ctx context.Context, s pb.StockServiceClient, id string) (proto.Message, error) {
					return s.DeleteUser(ctx, &pb.DeleteUserRequest{RequestId: id, Email: email})
				},
				want: func([]byte) row { return row{} }},
			{name: "UpdateUser", wantCode: codes.NotFound, wantMsg: fmt.Sprintf("user %s not found", email),
				send: func(ctx context.Context, s pb.StockServiceClient, id string) (proto.Message, error) {
					return s.UpdateUser(ctx, &pb.UpdateUserRequest{RequestId: id, Email: email, Ticker: tk("C")})
				},
				want: nil},
		}
		hold := round%2 == 0
		for _, r := range reps {
			if hold {
				r.hold.Store(int64(splitHold))
			} else {
				r.hold.Store(0)
			}
		}
		state := row{}
		for _, st := range steps {
			id := uuid.NewString()
			where := fmt.Sprintf("seed %d round %d %s (request %s, hold %v)", seed, round, st.name, id, hold)
			before := [2]int64{reps[0].replays.Load(), reps[1].replays.Load()}
			// One side gets a head start of up to a millisecond, so that
			// either may win.
			var lead [2]time.Duration
			lead[rng.IntN(2)] = time.Duration(rng.IntN(1000)) * time.Microsecond
			answers := sendBoth(ctx, reps, st.send, id, lead)
			pairs++
			byMethod[st.name]++

			a, b := answers[0], answers[1]
			retried += a.attempts - 1 + b.attempts - 1
			if a.same(b) {
				identical++
			} else {
				t.Errorf("%s: replica a answered %v %q %x, replica b %v %q %x", where, a.code, a.msg, a.body, b.code, b.msg, b.body)
			}
			if a.code != st.wantCode || a.msg != st.wantMsg {
				t.Errorf("%s: answered %v %q, want %v %q", where, a.code, a.msg, st.wantCode, st.wantMsg)
			}
			// One replica executed; the other replayed its outcome.
			ra, rb := reps[0].replays.Load()-before[0], reps[1].replays.Load()-before[1]
			switch {
			case ra == 0 && rb == 1:
				executedBy[reps[0].name]++
				oneEffect++
			case ra == 1 && rb == 0:
				executedBy[reps[1].name]++
				oneEffect++
			default:
				t.Errorf("%s: replays a=%d b=%d, want one of them 1 and the other 0", where, ra, rb)
			}
			if hold {
				held++
				if min(a.latency, b.latency) >= splitHold/2 {
					waited++ // the replaying twin waited for the executing one
				}
			}
			if rec, ok := readRequests(t, sqldb, "WHERE request_id = ?", id)[id]; !ok {
				t.Errorf("%s: not recorded", where)
			} else if got := answerOf(rec); !got.same(a) {
				t.Errorf("%s: recorded %v %q %x, answered %v %q %x", where, got.code, got.msg, got.body, a.code, a.msg, a.body)
			}
			if st.want != nil && a.code == st.wantCode {
				state = st.want(a.body)
			}
			if got := readUsers(t, sqldb, "WHERE email = ?", email)[email]; got != state {
				t.Errorf("%s: row %v, want %v", where, got, state)
			}
		}
	}
	for _, r := range reps {
		r.hold.Store(0)
	}
	if n := storetest.Count(t, check, "requests", ""); n != pairs {
		t.Errorf("requests holds %d records, want %d", n, pairs)
	}
	fmt.Printf("split-duplicates: seed=%d backend=%s replicas=2 rounds=%d pairs=%d (register=%d update=%d delete=%d) one_effect=%d identical_answers=%d executed_by=a:%d/b:%d held=%d (twin_waited=%d) retries=%d duration=%v\n",
		seed, backend, rounds, pairs, byMethod["RegisterUser"], byMethod["UpdateUser"], byMethod["DeleteUser"], oneEffect, identical,
		executedBy["a"], executedBy["b"], held, waited, retried, time.Since(began).Round(time.Millisecond))
}

// sendBoth sends one request to both replicas at the same moment (after
// lead[i] for replica i), retrying ABORTED and UNAVAILABLE with the same
// id as a client would.
func sendBoth(ctx context.Context, reps [2]*replica, send func(context.Context, pb.StockServiceClient, string) (proto.Message, error), id string, lead [2]time.Duration) [2]answer {
	var answers [2]answer
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, r := range reps {
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-start
			time.Sleep(lead[i])
			t0 := time.Now()
			a := &answers[i]
			for a.attempts = 1; ; a.attempts++ {
				resp, err := send(ctx, r.stub, id)
				st := status.Convert(err)
				a.code, a.msg = st.Code(), st.Message()
				if err == nil {
					b, merr := proto.MarshalOptions{Deterministic: true}.Marshal(resp)
					if merr != nil {
						panic(merr)
					}
					a.body, a.msg = b, ""
				}
				if (a.code != codes.Aborted && a.code != codes.Unavailable) || a.attempts == 5 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			a.latency = time.Since(t0)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	return answers
}

// answerOf is the answer a record replays.
func answerOf(r record) answer {
	switch r.outcome.Kind {
	case "":
		return answer{code: codes.OK, body: r.outcome.Response}
	case "already_exists":
		return answer{code: codes.AlreadyExists, msg: r.outcome.Message}
	case "not_found":
		return answer{code: codes.NotFound, msg: r.outcome.Message}
	}
	return answer{code: codes.Unknown, msg: "recorded kind " + r.outcome.Kind}
}
