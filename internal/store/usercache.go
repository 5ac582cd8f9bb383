package store

import "time"

// DefaultUserCache is how many users' tickers a DB with WithUserCache
// keeps: about 400 bytes each for the longest e-mails (254 bytes, its
// ticker, the list's and the map's bookkeeping), 26 MB in all.
const DefaultUserCache = 1 << 16

// WithUserCache makes LatestPrice and AveragePrice keep, for up to ttl,
// which ticker each user follows, so that a price read looks up only its
// ticker's row (one primary-key lookup instead of two, none when the row
// is kept too: WithPriceCache). GetUser keeps what it reads too (and
// drops a user it does not find), so a price read that follows a user's
// read through the same DB is for the ticker that read returned.
//
// Freshness: a user created, changed or deleted through this DB is seen by
// every read that starts after the write's commit: while a transaction
// that writes users runs, nothing is kept of them (nor of the users that
// share their stripe, see kept), and the users it writes are forgotten
// before its first statement and again once it has ended. The one
// exception is a commit whose outcome this DB did not learn (the
// connection lost as it was sent): if the server applied it, reads here
// may lag by up to ttl on it. A change made through another DB (another
// replica) shows here within ttl: until then a price read may answer for
// the user's previous ticker, or for a user deleted there. ttl 0 keeps
// nothing: every read looks the user up.
func WithUserCache(ttl time.Duration) Option { return withUserCache(ttl, time.Now) }

func withUserCache(ttl time.Duration, now func() time.Time) Option {
	return func(db *DB) { db.users = newKept[string](DefaultUserCache, ttl, now) }
}

// UserCacheStats returns how many price reads found the user's ticker in
// memory (hits) and how many looked the user up (misses), for metrics. It
// cannot fail.
func (db *DB) UserCacheStats() (hits, misses uint64) {
	return db.users.hits.Load(), db.users.misses.Load()
}
