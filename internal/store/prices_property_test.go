package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// propertySeed returns the seed of the property tests: fixed, so that a
// failure repeats, unless STOCKWATCH_PROPERTY_SEED sets another.
func propertySeed(tb testing.TB) uint64 {
	tb.Helper()
	seed := uint64(20261127)
	if s := os.Getenv("STOCKWATCH_PROPERTY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			tb.Fatalf("STOCKWATCH_PROPERTY_SEED=%q: %v", s, err)
		}
		seed = v
	}
	tb.Logf("seed %d (STOCKWATCH_PROPERTY_SEED=%d repeats this run)", seed, seed)
	return seed
}

// TestPriceReadsMatchPlainSQL runs random sequences of writes (prices in
// order and out of order, duplicates, currency switches, through the
// collector's, the registration's and the plain insert; deletions of the
// oldest and of scattered prices; users registering, switching ticker and
// leaving) and after every step compares LatestPrice, AveragePrice for
// several counts and ListUsers with a plain recomputation over
// stock_prices. The writing DB keeps users' tickers and tickers' rows for
// an hour (WithUserCache, WithPriceCache, polling hourly): its reads must
// see its own writes of users and prices at once.
// The averages are read through it and through a second DB on the same
// database (another replica) whose cache of price_sums rows holds 4: most
// reads of a ticker not written since are answered from the caches, and
// the second one's evicts all the time.
func TestPriceReadsMatchPlainSQL(t *testing.T) {
	seed := propertySeed(t)
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		url := storetest.URL(t, b)
		db := storetest.OpenURL(t, url, store.WithUserCache(time.Hour), store.WithPriceCache(time.Hour, time.Hour))
		m := &model{t: t, db: db, replica: storetest.OpenURL(t, url, store.WithAverageCache(4)), rng: rand.New(rand.NewPCG(seed, 1)),
			polled: storetest.OpenURL(t, url, store.WithUserCache(time.Hour), store.WithPriceCache(time.Hour, time.Hour))}
		for step := range 250 {
			op := m.step()
			m.check(fmt.Sprintf("step %d (%s)", step, op))
			if t.Failed() {
				return
			}
		}
		t.Logf("%s: %v", b, m.ops)
		for name, r := range map[string]*store.DB{"writer": db, "replica": m.replica} {
			hits, misses := r.AverageCacheStats()
			t.Logf("%s: %s's cached averages: %d hits, %d misses", b, name, hits, misses)
			if hits == 0 || misses == 0 {
				t.Errorf("%s's cache: %d hits, %d misses; the test needs both", name, hits, misses)
			}
		}
		for what, stats := range map[string]func() (uint64, uint64){
			"users' tickers": db.UserCacheStats, "tickers' rows": db.PriceCacheStats, "the polled DB's tickers' rows": m.polled.PriceCacheStats,
		} {
			hits, misses := stats()
			t.Logf("%s: %s kept: %d hits, %d misses", b, what, hits, misses)
			if hits == 0 || misses == 0 {
				t.Errorf("%s kept: %d hits, %d misses; the test needs both", what, hits, misses)
			}
		}
	})
}

// TestAverageCacheNeverStale: rewrites of a ticker's numbering after its
// rows were read into AveragePrice's caches (of the writing DB, and of
// another one on the same database), where a kept row would give the old
// numbering's sum and oldest market time: a renumbering (an older price;
// a purge that keeps a late-collected price in the middle) and the
// deletion of all prices and new ones. The reads are checked twice after
// every change, so that the second ones come from the caches.
func TestAverageCacheNeverStale(t *testing.T) {
	price := func(v float64, market, collect int) stock.Price {
		return stock.Price{Ticker: "AAA", Price: v, Currency: "USD",
			MarketTime: t0.Add(time.Duration(market) * time.Minute), CollectTime: t0.Add(time.Duration(collect) * time.Minute)}
	}
	type change struct {
		insert       []stock.Price
		deleteBefore int // minutes after t0; 0: none
	}
	tests := []struct {
		name    string
		changes []change
	}{
		{"RenumberedByAnOlderPrice", []change{
			{insert: []stock.Price{price(10, 2, 2), price(30, 3, 3)}},
			{insert: []stock.Price{price(5, 1, 4)}},
		}},
		{"RenumberedByAPurgeInTheMiddle", []change{
			{insert: []stock.Price{price(10, 1, 1), price(20, 2, 9), price(30, 3, 3)}},
			{deleteBefore: 5},
		}},
		{"AllDeletedAndNewOnes", []change{
			{insert: []stock.Price{price(10, 1, 1), price(20, 2, 2), price(30, 3, 3)}},
			{deleteBefore: 10},
			{insert: []stock.Price{price(5, 11, 11), price(20, 12, 12), price(35, 13, 13)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
				ctx := context.Background()
				url := storetest.URL(t, b)
				db := storetest.OpenURL(t, url)
				m := &model{t: t, db: db, replica: storetest.OpenURL(t, url), rng: rand.New(rand.NewPCG(1, 2))}
				storetest.AddUser(t, db, "u0@x.com", "AAA", t0)
				storetest.AddUser(t, db, "u1@x.com", "AAA", t0)
				for i, c := range tt.changes {
					var err error
					if c.insert != nil {
						_, err = db.InsertPrices(ctx, c.insert)
					} else {
						_, err = db.DeletePrices(ctx, t0.Add(time.Duration(c.deleteBefore)*time.Minute))
					}
					if err != nil {
						t.Fatalf("change %d: %v", i, err)
					}
					m.check(fmt.Sprintf("after change %d", i))
					m.check(fmt.Sprintf("after change %d, again", i))
				}
				if hits, _ := m.replica.AverageCacheStats(); hits == 0 {
					t.Error("no average was answered from the cache")
				}
			})
		})
	}
}

// TestAverageWithoutCache: with no rows kept (WithAverageCache(0)) every
// average reads its row in one query, and answers as plain SQL does.
func TestAverageWithoutCache(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		url := storetest.URL(t, b)
		db := storetest.OpenURL(t, url)
		m := &model{t: t, db: db, replica: storetest.OpenURL(t, url, store.WithAverageCache(0)), rng: rand.New(rand.NewPCG(1, 2))}
		storetest.AddUser(t, db, "u0@x.com", "AAA", t0)
		if _, err := db.InsertPrices(context.Background(), []stock.Price{
			{Ticker: "AAA", Price: 10, Currency: "USD", MarketTime: t0, CollectTime: t0},
			{Ticker: "AAA", Price: 30, Currency: "USD", MarketTime: t0.Add(time.Minute), CollectTime: t0.Add(time.Minute)},
		}); err != nil {
			t.Fatal(err)
		}
		m.check("without a cache")
		m.check("without a cache, again")
		if hits, misses := m.replica.AverageCacheStats(); hits != 0 || misses == 0 {
			t.Errorf("%d hits, %d misses; want none and some", hits, misses)
		}
	})
}

var (
	propTickers = []string{"AAA", "BBB", "CCC", "DDD"}
	propUsers   = []string{"u0@x.com", "u1@x.com", "u2@x.com", "u3@x.com", "u4@x.com"}
)

// model drives a database with random writes and checks its reads.
type model struct {
	t       *testing.T
	db      *store.DB
	replica *store.DB // nil, or another DB on db's database: averages are read through both
	// polled is nil, or another DB on db's database keeping users' tickers
	// and tickers' rows, which polls price_epoch before every check and
	// reads every user (GetUser, exact) before its price reads: they must
	// then be exact, every change of prices having moved price_epoch.
	polled *store.DB
	rng    *rand.Rand
	now    time.Time      // the clock: market times grow with it
	cur    map[string]int // a ticker's currency (an index into currencies)
	ops    map[string]int // how often each operation ran
}

var currencies = []string{"USD", "GBp"}

// step runs one random write and returns its name.
func (m *model) step() string {
	ctx := context.Background()
	if m.cur == nil {
		m.cur, m.ops, m.now = map[string]int{}, map[string]int{}, t0
	}
	var op string
	switch r := m.rng.IntN(100); {
	case r < 45:
		op = m.insert(ctx)
	case r < 55:
		op = "delete prices"
		// Any collect time seen so far (prices are collected at or after
		// their market time, not always in order), or after all of them.
		before := t0.Add(time.Duration(m.rng.Int64N(int64(m.now.Sub(t0)) + 1)))
		if m.rng.IntN(5) == 0 {
			op, before = "delete all prices", m.now.Add(time.Hour)
		}
		if _, err := m.db.DeletePrices(ctx, before); err != nil {
			m.t.Fatalf("DeletePrices: %v", err)
		}
	case r < 70:
		op = "register"
		email, tk := propUsers[m.rng.IntN(len(propUsers))], propTickers[m.rng.IntN(len(propTickers))]
		m.once(ctx, func(tx stock.Tx) error {
			return tx.CreateUser(ctx, stock.User{Email: email, Ticker: tk, CreateTime: m.now, UpdateTime: m.now})
		})
	case r < 85:
		op = "switch ticker"
		email, tk := propUsers[m.rng.IntN(len(propUsers))], propTickers[m.rng.IntN(len(propTickers))]
		m.once(ctx, func(tx stock.Tx) error { _, err := tx.UpdateUser(ctx, email, tk, m.now); return err })
	default:
		op = "delete user"
		email := propUsers[m.rng.IntN(len(propUsers))]
		m.once(ctx, func(tx stock.Tx) error { return tx.DeleteUser(ctx, email) })
	}
	m.ops[op]++
	return op
}

// once runs fn in a transaction; a deterministic error (the user exists,
// or does not) is part of the game: the transaction rolls back.
func (m *model) once(ctx context.Context, fn func(stock.Tx) error) {
	err := m.db.Tx(ctx, func(ctx context.Context, tx stock.Tx) error { return fn(tx) })
	switch stock.KindOf(err) {
	case stock.KindAlreadyExists, stock.KindNotFound:
		return
	}
	if err != nil {
		m.t.Fatalf("transaction: %v", err)
	}
}

// insert stores 1–6 random prices through one of the three ways prices
// are written, and returns what it did.
func (m *model) insert(ctx context.Context) string {
	var ps []stock.Price
	kind := "in order"
	for range 1 + m.rng.IntN(6) {
		tk := propTickers[m.rng.IntN(len(propTickers))]
		m.now = m.now.Add(time.Duration(1+m.rng.IntN(90)) * time.Second)
		market := m.now
		switch r := m.rng.IntN(100); {
		case r < 15: // out of order: older than the newest
			market = m.now.Add(-time.Duration(m.rng.IntN(3600)) * time.Second)
			kind = "out of order"
		case r < 25 && len(ps) > 0: // the same (ticker, market time) again
			tk, market = ps[0].Ticker, ps[0].MarketTime
			kind = "duplicate"
		case r < 30:
			m.cur[tk] = 1 - m.cur[tk]
			kind = "currency switch"
		}
		// Collected now, whatever its market time, and sometimes late:
		// deleting by collect time then takes the oldest prices of a
		// ticker, or (around an out-of-order or late one) some from the
		// middle of its history.
		collect := m.now
		if m.rng.IntN(10) == 0 {
			collect = collect.Add(time.Duration(m.rng.IntN(300)) * time.Second)
		}
		ps = append(ps, stock.Price{Ticker: tk, Price: float64(1+m.rng.IntN(1_000_000)) / 100, Currency: currencies[m.cur[tk]],
			MarketTime: market.Truncate(time.Microsecond), CollectTime: collect.Truncate(time.Microsecond)})
	}
	var err error
	switch m.rng.IntN(3) {
	case 0:
		_, err = m.db.InsertPrices(ctx, ps)
	case 1:
		_, err = m.db.SaveQuotes(ctx, ps, nil)
	default: // as RegisterUser stores the quote it checked the ticker with
		m.once(ctx, func(tx stock.Tx) error { _, err := tx.InsertPrices(ctx, ps); return err })
	}
	if err != nil {
		m.t.Fatalf("insert %v: %v", ps, err)
	}
	return "insert " + kind
}

// check compares every user's price reads with the plain recomputation.
func (m *model) check(when string) {
	t, ctx := m.t, context.Background()
	t.Helper()
	listed, err := m.db.ListUsers(ctx, "", 100)
	if err != nil {
		t.Fatalf("%s: ListUsers: %v", when, err)
	}
	inList := map[string]*stock.Price{}
	for _, u := range listed {
		inList[u.Email] = u.Latest
	}
	if m.polled != nil {
		m.polled.PollPrices(ctx)
	}
	for _, email := range propUsers {
		ticker, exists := m.userTicker(email)
		rows := m.newest(ticker)
		if m.polled != nil {
			if _, err := m.polled.GetUser(ctx, email); err != nil && stock.KindOf(err) != stock.KindNotFound {
				t.Fatalf("%s: GetUser(%s) on the polled DB: %v", when, email, err)
			}
		}
		switch {
		case exists && len(rows) == 0 && inList[email] != nil:
			t.Errorf("%s: ListUsers gives %s a latest price %v, want none", when, email, inList[email])
		case exists && len(rows) > 0:
			if diff := cmp.Diff(&rows[0], inList[email]); diff != "" {
				t.Errorf("%s: ListUsers latest of %s mismatch (-plain SQL +got):\n%s", when, email, diff)
			}
		}
		for _, db := range []*store.DB{m.db, m.polled} {
			if db == nil {
				continue
			}
			got, err := db.LatestPrice(ctx, email)
			what := when + ": LatestPrice of " + email + m.on(db)
			wantAnswer(t, what, err, exists, rows, func() {
				if diff := cmp.Diff(rows[0], got); diff != "" {
					t.Errorf("%s mismatch (-plain SQL +got):\n%s", what, diff)
				}
			})
		}

		for _, n := range []int{1, 2, 3, 1 + m.rng.IntN(len(rows)+2), 100, 10_000} {
			m.checkAverage(when, email, n, exists, rows)
		}
	}
}

// checkAverage compares AveragePrice(email, n), through m.db, m.replica
// and m.polled, with plainAverage of rows, the user's ticker's prices.
func (m *model) checkAverage(when, email string, n int, exists bool, rows []stock.Price) {
	t := m.t
	t.Helper()
	for _, db := range []*store.DB{m.db, m.replica, m.polled} {
		if db == nil {
			continue
		}
		got, err := db.AveragePrice(context.Background(), email, n)
		what := fmt.Sprintf("%s: AveragePrice(%s, %d)%s", when, email, n, m.on(db))
		wantAnswer(t, what, err, exists, rows, func() {
			want := plainAverage(rows, n)
			if math.Abs(got.Average-want.Average) > 1e-9*math.Abs(want.Average) {
				t.Errorf("%s: average %v, plain SQL %v", what, got.Average, want.Average)
			}
			got.Average = want.Average
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s mismatch (-plain SQL +got):\n%s", what, diff)
			}
		})
	}
}

// on names db among the model's DBs, for messages: "" for m.db.
func (m *model) on(db *store.DB) string {
	switch db {
	case m.replica:
		return " on the replica"
	case m.polled:
		return " on the polled DB"
	}
	return ""
}

// wantAnswer checks the error of a price read (what) of a user: KindNotFound
// if the user does not exist, KindFailedPrecondition if its ticker has no
// prices (rows), none otherwise; then check compares the answer.
func wantAnswer(t *testing.T, what string, err error, exists bool, rows []stock.Price, check func()) {
	t.Helper()
	switch {
	case !exists:
		wantKind(t, what, err, stock.KindNotFound)
	case len(rows) == 0:
		wantKind(t, what, err, stock.KindFailedPrecondition)
	case err != nil:
		t.Errorf("%s: %v", what, err)
	default:
		check()
	}
}

func wantKind(t *testing.T, what string, err error, k stock.Kind) {
	t.Helper()
	if stock.KindOf(err) != k {
		t.Errorf("%s: error %v, want kind %s", what, err, k)
	}
}

// userTicker reads the user's ticker straight from users.
func (m *model) userTicker(email string) (string, bool) {
	r, _ := m.db.Pools()
	var tk string
	err := r.QueryRow(`SELECT ticker FROM users WHERE email = ?`, email).Scan(&tk)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false
	}
	if err != nil {
		m.t.Fatalf("users: %v", err)
	}
	return tk, true
}

// newest reads all of ticker's prices straight from stock_prices, newest
// first.
func (m *model) newest(ticker string) []stock.Price {
	r, _ := m.db.Pools()
	rows, err := r.Query(`SELECT id, ticker, price, currency, market_time, collect_time FROM stock_prices WHERE ticker = ? ORDER BY market_time DESC`, ticker)
	if err != nil {
		m.t.Fatalf("stock_prices: %v", err)
	}
	defer rows.Close()
	var out []stock.Price
	for rows.Next() {
		var (
			p      stock.Price
			mt, ct int64
		)
		if err := rows.Scan(&p.ID, &p.Ticker, &p.Price, &p.Currency, &mt, &ct); err != nil {
			m.t.Fatalf("stock_prices: %v", err)
		}
		p.MarketTime, p.CollectTime = time.UnixMicro(mt).UTC(), time.UnixMicro(ct).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		m.t.Fatalf("stock_prices: %v", err)
	}
	return out
}

// plainAverage is the definition: the mean of the newest n prices, as far
// as they are in the newest price's currency.
func plainAverage(newest []stock.Price, n int) stock.Average {
	a := stock.Average{Ticker: newest[0].Ticker, Currency: newest[0].Currency, Requested: n, Newest: newest[0].MarketTime}
	var total float64
	for _, p := range newest[:min(n, len(newest))] {
		if p.Currency != a.Currency {
			break
		}
		total += p.Price
		a.Count++
		a.Oldest = p.MarketTime
	}
	a.Average = total / float64(a.Count)
	return a
}

// TestTickerPricesBackfill: the migration that adds the per-ticker
// answers derives them from the prices already stored (out of order,
// with a currency switch), and again, unchanged, when it runs a second
// time.
func TestTickerPricesBackfill(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		url := storetest.URL(t, b)
		old, err := store.OpenUpTo(ctx, url, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []struct{ email, ticker string }{{"u0@x.com", "AAA"}, {"u1@x.com", "BBB"}, {"u2@x.com", "CCC"}} {
			storetest.MustExec(t, old, `INSERT INTO users (email, ticker, create_time, update_time) VALUES (?, ?, 0, 0)`, u.email, u.ticker)
		}
		for i, p := range []struct {
			ticker, cur string
			price       float64
			minute      int
		}{{"AAA", "GBp", 100.25, 3}, {"AAA", "GBP", 1.01, 5}, {"AAA", "GBp", 99.5, 1}, {"AAA", "GBP", 1.02, 7}, {"BBB", "USD", 7, 2}, {"AAA", "GBP", 1.03, 6}} {
			at := t0.Add(time.Duration(p.minute) * time.Minute).UnixMicro()
			storetest.MustExec(t, old, `INSERT INTO stock_prices (ticker, price, currency, market_time, collect_time) VALUES (?, ?, ?, ?, ?)`,
				p.ticker, p.price, p.cur, at, at+int64(i))
		}
		old.Close()
		for _, run := range []string{"first", "again"} {
			// Up to the latest: the reads need the later migrations too.
			db, err := store.Open(ctx, url, nil)
			if err != nil {
				t.Fatalf("%s: %v", run, err)
			}
			m := &model{t: t, db: db, rng: rand.New(rand.NewPCG(1, 2))}
			m.check("backfill, " + run)
			if a, err := db.AveragePrice(ctx, "u0@x.com", 100); err != nil || a.Count != 3 || a.Currency != "GBP" {
				t.Errorf("%s: AveragePrice(u0, 100) = %+v, %v; want the 3 newest, in GBP", run, a, err)
			}
			// Without 5's row, and the later ones' (which would make 5 out of
			// order): each is run again.
			storetest.MustExec(t, db, `DELETE FROM goose_db_version WHERE version_id >= 5`)
			db.Close()
		}
	})
}
