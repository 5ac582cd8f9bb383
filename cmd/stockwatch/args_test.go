package main

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	good := map[string]time.Duration{
		"36h":     36 * time.Hour,
		"90m":     90 * time.Minute,
		"30d":     30 * day,
		" 1d ":    day,
		"1d12h":   36 * time.Hour,
		"0d1s":    time.Second,
		"1.5h":    90 * time.Minute,
		"2h30m":   150 * time.Minute,
		"106751d": 106751 * day,
	}
	for in, want := range good {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0s", "0d", "-1h", "-1d", "d", "1.5d", "1d-5h", "1d+5h", "soon", "30", "1w", "106752d", "106751d24h", "9999999999999999999d"} {
		if got, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseCount(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"1": 1, " 10 ": 10, "10000": 10000} {
		if got, err := parseCount(in); err != nil || got != want {
			t.Errorf("parseCount(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "10001", "ten", "1.5", "99999999999999999999"} {
		if got, err := parseCount(in); err == nil {
			t.Errorf("parseCount(%q) = %v, want an error", in, got)
		}
	}
}

func TestAge(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		-time.Minute: "just now", 59 * time.Second: "just now", 65 * time.Second: "1 min ago", 2 * time.Minute: "2 min ago",
		59 * time.Minute: "59 min ago", time.Hour: "1 h ago", 47 * time.Hour: "47 h ago", 40 * 24 * time.Hour: "40 days ago",
	} {
		if got := age(now.Add(-d), now); got != want {
			t.Errorf("age(%v ago) = %q, want %q", d, got, want)
		}
	}
}

func TestCodeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"OK": "OK", "NotFound": "NOT_FOUND", "InvalidArgument": "INVALID_ARGUMENT",
		"DeadlineExceeded": "DEADLINE_EXCEEDED", "Unavailable": "UNAVAILABLE", "FailedPrecondition": "FAILED_PRECONDITION",
	} {
		if got := codeName(in); got != want {
			t.Errorf("codeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTwinNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"addr": "STOCKWATCH_ADDR", "o": "STOCKWATCH_OUTPUT", "server-name": "STOCKWATCH_SERVER_NAME"} {
		if got := twins().Name(in); got != want {
			t.Errorf("twins().Name(%q) = %q, want %q", in, got, want)
		}
	}
}
