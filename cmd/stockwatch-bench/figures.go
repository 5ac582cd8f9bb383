package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The report's arithmetic over rounds, and its number formats.

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// med applies f to every round's sample and returns the median.
func med(m map[int]sample, f func(sample) float64) float64 {
	var xs []float64
	for _, s := range m {
		xs = append(xs, f(s))
	}
	return median(xs)
}

// ratio returns the median over rounds of f(a)/f(b), pairing runs of the
// same round, and whether there was any pair.
func ratio(a, b map[int]sample, f func(sample) float64) (float64, bool) {
	var xs []float64
	for round, sa := range a {
		if sb, ok := b[round]; ok && f(sb) != 0 {
			xs = append(xs, f(sa)/f(sb))
		}
	}
	return median(xs), len(xs) > 0
}

func rps(s sample) float64         { return s.RPS() }
func p50(s sample) float64         { return float64(s.P50) }
func p99(s sample) float64         { return float64(s.P99) }
func cpuPerReq(s sample) float64   { return float64(s.CPUPerReq()) }
func dbCPUPerReq(s sample) float64 { return float64(s.DBCPUPerReq()) }
func maxRSS(s sample) float64      { return float64(s.MaxRSSKiB) }

// verdict says whether v meets a target: at least target (atLeast) or at
// most it, and by how much it misses.
func verdict(v, target float64, atLeast bool) string {
	if atLeast && v >= target || !atLeast && v <= target {
		return "met"
	}
	miss := 100 * abs(v-target) / target
	if miss < 10 {
		return fmt.Sprintf("**missed by %.1f%%**", miss)
	}
	return fmt.Sprintf("**missed by %.0f%%**", miss)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func fmtDur(d float64) string {
	switch {
	case d == 0:
		return "–"
	case d < float64(time.Millisecond):
		return fmt.Sprintf("%.0f µs", d/float64(time.Microsecond))
	case d < float64(10*time.Millisecond):
		return fmt.Sprintf("%.2f ms", d/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", d/float64(time.Millisecond))
	}
}

// fmtCPU formats a CPU time per request, where 0 is a measurement
// (less than one clock tick over the whole run).
func fmtCPU(d float64) string {
	if d == 0 {
		return "0 µs"
	}
	return fmtDur(d)
}

func fmtSecs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func mib(kib float64) string {
	if kib == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", kib/1024)
}

func fmtSecs3(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

func cmpSign(atLeast bool) string {
	if atLeast {
		return "≥"
	}
	return "≤"
}

// verdictNote keeps a verdict only where the target applies.
func verdictNote(applies bool, v string) string {
	if !applies {
		return "(target is at c=16)"
	}
	return v
}
