package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/money"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// printer writes a command's result as text or as JSON lines.
type printer struct {
	w    io.Writer
	json bool
	loc  *time.Location   // of the times in text output
	now  func() time.Time // the clock of a price's age
}

func newPrinter(w io.Writer, json bool, loc *time.Location, now func() time.Time) *printer {
	return &printer{w: w, json: json, loc: loc, now: now}
}

// message writes m as one line of protojson, with every field present
// (zero values too: a script reads {"deletedCount":"0"}, not {}).
// protojson varies its whitespace on purpose (so that nobody depends on
// it); compacting makes the line stable for scripts and golden files.
func (p *printer) message(m proto.Message) error {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %T: %w", m, err)
	}
	return p.jsonLine(b)
}

// jsonLine writes the JSON document b compacted on one line.
func (p *printer) jsonLine(b []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return fmt.Errorf("compact JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := p.w.Write(buf.Bytes())
	return err
}

// text writes a line of text.
func (p *printer) text(format string, args ...any) error {
	_, err := fmt.Fprintf(p.w, format+"\n", args...)
	return err
}

// time formats ts in the printer's zone; "-" when absent.
func (p *printer) time(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().In(p.loc).Format("2006-01-02 15:04:05 MST")
}

// age says how long ago t was, roughly: "just now", "2 min ago", "3 h
// ago", "40 days ago".
func age(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// The text forms of the responses, shared by the commands and the menu.

// table writes rows of tab-separated cells as aligned columns, without
// the trailing blanks of empty last cells.
func (p *printer) table(rows func(w io.Writer)) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	rows(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(p.w, out.String())
	return err
}

func (p *printer) userText(u *pb.User) error {
	err := p.table(func(w io.Writer) {
		fmt.Fprintln(w, "EMAIL\tTICKER\tSTATUS\tREGISTERED\tUPDATED")
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.GetEmail(), u.GetTicker(), statusWord(u.GetTickerStatus()), p.time(u.GetCreateTime()), p.time(u.GetUpdateTime()))
	})
	if err != nil {
		return err
	}
	return p.statusNote(u)
}

// savedText writes the answer of register or update: format, filled with
// the user's e-mail and ticker, then what the ticker's status means when
// it is not verified.
func (p *printer) savedText(format string, u *pb.User) error {
	if err := p.text(format, u.GetEmail(), u.GetTicker()); err != nil {
		return err
	}
	return p.statusNote(u)
}

// statusNote writes a line on the user's ticker unless it is verified (or
// the server did not say).
func (p *printer) statusNote(u *pb.User) error {
	switch u.GetTickerStatus() {
	case pb.TickerStatus_TICKER_STATUS_UNVERIFIED:
		return p.text("Ticker %s is not verified yet: a price should appear within a minute.", u.GetTicker())
	case pb.TickerStatus_TICKER_STATUS_UNKNOWN:
		return p.text("Ticker %s is not known to Yahoo Finance.", u.GetTicker())
	}
	return nil
}

// statusWord is a ticker status in a table: "verified", "unverified",
// "unknown", or "-" when the server did not say.
func statusWord(s pb.TickerStatus) string {
	switch s {
	case pb.TickerStatus_TICKER_STATUS_VERIFIED:
		return "verified"
	case pb.TickerStatus_TICKER_STATUS_UNVERIFIED:
		return "unverified"
	case pb.TickerStatus_TICKER_STATUS_UNKNOWN:
		return "unknown"
	}
	return "-"
}

// priceText writes a price with its age: "AAPL: 187.42 USD, 2 min ago
// (2026-03-02 15:03:00 UTC)".
func (p *printer) priceText(pr *pb.Price) error {
	return p.text("%s: %s, %s (%s)", pr.GetTicker(), money.Format(pr.GetPrice(), pr.GetCurrency()),
		age(pr.GetMarketTime().AsTime(), p.now()), p.time(pr.GetMarketTime()))
}

func (p *printer) averageText(a *pb.AveragePrice) error {
	span := fmt.Sprintf("%s to %s", p.time(a.GetOldestMarketTime()), p.time(a.GetNewestMarketTime()))
	if a.GetCount() == 1 {
		span = "at " + p.time(a.GetNewestMarketTime())
	}
	note := ""
	if a.GetCount() < a.GetRequested() {
		note = fmt.Sprintf("; %d requested, only %d stored", a.GetRequested(), a.GetCount())
	}
	return p.text("%s: average %s of the last %s (%s%s)", a.GetTicker(), money.Format(a.GetAverage(), a.GetCurrency()),
		plural(int64(a.GetCount()), "price", "prices"), span, note)
}

// historyText writes a price history over the range given as since
// ("24h", "7d"): a heading, a sparkline of its points, then the first,
// last, lowest and highest price and the change from first to last.
//
//	AAPL, last 24h: 3 prices, 2026-03-02 15:01:00 UTC to 2026-03-02 15:03:00 UTC
//	▁▄█
//	first 187.10 USD  last 187.42 USD  min 187.10 USD  max 187.42 USD  change +0.2%
func (p *printer) historyText(h *pb.PriceHistory, since string) error {
	if len(h.GetPoints()) == 0 {
		return p.text("%s, last %s: no prices.", h.GetTicker(), since)
	}
	price := func(pt *pb.PricePoint) string { return money.Format(pt.GetPrice(), h.GetCurrency()) }
	span := fmt.Sprintf("%s to %s", p.time(h.GetFirst().GetMarketTime()), p.time(h.GetLast().GetMarketTime()))
	if h.GetCount() == 1 {
		span = "at " + p.time(h.GetLast().GetMarketTime())
	}
	return p.text("%s, last %s: %s, %s\n%s\nfirst %s  last %s  min %s  max %s  change %s",
		h.GetTicker(), since, plural(int64(h.GetCount()), "price", "prices"), span, sparkline(h.GetPoints()),
		price(h.GetFirst()), price(h.GetLast()), price(h.GetMin()), price(h.GetMax()), percent(h.GetChangePercent()))
}

// sparkBars are the levels of a sparkline, lowest first.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws one bar per point, scaled from the lowest point (▁) to
// the highest (█); a flat line is drawn at mid height (▄), since neither
// end of the scale means anything then.
func sparkline(points []*pb.PricePoint) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pt := range points {
		lo, hi = min(lo, pt.GetPrice()), max(hi, pt.GetPrice())
	}
	var b strings.Builder
	for _, pt := range points {
		level := 3
		if hi > lo {
			level = int(math.Round((pt.GetPrice() - lo) / (hi - lo) * float64(len(sparkBars)-1)))
		}
		b.WriteRune(sparkBars[level])
	}
	return b.String()
}

// percent formats a change in percent with its sign and one decimal:
// "+1.8%", "-0.3%"; "+0.0%" for what rounds to zero either way.
func percent(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // not -0, which would print as "-0.0%"
	}
	return fmt.Sprintf("%+.1f%%", v)
}

// usersTable writes users with their latest price as a table.
func (p *printer) usersTable(users []*pb.UserWithPrice) error {
	return p.table(func(w io.Writer) {
		fmt.Fprintln(w, "EMAIL\tTICKER\tSTATUS\tLATEST\tMARKET TIME")
		for _, u := range users {
			lp := u.GetLatestPrice()
			if lp == nil {
				fmt.Fprintf(w, "%s\t%s\t%s\t-\t\n", u.GetUser().GetEmail(), u.GetUser().GetTicker(), statusWord(u.GetUser().GetTickerStatus()))
				continue
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.GetUser().GetEmail(), u.GetUser().GetTicker(), statusWord(u.GetUser().GetTickerStatus()),
				money.Format(lp.GetPrice(), lp.GetCurrency()), p.time(lp.GetMarketTime()))
		}
	})
}

// pricesTable writes prices as a table.
func (p *printer) pricesTable(prices []*pb.Price) error {
	return p.table(func(w io.Writer) {
		fmt.Fprintln(w, "TICKER\tPRICE\tMARKET TIME")
		for _, pr := range prices {
			fmt.Fprintf(w, "%s\t%s\t%s\n", pr.GetTicker(), money.Format(pr.GetPrice(), pr.GetCurrency()), p.time(pr.GetMarketTime()))
		}
	})
}

// printVersion prints the client's version (module version and VCS
// revision): {"version":"…"} with -o json, "stockwatch VERSION" otherwise.
func printVersion(out *printer) error {
	v := cliconfig.BinaryVersion()
	if out.json {
		b, err := json.Marshal(struct {
			Version string `json:"version"`
		}{v})
		if err != nil {
			return err
		}
		return out.jsonLine(b)
	}
	return out.text("stockwatch %s", v)
}
