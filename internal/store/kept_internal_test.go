package store

import (
	"cmp"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

// TestKeptOrder: what a read keeps is dropped when a transaction
// writes the user; nothing is kept while a transaction writing a user of
// the same stripe runs, nor by a read that began before one began or ended
// (it may have found the user as it was before the write), and such a
// read drops what was kept instead; a write in another stripe does not
// matter; the TTL counts from the start of the read; advance makes stale
// what was kept and what reads in flight would keep.
func TestKeptOrder(t *testing.T) {
	clock := testkit.NewClock(time.Unix(0, 0))
	c := newKept[string](8, time.Minute, clock.Now)
	look := func(when, want string) {
		t.Helper()
		got, _, ok := c.lookup("u@x.com")
		if want == "" && ok || want != "" && got != want {
			t.Fatalf("%s: lookup %q, %v; want %q", when, got, ok, want)
		}
	}
	read := func(ticker string) func() {
		_, start, _ := c.lookup("u@x.com")
		return func() { c.keep("u@x.com", ticker, start) }
	}
	// Two other users: one in u@x.com's stripe, one in another.
	var same, apart string
	for i := 0; same == "" || apart == ""; i++ {
		e := fmt.Sprintf("other%d@x.com", i)
		if c.stripe(e) == c.stripe("u@x.com") {
			same = cmp.Or(same, e)
		} else {
			apart = cmp.Or(apart, e)
		}
	}

	read("AAA")()
	look("kept", "AAA")
	c.write("u@x.com")
	look("while a transaction writes it", "")
	read("AAA")()
	look("kept while a transaction writes it", "")
	keepLate := read("AAA")
	c.done([]string{"u@x.com"})
	keepLate()
	look("kept by a read that began before the transaction ended", "")
	read("BBB")()
	look("kept after it ended", "BBB")

	keepLate = read("BBB")
	c.write(same) // another user's write begins while the read runs
	keepLate()
	look("kept by a read during a write in its stripe", "")
	read("BBB")()
	look("kept during a write in its stripe", "")
	c.done([]string{same})

	read("BBB")()
	keepLate = read("CCC")
	c.write(same)
	c.done([]string{same})
	keepLate() // refused: it also drops the BBB kept before
	look("a refused keep", "")

	keepLate = read("DDD")
	c.write(apart)
	keepLate()
	look("kept during a write in another stripe", "DDD")
	c.done([]string{apart})
	look("after a write in another stripe", "DDD")

	keepLate = read("AAA")
	clock.Advance(time.Second) // the read takes a second
	keepLate()
	clock.Advance(time.Minute - time.Second - time.Nanosecond)
	look("just before the TTL", "AAA")
	clock.Advance(time.Nanosecond)
	look("at the TTL", "")

	read("AAA")()
	c.drop("u@x.com")
	look("dropped", "")

	read("AAA")()
	keepLate = read("BBB")
	c.advance()
	look("after advance", "")
	keepLate()
	look("kept by a read that began before advance", "")
	keepLate = read("BBB")
	c.advance()
	read("CCC")()
	look("kept after advance", "CCC")
	keepLate()
	look("after a read that began before advance ended", "CCC")
}

// TestKeptOff: without a TTL nothing is kept and every lookup misses.
func TestKeptOff(t *testing.T) {
	c := newKept[string](DefaultUserCache, 0, time.Now)
	_, start, _ := c.lookup("u@x.com")
	c.keep("u@x.com", "AAA", start)
	if tk, _, ok := c.lookup("u@x.com"); ok {
		t.Fatalf("lookup: %q, kept without a TTL", tk)
	}
	if c.hits.Load() != 0 || c.misses.Load() != 2 {
		t.Errorf("%d hits, %d misses; want 0 and 2", c.hits.Load(), c.misses.Load())
	}
}

// TestPollEpoch: a poll makes what is kept stale when price_epoch moved
// since the last poll (a transaction wrote prices), and when it cannot be
// read; otherwise what is kept stays.
func TestPollEpoch(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite://:memory:", nil, WithPriceCache(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gen := db.rows.gen.Load() // after the first poll, at Open
	poll := func(when string, moves bool) {
		t.Helper()
		db.pollEpoch(ctx)
		was := gen
		gen = db.rows.gen.Load()
		if moved := gen != was; moved != moves {
			t.Errorf("%s: generation %d → %d; want moved %v", when, was, gen, moves)
		}
	}
	poll("nothing written", false)
	if _, err := db.InsertPrices(ctx, []stock.Price{{Ticker: "AAA", Price: 1, Currency: "USD", MarketTime: time.Unix(1e9, 0), CollectTime: time.Unix(1e9, 0)}}); err != nil {
		t.Fatal(err)
	}
	poll("prices written", true)
	poll("nothing written since", false)
	if _, err := db.w.ExecContext(ctx, `DROP TABLE price_epoch`); err != nil {
		t.Fatal(err)
	}
	poll("price_epoch unreadable", true)
	poll("price_epoch still unreadable", true)
}
