package lru_test

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/lru"
)

func TestCache(t *testing.T) {
	t.Parallel()
	type get struct {
		key  string
		want int
		ok   bool
	}
	tests := []struct {
		name string
		size int
		adds []string // each added with its index as value
		gets []get
	}{
		{"HoldsWhatFits", 2, []string{"a", "b"}, []get{{"a", 0, true}, {"b", 1, true}, {"c", 0, false}}},
		{"EvictsTheOldest", 2, []string{"a", "b", "c"}, []get{{"a", 0, false}, {"b", 1, true}, {"c", 2, true}}},
		{"AddAgainReplacesAndRefreshes", 2, []string{"a", "b", "a", "c"}, []get{{"a", 2, true}, {"b", 0, false}, {"c", 3, true}}},
		{"ZeroSizeHoldsNothing", 0, []string{"a"}, []get{{"a", 0, false}}},
		{"NegativeSizeHoldsNothing", -1, []string{"a"}, []get{{"a", 0, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := lru.New[string, int](tt.size)
			for i, k := range tt.adds {
				c.Add(k, i)
			}
			var got []get
			for _, g := range tt.gets {
				v, ok := c.Get(g.key)
				got = append(got, get{g.key, v, ok})
			}
			if diff := cmp.Diff(tt.gets, got, cmp.AllowUnexported(get{})); diff != "" {
				t.Errorf("Get mismatch (-want +got):\n%s", diff)
			}
			if n := c.Len(); n > max(tt.size, 0) {
				t.Errorf("Len = %d, over the size %d", n, tt.size)
			}
		})
	}
}

// TestGetRefreshes: a Get makes its entry the most recently used, so the
// next eviction takes another.
func TestGetRefreshes(t *testing.T) {
	t.Parallel()
	c := lru.New[string, int](2)
	c.Add("a", 1)
	c.Add("b", 2)
	c.Get("a")
	c.Add("c", 3)
	if _, ok := c.Get("b"); ok {
		t.Error("b survived; it was the least recently used")
	}
	if _, ok := c.Get("a"); !ok {
		t.Error("a was evicted; it was read after b was added")
	}
	if hits, misses := c.Stats(); hits != 2 || misses != 1 {
		t.Errorf("Stats = %d hits, %d misses; want 2, 1", hits, misses)
	}
}

// TestConcurrentUse: run with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := lru.New[int, int](16)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := (g*7 + i) % 40
				if v, ok := c.Get(k); ok && v != k {
					t.Errorf("Get(%d) = %d", k, v)
					return
				}
				c.Add(k, k)
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n != 16 {
		t.Errorf("Len = %d, want 16", n)
	}
}
