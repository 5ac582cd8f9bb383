package store

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultUserCache is how many users' tickers a DB with WithUserCache
// keeps: about 400 bytes each for the longest e-mails (254 bytes, its
// ticker, the list's and the map's bookkeeping), 26 MB in all.
const DefaultUserCache = 1 << 16

// WithUserCache makes LatestPrice and AveragePrice keep, for up to ttl,
// which ticker each user follows, so that a price read looks up only its
// ticker's row (one primary-key lookup instead of two). The prices
// themselves are always read from the database. GetUser keeps what it
// reads too (and drops a user it does not find), so a price read that
// follows a user's read through the same DB is for the ticker that read
// returned.
//
// Freshness: a user created, changed or deleted through this DB is seen by
// every read that starts after the write's commit: while a transaction
// that writes users runs, nothing is kept of them (nor of the users that
// share their stripe, see userCache), and the users it writes are
// forgotten before its first statement and again once it has ended. The
// one exception is a commit whose outcome this DB did not learn (the
// connection lost as it was sent): if the server applied it, reads here
// may lag by up to ttl on it. A change made through another DB (another
// replica) shows here within ttl: until then a price read may answer for
// the user's previous ticker, or for a user deleted there. ttl 0 keeps
// nothing: every read looks the user up.
func WithUserCache(ttl time.Duration) Option { return withUserCache(ttl, time.Now) }

func withUserCache(ttl time.Duration, now func() time.Time) Option {
	return func(db *DB) { db.users = newUserCache(DefaultUserCache, ttl, now) }
}

// UserCacheStats returns how many price reads found the user's ticker in
// memory (hits) and how many looked the user up (misses), for metrics. It
// cannot fail.
func (db *DB) UserCacheStats() (hits, misses uint64) {
	return db.users.hits.Load(), db.users.misses.Load()
}

// userCache keeps which ticker each user follows, as read at a time, the
// least recently used going first.
//
// A transaction that writes a user calls write before its statement, and
// done once it has ended. A read keeps what it found (keep) only if no
// transaction writing a user of its stripe is running and none began or
// ended since the read began (lookup, start): a read whose snapshot
// predates a write's commit began before that write's done, so either its
// keep comes first and done removes it, or it comes after and finds the
// count moved. The users are spread over userStripes stripes by a hash of
// the e-mail, each with its own count: a write spoils the keeps of the
// reads in flight of its stripe only, and a spoilt keep costs only a
// lookup next time.
type userCache struct {
	rows *lru.Cache[string, userTicker] // nil: keeps nothing
	ttl  time.Duration
	now  func() time.Time
	seed maphash.Seed

	mu      sync.Mutex // orders keeps against writes
	stripes []userStripe

	hits, misses atomic.Uint64
}

// userStripes is how many stripes the users are spread over.
const userStripes = 256

// userStripe counts the writes of the users of one stripe.
type userStripe struct {
	forgets atomic.Uint64 // writes begun and ended so far; moves under mu
	writing int           // writes begun and not ended; under mu
}

// stripe returns email's stripe.
func (c *userCache) stripe(email string) *userStripe {
	return &c.stripes[maphash.String(c.seed, email)%uint64(len(c.stripes))]
}

// userTicker is a user's ticker and when the read that found it began.
type userTicker struct {
	ticker string
	read   time.Time
}

func newUserCache(size int, ttl time.Duration, now func() time.Time) *userCache {
	c := &userCache{ttl: ttl, now: now, seed: maphash.MakeSeed(), stripes: make([]userStripe, userStripes)}
	if size > 0 && ttl > 0 {
		c.rows, _ = lru.New[string, userTicker](size) // errs only for size <= 0
	}
	return c
}

// readStart is where a read that may keep what it finds began.
type readStart struct {
	forgets uint64
	at      time.Time
}

// start returns the start of a read of the user email, to pass to keep
// after it.
func (c *userCache) start(email string) readStart {
	if c.rows == nil {
		return readStart{}
	}
	return readStart{forgets: c.stripe(email).forgets.Load(), at: c.now()}
}

// lookup returns the ticker of email if it is kept and younger than the
// TTL, and otherwise false and the start to pass to keep after reading it.
func (c *userCache) lookup(email string) (string, readStart, bool) {
	if c.rows == nil {
		c.misses.Add(1)
		return "", readStart{}, false
	}
	start := c.start(email)
	if u, ok := c.rows.Get(email); ok && start.at.Sub(u.read) < c.ttl {
		c.hits.Add(1)
		return u.ticker, start, true
	}
	c.misses.Add(1)
	return "", start, false
}

// keep remembers that email follows ticker, as read by a read that began
// at start, unless a write of a user of its stripe may have come between;
// then it drops what is kept of email instead, which may be older still.
func (c *userCache) keep(email, ticker string, start readStart) {
	if c.rows == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stripe(email); st.writing == 0 && st.forgets.Load() == start.forgets {
		c.rows.Add(email, userTicker{ticker: ticker, read: start.at})
	} else {
		c.rows.Remove(email)
	}
}

// write forgets email, which a transaction is about to write, and keeps
// nothing of its stripe until the transaction calls done.
func (c *userCache) write(email string) {
	if c.rows == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stripe(email)
	st.writing++
	st.forgets.Add(1)
	c.rows.Remove(email)
}

// done forgets emails, each passed to write by a transaction that has now
// ended (committed, rolled back, or with its outcome unknown).
func (c *userCache) done(emails []string) {
	if c.rows == nil || len(emails) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range emails {
		st := c.stripe(e)
		st.writing--
		st.forgets.Add(1)
		c.rows.Remove(e)
	}
}

// drop forgets email, which a read did not find. A read in flight may
// keep it again: that is a deletion made through another DB, which the
// TTL bounds.
func (c *userCache) drop(email string) {
	if c.rows != nil {
		c.rows.Remove(email)
	}
}
