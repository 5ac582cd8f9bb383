package api_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

const adminToken = "s3cret-Token"

// call is one RPC made with whatever metadata ctx carries.
type call func(ctx context.Context, c pb.StockServiceClient) error

var adminCalls = []struct {
	name string
	call call
}{
	{"ListUsers", func(ctx context.Context, c pb.StockServiceClient) error {
		_, err := c.ListUsers(ctx, &pb.ListUsersRequest{})
		return err
	}},
	{"ListPrices", func(ctx context.Context, c pb.StockServiceClient) error {
		_, err := c.ListPrices(ctx, &pb.ListPricesRequest{Ticker: "AAPL"})
		return err
	}},
	{"DeletePrices", func(ctx context.Context, c pb.StockServiceClient) error {
		_, err := c.DeletePrices(ctx, &pb.DeletePricesRequest{OlderThan: durationpb.New(time.Hour)})
		return err
	}},
}

func TestAdminAuth(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		secured := serve(t, db, options{token: adminToken})
		open := serve(t, db, options{})

		creds := []struct {
			name string
			md   []string // authorization values sent
			code codes.Code
			msg  string
		}{
			{name: "Unauthenticated/NoToken", code: codes.Unauthenticated, msg: "admin token required"},
			{name: "Unauthenticated/WrongToken", md: []string{"Bearer nope"}, code: codes.Unauthenticated, msg: "invalid admin token"},
			{name: "Unauthenticated/EmptyBearer", md: []string{"Bearer "}, code: codes.Unauthenticated, msg: "invalid admin token"},
			{name: "Unauthenticated/TokenPrefix", md: []string{"Bearer " + adminToken[:len(adminToken)-1]}, code: codes.Unauthenticated, msg: "invalid admin token"},
			{name: "Unauthenticated/TokenWithSuffix", md: []string{"Bearer " + adminToken + "x"}, code: codes.Unauthenticated, msg: "invalid admin token"},
			{name: "Unauthenticated/TokenOtherCase", md: []string{"Bearer S3CRET-TOKEN"}, code: codes.Unauthenticated, msg: "invalid admin token"},
			{name: "Unauthenticated/NoScheme", md: []string{adminToken}, code: codes.Unauthenticated, msg: "invalid admin token"},
			{name: "Unauthenticated/BasicScheme", md: []string{"Basic " + adminToken}, code: codes.Unauthenticated, msg: "invalid admin token"},
			{name: "Unauthenticated/TwoHeaders", md: []string{"Bearer " + adminToken, "Bearer " + adminToken}, code: codes.Unauthenticated, msg: "admin token required"},
			{name: "OK/RightToken", md: []string{"Bearer " + adminToken}},
			{name: "OK/SchemeCaseInsensitive", md: []string{"bearer " + adminToken}},
		}
		for _, ac := range adminCalls {
			for _, cr := range creds {
				t.Run(ac.name+"/"+cr.name, func(t *testing.T) {
					ctx := ctxTimeout(t)
					for _, v := range cr.md {
						ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
					}
					err := ac.call(ctx, secured)
					if cr.code != codes.OK {
						wantStatus(t, err, cr.code, cr.msg)
						return
					}
					mustOK(t, err)
				})
			}
			// With no token configured, nothing is checked.
			t.Run(ac.name+"/OK/NoTokenConfigured", func(t *testing.T) {
				mustOK(t, ac.call(ctxTimeout(t), open))
				mustOK(t, ac.call(metadata.AppendToOutgoingContext(ctxTimeout(t), "authorization", "Bearer whatever"), open))
			})
		}

		// The other RPCs never look at the token: they answer as they would
		// without one, even when a wrong one is sent.
		id := newID(t)
		userCalls := []struct {
			name string
			call call
			code codes.Code
			msg  string
		}{
			{"RegisterUser", func(ctx context.Context, c pb.StockServiceClient) error {
				_, err := c.RegisterUser(ctx, &pb.RegisterUserRequest{RequestId: id, Email: "a@x.com", Ticker: "AAPL"})
				return err
			}, codes.OK, ""},
			{"GetUser", func(ctx context.Context, c pb.StockServiceClient) error {
				_, err := c.GetUser(ctx, &pb.GetUserRequest{Email: "a@x.com"})
				return err
			}, codes.OK, ""},
			{"UpdateUser", func(ctx context.Context, c pb.StockServiceClient) error {
				_, err := c.UpdateUser(ctx, &pb.UpdateUserRequest{Email: "a@x.com", Ticker: "AAPL"})
				return err
			}, codes.OK, ""},
			{"GetLatestPrice", func(ctx context.Context, c pb.StockServiceClient) error {
				_, err := c.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: "a@x.com"})
				return err
			}, codes.FailedPrecondition, "no price collected yet for AAPL"},
			{"GetAveragePrice", func(ctx context.Context, c pb.StockServiceClient) error {
				_, err := c.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: "a@x.com", Count: 5})
				return err
			}, codes.FailedPrecondition, "no price collected yet for AAPL"},
			{"DeleteUser", func(ctx context.Context, c pb.StockServiceClient) error {
				_, err := c.DeleteUser(ctx, &pb.DeleteUserRequest{Email: "nobody@x.com"})
				return err
			}, codes.NotFound, "user nobody@x.com not found"},
		}
		for _, uc := range userCalls {
			for _, md := range []struct{ name, value string }{{"NoToken", ""}, {"WrongToken", "Bearer nope"}} {
				t.Run(uc.name+"/NotAdmin/"+md.name, func(t *testing.T) {
					ctx := ctxTimeout(t)
					if md.value != "" {
						ctx = metadata.AppendToOutgoingContext(ctx, "authorization", md.value)
					}
					err := uc.call(ctx, secured)
					if uc.code != codes.OK {
						wantStatus(t, err, uc.code, uc.msg)
						return
					}
					mustOK(t, err)
				})
			}
		}
	})
}
