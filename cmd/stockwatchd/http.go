package main

import (
	"fmt"

	"google.golang.org/grpc"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/rest"
	"github.com/stockwatch/stockwatch/internal/web"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// setupREST sets up the REST/JSON API and the web pages of -http-addr: a
// gRPC server of its own, with the API's options and interceptors but no
// TLS (its one connection is in memory), serving srv, behind the gateway;
// the pages call the API over the gateway's connection. The API's TLS
// configuration would otherwise apply to that connection too, and with
// -tls-client-ca demand a client certificate of the gateway.
func (d *daemon) setupREST(srv *api.Server) error {
	gs := grpc.NewServer(api.ServerOptions(d.log, d.cfg.AdminToken, d.met.GRPC.UnaryServerInterceptor())...)
	srv.Register(gs)
	d.met.GRPC.InitializeMetrics(gs)
	g, err := rest.New(gs)
	if err != nil {
		return fmt.Errorf("-http-addr: %w", err)
	}
	d.rest = g
	d.web, err = web.New(pb.NewStockServiceClient(g.Conn()), web.Config{Secure: d.tls != nil, Logger: d.log})
	if err != nil {
		return fmt.Errorf("-http-addr: %w", err)
	}
	return nil
}
