package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/money"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// The chart's drawing area, in SVG user units; the SVG scales to its box.
const (
	chartWidth  = 640
	chartHeight = 260
	padX        = 12
	padTop      = 28 // room for the maximum's label
	padBottom   = 40 // room for the minimum's label and the time axis
)

// chart is a price history drawn as an SVG line: x is linear in time over
// the requested range (gaps such as nights stay gaps), y spans the range's
// lowest to highest price.
type chart struct {
	Width, Height int
	Points        string // the polyline's "x,y x,y …"
	Min, Max      marker
	Last          marker
	Start, End    string // the time axis' labels
	AxisY         int
	// Summary says in words what the chart shows, for screen readers and
	// as the chart's title.
	Summary string
}

// marker is a marked point with its label.
type marker struct {
	X, Y   string
	LabelY string
	Anchor string // text-anchor of the label
	Label  string
}

// newChart draws h, the history of [since, until); nil when it holds no
// price.
func newChart(h *pb.PriceHistory, since, until time.Time) *chart {
	pts := h.GetPoints()
	if len(pts) == 0 || !since.Before(until) {
		return nil
	}
	lo, hi := h.GetMin().GetPrice(), h.GetMax().GetPrice()
	span := until.Sub(since).Seconds()
	plotW := float64(chartWidth - 2*padX)
	plotH := float64(chartHeight - padTop - padBottom)
	x := func(t time.Time) float64 {
		f := t.Sub(since).Seconds() / span
		return padX + min(max(f, 0), 1)*plotW
	}
	y := func(p float64) float64 {
		if hi == lo {
			return padTop + plotH/2
		}
		return padTop + (hi-p)/(hi-lo)*plotH
	}
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(x(p.GetMarketTime().AsTime())))
		b.WriteByte(',')
		b.WriteString(num(y(p.GetPrice())))
	}
	mark := func(p *pb.PricePoint, name string, above bool) marker {
		px, py := x(p.GetMarketTime().AsTime()), y(p.GetPrice())
		m := marker{X: num(px), Y: num(py), Anchor: "middle", Label: name + " " + money.Amount(p.GetPrice(), h.GetCurrency())}
		switch {
		case px < chartWidth/4:
			m.Anchor = "start"
		case px > chartWidth*3/4:
			m.Anchor = "end"
		}
		if above {
			m.LabelY = num(py - 9)
		} else {
			m.LabelY = num(py + 18)
		}
		return m
	}
	layout := "Jan 2 15:04"
	switch {
	case until.Sub(since) <= 3*time.Hour:
		layout = "15:04"
	case until.Sub(since) > 48*time.Hour:
		layout = "Jan 2"
	}
	c := &chart{
		Width: chartWidth, Height: chartHeight, Points: b.String(),
		Max:   mark(h.GetMax(), "max", true),
		Min:   mark(h.GetMin(), "min", false),
		Last:  mark(h.GetLast(), "last", true),
		Start: since.UTC().Format(layout), End: until.UTC().Format(layout) + " UTC",
		AxisY: chartHeight - 8,
	}
	c.Summary = h.GetTicker() + " from " + since.UTC().Format("2006-01-02 15:04") + " to " +
		until.UTC().Format("2006-01-02 15:04 UTC") + ": " + strconv.Itoa(int(h.GetCount())) +
		" prices, first " + money.Amount(h.GetFirst().GetPrice(), h.GetCurrency()) + ", last " + money.Amount(h.GetLast().GetPrice(), h.GetCurrency()) +
		", lowest " + money.Amount(lo, h.GetCurrency()) + ", highest " + money.Amount(hi, h.GetCurrency()) + " " + h.GetCurrency()
	return c
}

// num writes an SVG coordinate with one decimal.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
