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

// ServerOptions returns the grpc-go server options of the Stockwatch API,
// for the daemon and for anything measured against it: the message size
// limit, StrictCodec, keepalive enforcement, waiting for handlers on Stop
// (they may still use the database, which closes after them), and the
// unary interceptor chain: first (e.g. metrics), one log line per RPC,
// AdminAuth(adminToken), then RejectMalformed.
func ServerOptions(log *slog.Logger, adminToken string, first ...grpc.UnaryServerInterceptor) []grpc.ServerOption {
	chain := slices.Concat(first, []grpc.UnaryServerInterceptor{logRPC(log), AdminAuth(adminToken), RejectMalformed()})
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.ForceServerCodecV2(StrictCodec()),
		grpc.ChainUnaryInterceptor(chain...),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute, Time: time.Minute, Timeout: 20 * time.Second}),
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
