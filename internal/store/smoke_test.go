package store_test

import (
	"context"
	"testing"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

func TestOpenSmoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
