package client

import (
	"context"
	"iter"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// Every method returns the server's gRPC status error unchanged (use
// status.Code and status.Convert on it), or CANCELED / DEADLINE_EXCEEDED
// when ctx ends first. Mutations carry one fresh request id per call, the
// same on each of its attempts.

// newRequestID returns the id of one logical operation.
func newRequestID() string { return uuid.NewString() }

// RegisterUser registers email to track ticker and returns the user.
// ALREADY_EXISTS if the e-mail is registered, INVALID_ARGUMENT for a bad
// field.
func (c *Client) RegisterUser(ctx context.Context, email, ticker string) (*pb.User, error) {
	req := &pb.RegisterUserRequest{RequestId: newRequestID(), Email: email, Ticker: ticker}
	var resp *pb.User
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.RegisterUser(ctx, req)
		return err
	})
	return resp, err
}

// UpdateUser makes email track ticker and returns the user. NOT_FOUND for
// an unknown e-mail, INVALID_ARGUMENT for a bad field.
func (c *Client) UpdateUser(ctx context.Context, email, ticker string) (*pb.User, error) {
	req := &pb.UpdateUserRequest{RequestId: newRequestID(), Email: email, Ticker: ticker}
	var resp *pb.User
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.UpdateUser(ctx, req)
		return err
	})
	return resp, err
}

// DeleteUser removes the user. NOT_FOUND for an unknown e-mail.
func (c *Client) DeleteUser(ctx context.Context, email string) (*pb.DeleteUserResponse, error) {
	req := &pb.DeleteUserRequest{RequestId: newRequestID(), Email: email}
	var resp *pb.DeleteUserResponse
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.DeleteUser(ctx, req)
		return err
	})
	return resp, err
}

// GetUser returns the user. NOT_FOUND for an unknown e-mail.
func (c *Client) GetUser(ctx context.Context, email string) (*pb.User, error) {
	req := &pb.GetUserRequest{Email: email}
	var resp *pb.User
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.GetUser(ctx, req)
		return err
	})
	return resp, err
}

// GetLatestPrice returns the newest price of the user's ticker. NOT_FOUND
// for an unknown e-mail, FAILED_PRECONDITION before any price is collected.
func (c *Client) GetLatestPrice(ctx context.Context, email string) (*pb.Price, error) {
	req := &pb.GetLatestPriceRequest{Email: email}
	var resp *pb.Price
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.GetLatestPrice(ctx, req)
		return err
	})
	return resp, err
}

// GetAveragePrice returns the mean of the user's newest count prices.
// INVALID_ARGUMENT for a count outside 1…10000, NOT_FOUND for an unknown
// e-mail, FAILED_PRECONDITION before any price is collected.
func (c *Client) GetAveragePrice(ctx context.Context, email string, count int) (*pb.AveragePrice, error) {
	if count < 0 || count > 1<<31-1 {
		return nil, status.Errorf(codes.InvalidArgument, "count %d is out of range", count)
	}
	req := &pb.GetAveragePriceRequest{Email: email, Count: int32(count)}
	var resp *pb.AveragePrice
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.GetAveragePrice(ctx, req)
		return err
	})
	return resp, err
}

// ListUsers returns one page of users, each with their latest price.
// pageSize 0 means the server's default (100); pageToken "" is the first
// page. UNAUTHENTICATED without the admin token when the server needs one.
func (c *Client) ListUsers(ctx context.Context, pageSize int32, pageToken string) (*pb.ListUsersResponse, error) {
	req := &pb.ListUsersRequest{PageSize: pageSize, PageToken: pageToken}
	var resp *pb.ListUsersResponse
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.ListUsers(ctx, req)
		return err
	})
	return resp, err
}

// ListPrices returns one page of prices, newest first, of ticker or (when
// ticker is "") of all tickers. Paging as in ListUsers.
func (c *Client) ListPrices(ctx context.Context, ticker string, pageSize int32, pageToken string) (*pb.ListPricesResponse, error) {
	req := &pb.ListPricesRequest{Ticker: ticker, PageSize: pageSize, PageToken: pageToken}
	var resp *pb.ListPricesResponse
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.ListPrices(ctx, req)
		return err
	})
	return resp, err
}

// DeletePrices removes the prices collected more than olderThan ago and
// returns how many. INVALID_ARGUMENT unless olderThan is positive.
func (c *Client) DeletePrices(ctx context.Context, olderThan time.Duration) (*pb.DeletePricesResponse, error) {
	req := &pb.DeletePricesRequest{RequestId: newRequestID(), OlderThan: durationpb.New(olderThan)}
	var resp *pb.DeletePricesResponse
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.stock.DeletePrices(ctx, req)
		return err
	})
	return resp, err
}

// Health asks the server's grpc.health.v1 service about StockService. It
// returns the answer whatever the serving status; an error only when the
// server could not be asked.
func (c *Client) Health(ctx context.Context) (*healthpb.HealthCheckResponse, error) {
	req := &healthpb.HealthCheckRequest{Service: pb.StockService_ServiceDesc.ServiceName}
	var resp *healthpb.HealthCheckResponse
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = c.health.Check(ctx, req)
		return err
	})
	return resp, err
}

// AllUsers iterates over every user, fetching pages of pageSize (0: the
// server's default). Each page is one call, retried on its own. After an
// error the iteration stops.
func (c *Client) AllUsers(ctx context.Context, pageSize int32) iter.Seq2[*pb.UserWithPrice, error] {
	return func(yield func(*pb.UserWithPrice, error) bool) {
		token := ""
		for {
			page, err := c.ListUsers(ctx, pageSize, token)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, u := range page.GetUsers() {
				if !yield(u, nil) {
					return
				}
			}
			if token = page.GetNextPageToken(); token == "" {
				return
			}
		}
	}
}

// AllPrices iterates over every price of ticker ("" for all), newest
// first, like AllUsers.
func (c *Client) AllPrices(ctx context.Context, ticker string, pageSize int32) iter.Seq2[*pb.Price, error] {
	return func(yield func(*pb.Price, error) bool) {
		token := ""
		for {
			page, err := c.ListPrices(ctx, ticker, pageSize, token)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, p := range page.GetPrices() {
				if !yield(p, nil) {
					return
				}
			}
			if token = page.GetNextPageToken(); token == "" {
				return
			}
		}
	}
}
