package defaults_test

import (
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/defaults"
)

func TestPositive(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in, out time.Duration
	}{
		{"Zero", 0, time.Second},
		{"Negative", -time.Minute, time.Second},
		{"Set", time.Hour, time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.in
			if defaults.Positive(&d, time.Second); d != tt.out {
				t.Errorf("Positive(%v, 1s) left %v, want %v", tt.in, d, tt.out)
			}
		})
	}
}
