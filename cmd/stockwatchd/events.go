package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stockwatch/stockwatch/internal/events"
)

// checkNATSURL reports a -nats-url that is not a comma-separated list of
// nats:// or tls:// URLs with a host.
func checkNATSURL(s string) error {
	for one := range strings.SplitSeq(s, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return fmt.Errorf("%q is not a nats:// or tls:// URL", redactURL(strings.TrimSpace(one)))
		}
	}
	return nil
}

// redactNATS returns the -nats-url list with any password replaced by
// "xxxxx".
func redactNATS(s string) string {
	if s == "" {
		return ""
	}
	var out []string
	for one := range strings.SplitSeq(s, ",") {
		out = append(out, redactURL(strings.TrimSpace(one)))
	}
	return strings.Join(out, ",")
}

// setupEvents connects to NATS (in the background: NATS being down
// delays the events, never the start) and sets up the publisher of the
// outbox's events, which Run starts.
func (d *daemon) setupEvents(owner string) error {
	nc, err := events.Connect(d.cfg.NATSURL, d.log)
	if err != nil {
		return fmt.Errorf("-nats-url: %w", err)
	}
	d.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("-nats-url: %w", err)
	}
	add := d.met.Events()
	d.pub = events.New(d.db, js, events.Config{
		Owner: owner, Logger: d.log,
		OnResult: func(r events.Result, n int) { add(string(r), n) },
	})
	d.met.EventsPending(d.db.PendingEvents)
	return nil
}
