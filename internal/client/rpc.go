package client

import (
	"context"
	"iter"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// Every method returns the server's gRPC status error unchanged (use
// status.Code and status.Convert on it), or CANCELED / DEADLINE_EXCEEDED
// when ctx ends first. Mutations carry one fresh request id per call, the
// same on each of its attempts.

// newRequestID returns the id of one logical operation.
func newRequestID() string { return uuid.NewString() }

// call sends req with method (a method of a generated gRPC client) under
// c.invoke's per-attempt timeout and retries, and returns the last
// attempt's answer and error. A request about a user goes to the user's
// server first (affinityName).
func call[Req, Resp any](ctx context.Context, c *Client, method func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	if r, ok := any(req).(interface{ GetEmail() string }); ok && r.GetEmail() != "" {
		ctx = withUser(ctx, r.GetEmail())
	}
	var resp Resp
	err := c.invoke(ctx, func(ctx context.Context) (err error) {
		resp, err = method(ctx, req)
		return err
	})
	return resp, err
}

// RegisterUser registers email to track ticker and returns the user.
// ALREADY_EXISTS if the e-mail is registered, INVALID_ARGUMENT for a bad
// field.
func (c *Client) RegisterUser(ctx context.Context, email, ticker string) (*pb.User, error) {
	req := &pb.RegisterUserRequest{RequestId: newRequestID(), Email: email, Ticker: ticker}
	return call(ctx, c, c.stock.RegisterUser, req)
}

// UpdateUser makes email track ticker and returns the user. NOT_FOUND for
// an unknown e-mail, INVALID_ARGUMENT for a bad field.
func (c *Client) UpdateUser(ctx context.Context, email, ticker string) (*pb.User, error) {
	req := &pb.UpdateUserRequest{RequestId: newRequestID(), Email: email, Ticker: ticker}
	return call(ctx, c, c.stock.UpdateUser, req)
}

// DeleteUser removes the user. NOT_FOUND for an unknown e-mail.
func (c *Client) DeleteUser(ctx context.Context, email string) (*pb.DeleteUserResponse, error) {
	req := &pb.DeleteUserRequest{RequestId: newRequestID(), Email: email}
	return call(ctx, c, c.stock.DeleteUser, req)
}

// GetUser returns the user. NOT_FOUND for an unknown e-mail.
func (c *Client) GetUser(ctx context.Context, email string) (*pb.User, error) {
	req := &pb.GetUserRequest{Email: email}
	return call(ctx, c, c.stock.GetUser, req)
}

// GetLatestPrice returns the newest price of the user's ticker. NOT_FOUND
// for an unknown e-mail, FAILED_PRECONDITION before any price is collected.
func (c *Client) GetLatestPrice(ctx context.Context, email string) (*pb.Price, error) {
	req := &pb.GetLatestPriceRequest{Email: email}
	return call(ctx, c, c.stock.GetLatestPrice, req)
}

// GetAveragePrice returns the mean of the user's newest count prices.
// INVALID_ARGUMENT for a count outside 1…10000, NOT_FOUND for an unknown
// e-mail, FAILED_PRECONDITION before any price is collected.
func (c *Client) GetAveragePrice(ctx context.Context, email string, count int) (*pb.AveragePrice, error) {
	if count < 0 || count > 1<<31-1 {
		return nil, status.Errorf(codes.InvalidArgument, "count %d is out of range", count)
	}
	req := &pb.GetAveragePriceRequest{Email: email, Count: int32(count)}
	return call(ctx, c, c.stock.GetAveragePrice, req)
}

// GetPriceHistory returns the prices of the user's ticker with a market
// time in [since, until), in time order, downsampled to at most maxPoints
// (0: the server's default, 500). A zero since means 24 hours before
// until, a zero until the server's now. INVALID_ARGUMENT for an empty or
// too long range (over 366 days) or maxPoints outside 0…2000, NOT_FOUND
// for an unknown e-mail.
func (c *Client) GetPriceHistory(ctx context.Context, email string, since, until time.Time, maxPoints int32) (*pb.PriceHistory, error) {
	req := &pb.GetPriceHistoryRequest{Email: email, MaxPoints: maxPoints}
	if !since.IsZero() {
		req.Since = timestamppb.New(since)
	}
	if !until.IsZero() {
		req.Until = timestamppb.New(until)
	}
	return call(ctx, c, c.stock.GetPriceHistory, req)
}

// ListUsers returns one page of users, each with their latest price.
// pageSize 0 means the server's default (100); pageToken "" is the first
// page. UNAUTHENTICATED without the admin token when the server needs one.
func (c *Client) ListUsers(ctx context.Context, pageSize int32, pageToken string) (*pb.ListUsersResponse, error) {
	req := &pb.ListUsersRequest{PageSize: pageSize, PageToken: pageToken}
	return call(ctx, c, c.stock.ListUsers, req)
}

// ListPrices returns one page of prices, newest first, of ticker or (when
// ticker is "") of all tickers. Paging as in ListUsers.
func (c *Client) ListPrices(ctx context.Context, ticker string, pageSize int32, pageToken string) (*pb.ListPricesResponse, error) {
	req := &pb.ListPricesRequest{Ticker: ticker, PageSize: pageSize, PageToken: pageToken}
	return call(ctx, c, c.stock.ListPrices, req)
}

// DeletePrices removes the prices collected more than olderThan ago and
// returns how many. INVALID_ARGUMENT unless olderThan is positive.
func (c *Client) DeletePrices(ctx context.Context, olderThan time.Duration) (*pb.DeletePricesResponse, error) {
	req := &pb.DeletePricesRequest{RequestId: newRequestID(), OlderThan: durationpb.New(olderThan)}
	return call(ctx, c, c.stock.DeletePrices, req)
}

// SetAlert sets (or replaces) the user's alert band: above and below in
// the ticker's currency (0: that side unset), told on channels, webhooks
// to webhookURL. The reply carries the webhook secret when this call made
// one. INVALID_ARGUMENT for a bad field, NOT_FOUND for an unknown e-mail.
func (c *Client) SetAlert(ctx context.Context, email string, above, below float64, channels []pb.Channel, webhookURL string) (*pb.Alert, error) {
	req := &pb.SetAlertRequest{RequestId: newRequestID(), Email: email, Above: above, Below: below, Channels: channels, WebhookUrl: webhookURL}
	return call(ctx, c, c.stock.SetAlert, req)
}

// GetAlert returns the user's alert band, without its secret. NOT_FOUND
// for an unknown e-mail or a user without a band.
func (c *Client) GetAlert(ctx context.Context, email string) (*pb.Alert, error) {
	req := &pb.GetAlertRequest{Email: email}
	return call(ctx, c, c.stock.GetAlert, req)
}

// DeleteAlert clears the user's alert band. NOT_FOUND for an unknown
// e-mail or a user without a band.
func (c *Client) DeleteAlert(ctx context.Context, email string) (*pb.DeleteAlertResponse, error) {
	req := &pb.DeleteAlertRequest{RequestId: newRequestID(), Email: email}
	return call(ctx, c, c.stock.DeleteAlert, req)
}

// ListNotifications returns one page of the user's notifications, newest
// first. Paging as in ListUsers; NOT_FOUND for an unknown e-mail.
func (c *Client) ListNotifications(ctx context.Context, email string, pageSize int32, pageToken string) (*pb.ListNotificationsResponse, error) {
	req := &pb.ListNotificationsRequest{Email: email, PageSize: pageSize, PageToken: pageToken}
	return call(ctx, c, c.stock.ListNotifications, req)
}

// Health asks the server's grpc.health.v1 service about StockService. It
// returns the answer whatever the serving status; an error only when the
// server could not be asked.
func (c *Client) Health(ctx context.Context) (*healthpb.HealthCheckResponse, error) {
	req := &healthpb.HealthCheckRequest{Service: pb.StockService_ServiceDesc.ServiceName}
	return call(ctx, c, c.health.Check, req)
}

// UserPages iterates over the pages of users, fetching pages of pageSize
// (0: the server's default), each one call retried on its own. A page is
// fetched only when the previous one has been consumed and named a next
// page. After an error the iteration stops.
func (c *Client) UserPages(ctx context.Context, pageSize int32) iter.Seq2[*pb.ListUsersResponse, error] {
	return pages(func(token string) (*pb.ListUsersResponse, error) {
		return c.ListUsers(ctx, pageSize, token)
	})
}

// PricePages iterates over the pages of prices of ticker ("" for all),
// newest first, like UserPages.
func (c *Client) PricePages(ctx context.Context, ticker string, pageSize int32) iter.Seq2[*pb.ListPricesResponse, error] {
	return pages(func(token string) (*pb.ListPricesResponse, error) {
		return c.ListPrices(ctx, ticker, pageSize, token)
	})
}

// AllNotifications iterates over every notification of the user, newest
// first, page by page as UserPages fetches them. After an error the
// iteration stops.
func (c *Client) AllNotifications(ctx context.Context, email string, pageSize int32) iter.Seq2[*pb.Notification, error] {
	return items(pages(func(token string) (*pb.ListNotificationsResponse, error) {
		return c.ListNotifications(ctx, email, pageSize, token)
	}), (*pb.ListNotificationsResponse).GetNotifications)
}

// AllUsers iterates over every user, page by page as UserPages fetches
// them. After an error the iteration stops.
func (c *Client) AllUsers(ctx context.Context, pageSize int32) iter.Seq2[*pb.UserWithPrice, error] {
	return items(c.UserPages(ctx, pageSize), (*pb.ListUsersResponse).GetUsers)
}

// AllPrices iterates over every price of ticker ("" for all), newest
// first, like AllUsers.
func (c *Client) AllPrices(ctx context.Context, ticker string, pageSize int32) iter.Seq2[*pb.Price, error] {
	return items(c.PricePages(ctx, ticker, pageSize), (*pb.ListPricesResponse).GetPrices)
}

// pages iterates over the pages fetch returns, from the first (token "")
// until one names no next page. After fetch's first error, which it
// yields, the iteration stops.
func pages[P interface{ GetNextPageToken() string }](fetch func(token string) (P, error)) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		token := ""
		for {
			page, err := fetch(token)
			if err != nil {
				var zero P
				yield(zero, err)
				return
			}
			if !yield(page, nil) {
				return
			}
			if token = page.GetNextPageToken(); token == "" {
				return
			}
		}
	}
}

// items iterates over the items of each page of ps, in order, and stops
// after yielding the first error of ps.
func items[P, T any](ps iter.Seq2[P, error], of func(P) []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range ps {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range of(page) {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}
