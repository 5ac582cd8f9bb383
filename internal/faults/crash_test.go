package faults_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// The crash workload: each client owns a few e-mails (its operations on
// them are sequential, so their model is exact) and shares a few with all
// the others (where registrations, updates and deletes conflict). A long
// run (STOCKWATCH_FAULT_WRITES) repeats it on fresh e-mails every
// crashOpsPerClient operations of a client, so that each e-mail's history
// stays as short as in the default run and the check stays linear.
const (
	crashClients      = 16
	crashOpsPerClient = 40
	crashOwnEmails    = 3
	crashSharedEmails = 4
	crashSharedShare  = 0.25 // of each client's operations
	crashKills        = 3
	crashImpatient    = 2 // clients that give up after about 50ms
)

// envWrites names the variable that turns TestCrashDuringWrites into its
// long run: its clients keep going until that many operations have been
// acknowledged, instead of stopping after crashOpsPerClient each.
const envWrites = "STOCKWATCH_FAULT_WRITES"

// crashWrites returns the acknowledged operations STOCKWATCH_FAULT_WRITES
// asks for, or 0 when it is unset (the default run). It fails tb when the
// value is not a whole number of at least 100.
func crashWrites(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv(envWrites)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 {
		tb.Fatalf("%s=%q: want a whole number of at least 100", envWrites, s)
	}
	return n
}

// crashOp is one logical operation of a client and what became of it.
type crashOp struct {
	client, seq int
	kind        opKind
	email       string
	ticker      string // register and update; unique to the operation

	id        string        // the request id the client sent
	attempts  int           // RPCs the client made for it
	idChanged bool          // a retry carried another request id
	call, ret time.Duration // since the workload started
	res       result
	code      codes.Code // the final status
	msg       string     // its message
	resp      []byte     // the OK response, deterministically encoded
	user      *pb.User   // the OK response of a register or update
}

func (o *crashOp) String() string {
	s := fmt.Sprintf("c%02d#%02d %s %s", o.client, o.seq, o.kind, o.email)
	if o.ticker != "" {
		s += " " + o.ticker
	}
	return s
}

// crashPlan draws one client's operations from the seed, one at a time,
// so that a long run needs no fixed length.
type crashPlan struct {
	client, seq int
	r           *rand.Rand
}

func newCrashPlan(seed uint64, client int) *crashPlan {
	return &crashPlan{client: client, r: rand.New(rand.NewPCG(seed, uint64(100+client)))}
}

// next returns the client's next operation.
func (p *crashPlan) next() *crashOp {
	c, seq, r := p.client, p.seq, p.r
	p.seq++
	round := seq / crashOpsPerClient
	op := &crashOp{client: c, seq: seq}
	if r.Float64() < crashSharedShare {
		op.email = fmt.Sprintf("r%d.shared%d@crash.example", round, r.IntN(crashSharedEmails))
	} else {
		op.email = fmt.Sprintf("r%d.c%02d.own%d@crash.example", round, c, r.IntN(crashOwnEmails))
	}
	switch p := r.Float64(); {
	case p < 0.40:
		op.kind = opRegister
	case p < 0.75:
		op.kind = opUpdate
	default:
		op.kind = opDelete
	}
	if op.kind != opDelete {
		op.ticker = fmt.Sprintf("C%02dN%02d", c, seq)
	}
	return op
}

// attemptsKey carries a *crashOp to the interceptor that records the
// request id and the attempts of its RPCs.
type attemptsKey struct{}

func recordAttempts(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if op, ok := ctx.Value(attemptsKey{}).(*crashOp); ok {
		// The client's attempts run one after the other on the caller's
		// goroutine, so op needs no lock.
		var id string
		if r, ok := req.(interface{ GetRequestId() string }); ok {
			id = r.GetRequestId()
		}
		if op.attempts > 0 && id != op.id {
			op.idChanged = true
		}
		op.id = id
		op.attempts++
	}
	return err
}

// kill records one injected fault.
type kill struct {
	afterOps, inFlight int
	down, restart      time.Duration
}

// crashRun is how a crash workload runs: the seed of its choices, the
// daemon address its clients dial (several, comma-separated, for
// replicas), how many clients, how long it may take, and more, which
// tells a client whether to send another operation, given the operations
// acknowledged so far across all clients and its own count of operations.
type crashRun struct {
	seed    uint64
	addr    string
	clients int
	limit   time.Duration
	more    func(acked int64, seq int) bool
}

// crashWorkload is a crash workload under way.
type crashWorkload struct {
	crashRun
	ctx                       context.Context
	start                     time.Time
	started, completed, acked atomic.Int64
	plans                     [][]*crashOp  // each client's operations, in order
	done                      chan struct{} // closed when every client has stopped
}

// startCrashWorkload dials run.clients clients and sets each to work
// through its plan, until run.more says stop or run.limit has passed. It
// fails tb if a client cannot be dialled.
func startCrashWorkload(tb testing.TB, run crashRun) *crashWorkload {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), run.limit)
	tb.Cleanup(cancel)
	w := &crashWorkload{crashRun: run, ctx: ctx, start: time.Now(), plans: make([][]*crashOp, run.clients), done: make(chan struct{})}
	var workers sync.WaitGroup
	for c := range run.clients {
		cl, err := client.Dial(run.addr, crashClientOptions(run.seed, c))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { cl.Close() })
		think := rand.New(rand.NewPCG(run.seed, uint64(300+c)))
		plan := newCrashPlan(run.seed, c)
		workers.Go(func() {
			for ctx.Err() == nil && run.more(w.acked.Load(), plan.seq) {
				op := plan.next()
				w.plans[c] = append(w.plans[c], op)
				time.Sleep(time.Duration(think.IntN(4000)) * time.Microsecond)
				w.started.Add(1)
				op.call = time.Since(w.start)
				runCrashOp(ctx, cl, op)
				op.ret = time.Since(w.start)
				if op.res != resUnknown {
					w.acked.Add(1)
				}
				w.completed.Add(1)
			}
		})
	}
	go func() { workers.Wait(); close(w.done) }()
	return w
}

// crashClientOptions returns the options of client c: safe retries that
// outlast a daemon's restart, except for the crashImpatient first clients.
func crashClientOptions(seed uint64, c int) client.Options {
	opts := client.Options{
		Retries: 8,
		Timeout: 2 * time.Second,
		// The waits between the retries of one operation add up to
		// 4.5s on average, and to less than 0.4s about once in two
		// million operations: longer than the daemon is down (at
		// most 0.3s, plus a restart of tens of milliseconds).
		BackoffBase: 100 * time.Millisecond,
		BackoffMax:  2 * time.Second,
		Rand:        rand.New(rand.NewPCG(seed, uint64(200+c))).Float64,
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(recordAttempts)},
	}
	if c < crashImpatient {
		// These give up while the daemon is down, so that some
		// operations end unknown and the check must allow for both.
		opts.Retries, opts.BackoffBase, opts.BackoffMax = 2, 40*time.Millisecond, 40*time.Millisecond
	}
	return opts
}

// wait waits for the clients to stop and returns how long they worked. It
// fails tb, naming the seed, when faultErr (what went wrong injecting the
// faults meanwhile) is not nil, or when the workload ran out of time.
func (w *crashWorkload) wait(tb testing.TB, faultErr error) time.Duration {
	tb.Helper()
	<-w.done
	took := time.Since(w.start)
	if faultErr != nil {
		tb.Fatalf("seed %d: %v", w.seed, faultErr)
	}
	if w.ctx.Err() != nil {
		tb.Fatalf("seed %d: the workload did not finish within %v", w.seed, w.limit)
	}
	return took
}

// ops returns every client's operations, once the workload is over. It
// fails tb for each operation whose retries changed the request id, or
// that ended unanswered on a code no client retries.
func (w *crashWorkload) ops(tb testing.TB) []*crashOp {
	tb.Helper()
	var ops []*crashOp
	for _, p := range w.plans {
		ops = append(ops, p...)
	}
	for _, op := range ops {
		if op.idChanged {
			tb.Errorf("%v: the client changed the request id between retries", op)
		}
		if op.res == resUnknown && !client.Retryable(op.code) && op.code != codes.Canceled {
			tb.Errorf("%v: answered %v %q, want OK, ALREADY_EXISTS, NOT_FOUND or a retryable code", op, op.code, op.msg)
		}
	}
	return ops
}

// crashCheck is what checkCrashRun found.
type crashCheck struct {
	crashCounts
	modelCounts
	users             map[string]row    // the users rows checked
	records           map[string]record // the requests rows
	replayed, counted int               // requests sent again; replays the daemon counted
}

// checkCrashRun checks the database behind sqldb against ops: the
// requests rows with checkRecords, and the users rows (those matching
// usersWhere, if given) with checkModel. Then it restarts d, stopped,
// sends it every recorded request again, checks that each is replayed and
// not executed (d counts them all; no row changes), and stops d. who
// names d in a failure.
func checkCrashRun(t *testing.T, seed uint64, ops []*crashOp, sqldb *sql.DB, usersWhere string, d *daemon, who string) crashCheck {
	t.Helper()
	r := crashCheck{users: readUsers(t, sqldb, usersWhere), records: readRequests(t, sqldb, "")}
	r.crashCounts = checkRecords(t, ops, r.records)
	r.modelCounts = checkModel(t, seed, ops, r.users, r.records)

	if err := d.restart(); err != nil {
		t.Fatal(err)
	}
	r.replayed = replayAll(t, d.addr, ops, r.records)
	var err error
	r.counted, err = d.replays()
	if err != nil || r.counted != r.replayed {
		t.Errorf("%s counted %d replays (err %v) of the %d recorded requests sent again, want all", who, r.counted, err, r.replayed)
	}
	if err := d.stop(); err != nil {
		t.Error(err)
	}
	if diff := cmp.Diff(r.users, readUsers(t, sqldb, usersWhere), cmp.AllowUnexported(row{})); diff != "" {
		t.Errorf("replays changed users (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(r.records, readRequests(t, sqldb, ""), cmp.AllowUnexported(record{}, outcome{})); diff != "" {
		t.Errorf("replays changed requests (-before +after):\n%s", diff)
	}
	return r
}

// TestCrashDuringWrites: 16 clients with safe retries register, update and
// delete users through the daemon, on MariaDB and on a SQLite file, while
// the daemon is killed with SIGKILL three times and restarted on the same
// address and database. Then the database must be explained by the answers
// the clients saw: some real-time-consistent order of the operations
// replays to those answers and to the final rows; every acknowledged
// request is recorded exactly once; and sending any recorded request again
// replays its answer without executing it.
//
// By default the clients send 40 operations each (640 in all); with
// STOCKWATCH_FAULT_WRITES=n they keep going until n have been acknowledged
// (make faults: 10,000).
func TestCrashDuringWrites(t *testing.T) {
	writes := crashWrites(t)
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		crashDuringWrites(t, b, writes)
	})
}

// crashDuringWrites runs the scenario on a fresh database of backend b,
// until writes operations are acknowledged, or crashOpsPerClient per
// client when writes is 0.
func crashDuringWrites(t *testing.T, b storetest.Backend, writes int) {
	began := time.Now()
	seed := seed(t)
	t.Logf("seed %d (%s=%d replays the choices)", seed, envSeed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dbURL := storetest.URL(t, b)
	bin := buildDaemon(t)
	addr := fixedAddr(t, rng.IntN)
	d := newDaemon(t, bin, addr, "-role", "api", "-verify-tickers=false", "-db", dbURL)
	d.metrics = true
	if err := d.start(); err != nil {
		t.Fatal(err)
	}

	total := crashClients * crashOpsPerClient
	more := func(_ int64, seq int) bool { return seq < crashOpsPerClient }
	if writes > 0 {
		total = writes
		more = func(acked int64, _ int) bool { return acked < int64(writes) }
	}
	// Kill i comes once the clients have completed a number of operations
	// drawn from a window of the workload, so that every kill falls in the
	// middle of it however fast the machine is; then a few random
	// milliseconds more, so that it lands at any point of the requests in
	// flight.
	var thresholds []int
	for i := range crashKills {
		lo := total * (15 + 25*i) / 100
		thresholds = append(thresholds, lo+rng.IntN(total*15/100))
	}
	delays, downs := make([]time.Duration, crashKills), make([]time.Duration, crashKills)
	for i := range crashKills {
		delays[i] = time.Duration(rng.IntN(25)) * time.Millisecond
		downs[i] = time.Duration(rng.IntN(300)) * time.Millisecond
	}

	// A guard against a hang, far above the pace of a loaded 2-core
	// machine (the default run takes a few seconds, a long one a few
	// milliseconds per operation).
	limit := max(60*time.Second, time.Duration(total)*30*time.Millisecond)
	w := startCrashWorkload(t, crashRun{seed: seed, addr: addr, clients: crashClients, limit: limit, more: more})

	// Retries answered from a stored outcome: the request had committed
	// but its answer was lost with the daemon. Each incarnation's counter
	// is read just before it dies, so this is a lower bound.
	replayedInWorkload := 0
	scrape := func() {
		n, err := d.replays()
		if err != nil {
			t.Logf("reading the replay counter: %v", err)
		}
		replayedInWorkload += n
	}
	var kills []kill
	killErr := func() error {
		for i, th := range thresholds {
			for w.completed.Load() < int64(th) {
				select {
				case <-w.done:
					return fmt.Errorf("the workload ended after %d operations, before kill %d (due after %d)", w.completed.Load(), i+1, th)
				case <-time.After(2 * time.Millisecond):
				}
			}
			time.Sleep(delays[i])
			scrape()
			k := kill{afterOps: int(w.completed.Load()), inFlight: int(w.started.Load() - w.completed.Load()), down: downs[i]}
			d.kill()
			time.Sleep(downs[i])
			t0 := time.Now()
			if err := d.restart(); err != nil {
				return fmt.Errorf("restart after kill %d: %w", i+1, err)
			}
			k.restart = time.Since(t0)
			kills = append(kills, k)
			t.Logf("kill %d: after %d operations, %d in flight; down %v, restart took %v", i+1, k.afterOps, k.inFlight, k.down, k.restart)
		}
		return nil
	}()
	workload := w.wait(t, killErr)
	scrape()
	if err := d.stop(); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	ops := w.ops(t)

	db, err := store.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, sqldb := db.Pools()
	// (b) Sending a recorded request again, after a restart, replays its
	// outcome and executes nothing.
	r := checkCrashRun(t, seed, ops, sqldb, "", d, "the daemon")

	logs := d.logStats(t)
	for _, p := range logs.problems {
		t.Errorf("daemon logged: %s", p)
	}
	if n := logs.codes[codes.Internal.String()]; n > 0 {
		t.Errorf("the daemon answered INTERNAL %d times", n)
	}

	// lost: acknowledged but not recorded as answered. applied_twice:
	// requests sent again that the daemon executed instead of replaying.
	// unexplained: e-mails whose final row no order of their operations
	// explains (an effect lost or doubled).
	fmt.Printf("crash-during-writes: backend=%s seed=%d clients=%d attempted=%d acknowledged=%d (ok=%d already_exists=%d not_found=%d) unknown=%d (applied=%d) found_in_db=%d lost=%d applied_twice=%d unexplained=%d retried=%d replayed_after_kill=%d kills=%d replays_checked=%d (registers_since_deleted=%d) emails=%d (all_known=%d) users=%d workload=%v total=%v\n",
		b, seed, crashClients, len(ops), r.acked, r.ok, r.exists, r.notFound, r.unknown, r.applied, r.found, r.lost, max(0, r.replayed-r.counted), r.unexplained,
		r.retried, replayedInWorkload, len(kills), r.replayed, staleRegisters(ops),
		r.emails, r.allKnown, len(r.users), workload.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	t.Logf("server-side codes: %v; daemon warnings %d, errors %d", logs.codes, logs.warnings, len(logs.problems))
}

// crashCounts are the figures of a run's operations.
type crashCounts struct {
	acked, ok, exists, notFound int // acknowledged, and by answer
	unknown, applied            int // no answer, and of those recorded
	found, retried              int // recorded; retried at least once
	lost                        int // acknowledged, not recorded with that answer
}

// checkRecords checks that every acknowledged request is recorded once,
// with the answer its client saw, and that no request is recorded that no
// client sent. (An unknown one may or may not be recorded.)
func checkRecords(t *testing.T, ops []*crashOp, records map[string]record) crashCounts {
	t.Helper()
	byID := map[string]*crashOp{}
	for _, op := range ops {
		if byID[op.id] != nil {
			t.Fatalf("request id %s used by %v and %v", op.id, byID[op.id], op)
		}
		byID[op.id] = op
	}
	for id := range records {
		if byID[id] == nil {
			t.Errorf("requests holds %s, which no client sent", id)
		}
	}
	var c crashCounts
	for _, op := range ops {
		rec, ok := records[op.id]
		if ok {
			c.found++
		}
		if op.attempts > 1 {
			c.retried++
		}
		switch op.res {
		case resUnknown:
			c.unknown++
			if ok {
				c.applied++
			}
			continue
		case resOK:
			c.ok++
		case resAlreadyExists:
			c.exists++
		case resNotFound:
			c.notFound++
		}
		c.acked++
		if !ok {
			c.lost++
			t.Errorf("%v (request %s) was acknowledged %v but is not recorded", op, op.id, op.res)
			continue
		}
		if diff := cmp.Diff(op.outcome(), rec.outcome); diff != "" {
			c.lost++
			t.Errorf("%v (request %s): the recorded outcome differs from the answer (-answer +recorded):\n%s", op, op.id, diff)
		}
		if rec.method != methodOf(op.kind) {
			t.Errorf("%v (request %s) recorded as %s", op, op.id, rec.method)
		}
	}
	return c
}

// modelCounts are the figures of the model check, by e-mail.
type modelCounts struct {
	emails      int // checked
	allKnown    int // with only answered operations (their model is exact)
	unexplained int // whose final row no order of their operations explains
}

// checkModel checks each e-mail's history against its final row: some
// real-time-consistent order of its operations must replay to every
// answer and to the row, first with unknown operations free to have taken
// effect or not, then with them resolved by their records.
func checkModel(t *testing.T, seed uint64, ops []*crashOp, users map[string]row, records map[string]record) modelCounts {
	t.Helper()
	byEmail := map[string][]*crashOp{}
	for _, op := range ops {
		byEmail[op.email] = append(byEmail[op.email], op)
	}
	var m modelCounts
	for email := range users {
		if byEmail[email] == nil {
			m.unexplained++
			t.Errorf("users holds %s, which no client wrote", email)
		}
	}
	for _, email := range slices.Sorted(maps.Keys(byEmail)) {
		m.emails++
		hist, final := byEmail[email], users[email]
		free, resolved, known := crashEvents(t, hist, records)
		if known {
			m.allKnown++
		}
		if _, ok := linearize(free, final); !ok {
			m.unexplained++
			t.Errorf("seed %d: %s: no order of its operations explains the answers and the final row %v:\n%s", seed, email, final, history(hist))
			continue
		}
		if _, ok := linearize(resolved, final); !ok {
			m.unexplained++
			t.Errorf("seed %d: %s: with unknown operations resolved by their records, no order explains the final row %v:\n%s", seed, email, final, history(hist))
		}
	}
	return m
}

// staleRegisters counts the acknowledged registrations whose user an
// acknowledged delete removed afterwards: their replay must answer the
// first registration, neither ALREADY_EXISTS nor a new user.
func staleRegisters(ops []*crashOp) int {
	lastDelete := map[string]time.Duration{} // call time of each e-mail's last acknowledged delete
	for _, op := range ops {
		if op.kind == opDelete && op.res == resOK {
			lastDelete[op.email] = max(lastDelete[op.email], op.call)
		}
	}
	n := 0
	for _, r := range ops {
		if d, ok := lastDelete[r.email]; ok && r.kind == opRegister && r.res == resOK && d > r.ret {
			n++
		}
	}
	return n
}

// runCrashOp performs op with cl and records the answer.
func runCrashOp(ctx context.Context, cl *client.Client, op *crashOp) {
	ctx = context.WithValue(ctx, attemptsKey{}, op)
	var (
		resp proto.Message
		err  error
	)
	switch op.kind {
	case opRegister:
		op.user, err = cl.RegisterUser(ctx, op.email, op.ticker)
		resp = op.user
	case opUpdate:
		op.user, err = cl.UpdateUser(ctx, op.email, op.ticker)
		resp = op.user
	case opDelete:
		resp, err = cl.DeleteUser(ctx, op.email)
	}
	st := status.Convert(err)
	op.code, op.msg = st.Code(), st.Message()
	switch op.code {
	case codes.OK:
		op.res = resOK
		if op.resp, err = (proto.MarshalOptions{Deterministic: true}).Marshal(resp); err != nil {
			panic(err) // a message the client just decoded always encodes
		}
	case codes.AlreadyExists:
		op.res = resAlreadyExists
	case codes.NotFound:
		op.res = resNotFound
	default:
		op.res, op.user = resUnknown, nil
	}
}

// outcome is a request's result as the requests table keeps it.
type outcome struct {
	Kind, Message string
	Response      []byte
}

func (o *crashOp) outcome() outcome {
	switch o.res {
	case resAlreadyExists:
		return outcome{Kind: "already_exists", Message: o.msg}
	case resNotFound:
		return outcome{Kind: "not_found", Message: o.msg}
	}
	if len(o.resp) == 0 {
		return outcome{} // DeleteUserResponse encodes to nothing
	}
	return outcome{Response: o.resp}
}

// record is one row of requests.
type record struct {
	method  string
	outcome outcome
}

func methodOf(k opKind) string {
	return "/stockwatch.v1.StockService/" + [...]string{"RegisterUser", "UpdateUser", "DeleteUser"}[k]
}

// readUsers returns the users rows (those matching where, if given) by
// e-mail.
func readUsers(tb testing.TB, db *sql.DB, where string, args ...any) map[string]row {
	tb.Helper()
	rows, err := db.Query(`SELECT email, ticker, create_time, update_time FROM users `+where, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	users := map[string]row{}
	for rows.Next() {
		var email string
		r := row{present: true}
		if err := rows.Scan(&email, &r.ticker, &r.createUS, &r.updateUS); err != nil {
			tb.Fatal(err)
		}
		users[email] = r
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return users
}

// readRequests returns the requests rows (those matching where, if given)
// by request id.
func readRequests(tb testing.TB, db *sql.DB, where string, args ...any) map[string]record {
	tb.Helper()
	rows, err := db.Query(`SELECT request_id, method, outcome_kind, outcome_message, response FROM requests `+where, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	recs := map[string]record{}
	for rows.Next() {
		var (
			id string
			r  record
		)
		if err := rows.Scan(&id, &r.method, &r.outcome.Kind, &r.outcome.Message, &r.outcome.Response); err != nil {
			tb.Fatal(err)
		}
		if r.outcome.Kind != "" || len(r.outcome.Response) == 0 {
			r.outcome.Response = nil // NULL and empty are one answer (DeleteUserResponse is empty)
		}
		if _, dup := recs[id]; dup {
			tb.Errorf("request %s is recorded twice", id)
		}
		recs[id] = r
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return recs
}

// crashEvents turns one e-mail's history into the checker's events twice:
// free (an operation without an answer may or may not have taken effect,
// with any outcome) and resolved (it took effect exactly when it is
// recorded, with the recorded outcome). allKnown reports that every
// operation got an answer.
func crashEvents(tb testing.TB, hist []*crashOp, records map[string]record) (free, resolved []event, allKnown bool) {
	tb.Helper()
	allKnown = true
	for _, op := range hist {
		e := event{name: op.String(), kind: op.kind, ticker: op.ticker, call: op.call, ret: op.ret, res: op.res}
		if op.user != nil {
			e.createUS, e.updateUS, e.hasTimes = op.user.GetCreateTime().AsTime().UnixMicro(), op.user.GetUpdateTime().AsTime().UnixMicro(), true
		}
		if op.res != resUnknown {
			free = append(free, e)
			resolved = append(resolved, e)
			continue
		}
		allKnown = false
		e.ret, e.optional = never, true
		free = append(free, e)
		rec, ok := records[op.id]
		if !ok {
			continue // never took effect
		}
		e.optional = false
		switch rec.outcome.Kind {
		case "":
			e.res = resOK
			if op.kind != opDelete {
				u := new(pb.User)
				if err := proto.Unmarshal(rec.outcome.Response, u); err != nil {
					tb.Fatalf("%v: recorded response: %v", op, err)
				}
				e.createUS, e.updateUS, e.hasTimes = u.GetCreateTime().AsTime().UnixMicro(), u.GetUpdateTime().AsTime().UnixMicro(), true
			}
		case "already_exists":
			e.res = resAlreadyExists
		case "not_found":
			e.res = resNotFound
		default:
			tb.Fatalf("%v: recorded outcome kind %q", op, rec.outcome.Kind)
		}
		resolved = append(resolved, e)
	}
	return free, resolved, allKnown
}

// history formats one e-mail's operations in call order, for a failure.
func history(hist []*crashOp) string {
	hist = slices.Clone(hist)
	slices.SortStableFunc(hist, func(a, b *crashOp) int {
		switch {
		case a.call < b.call:
			return -1
		case a.call > b.call:
			return 1
		}
		return 0
	})
	var b strings.Builder
	for _, op := range hist {
		fmt.Fprintf(&b, "  %-40v [%v, %v] %v", op, op.call.Round(time.Microsecond), op.ret.Round(time.Microsecond), op.res)
		if op.user != nil {
			fmt.Fprintf(&b, " created %d updated %d", op.user.GetCreateTime().AsTime().UnixMicro(), op.user.GetUpdateTime().AsTime().UnixMicro())
		}
		fmt.Fprintf(&b, " (%d attempts, request %s)\n", op.attempts, op.id)
	}
	return b.String()
}

// replayAll sends every recorded request again, with its id and payload,
// and checks that the answer is the first one: the client's, or the
// recorded one where the client saw none. It returns how many it sent.
func replayAll(tb testing.TB, addr string, ops []*crashOp, records map[string]record) int {
	tb.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	stub := pb.NewStockServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+time.Duration(len(records))*10*time.Millisecond)
	defer cancel()

	var (
		mu       sync.Mutex
		problems []string
		sent     atomic.Int64
	)
	work := make(chan *crashOp)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for op := range work {
				want := records[op.id].outcome
				if op.res != resUnknown {
					want = op.outcome()
				}
				var (
					resp proto.Message
					err  error
				)
				switch op.kind {
				case opRegister:
					resp, err = stub.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: op.id, Email: op.email, Ticker: op.ticker})
				case opUpdate:
					resp, err = stub.UpdateUser(ctx, &pb.UpdateUserRequest{RequestId: op.id, Email: op.email, Ticker: op.ticker})
				case opDelete:
					resp, err = stub.DeleteUser(ctx, &pb.DeleteUserRequest{RequestId: op.id, Email: op.email})
				}
				sent.Add(1)
				var got outcome
				switch st := status.Convert(err); st.Code() {
				case codes.OK:
					b, merr := proto.MarshalOptions{Deterministic: true}.Marshal(resp)
					if merr != nil {
						panic(merr)
					}
					if len(b) > 0 {
						got.Response = b
					}
				case codes.AlreadyExists:
					got = outcome{Kind: "already_exists", Message: st.Message()}
				case codes.NotFound:
					got = outcome{Kind: "not_found", Message: st.Message()}
				default:
					got = outcome{Kind: "code " + st.Code().String(), Message: st.Message()}
				}
				if !bytes.Equal(got.Response, want.Response) || got.Kind != want.Kind || got.Message != want.Message {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("%v (request %s): replay answered %+v, first answer %+v", op, op.id, got, want))
					mu.Unlock()
				}
			}
		})
	}
	for _, op := range ops {
		if _, ok := records[op.id]; ok {
			work <- op
		}
	}
	close(work)
	wg.Wait()
	for _, p := range problems {
		tb.Error(p)
	}
	return int(sent.Load())
}
