package faults_test

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// The model of one e-mail: absent, or present with a ticker and the
// times the database keeps. A history of operations on one e-mail is
// correct when some order of them — consistent with real time, each
// operation taking effect once between its call and its answer — replays
// on this model to the answers the clients saw and to the row the
// database holds at the end. The e-mails are independent (every operation
// touches one), so each is checked on its own.

type opKind int

const (
	opRegister opKind = iota
	opUpdate
	opDelete
)

func (k opKind) String() string { return [...]string{"register", "update", "delete"}[k] }

// result is what an operation answered: a deterministic outcome, or
// unknown when the client gave up on a retryable error.
type result int

const (
	resOK result = iota
	resAlreadyExists
	resNotFound
	resUnknown
)

func (r result) String() string {
	return [...]string{"OK", "ALREADY_EXISTS", "NOT_FOUND", "unknown"}[r]
}

// noTime marks a time the model does not know (the effect of an operation
// whose answer was lost).
const noTime = -1

// row is the model's state of one e-mail, or a users row.
type row struct {
	present            bool
	ticker             string
	createUS, updateUS int64 // Unix microseconds, or noTime
}

func (r row) String() string {
	if !r.present {
		return "absent"
	}
	return fmt.Sprintf("%s (created %d, updated %d)", r.ticker, r.createUS, r.updateUS)
}

// never is the answer time of an operation whose effect may come at any
// moment after its call: its client never saw an answer.
const never = time.Duration(math.MaxInt64)

// event is one operation as the checker sees it.
type event struct {
	name      string // for messages
	kind      opKind
	ticker    string        // register and update
	call, ret time.Duration // since the start of the run; ret may be never
	optional  bool          // may not have taken effect at all
	res       result        // resUnknown: any outcome
	createUS  int64         // of the returned user, for an OK register or update
	updateUS  int64
	hasTimes  bool
}

// apply runs e on state s. It reports false when e's known result
// contradicts s.
func apply(s row, e event) (row, bool) {
	want := e.res
	got := resOK
	switch {
	case e.kind == opRegister && s.present:
		got = resAlreadyExists
	case e.kind != opRegister && !s.present:
		got = resNotFound
	}
	if want != resUnknown && want != got {
		return s, false
	}
	if got != resOK {
		return s, true
	}
	var next row
	switch e.kind {
	case opRegister:
		next = row{present: true, ticker: e.ticker, createUS: noTime, updateUS: noTime}
		if want == resOK && e.hasTimes {
			next.createUS, next.updateUS = e.createUS, e.updateUS
		}
	case opUpdate:
		next = row{present: true, ticker: e.ticker, createUS: s.createUS, updateUS: noTime}
		if want == resOK && e.hasTimes {
			// The answer carries the row's creation time: it must be the
			// one of the registration it follows.
			if s.createUS != noTime && s.createUS != e.createUS {
				return s, false
			}
			next.createUS, next.updateUS = e.createUS, e.updateUS
		}
	}
	return next, true
}

// matches reports whether the model's state s can be the database row r.
func (s row) matches(r row) bool {
	if s.present != r.present {
		return false
	}
	if !s.present {
		return true
	}
	return s.ticker == r.ticker &&
		(s.createUS == noTime || s.createUS == r.createUS) &&
		(s.updateUS == noTime || s.updateUS == r.updateUS)
}

// linearize searches for an order of events that explains the answers and
// ends in final, starting from an absent e-mail. It returns the order
// found (by event name), or ok false. An event may come next when it was
// called before every pending event answered (Wing & Gong); an optional
// event may also be dropped. Visited (done set, state) pairs are
// remembered, which keeps the search small: only events that overlap in
// time can be reordered.
func linearize(events []event, final row) (order []string, ok bool) {
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b event) int { return cmp.Compare(a.call, b.call) })
	done := make([]bool, len(evs))
	seen := map[string]bool{}
	var path []string
	var search func(s row, left int) bool
	search = func(s row, left int) bool {
		if left == 0 {
			return s.matches(final)
		}
		var key strings.Builder
		for _, d := range done {
			if d {
				key.WriteByte('1')
			} else {
				key.WriteByte('0')
			}
		}
		fmt.Fprintf(&key, "|%v|%s|%d|%d", s.present, s.ticker, s.createUS, s.updateUS)
		if seen[key.String()] {
			return false
		}
		seen[key.String()] = true
		first := never
		for i, e := range evs {
			if !done[i] && e.ret < first {
				first = e.ret
			}
		}
		for i, e := range evs {
			if done[i] {
				continue
			}
			if e.call > first {
				break // sorted by call: no later event can come next either
			}
			done[i] = true
			if e.optional {
				path = append(path, e.name+" (no effect)")
				if search(s, left-1) {
					return true
				}
				path = path[:len(path)-1]
			}
			if next, ok := apply(s, e); ok {
				path = append(path, e.name)
				if search(next, left-1) {
					return true
				}
				path = path[:len(path)-1]
			}
			done[i] = false
		}
		return false
	}
	if !search(row{}, len(evs)) {
		return nil, false
	}
	return path, true
}

// TestLinearize checks the checker: it accepts histories a correct server
// produces and rejects those of a server that applies a request twice or
// loses an acknowledged one.
func TestLinearize(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	reg := func(name, ticker string, call, ret int, res result, ct int64) event {
		return event{name: name, kind: opRegister, ticker: ticker, call: ms(call), ret: ms(ret), res: res, createUS: ct, updateUS: ct, hasTimes: res == resOK}
	}
	upd := func(name, ticker string, call, ret int, res result, ct, ut int64) event {
		return event{name: name, kind: opUpdate, ticker: ticker, call: ms(call), ret: ms(ret), res: res, createUS: ct, updateUS: ut, hasTimes: res == resOK}
	}
	del := func(name string, call, ret int, res result) event {
		return event{name: name, kind: opDelete, call: ms(call), ret: ms(ret), res: res}
	}
	unknown := func(e event) event {
		e.optional, e.res, e.ret, e.hasTimes = true, resUnknown, never, false
		return e
	}
	present := func(ticker string, ct, ut int64) row {
		return row{present: true, ticker: ticker, createUS: ct, updateUS: ut}
	}
	tests := []struct {
		name   string
		events []event
		final  row
		want   bool
	}{
		{"Sequential", []event{reg("r", "A", 0, 1, resOK, 10), upd("u", "B", 2, 3, resOK, 10, 20), del("d", 4, 5, resOK)}, row{}, true},
		{"SequentialFinalRow", []event{reg("r", "A", 0, 1, resOK, 10), upd("u", "B", 2, 3, resOK, 10, 20)}, present("B", 10, 20), true},
		{"LostAcknowledgedUpdate", []event{reg("r", "A", 0, 1, resOK, 10), upd("u", "B", 2, 3, resOK, 10, 20)}, present("A", 10, 10), false},
		// A register executed a second time after a delete brings the
		// user back: the final row cannot be explained.
		{"RegisterAppliedTwice", []event{reg("r", "A", 0, 1, resOK, 10), del("d", 2, 3, resOK)}, present("A", 10, 30), false},
		{"UpdateAppliedTwice", []event{reg("r", "A", 0, 1, resOK, 10), upd("u", "B", 2, 3, resOK, 10, 20)}, present("B", 10, 25), false},
		{"DeleteSeenAsNotFound", []event{reg("r", "A", 0, 1, resOK, 10), del("d", 2, 3, resNotFound)}, present("A", 10, 10), false},
		{"ConcurrentRegisters", []event{reg("r1", "A", 0, 5, resAlreadyExists, 0), reg("r2", "B", 1, 4, resOK, 11)}, present("B", 11, 11), true},
		{"ConcurrentRegistersBothOK", []event{reg("r1", "A", 0, 5, resOK, 12), reg("r2", "B", 1, 4, resOK, 11)}, present("B", 11, 11), false},
		{"RealTimeOrder", []event{del("d", 0, 1, resOK), reg("r", "A", 2, 3, resOK, 10)}, present("A", 10, 10), false},
		{"UnknownTookEffect", []event{reg("r", "A", 0, 1, resOK, 10), unknown(del("d", 2, 3, 0))}, row{}, true},
		{"UnknownDidNot", []event{reg("r", "A", 0, 1, resOK, 10), unknown(del("d", 2, 3, 0))}, present("A", 10, 10), true},
		{"UnknownLateEffect", []event{reg("r", "A", 0, 1, resOK, 10), unknown(del("d", 2, 3, 0)), upd("u", "B", 4, 5, resOK, 10, 20)}, row{}, true},
		{"UnknownRegisterNewTimes", []event{unknown(reg("r", "A", 0, 1, 0, 0)), upd("u", "B", 4, 5, resOK, 10, 20)}, present("B", 10, 20), true},
		{"UnknownCannotExplain", []event{reg("r", "A", 0, 1, resOK, 10), unknown(upd("u", "B", 2, 3, 0, 0, 0))}, present("C", 10, 10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			order, ok := linearize(tt.events, tt.final)
			if ok != tt.want {
				t.Errorf("linearize = %v (order %v), want %v", ok, order, tt.want)
			}
		})
	}
}
