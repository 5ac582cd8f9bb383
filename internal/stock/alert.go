package stock

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Channel is a way a notification reaches a user.
type Channel string

// The channels.
const (
	ChannelEmail   Channel = "email"   // to the user's registered address
	ChannelWebhook Channel = "webhook" // HTTP POST to the alert's URL, signed
)

// Direction says which threshold a price crossed.
type Direction string

// The directions.
const (
	Above Direction = "above"
	Below Direction = "below"
)

// Limits of an alert.
const (
	MaxWebhookURLLen = 2048
	// DefaultHysteresis is the fraction of a threshold by which a price
	// must come back inside the band to re-arm that side.
	DefaultHysteresis = 0.005
)

// Alert is a user's alert band on their ticker. Above and Below are the
// thresholds (0: that side is unset). A side is armed when the next
// price beyond it is a crossing: at first, and again once a price came
// back inside the band by Hysteresis (a fraction of the threshold).
type Alert struct {
	Email         string
	Ticker        string
	Above, Below  float64
	Channels      []Channel
	WebhookURL    string
	WebhookSecret string // only set when SetAlert made it
	Hysteresis    float64
	CreateTime    time.Time
	ArmedAbove    bool
	ArmedBelow    bool
}

// Crossing is one threshold crossed by a newly stored price.
type Crossing struct {
	Direction Direction
	Threshold float64
	Price     Price
}

// Observe applies the next newly stored price of the alert's ticker (in
// market time order) to its armed sides and returns the crossings it
// makes: a price beyond an armed side crosses it and disarms it; a price
// inside the band by the hysteresis re-arms a side.
func (a *Alert) Observe(p Price) []Crossing {
	var out []Crossing
	if a.Above > 0 {
		switch {
		case p.Price > a.Above && a.ArmedAbove:
			a.ArmedAbove = false
			out = append(out, Crossing{Above, a.Above, p})
		case p.Price <= a.Above*(1-a.Hysteresis):
			a.ArmedAbove = true
		}
	}
	if a.Below > 0 {
		switch {
		case p.Price < a.Below && a.ArmedBelow:
			a.ArmedBelow = false
			out = append(out, Crossing{Below, a.Below, p})
		case p.Price >= a.Below*(1+a.Hysteresis):
			a.ArmedBelow = true
		}
	}
	return out
}

// ValidateAlert checks a band and its channels as a client sent them and
// returns the channels deduplicated in a fixed order (e-mail, webhook).
// It returns an error of KindInvalid for a threshold that is not a
// positive finite number (0 is unset), no threshold, below not under
// above, no channel, or a webhook URL that is missing with the webhook
// channel, given without it, or not http(s).
func ValidateAlert(above, below float64, channels []Channel, webhookURL string) ([]Channel, error) {
	for _, t := range []struct {
		name string
		v    float64
	}{{"above", above}, {"below", below}} {
		switch {
		case math.IsNaN(t.v) || math.IsInf(t.v, 0):
			return nil, Errorf(KindInvalid, "%s must be a finite number", t.name)
		case t.v < 0:
			return nil, Errorf(KindInvalid, "%s must be positive, got %g", t.name, t.v)
		}
	}
	switch {
	case above == 0 && below == 0:
		return nil, Errorf(KindInvalid, "above or below is required")
	case above > 0 && below > 0 && below >= above:
		return nil, Errorf(KindInvalid, "below (%g) must be less than above (%g)", below, above)
	}
	var out []Channel
	for _, c := range []Channel{ChannelEmail, ChannelWebhook} {
		if slices.Contains(channels, c) {
			out = append(out, c)
		}
	}
	for _, c := range channels {
		if c != ChannelEmail && c != ChannelWebhook {
			return nil, Errorf(KindInvalid, "channel %q is not valid (email or webhook)", truncate(string(c), 40))
		}
	}
	hasWebhook := slices.Contains(out, ChannelWebhook)
	switch {
	case len(out) == 0:
		return nil, Errorf(KindInvalid, "at least one channel is required")
	case hasWebhook && webhookURL == "":
		return nil, Errorf(KindInvalid, "webhook_url is required with the webhook channel")
	case !hasWebhook && webhookURL != "":
		return nil, Errorf(KindInvalid, "webhook_url is set without the webhook channel")
	case len(webhookURL) > MaxWebhookURLLen:
		return nil, Errorf(KindInvalid, "webhook_url is longer than %d bytes", MaxWebhookURLLen)
	}
	if hasWebhook {
		u, err := url.Parse(webhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, Errorf(KindInvalid, "webhook_url must be an http or https URL without credentials")
		}
	}
	return out, nil
}

// NotificationState is where a notification's delivery stands.
type NotificationState string

// The notification states.
const (
	NotificationDue    NotificationState = "due"
	NotificationSent   NotificationState = "sent"
	NotificationFailed NotificationState = "failed"
)

// Notification is one crossing to tell on one channel.
type Notification struct {
	ID      int64 // storage key; stable across retries
	Email   string
	Channel Channel
	// For ChannelWebhook: where to, and the secret that signs it, as
	// they were when the crossing happened.
	WebhookURL    string
	WebhookSecret string
	Crossing
	State      NotificationState
	Attempts   int
	LastError  string
	CreateTime time.Time
	NextTime   time.Time // when the next attempt is due
	SentTime   time.Time // zero unless sent
}

// NotificationID returns the stable text id of notification id, the one
// receivers see (webhook-id, Message-ID).
func NotificationID(id int64) string { return "ntf_" + strconv.FormatInt(id, 10) }

// NotificationUpdate is the outcome of one delivery attempt (or of none,
// when Attempted is false: the channel's breaker was open).
type NotificationUpdate struct {
	ID        int64
	Owner     string // the claimer: an update of a claim lost is ignored
	State     NotificationState
	Attempted bool
	LastError string
	NextTime  time.Time // when due again (State due)
	SentTime  time.Time // State sent
}
