package store

import (
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/testkit"
)

// TestUserCacheOrder: what a read keeps is dropped by a forget that
// follows it, and not kept at all when a forget came between the start
// of the read and its keep (the read may have found the user as it was
// before the write); the TTL counts from the start of the read.
func TestUserCacheOrder(t *testing.T) {
	clock := testkit.NewClock(time.Unix(0, 0))
	c := newUserCache(8, time.Minute, clock.Now)
	look := func(want string) {
		t.Helper()
		got, _, ok := c.lookup("u@x.com")
		if want == "" && ok || want != "" && got != want {
			t.Fatalf("lookup: %q, %v; want %q", got, ok, want)
		}
	}

	_, start, _ := c.lookup("u@x.com")
	c.keep("u@x.com", "AAA", start)
	look("AAA")
	c.forget([]string{"u@x.com"})
	look("")

	_, start, _ = c.lookup("u@x.com")
	c.forget([]string{"other@x.com"}) // a write commits while the read runs
	c.keep("u@x.com", "AAA", start)
	look("")

	_, start, _ = c.lookup("u@x.com")
	clock.Advance(time.Second) // the read takes a second
	c.keep("u@x.com", "AAA", start)
	clock.Advance(time.Minute - time.Second - time.Nanosecond)
	look("AAA")
	clock.Advance(time.Nanosecond)
	look("")
}

// TestUserCacheOff: without a TTL nothing is kept and every lookup misses.
func TestUserCacheOff(t *testing.T) {
	c := newUserCache(DefaultUserCache, 0, time.Now)
	_, start, _ := c.lookup("u@x.com")
	c.keep("u@x.com", "AAA", start)
	if tk, _, ok := c.lookup("u@x.com"); ok {
		t.Fatalf("lookup: %q, kept without a TTL", tk)
	}
	if c.hits.Load() != 0 || c.misses.Load() != 2 {
		t.Errorf("%d hits, %d misses; want 0 and 2", c.hits.Load(), c.misses.Load())
	}
}
