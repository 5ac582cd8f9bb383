// Package faults holds Stockwatch's fault suite: tests that break things
// for real (kill the daemon in the middle of writes, send one request to
// two replicas at once) and check that every acknowledged write is in the
// database exactly once. The package has no code of its own; the tests
// live in package faults_test, and RELIABILITY.md at the repository root
// describes each scenario and the figures of its last run.
//
// The scenarios need MariaDB or MySQL (the crash scenario also runs on a
// SQLite file): they run when STOCKWATCH_TEST_MYSQL is set (see
// internal/store/storetest), are skipped without it, and fail without it
// under CI=true. STOCKWATCH_FAULT_SEED fixes the seed of the
// random choices (operations, kill moments) to replay a run; every test
// prints the seed it used. STOCKWATCH_FAULT_WRITES=n runs the crash
// scenario until n writes are acknowledged (make faults: 10,000).
package faults
