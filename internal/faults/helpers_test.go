package faults_test

import (
	"crypto/rand"
	"encoding/binary"
	"os"
	"strconv"
	"testing"
)

// envSeed names the variable that fixes the seed of a run, to replay it.
const envSeed = "STOCKWATCH_FAULT_SEED"

// seed returns the seed of tb's random choices: STOCKWATCH_FAULT_SEED when
// set, else a fresh one. Tests print it in their summary and logs.
func seed(tb testing.TB) uint64 {
	tb.Helper()
	if s := os.Getenv(envSeed); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			tb.Fatalf("%s=%q: %v", envSeed, s, err)
		}
		return n
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) >> 1 // fits an int64 flag too
}
