// Package notifier delivers the notifications of price alerts: it claims
// due ones from the store's outbox (several notifiers share them as
// collectors share tickers), sends each through its channel's Sender
// behind a circuit breaker, and records the outcome: sent, due again
// after an exponential backoff with jitter, or failed after
// Config.MaxAttempts attempts.
//
// Delivery is at least once: a notifier that dies (or stalls past its
// claim) between a send and its record leaves the notification to be
// claimed again and sent again, with the same id, which receivers use to
// drop the repeat. docs/alerts.md states the windows.
package notifier

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/stockwatch/stockwatch/internal/breaker"
	"github.com/stockwatch/stockwatch/internal/defaults"
	"github.com/stockwatch/stockwatch/internal/stock"
)

// Store is what the notifier needs of the database. *store.DB implements it.
type Store interface {
	// ClaimNotifications claims for owner, until the given time, up to
	// limit notifications due by now, and returns them.
	ClaimNotifications(ctx context.Context, owner string, now, until time.Time, limit int) ([]stock.Notification, error)
	// UpdateNotification records an attempt's outcome and releases the
	// claim; false when owner no longer held it.
	UpdateNotification(ctx context.Context, u stock.NotificationUpdate) (bool, error)
	// PurgeNotifications deletes sent and failed notifications created
	// before the given time.
	PurgeNotifications(ctx context.Context, before time.Time) (int64, error)
}

// Sender delivers a notification on one channel. Its error says why the
// channel did not take it; the notifier retries.
type Sender interface {
	Send(ctx context.Context, n stock.Notification) error
}

// Result is what became of one claimed notification, for metrics.
type Result string

// The results.
const (
	ResultSent     Result = "sent"     // the channel took it
	ResultRetry    Result = "retry"    // failed; due again after a backoff
	ResultFailed   Result = "failed"   // failed for the last allowed time
	ResultDeferred Result = "deferred" // not tried: the channel's breaker is open
	ResultLost     Result = "lost"     // sent or not, the claim had passed to another notifier
)

// Config tunes a Notifier. Zero values take the defaults.
type Config struct {
	// Owner names this notifier in its claims (default: a random id).
	Owner string
	// Poll is the pause between claims when nothing was due (default 1s).
	Poll time.Duration
	// Batch is how many notifications one claim takes (default 16), and
	// Concurrency how many are sent at once (default 4).
	Batch, Concurrency int
	// Lease is how long a claim holds (default 2m): longer than a batch
	// takes to send (SendTimeout × Batch / Concurrency), or another
	// notifier may send the same notification again.
	Lease time.Duration
	// SendTimeout bounds one send (default 10s).
	SendTimeout time.Duration
	// MaxAttempts is the attempts after which a notification is failed
	// (default 8).
	MaxAttempts int
	// Keep is how long sent and failed notifications are kept (and shown
	// by ListNotifications); 0 keeps them all. Run purges older ones
	// once an hour.
	Keep time.Duration
	// Backoff is the pause after a first failure (default 30s); each
	// further one doubles it, up to MaxBackoff (default 1h). Each pause
	// is drawn between half and all of that (jitter), so that the retries
	// of many notifications spread out.
	Backoff, MaxBackoff time.Duration
	// BreakerFailures and BreakerTimeout configure each channel's breaker
	// (breaker.Config's defaults when 0).
	BreakerFailures uint32
	BreakerTimeout  time.Duration
	Now             func() time.Time
	// Rand returns a number in [0, 1) for the jitter (default math/rand/v2).
	Rand   func() float64
	Logger *slog.Logger
	// OnResult, when set, is called for every claimed notification with
	// its channel, what became of it, and for a sent one the time since
	// the crossing was stored (for metrics).
	OnResult func(channel stock.Channel, r Result, latency time.Duration)
	// OnBreakerChange, when set, is called with a breaker's name and new
	// state on every change.
	OnBreakerChange func(name string, to breaker.State)
}

// Notifier delivers notifications. Run runs it.
type Notifier struct {
	st      Store
	senders map[stock.Channel]Sender
	cfg     Config
	log     *slog.Logger

	mu       sync.Mutex
	breakers map[string]*breaker.Breaker
}

// maxBreakers bounds the breakers kept (one per webhook host): past it
// they start afresh, closed.
const maxBreakers = 1000

// New returns a Notifier that sends the notifications of each channel
// through senders[channel]; a notification of a channel without a sender
// is failed at once.
func New(st Store, senders map[stock.Channel]Sender, cfg Config) *Notifier {
	if cfg.Owner == "" {
		cfg.Owner = "notifier-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	defaults.Positive(&cfg.Poll, time.Second)
	defaults.Positive(&cfg.Lease, 2*time.Minute)
	defaults.Positive(&cfg.SendTimeout, 10*time.Second)
	defaults.Positive(&cfg.Backoff, 30*time.Second)
	defaults.Positive(&cfg.MaxBackoff, time.Hour)
	defaults.Positive(&cfg.Batch, 16)
	defaults.Positive(&cfg.Concurrency, 4)
	defaults.Positive(&cfg.MaxAttempts, 8)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{st: st, senders: senders, cfg: cfg, log: log, breakers: map[string]*breaker.Breaker{}}
}

// Run delivers due notifications until ctx ends, and returns nil then. A
// database or channel outage is logged and waited out: it never stops
// the loop, and the collector never waits for it.
func (nt *Notifier) Run(ctx context.Context) error {
	var purged time.Time
	for {
		if now := nt.cfg.Now(); nt.cfg.Keep > 0 && now.Sub(purged) >= time.Hour {
			purged = now
			if n, err := nt.st.PurgeNotifications(ctx, now.Add(-nt.cfg.Keep)); err != nil {
				nt.log.WarnContext(ctx, "notifier: purge failed", "err", err)
			} else if n > 0 {
				nt.log.InfoContext(ctx, "notifier: purged old notifications", "deleted", n)
			}
		}
		n, err := nt.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			nt.log.WarnContext(ctx, "notifier: claim failed", "err", err)
		}
		if n == nt.cfg.Batch {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(nt.cfg.Poll):
		}
	}
}

// Once claims one batch of due notifications, sends them, records the
// outcomes, and returns how many it claimed. It returns the claim's
// error; the errors of sends are recorded on the notifications.
func (nt *Notifier) Once(ctx context.Context) (int, error) {
	now := nt.cfg.Now()
	ns, err := nt.st.ClaimNotifications(ctx, nt.cfg.Owner, now, now.Add(nt.cfg.Lease), nt.cfg.Batch)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, nt.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, n := range ns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			nt.deliver(ctx, n)
		})
	}
	wg.Wait()
	return len(ns), nil
}

// deliver sends n and records the outcome.
func (nt *Notifier) deliver(ctx context.Context, n stock.Notification) {
	u := stock.NotificationUpdate{ID: n.ID, Owner: nt.cfg.Owner, State: stock.NotificationDue, Attempted: true, NextTime: n.NextTime}
	var (
		r   Result
		err error
	)
	s, ok := nt.senders[n.Channel]
	if !ok {
		err = errors.New("no sender configured for channel " + string(n.Channel))
	} else {
		// The timeout is the send's own: the breaker counts a send that
		// timed out as a failure (only the caller giving up is not).
		err = nt.breakerOf(n).Do(ctx, func(ctx context.Context) error {
			sctx, cancel := context.WithTimeout(ctx, nt.cfg.SendTimeout)
			defer cancel()
			return s.Send(sctx, n)
		})
	}
	now := nt.cfg.Now()
	switch {
	case err == nil: // recorded even while shutting down: a repeat saved
		r, u.State, u.SentTime = ResultSent, stock.NotificationSent, now
	case ctx.Err() != nil:
		return // shutting down mid-send: the claim expires and the next claimer sends it
	case errors.Is(err, breaker.ErrOpen):
		r, u.Attempted, u.NextTime = ResultDeferred, false, now.Add(nt.backoff(1))
		u.LastError = n.LastError
	case !ok || n.Attempts+1 >= nt.cfg.MaxAttempts:
		r, u.State, u.LastError = ResultFailed, stock.NotificationFailed, err.Error()
	default:
		r, u.NextTime, u.LastError = ResultRetry, now.Add(nt.backoff(n.Attempts+1)), err.Error()
	}
	held, uerr := nt.st.UpdateNotification(context.WithoutCancel(ctx), u)
	switch {
	case uerr != nil:
		// Not recorded: the claim expires and it is sent again (a repeat
		// with the same id when this send succeeded).
		nt.log.WarnContext(ctx, "notifier: could not record a delivery", "id", stock.NotificationID(n.ID), "result", r, "err", uerr)
		return
	case !held:
		r = ResultLost
	}
	if r != ResultSent && r != ResultDeferred {
		nt.log.InfoContext(ctx, "notifier: delivery", "id", stock.NotificationID(n.ID), "channel", n.Channel, "result", r, "attempt", n.Attempts+1, "err", err)
	}
	if nt.cfg.OnResult != nil {
		nt.cfg.OnResult(n.Channel, r, now.Sub(n.CreateTime))
	}
}

// backoff returns the pause after the attempt-th failure: Backoff ×
// 2^(attempt-1), at most MaxBackoff, times a random factor in [0.5, 1).
func (nt *Notifier) backoff(attempt int) time.Duration {
	d := nt.cfg.Backoff
	for i := 1; i < attempt && d < nt.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, nt.cfg.MaxBackoff)
	return time.Duration(float64(d) * (0.5 + nt.cfg.Rand()/2))
}

// breakerOf returns the breaker of n's channel: one for e-mail (one SMTP
// relay), one per host for webhooks, so that one user's broken receiver
// does not stop everyone else's.
func (nt *Notifier) breakerOf(n stock.Notification) *breaker.Breaker {
	name := string(n.Channel)
	if n.Channel == stock.ChannelWebhook {
		if u, err := url.Parse(n.WebhookURL); err == nil {
			name += ":" + u.Host
		}
	}
	nt.mu.Lock()
	defer nt.mu.Unlock()
	b, ok := nt.breakers[name]
	if !ok {
		if len(nt.breakers) >= maxBreakers {
			clear(nt.breakers)
		}
		b = breaker.NewCalls(breaker.Config{
			Name: name, Failures: nt.cfg.BreakerFailures, Timeout: nt.cfg.BreakerTimeout, Logger: nt.log,
			IsFailure: func(err error) bool { return err != nil },
			OnStateChange: func(_, to breaker.State) {
				if nt.cfg.OnBreakerChange != nil {
					nt.cfg.OnBreakerChange(name, to)
				}
			},
		})
		nt.breakers[name] = b
	}
	return b
}
