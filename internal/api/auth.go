package api

import (
	"context"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// adminMethods are the RPCs that see or delete everyone's data.
var adminMethods = map[string]bool{
	pb.StockService_ListUsers_FullMethodName:    true,
	pb.StockService_ListPrices_FullMethodName:   true,
	pb.StockService_DeletePrices_FullMethodName: true,
}

// AdminAuth returns an interceptor that requires "authorization: Bearer
// token" on the admin RPCs, compared in constant time. It answers
// UNAUTHENTICATED otherwise. An empty token disables the check.
func AdminAuth(token string) grpc.UnaryServerInterceptor {
	want := []byte("Bearer " + token)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if token == "" || !adminMethods[info.FullMethod] {
			return handler(ctx, req)
		}
		md, _ := metadata.FromIncomingContext(ctx)
		got := md.Get("authorization")
		if len(got) != 1 {
			return nil, status.Error(codes.Unauthenticated, "admin token required")
		}
		// The scheme is case-insensitive (RFC 7235); the token is not.
		scheme, tok, _ := strings.Cut(got[0], " ")
		if !strings.EqualFold(scheme, "bearer") || subtle.ConstantTimeCompare([]byte("Bearer "+tok), want) != 1 {
			return nil, status.Error(codes.Unauthenticated, "invalid admin token")
		}
		return handler(ctx, req)
	}
}
