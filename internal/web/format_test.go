package web

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Minute:           "just now",
		59 * time.Second:       "just now",
		time.Minute:            "1 minute ago",
		59 * time.Minute:       "59 minutes ago",
		time.Hour:              "1 hour ago",
		47 * time.Hour:         "47 hours ago",
		48 * time.Hour:         "2 days ago",
		400 * 24 * time.Hour:   "400 days ago",
		36*time.Hour + 59*60e9: "36 hours ago",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSentence(t *testing.T) {
	for s, want := range map[string]string{"": "", "user a@x.com not found": "User a@x.com not found.", "done.": "Done.", "élan": "Élan."} {
		if got := sentence(s); got != want {
			t.Errorf("sentence(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestNextRequestID: after a transient failure the form keeps its id (a
// retry must not execute twice); after any other, it gets a new one.
func TestNextRequestID(t *testing.T) {
	const id = "5f0c6b9e-2a43-4c8e-9b1d-3f6a7c2e8d10"
	for _, tt := range []struct {
		err  error
		sent string
		keep bool
	}{
		{status.Error(codes.Unavailable, "database unavailable"), id, true},
		{status.Error(codes.Aborted, "deadlock"), id, true},
		{status.Error(codes.DeadlineExceeded, "deadline exceeded"), id, true},
		{status.Error(codes.Unavailable, "database unavailable"), "not-a-uuid", false},
		{status.Error(codes.AlreadyExists, "exists"), id, false},
		{status.Error(codes.InvalidArgument, "bad"), id, false},
		{errors.New("plain"), id, false},
	} {
		got := nextRequestID(tt.err, tt.sent)
		if (got == tt.sent) != tt.keep || len(got) != 36 {
			t.Errorf("nextRequestID(%v, %q) = %q, keep %v", tt.err, tt.sent, got, tt.keep)
		}
	}
}

// TestChart: x is linear in time over the range asked, y spans the
// lowest to highest price; min and max are marked with their prices.
func TestChart(t *testing.T) {
	since := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	until := since.Add(time.Hour)
	pt := func(min int, p float64) *pb.PricePoint {
		return &pb.PricePoint{MarketTime: timestamppb.New(since.Add(time.Duration(min) * time.Minute)), Price: p}
	}
	h := &pb.PriceHistory{
		Ticker: "AAPL", Currency: "USD", Count: 3,
		Points: []*pb.PricePoint{pt(0, 10), pt(30, 20), pt(60, 15)},
		First:  pt(0, 10), Last: pt(60, 15), Min: pt(0, 10), Max: pt(30, 20),
	}
	got := newChart(h, since, until, nil)
	want := &chart{
		Width: 640, Height: 260, AxisY: 252,
		// x from 12 to 628, y from 28 (20) to 220 (10).
		Points: "12.0,220.0 320.0,28.0 628.0,124.0",
		Max:    marker{X: "320.0", Y: "28.0", LabelY: "19.0", Anchor: "middle", Label: "max 20.00"},
		Min:    marker{X: "12.0", Y: "220.0", LabelY: "238.0", Anchor: "start", Label: "min 10.00"},
		Last:   marker{X: "628.0", Y: "124.0", LabelY: "115.0", Anchor: "end", Label: "last 15.00"},
		Start:  "10:00", End: "11:00 UTC",
		Summary: "AAPL from 2026-01-02 10:00 to 2026-01-02 11:00 UTC: 3 prices, first 10.00, last 15.00, lowest 10.00, highest 20.00 USD",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chart mismatch (-want +got):\n%s", diff)
	}
	if c := newChart(&pb.PriceHistory{Ticker: "AAPL"}, since, until, nil); c != nil {
		t.Errorf("chart of no price = %+v, want nil", c)
	}
	// A band: the axis spans its lines too (10 to 25), each labelled.
	banded := newChart(h, since, until, &pb.Alert{Above: 25, Below: 12})
	wantBands := []bandLine{
		{Class: "above", Y: "28.0", LabelY: "24.0", Label: "alert above 25.00"},
		{Class: "below", Y: "194.4", LabelY: "190.4", Label: "alert below 12.00"},
	}
	if diff := cmp.Diff(wantBands, banded.Bands); diff != "" {
		t.Errorf("band lines mismatch (-want +got):\n%s", diff)
	}
	if want := "12.0,220.0 320.0,92.0 628.0,156.0"; banded.Points != want {
		t.Errorf("banded points = %q, want %q", banded.Points, want)
	}
	if want := want.Summary + "; alert above 25.00; alert below 12.00"; banded.Summary != want {
		t.Errorf("banded summary = %q, want %q", banded.Summary, want)
	}
	flat := &pb.PriceHistory{Points: []*pb.PricePoint{pt(0, 5), pt(60, 5)}, Min: pt(0, 5), Max: pt(0, 5), First: pt(0, 5), Last: pt(60, 5)}
	if c := newChart(flat, since, until, nil); c.Points != "12.0,124.0 628.0,124.0" {
		t.Errorf("flat chart points = %q, want a line across the middle", c.Points)
	}
}
