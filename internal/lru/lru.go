// Package lru provides a bounded map that forgets its least recently used
// entry when it is full. It is safe for concurrent use.
package lru

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// Cache holds at most its size of entries. Get and Add move the entry to
// the front; Add of a new key to a full cache evicts the one at the back.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	size  int
	order *list.List // of *entry[K, V], most recently used first
	byKey map[K]*list.Element

	hits, misses atomic.Uint64
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns an empty cache of at most size entries. A size below 1
// gives a cache that holds nothing (every Get misses).
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{size: max(size, 0), order: list.New(), byKey: map[K]*list.Element{}}
}

// Get returns the value of key and true, or the zero value and false when
// the cache does not hold key.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	el, ok := c.byKey[key]
	if !ok {
		c.mu.Unlock()
		c.misses.Add(1)
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	v := el.Value.(*entry[K, V]).val
	c.mu.Unlock()
	c.hits.Add(1)
	return v, true
}

// Add stores val under key, evicting the least recently used entry if the
// cache is full.
func (c *Cache[K, V]) Add(key K, val V) {
	if c.size == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		el.Value.(*entry[K, V]).val = val
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() < c.size {
		c.byKey[key] = c.order.PushFront(&entry[K, V]{key, val})
		return
	}
	// Full: reuse the oldest entry's element for the new one.
	el := c.order.Back()
	e := el.Value.(*entry[K, V])
	delete(c.byKey, e.key)
	e.key, e.val = key, val
	c.byKey[key] = el
	c.order.MoveToFront(el)
}

// Len returns how many entries the cache holds.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Stats returns how many Gets found their key (hits) and how many did not
// (misses) since New.
func (c *Cache[K, V]) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }
