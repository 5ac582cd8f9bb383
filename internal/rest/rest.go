// Package rest serves Stockwatch's REST/JSON API: grpc-gateway's
// translation of every StockService RPC, by the HTTP rules of
// proto/stockwatch/v1/stockwatch_http.yaml, and the OpenAPI document
// generated from them.
//
// The gateway calls a gRPC server in process, over an in-memory
// connection: every REST call goes through the server's interceptors
// (metrics, logging, admin token, and the error mapping that
// api.Server.Register installs), as a gRPC call does.
package rest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/stockwatch/stockwatch/internal/api"
	gw "github.com/stockwatch/stockwatch/proto/gateway/stockwatch/v1"
)

// Gateway is the REST/JSON API in front of one gRPC server.
type Gateway struct {
	srv  *grpc.Server
	lis  *bufconn.Listener
	conn *grpc.ClientConn
	mux  *runtime.ServeMux
	done chan struct{} // closed when srv.Serve returns
}

// New serves srv on an in-memory listener and returns a gateway that
// calls it. srv must serve StockService (api.Server.Register), under the
// interceptors its gRPC clients have (api.ServerOptions), without
// transport credentials: the connection never leaves the process. It
// returns an error if the gateway cannot be set up. Close stops srv.
func New(srv *grpc.Server) (*Gateway, error) {
	g := &Gateway{srv: srv, lis: bufconn.Listen(256 << 10), done: make(chan struct{})}
	go func() {
		defer close(g.done)
		_ = srv.Serve(g.lis) // returns when srv stops
	}()
	conn, err := grpc.NewClient("passthrough:///stockwatch",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return g.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(idempotencyKey),
	)
	if err != nil {
		g.Close()
		return nil, fmt.Errorf("rest: connect to the gRPC server: %w", err)
	}
	g.conn = conn
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
			// Field names as in the .proto (request_id, max_points), as
			// the OpenAPI document has them; unknown fields are an error,
			// not silently dropped.
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		// An e-mail may hold any character, '/' included: a path segment
		// is matched first, then unescaped whole.
		runtime.WithUnescapingMode(runtime.UnescapingModeAllCharacters),
		runtime.WithRoutingErrorHandler(routingError),
		// The server sends no metadata a REST client needs (and the
		// gRPC content type would only confuse it).
		runtime.WithOutgoingHeaderMatcher(noMetadata),
		runtime.WithOutgoingTrailerMatcher(noMetadata),
	)
	if err := gw.RegisterStockServiceHandler(context.Background(), g.mux, conn); err != nil {
		g.Close()
		return nil, fmt.Errorf("rest: register the gateway: %w", err)
	}
	return g, nil
}

// Conn returns the gateway's connection to the gRPC server, for other
// in-process clients (the web pages) that must meet the same
// interceptors. It is valid until Close.
func (g *Gateway) Conn() grpc.ClientConnInterface { return g.conn }

// Close stops the gRPC server, waiting for its running calls, and closes
// the connection to it.
func (g *Gateway) Close() {
	if g.conn != nil {
		g.conn.Close()
	}
	g.srv.GracefulStop()
	<-g.done
}

// ServeHTTP serves the API under /v1/ and its OpenAPI document at
// /openapi.json; anything else is 404. A request body may hold up to
// api.MaxMessageSize bytes, as a gRPC request; a larger one is 400.
// The Idempotency-Key header carries a mutation's request_id (see
// idempotencyKey).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/openapi.json" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(gw.OpenAPI)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, api.MaxMessageSize)
	keys := r.Header.Values("Idempotency-Key")
	if len(keys) > 0 {
		r = r.WithContext(context.WithValue(r.Context(), keyHeader{}, keys))
	}
	g.mux.ServeHTTP(w, r)
}

// keyHeader is the context key of a request's Idempotency-Key values.
type keyHeader struct{}

// idempotencyKey is the gateway connection's interceptor that gives a
// mutation (a request with a request_id field) its request id: the
// Idempotency-Key header's (IETF httpapi draft; a structured-field
// string, quoted or not), or the body's (or query's) request_id, which
// must then be the same; without either, a new random one, so that the
// call is recorded like any other but cannot be retried safely. It
// answers INVALID_ARGUMENT for two different ids or several headers.
// Other requests pass as they are.
func idempotencyKey(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	m, ok := req.(proto.Message)
	if !ok {
		return invoke(ctx, method, req, reply, cc, opts...)
	}
	msg := m.ProtoReflect()
	fd := msg.Descriptor().Fields().ByName("request_id")
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return invoke(ctx, method, req, reply, cc, opts...)
	}
	keys, _ := ctx.Value(keyHeader{}).([]string)
	body := msg.Get(fd).String()
	switch {
	case len(keys) > 1:
		return status.Error(codes.InvalidArgument, "more than one Idempotency-Key header")
	case len(keys) == 1:
		key := unquote(strings.TrimSpace(keys[0]))
		if body != "" && !strings.EqualFold(body, key) {
			return status.Error(codes.InvalidArgument, "the Idempotency-Key header and request_id differ")
		}
		msg.Set(fd, protoreflect.ValueOfString(key))
	case body == "":
		msg.Set(fd, protoreflect.ValueOfString(uuid.NewString()))
	}
	return invoke(ctx, method, req, reply, cc, opts...)
}

// unquote returns s without the double quotes of a structured-field
// string ("…"), which hold a UUID without escapes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func noMetadata(string) (string, bool) { return "", false }

// routingError answers a request that matches no rule as grpc-gateway
// does (a google.rpc.Status), but with 405 rather than 501 for a path
// that exists with another method.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
	if code != http.StatusMethodNotAllowed {
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, code)
		return
	}
	st := status.New(codes.Unimplemented, "method not allowed").Proto()
	buf, err := m.Marshal(st)
	if err != nil {
		http.Error(w, "method not allowed", code)
		return
	}
	w.Header().Set("Content-Type", m.ContentType(st))
	w.WriteHeader(code)
	_, _ = w.Write(buf)
}
