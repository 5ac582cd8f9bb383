// Package defaults fills in the settings a component's Config leaves
// unset.
package defaults

// Positive sets *v to def unless *v is positive: a zero (or negative)
// duration, count or size in a Config means the default.
func Positive[T ~int | ~int64 | ~float64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
