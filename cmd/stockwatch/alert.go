package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/stockwatch/stockwatch/internal/apitext"
	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/money"
	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// The alert commands are flat names in the command table (alert-set,
// alert-show, alert-clear) like every other command: the table, the
// usage list, the menu and the goldens all work on one level of names.

// band is the flags of alert-set: the thresholds and the channels.
type band struct {
	above, below float64
	webhook      string
	email        bool
}

func (b *band) flags(fs *flag.FlagSet) {
	fs.Float64Var(&b.above, "above", 0, "tell when the price rises above `PRICE` (in the ticker's currency; 0: unset)")
	fs.Float64Var(&b.below, "below", 0, "tell when the price falls below `PRICE` (0: unset)")
	fs.StringVar(&b.webhook, "webhook", "", "also POST signed JSON to `URL` (http or https); then e-mail only with -email")
	fs.BoolVar(&b.email, "email", false, "tell by e-mail to the registered address (the default without -webhook)")
}

// channels returns the channels the flags choose: the webhook when -webhook
// is given, e-mail when -email is, e-mail alone when neither is.
func (b *band) channels() []pb.Channel {
	var cs []pb.Channel
	if b.email || b.webhook == "" {
		cs = append(cs, pb.Channel_CHANNEL_EMAIL)
	}
	if b.webhook != "" {
		cs = append(cs, pb.Channel_CHANNEL_WEBHOOK)
	}
	return cs
}

// check applies the server's rules for a band (stock.ValidateAlert) to
// the flags, so that a bad band is a usage error.
func (b *band) check() error {
	cs := []stock.Channel{stock.ChannelEmail}
	if b.webhook != "" {
		cs = []stock.Channel{stock.ChannelWebhook}
	}
	_, err := stock.ValidateAlert(b.above, b.below, cs, b.webhook)
	return domainErr(err)
}

func alertSetCmd() *command {
	var b band
	return &command{
		name:    "alert-set",
		args:    []arg{emailArg},
		summary: "set the user's price alert band (-above, -below)",
		help: "Sets (or replaces) the price alert of EMAIL on the ticker it tracks: one notification each time a\n" +
			"newly collected price goes above -above or below -below (at least one; below < above, in the ticker's\n" +
			"currency), told again only after the price came back inside the band. By e-mail to EMAIL unless\n" +
			"-webhook is given (-email -webhook URL: both); e-mail needs a server run with -smtp-url, or the\n" +
			"notification fails. A user's first band prints the secret that signs their webhooks (also those of a\n" +
			"webhook added later): store it, it is shown only once. Changing the user's ticker clears the band.\n" +
			"Fails with NOT_FOUND if EMAIL is not registered.",
		example: "stockwatch alert-set alice@example.com -above 210 -below 180 -webhook https://hooks.example.com/sw",
		flags:   b.flags,
		check:   b.check,
		run: rpc(func(ctx context.Context, c *client.Client, p params) (*pb.Alert, error) {
			return c.SetAlert(ctx, p.email, b.above, b.below, b.channels(), b.webhook)
		}, func(out *printer, _ params, a *pb.Alert) error {
			if err := out.text("Alert set for %s: %s.", a.GetEmail(), bandText(a)); err != nil {
				return err
			}
			if s := a.GetWebhookSecret(); s != "" {
				// Made by the first band of a user, webhook or not: the
				// only chance to see what signs a webhook added later.
				return out.text("Webhook secret: %s\nStore it: it is shown only once; it signs this user's webhooks, now and later.", s)
			}
			return nil
		}),
	}
}

func alertShowCmd() *command {
	return &command{
		name:    "alert-show",
		args:    []arg{emailArg},
		summary: "show the user's price alert band",
		help: "Shows the price alert of EMAIL: the ticker, the thresholds, the channels and when it was set (never\n" +
			"the webhook secret). Fails with NOT_FOUND if EMAIL is not registered or has no alert.",
		example: "stockwatch alert-show alice@example.com",
		run: rpc(byEmail((*client.Client).GetAlert), func(out *printer, _ params, a *pb.Alert) error {
			return out.text("%s: %s; set %s.", a.GetEmail(), bandText(a), out.time(a.GetCreateTime()))
		}),
	}
}

func alertClearCmd() *command {
	return &command{
		name:    "alert-clear",
		args:    []arg{emailArg},
		summary: "clear the user's price alert band",
		help: "Clears the price alert of EMAIL and forgets its webhook secret (the next alert-set makes a new\n" +
			"one); notifications already due are still delivered. Fails with NOT_FOUND if EMAIL is not\n" +
			"registered or has no alert.",
		example: "stockwatch alert-clear alice@example.com",
		run: rpc(byEmail((*client.Client).DeleteAlert), func(out *printer, p params, _ *pb.DeleteAlertResponse) error {
			return out.text("Cleared the price alert of %s.", p.email)
		}),
	}
}

func notificationsCmd() *command {
	var lim limit
	return &command{
		name:    "notifications",
		args:    []arg{emailArg},
		summary: "the user's price alert notifications, newest first",
		help: "Lists the notifications of EMAIL's price alerts, newest first: the crossing's market time, its\n" +
			"direction, the price against the threshold, the channel, the delivery state (due, sent, failed),\n" +
			"the attempts and the last error; all pages unless -limit says otherwise. With -o json: one\n" +
			"Notification object per line. Fails with NOT_FOUND if EMAIL is not registered.",
		example: "stockwatch notifications alice@example.com -limit 10",
		flags:   lim.flags("notifications"),
		check:   lim.check,
		run: listing(&lim, func(ctx context.Context, c *client.Client, p params, size int32) iter.Seq2[*pb.Notification, error] {
			return c.AllNotifications(ctx, p.email, size)
		}, "No notifications.", (*printer).notificationsTable),
	}
}

// bandText says what a band tells and how: "AAPL above 210.00 or below
// 180.00, by e-mail and webhook https://…". Thresholds are amounts in
// the ticker's currency, which the band does not carry.
func bandText(a *pb.Alert) string {
	var sides []string
	if a.GetAbove() > 0 {
		sides = append(sides, "above "+money.Amount(a.GetAbove(), ""))
	}
	if a.GetBelow() > 0 {
		sides = append(sides, "below "+money.Amount(a.GetBelow(), ""))
	}
	var chans []string
	for _, c := range a.GetChannels() {
		chans = append(chans, apitext.Channel(c))
		if c == pb.Channel_CHANNEL_WEBHOOK {
			chans[len(chans)-1] += " " + a.GetWebhookUrl()
		}
	}
	return fmt.Sprintf("%s %s, by %s", a.GetTicker(), strings.Join(sides, " or "), strings.Join(chans, " and "))
}

// stateWord names a notification's delivery state for people.
func stateWord(s pb.NotificationState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "NOTIFICATION_STATE_"))
}

// notificationsTable writes notifications as a table.
func (p *printer) notificationsTable(ns []*pb.Notification) error {
	return p.table(func(w io.Writer) {
		fmt.Fprintln(w, "MARKET TIME\tTICKER\tDIRECTION\tPRICE VS THRESHOLD\tCHANNEL\tSTATE\tATTEMPTS\tLAST ERROR")
		for _, n := range ns {
			op := ">"
			if n.GetDirection() == "below" {
				op = "<"
			}
			vs := money.Format(n.GetPrice(), n.GetCurrency()) + " " + op + " " + money.Amount(n.GetThreshold(), n.GetCurrency())
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", p.time(n.GetMarketTime()), n.GetTicker(), n.GetDirection(), vs,
				apitext.Channel(n.GetChannel()), stateWord(n.GetState()), n.GetAttempts(), n.GetLastError())
		}
	})
}
