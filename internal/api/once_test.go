package api_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

const reusedID = "request_id reused with a different request"

// TestOnceReplay: a retry of each mutating RPC gets the first answer back,
// byte for byte, even though the clock moved, and the effect happened once.
func TestOnceReplay(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {

		t.Run("RegisterUser", func(t *testing.T) {
			ctx := ctxTimeout(t)
			req := &pb.RegisterUserRequest{RequestId: newID(t), Email: "reg@x.com", Ticker: "AAPL"}
			_, replay := sendTwice(t, ctx, e.client.RegisterUser, req, func() { e.clock.Advance(time.Minute) })
			diffProto(t, &pb.User{Email: "reg@x.com", Ticker: "AAPL", CreateTime: tsp(t0us), UpdateTime: tsp(t0us), TickerStatus: unverified}, replay)
			testkit.WantCount(t, "users", e.users(t, "reg@x.com"), 1)
			testkit.WantCount(t, "request records", storetest.Count(t, e.db, "requests", "request_id = ?", req.RequestId), 1)
		})

		t.Run("UpdateUser", func(t *testing.T) {
			ctx := ctxTimeout(t)
			e.register(t, "upd@x.com", "AAPL")
			e.clock.Advance(time.Minute)
			req := &pb.UpdateUserRequest{RequestId: newID(t), Email: "upd@x.com", Ticker: "MSFT"}
			first, _ := sendTwice(t, ctx, e.client.UpdateUser, req, func() { e.clock.Advance(time.Minute) })
			// Not executed again: update_time did not move to the new clock.
			stored, err := e.client.GetUser(ctx, &pb.GetUserRequest{Email: "upd@x.com"})
			mustOK(t, err)
			diffProto(t, first, stored)
		})

		t.Run("DeleteUser", func(t *testing.T) {
			ctx := ctxTimeout(t)
			e.register(t, "del@x.com", "AAPL")
			req := &pb.DeleteUserRequest{RequestId: newID(t), Email: "del@x.com"}
			// A re-execution would answer NOT_FOUND.
			sendTwice(t, ctx, e.client.DeleteUser, req, func() { e.clock.Advance(time.Minute) })
			testkit.WantCount(t, "users", e.users(t, "del@x.com"), 0)
		})

		t.Run("DeletePrices", func(t *testing.T) {
			ctx := ctxTimeout(t)
			now := e.clock.Now()
			e.insertPrices(t, px("OLD", 1, now.Add(-3*time.Hour)), px("OLD", 2, now.Add(-4*time.Hour)), px("OLD", 3, now.Add(-5*time.Hour)))
			req := &pb.DeletePricesRequest{RequestId: newID(t), OlderThan: durationpb.New(time.Hour)}
			first, _ := sendTwice(t, ctx, e.client.DeletePrices, req, func() {
				// More old prices arrive; a re-execution would delete them.
				e.insertPrices(t, px("OLD", 4, now.Add(-6*time.Hour)), px("OLD", 5, now.Add(-7*time.Hour)))
				e.clock.Advance(time.Minute)
			})
			diffProto(t, &pb.DeletePricesResponse{DeletedCount: 3}, first)
			testkit.WantCount(t, "prices left", storetest.Count(t, e.db, "stock_prices", "ticker = ?", "OLD"), 2)
		})

		t.Run("RequestIDCaseInsensitive", func(t *testing.T) {
			ctx := ctxTimeout(t)
			id := newID(t)
			first, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "case@x.com", Ticker: "AAPL"})
			mustOK(t, err)
			e.clock.Advance(time.Minute)
			// Same id in upper case, same request in another spelling.
			replay, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: strings.ToUpper(id), Email: " CASE@x.com", Ticker: "aapl"})
			mustOK(t, err)
			wantSameBytes(t, first, replay)
		})
	})
}

// TestOnceReplaysErrors: a stored ALREADY_EXISTS or NOT_FOUND is replayed as
// such even after the state changed so that a re-execution would succeed.
func TestOnceReplaysErrors(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {

		t.Run("AlreadyExists", func(t *testing.T) {
			ctx := ctxTimeout(t)
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "x@x.com", Ticker: "AAPL"})
			mustOK(t, err)
			id2 := newID(t)
			req2 := &pb.RegisterUserRequest{RequestId: id2, Email: "x@x.com", Ticker: "AAPL"}
			_, err = e.client.RegisterUser(ctx, req2)
			wantStatus(t, err, codes.AlreadyExists, "user x@x.com already exists")
			_, err = e.client.DeleteUser(ctx, &pb.DeleteUserRequest{RequestId: newID(t), Email: "x@x.com"})
			mustOK(t, err)
			_, err = e.client.RegisterUser(ctx, req2)
			wantStatus(t, err, codes.AlreadyExists, "user x@x.com already exists")
			if n := e.users(t, "x@x.com"); n != 0 {
				t.Errorf("users = %d, want 0: the replay executed", n)
			}
		})

		t.Run("NotFound/UpdateUser", func(t *testing.T) {
			ctx := ctxTimeout(t)
			req := &pb.UpdateUserRequest{RequestId: newID(t), Email: "y@x.com", Ticker: "MSFT"}
			_, err := e.client.UpdateUser(ctx, req)
			wantStatus(t, err, codes.NotFound, "user y@x.com not found")
			e.register(t, "y@x.com", "AAPL")
			_, err = e.client.UpdateUser(ctx, req)
			wantStatus(t, err, codes.NotFound, "user y@x.com not found")
			e.wantTicker(t, "y@x.com", "AAPL") // else the replay executed
		})

		t.Run("NotFound/DeleteUser", func(t *testing.T) {
			ctx := ctxTimeout(t)
			req := &pb.DeleteUserRequest{RequestId: newID(t), Email: "z@x.com"}
			_, err := e.client.DeleteUser(ctx, req)
			wantStatus(t, err, codes.NotFound, "user z@x.com not found")
			e.register(t, "z@x.com", "AAPL")
			_, err = e.client.DeleteUser(ctx, req)
			wantStatus(t, err, codes.NotFound, "user z@x.com not found")
			if n := e.users(t, "z@x.com"); n != 1 {
				t.Errorf("users = %d, want 1: the replay executed", n)
			}
		})
	})
}

// TestOnceReusedID: one request id sent with another payload or to another
// method is the client's mistake, and changes nothing.
func TestOnceReusedID(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		id := newID(t)
		first, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "a@x.com", Ticker: "AAPL"})
		mustOK(t, err)
		e.register(t, "b@x.com", "AAPL")

		tests := []struct {
			name string
			call call
		}{
			{"RegisterUser/OtherTicker", rpc(pb.StockServiceClient.RegisterUser, &pb.RegisterUserRequest{RequestId: id, Email: "a@x.com", Ticker: "MSFT"})},
			{"RegisterUser/OtherEmail", rpc(pb.StockServiceClient.RegisterUser, &pb.RegisterUserRequest{RequestId: id, Email: "c@x.com", Ticker: "AAPL"})},
			{"UpdateUser/SameFields", rpc(pb.StockServiceClient.UpdateUser, &pb.UpdateUserRequest{RequestId: id, Email: "a@x.com", Ticker: "AAPL"})},
			{"UpdateUser/OtherUser", rpc(pb.StockServiceClient.UpdateUser, &pb.UpdateUserRequest{RequestId: id, Email: "b@x.com", Ticker: "MSFT"})},
			{"DeleteUser", rpc(pb.StockServiceClient.DeleteUser, &pb.DeleteUserRequest{RequestId: id, Email: "a@x.com"})},
			{"DeletePrices", rpc(pb.StockServiceClient.DeletePrices, &pb.DeletePricesRequest{RequestId: id, OlderThan: durationpb.New(time.Hour)})},
		}
		for _, tt := range tests {
			t.Run("InvalidArgument/"+tt.name, func(t *testing.T) {
				wantStatus(t, tt.call(ctxTimeout(t), e.client), codes.InvalidArgument, reusedID)
			})
		}

		// Nothing changed, and the original request still replays.
		for _, email := range []string{"a@x.com", "b@x.com"} {
			e.wantTicker(t, email, "AAPL")
		}
		testkit.WantCount(t, "c@x.com rows", e.users(t, "c@x.com"), 0)
		replay, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "a@x.com", Ticker: "AAPL"})
		mustOK(t, err)
		wantSameBytes(t, first, replay)
		testkit.WantCount(t, "request records", e.requests(t), 1)

		// A validation error is not stored: the id stays free.
		t.Run("ValidationErrorNotStored", func(t *testing.T) {
			ctx := ctxTimeout(t)
			id := newID(t)
			_, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "not-an-email", Ticker: "AAPL"})
			wantStatus(t, err, codes.InvalidArgument, `email "not-an-email" is not a valid address`)
			testkit.WantCount(t, "request records for the invalid request", storetest.Count(t, e.db, "requests", "request_id = ?", id), 0)
			_, err = e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "d@x.com", Ticker: "AAPL"})
			mustOK(t, err)
			testkit.WantCount(t, "users", e.users(t, "d@x.com"), 1)
		})
	})
}

// TestOnceDeletePricesAges: one request id sent with two ages is two
// requests, however long the ages. An age beyond the longest time.Duration
// is refused, not cut to it: cut, 10e9 s and 20e9 s were one request, and
// the second was replayed as the first.
func TestOnceDeletePricesAges(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		const atMost = "older_than must be at most 2562047h47m16.854775807s (about 292 years)"
		send := func(t *testing.T, id string, seconds int64, nanos int32) (*pb.DeletePricesResponse, error) {
			t.Helper()
			return e.client.DeletePrices(ctxTimeout(t), &pb.DeletePricesRequest{RequestId: id, OlderThan: &durationpb.Duration{Seconds: seconds, Nanos: nanos}})
		}
		t.Run("BeyondRange", func(t *testing.T) {
			id := newID(t)
			for _, seconds := range []int64{10e9, 20e9, 300e9} {
				_, err := send(t, id, seconds, 0)
				wantStatus(t, err, codes.InvalidArgument, atMost)
			}
		})
		t.Run("LongestAndNeighbours", func(t *testing.T) {
			id := newID(t)
			first, err := send(t, id, 9223372036, 854775807)
			mustOK(t, err)
			replay, err := send(t, id, 9223372036, 854775807)
			mustOK(t, err)
			wantSameBytes(t, first, replay)
			_, err = send(t, id, 9223372036, 854775806)
			wantStatus(t, err, codes.InvalidArgument, reusedID)
			_, err = send(t, id, 9223372036, 854775808)
			wantStatus(t, err, codes.InvalidArgument, atMost)
		})
		if n := e.requests(t); n != 1 {
			t.Errorf("request records = %d, want 1 (the longest age's)", n)
		}
	})
}

// TestOnceConcurrent: many copies of one request at once execute once and
// all get the same answer.
func TestOnceConcurrent(t *testing.T) {
	const n = 50
	eachEnv(t, options{}, func(t *testing.T, e *env) {

		t.Run("SameID", func(t *testing.T) {
			ctx := ctxTimeout(t)
			req := &pb.RegisterUserRequest{RequestId: newID(t), Email: "race@x.com", Ticker: "AAPL"}
			resps, errs := concurrently(n, func() (proto.Message, error) { return e.client.RegisterUser(ctx, req) })
			for i := range n {
				mustOK(t, errs[i])
				wantSameBytes(t, resps[0], resps[i])
			}
			diffProto(t, &pb.User{Email: "race@x.com", Ticker: "AAPL", CreateTime: tsp(t0us), UpdateTime: tsp(t0us), TickerStatus: unverified}, resps[0])
			testkit.WantCount(t, "users", e.users(t, "race@x.com"), 1)
			testkit.WantCount(t, "request records", storetest.Count(t, e.db, "requests", "request_id = ?", req.RequestId), 1)
		})

		t.Run("SameIDStoredError", func(t *testing.T) {
			ctx := ctxTimeout(t)
			req := &pb.DeleteUserRequest{RequestId: newID(t), Email: "ghost@x.com"}
			_, errs := concurrently(n, func() (proto.Message, error) { return e.client.DeleteUser(ctx, req) })
			for i := range n {
				wantStatus(t, errs[i], codes.NotFound, "user ghost@x.com not found")
			}
		})

		// Distinct ids for one e-mail: the store, not the records, decides.
		t.Run("DistinctIDs", func(t *testing.T) {
			ctx := ctxTimeout(t)
			ids := make(chan string, n)
			for range n {
				ids <- newID(t)
			}
			_, errs := concurrently(n, func() (proto.Message, error) {
				return e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: <-ids, Email: "many@x.com", Ticker: "AAPL"})
			})
			ok := 0
			for i := range n {
				if errs[i] == nil {
					ok++
					continue
				}
				wantStatus(t, errs[i], codes.AlreadyExists, "user many@x.com already exists")
			}
			if ok != 1 {
				t.Errorf("%d registrations succeeded, want 1", ok)
			}
			testkit.WantCount(t, "users", e.users(t, "many@x.com"), 1)
		})
	})
}

// concurrently runs f n times at once and returns the results in order.
func concurrently(n int, f func() (proto.Message, error)) ([]proto.Message, []error) {
	resps, errs := make([]proto.Message, n), make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			resps[i], errs[i] = f()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return resps, errs
}

// TestOnceAcrossServers: the records live in the database, so a retry to a
// restarted server, or to another replica on the same database, replays.
func TestOnceAcrossServers(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		ctx := ctxTimeout(t)
		url := storetest.URL(t, b)
		open := func() *store.DB { return storetest.OpenURL(t, url) }
		clock := testkit.NewClock(t0)
		db1 := open()
		a := serve(t, db1, options{clock: clock})
		req := &pb.RegisterUserRequest{RequestId: newID(t), Email: "a@x.com", Ticker: "AAPL"}
		first, err := a.RegisterUser(ctx, req)
		mustOK(t, err)

		// A second replica on its own connection pool, later.
		clock.Advance(time.Minute)
		db2 := open()
		replica := serve(t, db2, options{clock: clock})
		got, err := replica.RegisterUser(ctx, req)
		mustOK(t, err)
		wantSameBytes(t, first, got)

		// The first server goes away; a new one on a fresh pool replays.
		if err := db1.Close(); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		restarted := serve(t, open(), options{clock: clock})
		got, err = restarted.RegisterUser(ctx, req)
		mustOK(t, err)
		wantSameBytes(t, first, got)

		// Another id for the same e-mail is a new request.
		_, err = restarted.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "a@x.com", Ticker: "AAPL"})
		wantStatus(t, err, codes.AlreadyExists, "user a@x.com already exists")
		testkit.WantCount(t, "users", storetest.Count(t, db2, "users", "email = ?", "a@x.com"), 1)
	})
}

// TestOnceExpiry: a record is kept for DedupTTL; after that the id is a new
// request.
func TestOnceExpiry(t *testing.T) {
	const ttl = time.Hour
	eachEnv(t, options{ttl: ttl}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		id1, id2 := newID(t), newID(t)
		reg := &pb.RegisterUserRequest{RequestId: id1, Email: "x@x.com", Ticker: "AAPL"}
		first, err := e.client.RegisterUser(ctx, reg)
		mustOK(t, err)
		_, err = e.client.DeleteUser(ctx, &pb.DeleteUserRequest{RequestId: id2, Email: "x@x.com"})
		mustOK(t, err)

		// Exactly TTL later the record is not yet older than the TTL.
		e.clock.Advance(ttl)
		got, err := e.client.RegisterUser(ctx, reg)
		mustOK(t, err)
		wantSameBytes(t, first, got)
		if n := e.users(t, "x@x.com"); n != 0 {
			t.Fatalf("users = %d, want 0: a remembered request executed again", n)
		}

		// A microsecond later it is forgotten: the register runs again.
		e.clock.Advance(time.Microsecond)
		later := t0us.Add(ttl + time.Microsecond)
		got, err = e.client.RegisterUser(ctx, reg)
		mustOK(t, err)
		diffProto(t, &pb.User{Email: "x@x.com", Ticker: "AAPL", CreateTime: tsp(later), UpdateTime: tsp(later), TickerStatus: unverified}, got)
		testkit.WantCount(t, "users", e.users(t, "x@x.com"), 1)
		testkit.WantCount(t, "records of the reused id", storetest.Count(t, e.db, "requests", "request_id = ?", id1), 1)
		// ...and is remembered anew.
		e.clock.Advance(time.Minute)
		replay, err := e.client.RegisterUser(ctx, reg)
		mustOK(t, err)
		wantSameBytes(t, got, replay)

		// An expired id may even carry another request now.
		_, err = e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id2, Email: "y@x.com", Ticker: "MSFT"})
		mustOK(t, err)
		testkit.WantCount(t, "users y@x.com", e.users(t, "y@x.com"), 1)
	})
}

// TestRegisterDeleteRegister: at-most-once is keyed by request id, not by
// e-mail, so a deleted user can register again. Three registrations with
// distinct ids, each after a delete, all succeed.
func TestRegisterDeleteRegister(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		for i := range 3 {
			if i > 0 {
				_, err := e.client.DeleteUser(ctx, &pb.DeleteUserRequest{RequestId: newID(t), Email: "x@x.com"})
				mustOK(t, err)
				e.clock.Advance(time.Second)
			}
			u, err := e.client.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: newID(t), Email: "x@x.com", Ticker: "AAPL"})
			if err != nil {
				t.Fatalf("register #%d: %v (code %v)", i+1, err, status.Code(err))
			}
			if want := t0us.Add(time.Duration(i) * time.Second); !u.GetCreateTime().AsTime().Equal(want) {
				t.Errorf("register #%d create_time = %v, want %v", i+1, u.GetCreateTime().AsTime(), want)
			}
		}
		testkit.WantCount(t, "users", e.users(t, "x@x.com"), 1)
		testkit.WantCount(t, "request records", e.requests(t), 5)
	})
}

// TestOnceEmptyRequestID: without a request id nothing is deduplicated or
// recorded.
func TestOnceEmptyRequestID(t *testing.T) {
	eachEnv(t, options{}, func(t *testing.T, e *env) {
		ctx := ctxTimeout(t)
		req := &pb.RegisterUserRequest{Email: "x@x.com", Ticker: "AAPL"}
		_, err := e.client.RegisterUser(ctx, req)
		mustOK(t, err)
		_, err = e.client.RegisterUser(ctx, req)
		wantStatus(t, err, codes.AlreadyExists, "user x@x.com already exists")
		del := &pb.DeleteUserRequest{Email: "x@x.com"}
		_, err = e.client.DeleteUser(ctx, del)
		mustOK(t, err)
		_, err = e.client.DeleteUser(ctx, del)
		wantStatus(t, err, codes.NotFound, "user x@x.com not found")
		testkit.WantCount(t, "request records", e.requests(t), 0)
	})
}
