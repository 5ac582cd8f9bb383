// Package resttest serves the API as the daemon's HTTP side does, for the
// tests of the REST gateway and of the pages that call the API through it.
package resttest

import (
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/rest"
)

// Gateway returns the REST gateway of the API on st, with the daemon's
// server options and admin token adminToken ("" for none), its clock
// stopped at now. It is closed when tb ends; it fails tb if the gateway
// cannot be made.
func Gateway(tb testing.TB, st api.Store, adminToken string, now time.Time) *rest.Gateway {
	tb.Helper()
	gs := grpc.NewServer(api.ServerOptions(slog.New(slog.DiscardHandler), adminToken)...)
	api.New(st, api.Config{Now: func() time.Time { return now }}).Register(gs)
	g, err := rest.New(gs)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(g.Close)
	return g
}
