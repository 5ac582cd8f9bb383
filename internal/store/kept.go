package store

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// kept keeps values read from the database by key (a user's ticker by
// e-mail, a ticker's row of ticker_prices by ticker), as read at a time,
// the least recently used going first, for reads that may answer from
// memory. A value is served for at most ttl after the read that found it
// began, and only while the generation it was read in is current
// (advance: a change made elsewhere was seen).
//
// A transaction that writes a key calls write before its first statement
// that may change it, and done once it has ended. A read keeps what it
// found (keep) only if no transaction writing a key of its stripe is
// running and none began or ended since the read began (lookup, start): a
// read whose snapshot predates a write's commit began before that write's
// done, so either its keep comes first and done removes it, or it comes
// after and finds the count moved. The keys are spread over keptStripes
// stripes by a hash, each with its own count: a write spoils the keeps of
// the reads in flight of its stripe only, and a spoilt keep costs only a
// read next time.
type kept[V any] struct {
	rows *lru.Cache[string, keptValue[V]] // nil: keeps nothing
	ttl  time.Duration
	now  func() time.Time
	seed maphash.Seed
	gen  atomic.Uint64 // moved by advance

	mu      sync.Mutex // orders keeps against writes
	stripes []keptStripe

	hits, misses atomic.Uint64
}

// keptStripes is how many stripes the keys are spread over.
const keptStripes = 256

// keptStripe counts the writes of the keys of one stripe.
type keptStripe struct {
	forgets atomic.Uint64 // writes begun and ended so far; moves under mu
	writing int           // writes begun and not ended; under mu
}

// keptValue is a value, when the read that found it began, and the
// generation it began in.
type keptValue[V any] struct {
	v    V
	read time.Time
	gen  uint64
}

// newKept returns a kept of up to size values, each served for up to ttl;
// with size or ttl 0 it keeps nothing.
func newKept[V any](size int, ttl time.Duration, now func() time.Time) *kept[V] {
	c := &kept[V]{ttl: ttl, now: now, seed: maphash.MakeSeed(), stripes: make([]keptStripe, keptStripes)}
	if size > 0 && ttl > 0 {
		c.rows, _ = lru.New[string, keptValue[V]](size) // errs only for size <= 0
	}
	return c
}

// stripe returns key's stripe.
func (c *kept[V]) stripe(key string) *keptStripe {
	return &c.stripes[maphash.String(c.seed, key)%uint64(len(c.stripes))]
}

// readStart is where a read that may keep what it finds began.
type readStart struct {
	forgets uint64
	gen     uint64
	at      time.Time
}

// start returns the start of a read of key, to pass to keep after it.
func (c *kept[V]) start(key string) readStart {
	if c.rows == nil {
		return readStart{}
	}
	return readStart{forgets: c.stripe(key).forgets.Load(), gen: c.gen.Load(), at: c.now()}
}

// lookup returns the value of key if it is kept, of the current
// generation and younger than the TTL; otherwise false and the start to
// pass to keep after reading it.
func (c *kept[V]) lookup(key string) (V, readStart, bool) {
	if c.rows == nil {
		c.misses.Add(1)
		var zero V
		return zero, readStart{}, false
	}
	start := c.start(key)
	if k, ok := c.rows.Get(key); ok && k.gen == start.gen && start.at.Sub(k.read) < c.ttl {
		c.hits.Add(1)
		return k.v, start, true
	}
	c.misses.Add(1)
	var zero V
	return zero, start, false
}

// keep remembers v as the value of key, as found by a read that began at
// start, unless a write of a key of its stripe may have come between; then
// it drops what is kept of key instead, which may be older still. A read
// that began before an advance keeps nothing, and leaves what a read
// begun since has kept.
func (c *kept[V]) keep(key string, v V, start readStart) {
	if c.rows == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st := c.stripe(key); {
	case st.writing > 0 || st.forgets.Load() != start.forgets:
		c.rows.Remove(key)
	case c.gen.Load() == start.gen:
		c.rows.Add(key, keptValue[V]{v: v, read: start.at, gen: start.gen})
	}
}

// write forgets key, which a transaction is about to write, and keeps
// nothing of its stripe until the transaction calls done.
func (c *kept[V]) write(key string) {
	if c.rows == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stripe(key)
	st.writing++
	st.forgets.Add(1)
	c.rows.Remove(key)
}

// done forgets keys, each passed to write by a transaction that has now
// ended (committed, rolled back, or with its outcome unknown).
func (c *kept[V]) done(keys []string) {
	if c.rows == nil || len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		st := c.stripe(k)
		st.writing--
		st.forgets.Add(1)
		c.rows.Remove(k)
	}
}

// drop forgets key, which a read did not find. A read in flight may keep
// it again: that is a deletion made through another DB, which the TTL
// (or advance) bounds.
func (c *kept[V]) drop(key string) {
	if c.rows != nil {
		c.rows.Remove(key)
	}
}

// advance makes everything kept so far, and everything that reads begun
// so far would keep, stale: a change made elsewhere was seen.
func (c *kept[V]) advance() {
	if c.rows != nil {
		c.gen.Add(1)
	}
}
