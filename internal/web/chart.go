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
	// Bands are the user's alert thresholds, as dashed lines.
	Bands []bandLine
}

// bandLine is one threshold of an alert band drawn across the chart.
type bandLine struct {
	Class  string // "above" or "below"
	Y      string
	LabelY string
	Label  string
}

// marker is a marked point with its label.
type marker struct {
	X, Y   string
	LabelY string
	Anchor string // text-anchor of the label
	Label  string
}

// newChart draws h, the history of [since, until), with the thresholds of
// band (nil: none) as dashed lines; the price axis spans the thresholds
// too, so that a line is always on the chart. It returns nil when h holds
// no price.
func newChart(h *pb.PriceHistory, since, until time.Time, band *pb.Alert) *chart {
	pts := h.GetPoints()
	if len(pts) == 0 || !since.Before(until) {
		return nil
	}
	pl := plot{
		since: since, span: until.Sub(since).Seconds(), lo: h.GetMin().GetPrice(), hi: h.GetMax().GetPrice(),
		w: float64(chartWidth - 2*padX), h: float64(chartHeight - padTop - padBottom), cur: h.GetCurrency(),
	}
	sides := []struct {
		class string
		v     float64
	}{{"above", band.GetAbove()}, {"below", band.GetBelow()}}
	for _, sd := range sides {
		if sd.v > 0 {
			pl.lo, pl.hi = min(pl.lo, sd.v), max(pl.hi, sd.v)
		}
	}
	var bands []bandLine
	for _, sd := range sides {
		if sd.v > 0 {
			y := pl.y(sd.v)
			bands = append(bands, bandLine{Class: sd.class, Y: num(y), LabelY: num(y - 4), Label: "alert " + sd.class + " " + pl.amount(sd.v)})
		}
	}
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(pl.x(p.GetMarketTime().AsTime())))
		b.WriteByte(',')
		b.WriteString(num(pl.y(p.GetPrice())))
	}
	layout := axisLayout(until.Sub(since))
	c := &chart{
		Width: chartWidth, Height: chartHeight, Points: b.String(),
		Max:   pl.mark(h.GetMax(), "max", true),
		Min:   pl.mark(h.GetMin(), "min", false),
		Last:  pl.mark(h.GetLast(), "last", true),
		Start: since.UTC().Format(layout), End: until.UTC().Format(layout) + " UTC",
		AxisY: chartHeight - 8, Bands: bands,
		Summary: h.GetTicker() + " from " + since.UTC().Format("2006-01-02 15:04") + " to " +
			until.UTC().Format("2006-01-02 15:04 UTC") + ": " + strconv.Itoa(int(h.GetCount())) +
			" prices, first " + pl.amount(h.GetFirst().GetPrice()) + ", last " + pl.amount(h.GetLast().GetPrice()) +
			", lowest " + pl.amount(h.GetMin().GetPrice()) + ", highest " + pl.amount(h.GetMax().GetPrice()) + " " + pl.cur,
	}
	for _, b := range bands {
		c.Summary += "; " + b.Label
	}
	return c
}

// plot maps a price history's times and prices to the chart's plotting
// area: x linear in time from since over span seconds, y linear in price
// from hi (top) to lo (bottom), w × h inside the paddings.
type plot struct {
	since        time.Time
	span, lo, hi float64
	w, h         float64
	cur          string
}

func (pl plot) x(t time.Time) float64 {
	f := t.Sub(pl.since).Seconds() / pl.span
	return padX + min(max(f, 0), 1)*pl.w
}

func (pl plot) y(p float64) float64 {
	if pl.hi == pl.lo {
		return padTop + pl.h/2
	}
	return padTop + (pl.hi-p)/(pl.hi-pl.lo)*pl.h
}

func (pl plot) amount(v float64) string { return money.Amount(v, pl.cur) }

// mark places a labelled point, its label above or below it and anchored
// so that it stays inside the chart.
func (pl plot) mark(p *pb.PricePoint, name string, above bool) marker {
	px, py := pl.x(p.GetMarketTime().AsTime()), pl.y(p.GetPrice())
	m := marker{X: num(px), Y: num(py), Anchor: "middle", Label: name + " " + pl.amount(p.GetPrice())}
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

// axisLayout is the time format of the axis' ends for a range of d.
func axisLayout(d time.Duration) string {
	switch {
	case d <= 3*time.Hour:
		return "15:04"
	case d > 48*time.Hour:
		return "Jan 2"
	}
	return "Jan 2 15:04"
}

// num writes an SVG coordinate with one decimal.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
