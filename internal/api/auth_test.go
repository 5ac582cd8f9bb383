package api_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/stockwatch/stockwatch/internal/store"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

const adminToken = "s3cret-Token"

var adminCalls = []struct {
	name string
	call call
}{
	{"ListUsers", rpc(pb.StockServiceClient.ListUsers, &pb.ListUsersRequest{})},
	{"ListPrices", rpc(pb.StockServiceClient.ListPrices, &pb.ListPricesRequest{Ticker: "AAPL"})},
	{"DeletePrices", rpc(pb.StockServiceClient.DeletePrices, &pb.DeletePricesRequest{OlderThan: durationpb.New(time.Hour)})},
}

func TestAdminAuth(t *testing.T) {
	storetest.EachDB(t, func(t *testing.T, db *store.DB) {
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
					wantCode(t, ac.call(ctx, secured), cr.code, cr.msg)
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
			{"RegisterUser", rpc(pb.StockServiceClient.RegisterUser, &pb.RegisterUserRequest{RequestId: id, Email: "a@x.com", Ticker: "AAPL"}), codes.OK, ""},
			{"GetUser", rpc(pb.StockServiceClient.GetUser, &pb.GetUserRequest{Email: "a@x.com"}), codes.OK, ""},
			{"UpdateUser", rpc(pb.StockServiceClient.UpdateUser, &pb.UpdateUserRequest{Email: "a@x.com", Ticker: "AAPL"}), codes.OK, ""},
			{"GetLatestPrice", rpc(pb.StockServiceClient.GetLatestPrice, &pb.GetLatestPriceRequest{Email: "a@x.com"}), codes.FailedPrecondition, "no price collected yet for AAPL"},
			{"GetAveragePrice", rpc(pb.StockServiceClient.GetAveragePrice, &pb.GetAveragePriceRequest{Email: "a@x.com", Count: 5}), codes.FailedPrecondition, "no price collected yet for AAPL"},
			{"DeleteUser", rpc(pb.StockServiceClient.DeleteUser, &pb.DeleteUserRequest{Email: "nobody@x.com"}), codes.NotFound, "user nobody@x.com not found"},
		}
		for _, uc := range userCalls {
			for _, md := range []struct{ name, value string }{{"NoToken", ""}, {"WrongToken", "Bearer nope"}} {
				t.Run(uc.name+"/NotAdmin/"+md.name, func(t *testing.T) {
					ctx := ctxTimeout(t)
					if md.value != "" {
						ctx = metadata.AppendToOutgoingContext(ctx, "authorization", md.value)
					}
					wantCode(t, uc.call(ctx, secured), uc.code, uc.msg)
				})
			}
		}
	})
}
