package api

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// MaxMessageSize bounds a request: the largest legitimate one is well
// under a kilobyte.
const MaxMessageSize = 64 << 10

// MaxConcurrentStreams bounds the RPCs one connection may have open at
// once; the server refuses more (RST_STREAM REFUSED_STREAM), and grpc-go
// clients queue calls beyond it instead of failing them. 100 is the
// smallest value HTTP/2 recommends (RFC 9113, 6.5.2) and what grpc-go
// used by default until 2017. Without a limit a client that opens streams
// and never sends their requests makes the server hold a goroutine and
// buffers per stream, without end.
const MaxConcurrentStreams = 100

// MaxHeaderListSize bounds a request's headers (metadata), uncompressed.
// A Stockwatch request carries a few hundred bytes (path, content type,
// deadline, user agent, bearer token); grpc-go's default is 16 MiB.
const MaxHeaderListSize = 16 << 10

// Connection bounds other than the caps above; see ServerOptions.
const (
	// handshakeTimeout bounds a new connection's TLS and HTTP/2 handshake
	// (grpc-go's default is 120s): a connection that sends nothing holds a
	// slot of the daemon's connection limit for no longer than this.
	handshakeTimeout = 10 * time.Second
	// maxConnectionAge is when the server asks a client to reconnect
	// (GOAWAY; grpc-go adds ±10% jitter), and maxConnectionAgeGrace how
	// long its RPCs then have to finish before the connection closes.
	// grpc-go has no timeout for a request message that never comes: a
	// stream opened without one lives until the client ends it or the
	// connection closes, and keepalive's MaxConnectionIdle only closes
	// connections without streams. The age bounds that, and it spreads
	// clients over replicas added since they connected.
	maxConnectionAge      = 30 * time.Minute
	maxConnectionAgeGrace = 5 * time.Minute

	// streamWorkers is how many goroutines the server keeps to run RPCs,
	// one at a time each; an RPC that finds none free gets a goroutine of
	// its own, as without them. A new goroutine starts with a small stack
	// and grows it (runtime.morestack, copying) as the handler chain
	// deepens: under load that was 11 % of the daemon's CPU (perf, c=16).
	// A worker keeps its grown stack from one RPC to the next. Idle, each
	// costs its stack, some KiB.
	streamWorkers = 64
)

// ServerOptions returns the grpc-go server options of the Stockwatch API,
// for the daemon and for anything measured against it: the bounds on what
// one connection can make the server hold (message size, flow-control
// window, concurrent streams, header list size, handshake time, connection
// age), StrictCodec, keepalive enforcement, a pool of goroutines that run
// the RPCs (streamWorkers), waiting for handlers on Stop
// (they may still use the database, which closes after them), and the
// unary interceptor chain: first (e.g. metrics), one log line per RPC,
// AdminAuth(adminToken), then RejectMalformed.
//
// The number of connections is the listener's to bound (the daemon's
// -max-connections).
func ServerOptions(log *slog.Logger, adminToken string, first ...grpc.UnaryServerInterceptor) []grpc.ServerOption {
	chain := slices.Concat(first, []grpc.UnaryServerInterceptor{logRPC(log), AdminAuth(adminToken), RejectMalformed()})
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		// A fixed window of one largest request per stream. grpc-go's
		// default window grows with the measured bandwidth-delay product
		// up to 16 MiB, and a client that delays its ping acks can make it
		// grow: the data a stream buffers beyond its request while the
		// handler runs would then be bounded only by that. Requests are
		// small, so the fixed window costs no throughput here.
		grpc.StaticStreamWindowSize(MaxMessageSize),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		grpc.MaxHeaderListSize(MaxHeaderListSize),
		grpc.ConnectionTimeout(handshakeTimeout),
		grpc.ForceServerCodecV2(StrictCodec()),
		grpc.ChainUnaryInterceptor(chain...),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: 15 * time.Minute, Time: time.Minute, Timeout: 20 * time.Second,
			MaxConnectionAge: maxConnectionAge, MaxConnectionAgeGrace: maxConnectionAgeGrace,
		}),
		grpc.NumStreamWorkers(streamWorkers), // EXPERIMENTAL in grpc-go since 1.30; without it, a goroutine per RPC
		grpc.WaitForHandlers(true),
	}
}

// logRPC logs one line per RPC with its method, code and duration. It
// logs no request field: e-mail addresses stay out of the logs.
func logRPC(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		log.LogAttrs(ctx, slog.LevelInfo, "rpc",
			slog.String("method", info.FullMethod),
			slog.String("code", code.String()),
			slog.Duration("duration", time.Since(start)))
		return resp, err
	}
}
