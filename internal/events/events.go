// Package events publishes Stockwatch's events for other systems (prices
// stored, alerts crossed) to NATS JetStream from the store's outbox: it
// claims unpublished events (several publishers share them as notifiers
// share notifications), publishes each with its stable id as Nats-Msg-Id
// and waits for JetStream's ack, then marks them published.
//
// Publishing is at least once toward NATS: a publisher that dies (or
// whose ack is lost) between JetStream's store and the mark leaves the
// event to be published again, with the same id, and JetStream drops the
// repeat within the stream's duplicate window (Duplicates), which is
// longer than a claim's lease. docs/alerts.md states the windows.
package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stockwatch/stockwatch/internal/defaults"
	"github.com/stockwatch/stockwatch/internal/stock"
)

// The stream that captures the events, created or updated at start.
const (
	// StreamName is the JetStream stream's name.
	StreamName = "STOCKWATCH"
	// Duplicates is the stream's duplicate window: an event published
	// again within it (same Nats-Msg-Id) is acknowledged and dropped.
	Duplicates = 10 * time.Minute
	// MaxAge is how long the stream keeps an event.
	MaxAge = 7 * 24 * time.Hour
	// MaxBytes bounds the stream's storage; past it the oldest go.
	MaxBytes = 1 << 30
)

// StreamConfig returns the configuration of the stream: file storage,
// limits retention (MaxAge, MaxBytes, oldest discarded first), the
// duplicate window Duplicates, over the subjects of stock.PriceSubject
// and stock.AlertSubject.
func StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Stockwatch prices and alert crossings (docs/alerts.md)",
		Subjects:    []string{stock.PriceSubject + ">", stock.AlertSubject + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      MaxAge,
		MaxBytes:    MaxBytes,
		Duplicates:  Duplicates,
	}
}

// EnsureStream creates the stream of cfg, or updates it to cfg when it
// exists: running it again changes nothing. It returns JetStream's error
// (for example when NATS is unreachable, or another stream holds the
// subjects).
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("create or update stream %s: %w", cfg.Name, err)
	}
	return nil
}

// Connect connects to the NATS server(s) at url (nats://HOST:PORT, a
// comma-separated list for a cluster) and keeps reconnecting for ever,
// from the start too: NATS being down never stops the daemon. It returns
// an error only for a malformed url.
func Connect(url string, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return nats.Connect(url,
		nats.Name("stockwatchd"),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("events: NATS disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("events: NATS reconnected", "server", c.ConnectedUrlRedacted())
		}),
	)
}

// Publish publishes e to JetStream with its id as Nats-Msg-Id, expecting
// the stream named stream to capture it, and waits for the ack. It
// reports whether JetStream dropped it as a duplicate, and returns
// JetStream's error when the ack did not come (NATS unreachable, no
// stream, ctx ended).
func Publish(ctx context.Context, js jetstream.JetStream, stream string, e stock.Event) (duplicate bool, err error) {
	msg := nats.NewMsg(e.Subject)
	msg.Data = e.Payload
	msg.Header.Set(jetstream.MsgIDHeader, stock.EventID(e.ID))
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithExpectStream(stream))
	if err != nil {
		return false, fmt.Errorf("publish %s to %s: %w", stock.EventID(e.ID), e.Subject, err)
	}
	return ack.Duplicate, nil
}

// Store is what the publisher needs of the database. *store.DB implements it.
type Store interface {
	// ClaimEvents claims for owner, until the given time, up to limit
	// unpublished events, and returns them, oldest first.
	ClaimEvents(ctx context.Context, owner string, now, until time.Time, limit int) ([]stock.Event, error)
	// PublishedEvents marks the events ids claimed by owner published.
	PublishedEvents(ctx context.Context, owner string, ids []int64, at time.Time) (int64, error)
	// PurgeEvents deletes the events created before the given time and
	// says how many had been published and how many had not.
	PurgeEvents(ctx context.Context, before time.Time) (published, dropped int64, err error)
}

// Result is what became of published or purged events, for metrics.
type Result string

// The results.
const (
	ResultPublished Result = "published" // JetStream stored it
	ResultDuplicate Result = "duplicate" // JetStream had it: dropped as a repeat
	ResultError     Result = "error"     // no ack: published again later
	ResultDropped   Result = "dropped"   // purged unpublished after Keep
)

// Config tunes a Publisher. Zero values take the defaults.
type Config struct {
	// Owner names this publisher in its claims (default: a random id).
	Owner string
	// Stream is the stream expected to capture the events (default
	// StreamName); Run creates or updates it with StreamConfig when it is
	// StreamName.
	Stream string
	// Poll is the pause between claims when nothing was pending, or
	// after an error (default 1s).
	Poll time.Duration
	// Batch is how many events one claim takes (default 100).
	Batch int
	// Lease is how long a claim holds (default 30s); a batch publishes
	// for half of it at most. It must stay well under Duplicates, so that
	// an event published again after a claim expired is still dropped as
	// a repeat.
	Lease time.Duration
	// PublishTimeout bounds the wait for one ack (default 5s).
	PublishTimeout time.Duration
	// Keep is how long an event stays in the outbox (default 24h),
	// published or not: Run purges older ones every minute. It bounds the
	// outbox while NATS is unreachable, at the cost of the events older
	// than Keep (counted as dropped).
	Keep time.Duration
	Now  func() time.Time
	// Logger receives warnings (NATS unreachable) and drops.
	Logger *slog.Logger
	// OnResult, when set, is called with how many events had result r.
	OnResult func(r Result, n int)
}

// Publisher publishes the outbox's events to JetStream. Run runs it.
type Publisher struct {
	st  Store
	js  jetstream.JetStream
	cfg Config
	log *slog.Logger
}

// New returns a Publisher of st's events to js.
func New(st Store, js jetstream.JetStream, cfg Config) *Publisher {
	if cfg.Owner == "" {
		cfg.Owner = "publisher-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	if cfg.Stream == "" {
		cfg.Stream = StreamName
	}
	defaults.Positive(&cfg.Poll, time.Second)
	defaults.Positive(&cfg.Lease, 30*time.Second)
	defaults.Positive(&cfg.PublishTimeout, 5*time.Second)
	defaults.Positive(&cfg.Keep, 24*time.Hour)
	defaults.Positive(&cfg.Batch, 100)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{st: st, js: js, cfg: cfg, log: log}
}

// Run publishes pending events until ctx ends, and returns nil then. It
// first creates or updates the stream (when Stream is StreamName),
// retrying while NATS is unreachable. A NATS or database outage is
// logged and waited out: it never stops the loop, and the collector,
// which only inserts rows, never waits for it.
func (p *Publisher) Run(ctx context.Context) error {
	var purged time.Time
	ready, failing := p.cfg.Stream != StreamName, false
	for {
		if now := p.cfg.Now(); now.Sub(purged) >= time.Minute {
			purged = now
			p.purge(ctx, now)
		}
		var (
			n   int
			err error
		)
		if !ready {
			sctx, cancel := context.WithTimeout(ctx, p.cfg.PublishTimeout)
			err = EnsureStream(sctx, p.js, StreamConfig())
			cancel()
			ready = err == nil
		}
		if ready {
			n, err = p.Once(ctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && !failing:
			p.log.WarnContext(ctx, "events: cannot publish; will retry", "err", err)
		case err == nil && failing:
			p.log.InfoContext(ctx, "events: publishing again")
		}
		failing = err != nil
		if err == nil && n == p.cfg.Batch {
			continue // more may be pending
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.cfg.Poll):
		}
	}
}

// purge deletes the events older than Keep and reports the unpublished
// ones among them.
func (p *Publisher) purge(ctx context.Context, now time.Time) {
	_, dropped, err := p.st.PurgeEvents(ctx, now.Add(-p.cfg.Keep))
	switch {
	case err != nil:
		p.log.WarnContext(ctx, "events: purge failed", "err", err)
	case dropped > 0:
		p.log.WarnContext(ctx, "events: dropped unpublished events older than the keep period", "dropped", dropped, "keep", p.cfg.Keep)
		p.result(ResultDropped, int(dropped))
	}
}

func (p *Publisher) result(r Result, n int) {
	if p.cfg.OnResult != nil && n > 0 {
		p.cfg.OnResult(r, n)
	}
}

// Once claims one batch of pending events, publishes them in order,
// marks those JetStream acknowledged published, and returns how many it
// claimed. At the first publish without an ack it stops and returns that
// error, and it stops after half the lease: the rest stay claimed by this
// publisher, whose next claim takes them again (another publisher's after
// the lease).
func (p *Publisher) Once(ctx context.Context) (int, error) {
	now := p.cfg.Now()
	evs, err := p.st.ClaimEvents(ctx, p.cfg.Owner, now, now.Add(p.cfg.Lease), p.cfg.Batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	var (
		done     []int64
		dup      int
		firstErr error
	)
	// Half the lease for the batch: another publisher never takes over a
	// claim this one is still publishing (unless the process stalls).
	stop := now.Add(p.cfg.Lease / 2)
	for _, e := range evs {
		if len(done) > 0 && p.cfg.Now().After(stop) {
			break // the rest: this publisher's next claim
		}
		pctx, cancel := context.WithTimeout(ctx, p.cfg.PublishTimeout)
		d, err := Publish(pctx, p.js, p.cfg.Stream, e)
		cancel()
		if err != nil {
			firstErr = err
			p.result(ResultError, 1)
			break
		}
		if d {
			dup++
		}
		done = append(done, e.ID)
	}
	if len(done) > 0 {
		// Recorded even while shutting down: a repeat saved.
		if _, err := p.st.PublishedEvents(context.WithoutCancel(ctx), p.cfg.Owner, done, p.cfg.Now()); err != nil {
			// Not recorded: they are published again, and dropped as repeats.
			firstErr = errors.Join(firstErr, err)
		}
		p.result(ResultPublished, len(done)-dup)
		p.result(ResultDuplicate, dup)
	}
	return len(evs), firstErr
}
