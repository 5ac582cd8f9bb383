// Package once runs Stockwatch's mutating requests at most once per
// request id, and answers every retry of a request with its first answer.
// docs/at-most-once.md says why it works this way.
//
// The algorithm, for a request with an id (Runner.Run):
//
//  1. Join duplicates on this replica. Concurrent calls with the same id
//     and payload wait for the first one and share its outcome, instead
//     of each preparing and running a transaction bound to roll back. A
//     waiter whose first gave up (its own caller went away) runs again.
//  2. Look up the record only when a prepare step needs to be skipped. A
//     request with a Prepare step (work a replay must not repeat, such as
//     asking the quote source about a ticker) reads its id's record
//     first, and a live record is replayed without preparing. A request
//     without one reads nothing before its transaction.
//  3. Run effect and record in one transaction: the effect's writes, then
//     the record (id, method, fingerprint, time, outcome) as the last
//     statement, then commit. A first execution costs one statement on top
//     of its effect, and no update. A crash before the commit leaves
//     neither effect nor record.
//  4. On the record's duplicate key, roll back and replay: the id ran
//     before, or a duplicate on another replica committed while this one
//     ran (the insert waited on the key). The transaction, effect
//     included, rolls back, and the stored record is read (the one read
//     after a collision) and replayed. An effect that fails with an error
//     that is not an outcome reads the record too: a duplicate can fail
//     where its first succeeded (its row is taken now), and the stored
//     outcome wins.
//
// Stored: a success with its response, deterministically encoded, and the
// deterministic errors (KindAlreadyExists, KindNotFound) with their
// messages. Every answer, the first included, is decoded from those bytes,
// so a replay is byte-identical. Not stored: validation errors (they come
// before Run) and any other error (the transaction rolled back); a retry
// then runs anew.
//
// Expiry: a record created more than the TTL ago is forgotten. The read
// that finds it deletes it and the request runs as new (the store purges
// old records in bulk too).
//
// Reused id: the same id with another method or payload (the SHA-256
// fingerprint of the method and the normalised fields differs) is
// KindInvalid "request_id reused with a different request".
//
// A request without an id runs its effect in a transaction, with no
// record and no deduplication.
package once

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// Store is the storage the algorithm needs. *store.DB implements it.
type Store interface {
	// RecordTx runs fn in one write transaction and commits it when fn
	// returns nil; otherwise it rolls back and returns fn's error as is.
	// A deadlock or lock timeout runs fn again; RecordTx returns
	// KindAborted when that persisted, KindUnavailable when the database
	// cannot be reached.
	RecordTx(ctx context.Context, fn func(context.Context, Tx) error) error
	// Record returns the record of id, and false when there is none.
	Record(ctx context.Context, id string) (Record, bool, error)
	// DeleteRecord deletes the record of id if it was created at created,
	// and leaves one created since alone.
	DeleteRecord(ctx context.Context, id string, created time.Time) error
}

// Tx is a write transaction that can also record a request.
type Tx interface {
	stock.Tx
	// InsertRecord stores rec. It returns an error matching ErrDuplicate
	// when rec.ID has a record already; the transaction must then roll
	// back.
	InsertRecord(ctx context.Context, rec Record) error
}

// ErrDuplicate is what Tx.InsertRecord returns for an id that has a
// record already.
var ErrDuplicate = errors.New("request id already recorded")

// Record is what is stored of one request id.
type Record struct {
	ID          string
	Method      string // the full RPC name
	Fingerprint []byte // of the method and the normalised payload
	Created     time.Time
	Outcome     Outcome
}

// Outcome is the result of a request as stored for replay: a success with
// its encoded response, or a deterministic error.
type Outcome struct {
	Kind    stock.Kind // "" on success; KindAlreadyExists or KindNotFound otherwise
	Message string     // the error's client-safe message
	Body    []byte     // the encoded response on success
}

// Err returns the outcome as an error (nil on success).
func (o Outcome) Err() error {
	if o.Kind == "" {
		return nil
	}
	return &stock.Error{Kind: o.Kind, Message: o.Message}
}

// outcomeOf turns a deterministic error into an outcome to store. It
// reports false for any other error, which must roll the transaction back.
func outcomeOf(err error) (Outcome, bool) {
	switch k := stock.KindOf(err); k {
	case stock.KindAlreadyExists, stock.KindNotFound:
		return Outcome{Kind: k, Message: stock.MessageOf(err)}, true
	}
	return Outcome{}, false
}

// errReusedID is the client's mistake of sending one request id with two
// different requests.
var errReusedID = stock.Errorf(stock.KindInvalid, "request_id reused with a different request")

// Request is one validated mutating request.
type Request struct {
	ID      string   // the client's request id, validated and lower-case; "" for none
	Method  string   // the full RPC name, recorded with the id
	Payload []string // the normalised fields that identify the request
	// Prepare, if set, runs before the transaction, and only when no
	// record of ID is stored: work a replay must not repeat.
	Prepare func(ctx context.Context) error
	// Effect applies the request in tx and returns the response, or a
	// deterministic domain error to store, or another error to roll back.
	Effect func(ctx context.Context, tx stock.Tx) (proto.Message, error)
}

// Config tunes a Runner. Zero values take the defaults.
type Config struct {
	// TTL is how long a request id is remembered (default 24h).
	TTL time.Duration
	// Now stamps records (default time.Now). The store keeps
	// microseconds: a clock truncated to them keeps first answers and
	// replays equal.
	Now func() time.Time
	// OnReplay, when set, is called for every request answered from a
	// stored outcome or a joined duplicate's (for metrics).
	OnReplay func(method string)
}

// Runner runs requests at most once on a Store. It is safe for concurrent
// use.
type Runner struct {
	st       Store
	ttl      time.Duration
	now      func() time.Time
	onReplay func(method string)
	inflight singleflight.Group // step 1: duplicates on this replica
}

// New returns a Runner on st.
func New(st Store, cfg Config) *Runner {
	r := &Runner{st: st, ttl: cfg.TTL, now: cfg.Now, onReplay: cfg.OnReplay}
	if r.ttl <= 0 {
		r.ttl = 24 * time.Hour
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.onReplay == nil {
		r.onReplay = func(string) {}
	}
	return r
}

// Run executes req at most once (see the package comment) and decodes its
// response, first or replayed, into resp. It returns the stored error of
// a replayed deterministic failure, KindInvalid for a reused id, the
// error of Prepare or Effect as is, and the store's errors (KindAborted,
// KindUnavailable, context errors).
func (r *Runner) Run(ctx context.Context, req Request, resp proto.Message) error {
	fp := fingerprint(req.Method, req.Payload)
	if req.ID == "" {
		out, _, err := r.execute(ctx, req, fp)
		if err != nil {
			return err
		}
		return decode(out, resp)
	}
	type result struct {
		out      Outcome
		replayed bool
	}
	for {
		// The first runs in a goroutine of DoChan's; every caller, the
		// first included, stops waiting when its own context ends.
		var first atomic.Bool
		ch := r.inflight.DoChan(req.ID+"\x00"+string(fp), func() (any, error) {
			first.Store(true)
			out, replayed, err := r.execute(ctx, req, fp)
			return result{out, replayed}, err
		})
		var res singleflight.Result
		select {
		case <-ctx.Done():
			return ctx.Err()
		case res = <-ch:
		}
		if !first.Load() && (errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded)) {
			continue // the first's deadline ran out, not ours
		}
		if res.Err != nil {
			return res.Err
		}
		v := res.Val.(result)
		if v.replayed || !first.Load() {
			r.onReplay(req.Method)
		}
		return decode(v.out, resp)
	}
}

// key identifies one execution of a request.
type key struct {
	ID           string // "" for none
	Method       string
	Fingerprint  []byte
	Now          time.Time // stamps the record
	ExpireBefore time.Time // a record created before is forgotten
}

// execute is steps 2 to 4 for req: it returns the outcome and whether it
// was replayed from the store.
func (r *Runner) execute(ctx context.Context, req Request, fp []byte) (Outcome, bool, error) {
	now := r.now()
	k := key{ID: req.ID, Method: req.Method, Fingerprint: fp, Now: now, ExpireBefore: now.Add(-r.ttl)}
	if req.Prepare != nil {
		out, found, err := lookup(ctx, r.st, k)
		if err != nil {
			return Outcome{}, false, err
		}
		if found {
			return out, true, nil
		}
		if err := req.Prepare(ctx); err != nil {
			return Outcome{}, false, err
		}
	}
	return transact(ctx, r.st, k, func(ctx context.Context, tx stock.Tx) (Outcome, error) {
		msg, err := req.Effect(ctx, tx)
		if err != nil {
			if out, ok := outcomeOf(err); ok {
				return out, nil
			}
			return Outcome{}, err
		}
		body, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		return Outcome{Body: body}, err
	})
}

// maxRounds bounds how often transact runs again because the record it
// collided with vanished or expired in between.
const maxRounds = 5

// errGone means the record a transaction collided with was purged or had
// expired (and is deleted now): the request runs again.
var errGone = errors.New("request record gone; run again")

// transact is steps 3 and 4: it runs fn and then records k with fn's
// outcome in one transaction, and replays the stored outcome when k.ID has
// a record already. It returns the outcome and whether it was replayed.
func transact(ctx context.Context, st Store, k key, fn func(context.Context, stock.Tx) (Outcome, error)) (Outcome, bool, error) {
	for round := 0; ; round++ {
		out, replayed, err := transactOnce(ctx, st, k, fn)
		if !errors.Is(err, errGone) {
			return out, replayed, err
		}
		if round == maxRounds {
			return Outcome{}, false, fmt.Errorf("request %s: %w: %w", k.ID, stock.ErrAborted, err)
		}
	}
}

func transactOnce(ctx context.Context, st Store, k key, fn func(context.Context, stock.Tx) (Outcome, error)) (Outcome, bool, error) {
	var (
		out       Outcome
		effectErr error
	)
	err := st.RecordTx(ctx, func(ctx context.Context, tx Tx) error {
		if out, effectErr = fn(ctx, tx); effectErr != nil {
			return effectErr
		}
		if k.ID == "" {
			return nil
		}
		return tx.InsertRecord(ctx, Record{ID: k.ID, Method: k.Method, Fingerprint: k.Fingerprint, Created: k.Now, Outcome: out})
	})
	switch {
	case err == nil:
		return out, false, nil
	case k.ID == "":
	case errors.Is(err, ErrDuplicate):
		return replay(ctx, st, k)
	case effectErr != nil && ctx.Err() == nil:
		// A duplicate of a committed request can fail where the first
		// succeeded (its row is taken now): the stored outcome wins.
		if out, found, lerr := lookup(ctx, st, k); lerr == nil && found {
			return out, true, nil
		}
	}
	return Outcome{}, false, err
}

// replay returns the stored outcome of k.ID, errGone when its record is
// gone or expired (deleting it), and errReusedID when it records another
// method or payload.
func replay(ctx context.Context, st Store, k key) (Outcome, bool, error) {
	rec, found, err := st.Record(ctx, k.ID)
	switch {
	case err != nil:
		return Outcome{}, false, err
	case !found:
		return Outcome{}, false, errGone // purged after we collided
	case rec.Created.Before(k.ExpireBefore):
		if err := st.DeleteRecord(ctx, k.ID, rec.Created); err != nil {
			return Outcome{}, false, err
		}
		return Outcome{}, false, errGone
	case rec.Method != k.Method || !bytes.Equal(rec.Fingerprint, k.Fingerprint):
		return Outcome{}, false, errReusedID
	}
	return rec.Outcome, true, nil
}

// lookup is replay for a request that has not collided: no id, or a
// record that is gone or expired, means none.
func lookup(ctx context.Context, st Store, k key) (Outcome, bool, error) {
	if k.ID == "" {
		return Outcome{}, false, nil
	}
	out, found, err := replay(ctx, st, k)
	if errors.Is(err, errGone) {
		return Outcome{}, false, nil
	}
	return out, found, err
}

// decode turns a stored outcome into the response or the error it holds.
func decode(out Outcome, resp proto.Message) error {
	if err := out.Err(); err != nil {
		return err
	}
	return proto.Unmarshal(out.Body, resp)
}

// fingerprint digests the method and the normalised fields of a request;
// fields are length-prefixed so that no two field lists collide.
func fingerprint(method string, fields []string) []byte {
	h := sha256.New()
	for _, f := range append([]string{method}, fields...) {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}
