package store_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/api"
	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// crashServe serves the API on db over 127.0.0.1:0 and returns its client.
func crashServe(tb testing.TB, db *store.DB) pb.StockServiceClient {
	tb.Helper()
	srv := grpc.NewServer()
	now := time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC)
	api.New(db, api.Config{Now: func() time.Time { return now }}).Register(srv)
	return pb.NewStockServiceClient(testkit.ServeGRPC(tb, srv))
}

// TestCrashBeforeCommit: a failure after the effect and before the commit
// leaves neither the effect nor the request record, so the client's retry
// with the same request id executes, exactly once.
func TestCrashBeforeCommit(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		client := crashServe(t, db)
		counts := func(t *testing.T, email string, wantUsers, wantRequests int) {
			t.Helper()
			if n := storetest.Count(t, db, "users", "email = ?", email); n != wantUsers {
				t.Errorf("users %s = %d, want %d", email, n, wantUsers)
			}
			if n := storetest.Count(t, db, "requests", ""); n != wantRequests {
				t.Errorf("request records = %d, want %d", n, wantRequests)
			}
		}
		var crashes atomic.Int32
		crash := func(context.Context) error {
			crashes.Add(1)
			return errors.New("power cut")
		}

		t.Run("RegisterUser", func(t *testing.T) {
			req := &pb.RegisterUserRequest{RequestId: "0b7c2a6e-3d4f-4a1b-9c8d-7e6f5a4b3c2d", Email: "crash@x.com", Ticker: "AAPL"}
			db.SetBeforeCommit(crash)
			_, err := client.RegisterUser(ctx, req)
			db.SetBeforeCommit(nil)
			if status.Code(err) != codes.Internal || status.Convert(err).Message() != "internal error" {
				t.Fatalf("crashed register: %v, want INTERNAL \"internal error\"", err)
			}
			if crashes.Load() != 1 {
				t.Fatalf("hook ran %d times, want 1", crashes.Load())
			}
			counts(t, "crash@x.com", 0, 0)

			first, err := client.RegisterUser(ctx, req)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			counts(t, "crash@x.com", 1, 1)
			replay, err := client.RegisterUser(ctx, req)
			if err != nil {
				t.Fatalf("second retry: %v", err)
			}
			a, _ := proto.MarshalOptions{Deterministic: true}.Marshal(first)
			r, _ := proto.MarshalOptions{Deterministic: true}.Marshal(replay)
			if !bytes.Equal(a, r) {
				t.Errorf("replay %v differs from first answer %v", replay, first)
			}
			counts(t, "crash@x.com", 1, 1)
		})

		t.Run("DeleteUser", func(t *testing.T) {
			req := &pb.DeleteUserRequest{RequestId: "1c8d3b7f-4e5a-4b2c-8d9e-8f7a6b5c4d3e", Email: "crash@x.com"}
			db.SetBeforeCommit(crash)
			_, err := client.DeleteUser(ctx, req)
			db.SetBeforeCommit(nil)
			if status.Code(err) != codes.Internal {
				t.Fatalf("crashed delete: %v, want INTERNAL", err)
			}
			counts(t, "crash@x.com", 1, 1) // the user survived; no record of the delete

			if _, err := client.DeleteUser(ctx, req); err != nil {
				t.Fatalf("retry: %v", err)
			}
			counts(t, "crash@x.com", 0, 2)
			// Replayed, not executed again (which would be NOT_FOUND).
			if _, err := client.DeleteUser(ctx, req); err != nil {
				t.Fatalf("second retry: %v", err)
			}
		})
	})
}
