package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestPoolStats: a SQLite file has a writer pool of one connection and a
// reader pool of eight; MySQL one pool of 32, the writer.
func TestPoolStats(t *testing.T) {
	want := map[storetest.Backend]map[string]int{
		storetest.SQLite: {"writer": 1, "reader": 8},
		storetest.MySQL:  {"writer": 32},
	}
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		got := map[string]int{}
		for name, stats := range storetest.Open(t, b).PoolStats() {
			got[name] = stats().MaxOpenConnections
		}
		if diff := cmp.Diff(want[b], got); diff != "" {
			t.Errorf("pools' MaxOpenConnections mismatch (-want +got):\n%s", diff)
		}
	})
}
