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

func TestFormatPrice(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{
		187.42: "187.42", 100: "100.00", 1.08345: "1.0835", 0.00012: "0.0001", 72.3: "72.30", 12345.6789: "12345.6789",
	} {
		if got := formatPrice(in); got != want {
			t.Errorf("formatPrice(%v) = %q, want %q", in, got, want)
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
