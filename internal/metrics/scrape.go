package metrics

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Scrape reads the Prometheus text exposition at url (a /metrics URL) and
// returns the value of every sample, keyed by its name and labels exactly
// as exposed (`x_total{a="b"}`). For tests and the benchmark harness, which
// read a daemon's counters from outside. It returns an error for a failed
// request, a status other than 200 or a sample that does not parse.
func Scrape(ctx context.Context, hc *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			return nil, fmt.Errorf("metrics line %q: not a sample", line)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// Sum returns the sum of the samples whose name (before any labels) is
// name.
func Sum(samples map[string]float64, name string) float64 {
	var total float64
	for k, v := range samples {
		if base, _, _ := strings.Cut(k, "{"); base == name {
			total += v
		}
	}
	return total
}
