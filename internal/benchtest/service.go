package benchtest

import (
	"context"
	"strconv"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/stockwatch/stockwatch/internal/store"
)

// Full method names of the ceiling service: a hand-written ServiceDesc
// with well-known message types (no .proto). Read takes a ticker
// (StringValue) and returns its newest price (DoubleValue); PointRead
// takes an e-mail (StringValue) and returns the user's ticker
// (StringValue); Write and Insert take and return Empty.
const (
	CeilingService  = "stockwatch.bench.v1.Ceiling"
	MethodRead      = "/" + CeilingService + "/Read"
	MethodPointRead = "/" + CeilingService + "/PointRead"
	MethodWrite     = "/" + CeilingService + "/Write"
	MethodInsert    = "/" + CeilingService + "/Insert"
)

// Ceilings are the least database work a price read, a read by primary
// key, an at-most-once write and one durable write can do: the store's
// ceiling queries (store.DB.ReadCeiling, PointReadCeiling, WriteCeiling
// and InsertCeiling).
type Ceilings interface {
	ReadCeiling(ctx context.Context, ticker string) (float64, error)
	PointReadCeiling(ctx context.Context, email string) (string, error)
	WriteCeiling(ctx context.Context, key string, n int64) error
	InsertCeiling(ctx context.Context, key string, n int64) error
}

var _ Ceilings = (*store.DB)(nil)

// RegisterCeiling registers the ceiling service on srv: db's ceilings
// behind gRPC. prefix starts every key Write inserts, to keep them unique
// across processes sharing one database.
func RegisterCeiling(srv grpc.ServiceRegistrar, db Ceilings, prefix string) {
	srv.RegisterService(&ceilingDesc, &ceiling{db: db, prefix: prefix})
}

type ceiling struct {
	db     Ceilings
	prefix string
	seq    atomic.Int64
}

func (c *ceiling) read(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.DoubleValue, error) {
	price, err := c.db.ReadCeiling(ctx, in.GetValue())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "read: %v", err)
	}
	return wrapperspb.Double(price), nil
}

func (c *ceiling) pointRead(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	ticker, err := c.db.PointReadCeiling(ctx, in.GetValue())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "point read: %v", err)
	}
	return wrapperspb.String(ticker), nil
}

func (c *ceiling) insert(ctx context.Context, _ *emptypb.Empty) (*emptypb.Empty, error) {
	n := c.seq.Add(1)
	if err := c.db.InsertCeiling(ctx, c.prefix+"i"+strconv.FormatInt(n, 10), n); err != nil {
		return nil, status.Errorf(codes.Internal, "insert: %v", err)
	}
	return &emptypb.Empty{}, nil
}

func (c *ceiling) write(ctx context.Context, _ *emptypb.Empty) (*emptypb.Empty, error) {
	n := c.seq.Add(1)
	if err := c.db.WriteCeiling(ctx, c.prefix+strconv.FormatInt(n, 10), n); err != nil {
		return nil, status.Errorf(codes.Internal, "write: %v", err)
	}
	return &emptypb.Empty{}, nil
}

var ceilingDesc = grpc.ServiceDesc{
	ServiceName: CeilingService,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Read", Handler: unary(MethodRead, (*ceiling).read)},
		{MethodName: "PointRead", Handler: unary(MethodPointRead, (*ceiling).pointRead)},
		{MethodName: "Write", Handler: unary(MethodWrite, (*ceiling).write)},
		{MethodName: "Insert", Handler: unary(MethodInsert, (*ceiling).insert)},
	},
	Streams: []grpc.StreamDesc{},
}

// unary builds a MethodDesc handler as protoc-gen-go-grpc does: decode,
// then call through the interceptor chain.
func unary[Req, Resp any](full string, f func(*ceiling, context.Context, *Req) (*Resp, error)) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, icp grpc.UnaryServerInterceptor) (any, error) {
		in := new(Req)
		if err := dec(in); err != nil {
			return nil, err
		}
		s := srv.(*ceiling)
		if icp == nil {
			return f(s, ctx, in)
		}
		info := &grpc.UnaryServerInfo{Server: srv, FullMethod: full}
		return icp(ctx, in, info, func(ctx context.Context, req any) (any, error) { return f(s, ctx, req.(*Req)) })
	}
}
