// Package benchtest holds what Stockwatch's benchmarks share: the preloaded
// data set and the ceiling gRPC service. The stockwatch-bench binary links
// it, so it does not import testing; the Go benchmarks' runner is in
// benchrun.
package benchtest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// T0 is the preload's clock: the newest price is a minute before it.
var T0 = time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC)

// The Go benchmarks' default preload: Users users spread over Tickers
// tickers, and Prices prices spread evenly over the tickers.
const (
	Users   = 1000
	Tickers = 100
	Prices  = 100_000
)

// Ticker is the i-th preloaded ticker.
func Ticker(i int) string { return fmt.Sprintf("T%03d", i) }

// Email is the i-th preloaded user's e-mail.
func Email(i int) string { return fmt.Sprintf("user%06d@bench.example", i) }

// UUID returns a random version-4 UUID from rng.
func UUID(rng *rand.Rand) string {
	var u [16]byte
	for i := range 2 {
		v := rng.Uint64()
		for j := range 8 {
			u[8*i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
