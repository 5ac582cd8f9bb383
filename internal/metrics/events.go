package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Events registers stockwatch_events_total{result} (events published to
// NATS, dropped there as duplicates, failed publishes, dropped unpublished)
// and returns the function that adds n to a result's count. It panics if
// called twice.
func (m *Metrics) Events() func(result string, n int) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stockwatch_events_total",
		Help: "Events for other systems by result: published, duplicate (JetStream had it), error (no ack; published again later), dropped (purged unpublished).",
	}, []string{"result"})
	m.reg.MustRegister(c)
	return func(result string, n int) { c.WithLabelValues(result).Add(float64(n)) }
}

// EventsPending exports the events waiting to be published, read at
// scrape time by pending (which returns an error when it cannot tell). It
// panics if called twice.
func (m *Metrics) EventsPending(pending func(context.Context) (int64, error)) {
	m.countGauge("stockwatch_events_pending", "Events waiting to be published to NATS (-1: the database did not answer).", pending)
}
