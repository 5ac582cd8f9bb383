package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestConcurrentPurgesOfAnEmptiedTicker: two purges of one ticker whose
// prices are all older than the cut-off (a delisted ticker under
// -retention on two collectors). The second lists the ticker before the
// first commits, then waits for its row lock; when it gets it, the state
// row is gone and it makes a placeholder. That placeholder must not
// survive as a "latest price" of 0 dated 1970.
func TestConcurrentPurgesOfAnEmptiedTicker(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t, storetest.MySQL) // SQLite serialises the two: no race to have
	a, b := storetest.OpenURL(t, url), storetest.OpenURL(t, url)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	storetest.AddUser(t, a, "u@example.com", "DEAD", t0)
	if _, err := a.InsertPrices(ctx, []stock.Price{{Ticker: "DEAD", Price: 10, Currency: "USD", MarketTime: t0, CollectTime: t0}}); err != nil {
		t.Fatal(err)
	}
	inCommit, release := make(chan struct{}), make(chan struct{})
	a.SetBeforeCommit(func(context.Context) error { close(inCommit); <-release; return nil })
	done := make(chan error, 2)
	go func() { _, err := a.DeletePrices(ctx, t0.Add(time.Hour)); done <- err }()
	<-inCommit
	go func() { _, err := b.DeletePrices(ctx, t0.Add(time.Hour)); done <- err }()
	// Let b list the ticker and reach the row lock a holds. Should b be
	// slower than this, the test passes without having raced: it cannot
	// fail falsely.
	time.Sleep(500 * time.Millisecond)
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if p, err := a.LatestPrice(ctx, "u@example.com"); !errors.Is(err, &stock.Error{Kind: stock.KindFailedPrecondition}) {
		t.Errorf("LatestPrice = %+v, %v; want FAILED_PRECONDITION: the ticker has no price", p, err)
	}
	users, err := a.ListUsers(ctx, "", 10)
	if err != nil || len(users) != 1 || users[0].Latest != nil {
		t.Errorf("ListUsers = %+v, %v; want the user without a latest price", users, err)
	}
	if n := storetest.Count(t, a, "ticker_prices", "ticker = 'DEAD'"); n != 0 {
		t.Errorf("ticker_prices rows of DEAD = %d, want 0", n)
	}
}
