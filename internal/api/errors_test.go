package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/once"
	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// brokenStore is a real store whose GetUser and RecordTx fail with err.
type brokenStore struct {
	*store.DB
	err error
}

func (s brokenStore) GetUser(context.Context, string) (stock.User, error) { return stock.User{}, s.err }

func (s brokenStore) RecordTx(context.Context, func(context.Context, once.Tx) error) error {
	return s.err
}

// TestStoreErrors: store failures reach the client as their code and a
// plain message; no SQL or driver detail leaks.
func TestStoreErrors(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		tests := []struct {
			name string
			err  error
			code codes.Code
			msg  string
		}{
			{"Internal/SQLError", fmt.Errorf("get user: %w", errors.New("Error 1054 (42S22): Unknown column 'emial' in 'where clause'")),
				codes.Internal, "internal error"},
			{"Unavailable", fmt.Errorf("begin: %w: %w", stock.ErrUnavailable, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}),
				codes.Unavailable, "database unavailable"},
			{"Aborted", fmt.Errorf("request 1: %w: %w", stock.ErrAborted, errors.New("Error 1213: Deadlock found")),
				codes.Aborted, "request conflicted with a concurrent one; retry"},
			{"DeadlineExceeded", fmt.Errorf("get user: %w", context.DeadlineExceeded),
				codes.DeadlineExceeded, "deadline exceeded"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := serve(t, brokenStore{DB: db, err: tt.err}, options{})
				ctx := ctxTimeout(t)
				_, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "a@x.com"})
				wantStatus(t, err, tt.code, tt.msg)
				_, err = c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "a@x.com", Ticker: "AAPL"})
				wantStatus(t, err, tt.code, tt.msg)
			})
		}
	})
}

// TestErrorsMappedWhereverServed: the service's errors reach clients as
// their codes however the gRPC server is built, with no interceptors or
// with the daemon's options, and the daemon's interceptors see those codes.
func TestErrorsMappedWhereverServed(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLite)
	var logs testkit.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	tests := []struct {
		name string
		srv  *grpc.Server
	}{
		{"NoInterceptors", grpc.NewServer()},
		{"ServerOptions", grpc.NewServer(api.ServerOptions(log, "")...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api.New(brokenStore{DB: db, err: errors.New("disk on fire")}, api.Config{}).Register(tt.srv)
			c := pb.NewStockServiceClient(testkit.ServeGRPC(t, tt.srv))
			ctx := ctxTimeout(t)
			_, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "not an e-mail"})
			wantStatus(t, err, codes.InvalidArgument, `email "not an e-mail" is not a valid address`)
			_, err = c.GetUser(ctx, &pb.GetUserRequest{Email: "a@x.com"})
			wantStatus(t, err, codes.Internal, "internal error")
			_, err = c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "a@x.com", Ticker: "AAPL"})
			wantStatus(t, err, codes.Internal, "internal error")
		})
	}
	for _, code := range []string{"InvalidArgument", "Internal"} {
		if want := "code=" + code; !strings.Contains(logs.String(), want) {
			t.Errorf("the daemon's RPC log has no %s:\n%s", want, logs.String())
		}
	}
}

// TestDatabaseDown: when the MySQL server becomes unreachable, every RPC
// answers UNAVAILABLE.
func TestDatabaseDown(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		if b != storetest.MySQL {
			t.Skip("an open SQLite file cannot become unreachable")
		}
		url, p := storetest.ProxiedMySQL(t, storetest.URL(t, b))
		c := serve(t, storetest.OpenURL(t, url), options{})
		ctx := ctxTimeout(t)
		_, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "a@x.com", Ticker: "AAPL"})
		mustOK(t, err)

		p.Cut()
		calls := []struct {
			name string
			call func() error
		}{
			{"GetUser", func() error { _, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "a@x.com"}); return err }},
			{"GetLatestPrice", func() error {
				_, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "a@x.com"})
				return err
			}},
			{"ListUsers", func() error { _, err := c.ListUsers(ctx, &pb.ListUsersRequest{}); return err }},
			{"RegisterUser", func() error {
				_, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "b@x.com", Ticker: "AAPL"})
				return err
			}},
			{"DeleteUser", func() error { _, err := c.DeleteUser(ctx, &pb.DeleteUserRequest{Email: "a@x.com"}); return err }},
		}
		for _, tt := range calls {
			t.Run("Unavailable/"+tt.name, func(t *testing.T) {
				wantStatus(t, tt.call(), codes.Unavailable, "database unavailable")
			})
		}
	})
}
