package cliconfig

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationValue is a time.Duration flag whose errors say how to fix the
// value: a bare number lacks its unit ("missing unit: try 5s").
type durationValue time.Duration

// DurationVar defines a duration flag on fs, like fs.DurationVar, whose
// errors name the fix: for "5", `missing unit: try 5s`; for anything
// else that is not a Go duration, `not a duration like 90s, 5m or 1h30m`.
// The same messages appear for its environment twin and its file key.
func DurationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

func (d *durationValue) String() string { return (*time.Duration)(d).String() }

// Set parses s as a Go duration.
func (d *durationValue) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// ParseDuration parses s as time.ParseDuration does, with errors that say
// what to write instead: `missing unit: try 5s` for a bare number "5" (0
// alone is a duration), `not a duration like 90s, 5m or 1h30m` otherwise.
func ParseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err == nil {
		return v, nil
	}
	t := strings.TrimSpace(s)
	if _, perr := strconv.ParseFloat(t, 64); perr == nil && !strings.ContainsAny(t, "eEnNiI") {
		return 0, fmt.Errorf("missing unit: try %ss", t)
	}
	return 0, errors.New("not a duration like 90s, 5m or 1h30m")
}
