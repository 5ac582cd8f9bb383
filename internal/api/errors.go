package api

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// codeOf is the one table from domain error kinds to gRPC codes.
var codeOf = map[stock.Kind]codes.Code{
	stock.KindInvalid:            codes.InvalidArgument,
	stock.KindNotFound:           codes.NotFound,
	stock.KindAlreadyExists:      codes.AlreadyExists,
	stock.KindFailedPrecondition: codes.FailedPrecondition,
	stock.KindUnavailable:        codes.Unavailable,
	stock.KindAborted:            codes.Aborted,
}

// mapErrors returns the unary interceptor that turns a handler's error into
// the gRPC status its client sees (see toStatus); a status error passes as
// is. Server.Register installs it on every method of the service.
func mapErrors(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, toStatus(ctx, log, info.FullMethod, err)
		}
		return resp, nil
	}
}

// toStatus turns err into the gRPC status the client sees. Domain errors
// keep their message; context errors map to their codes; anything else is
// logged with its detail and shown as a plain "internal error".
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	code, ok := codeOf[stock.KindOf(err)]
	if !ok {
		log.ErrorContext(ctx, "internal error", "method", method, "err", err)
		return status.Error(codes.Internal, "internal error")
	}
	if code == codes.Unavailable || code == codes.Aborted {
		log.WarnContext(ctx, "request failed", "method", method, "code", code.String(), "err", err)
	}
	return status.Error(code, stock.MessageOf(err))
}
