// Package faults_test is Stockwatch's fault suite: tests that break
// things for real (kill the daemon in the middle of writes, send one
// request to two replicas at once) and check that every acknowledged
// write is in the database exactly once. The directory has only tests;
// RELIABILITY.md at the repository root describes each scenario and the
// figures of its last run.
//
// The scenarios need MariaDB or MySQL (the crash scenario also runs on a
// SQLite file): they run when STOCKWATCH_TEST_MYSQL is set (see
// internal/store/storetest), are skipped without it, and fail without it
// under CI=true. STOCKWATCH_FAULT_SEED fixes the seed of the
// random choices (operations, kill moments) to replay a run; every test
// prints the seed it used. STOCKWATCH_FAULT_WRITES=n runs the crash
// scenario until n writes are acknowledged (make faults: 10,000).
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
