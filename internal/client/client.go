// Package client is Stockwatch's gRPC client: one method per RPC of
// stockwatch.v1.StockService plus Health, with the transport concerns the
// command line and the tests share — TLS and mTLS, the admin bearer token,
// a per-attempt timeout, and safe retries.
//
// Safe retries: every mutating call generates one request id (a UUID v4)
// and sends it unchanged on every attempt, so the server executes the
// operation at most once and replays its outcome to a retry. Only
// UNAVAILABLE, DEADLINE_EXCEEDED and ABORTED are retried, with exponential
// backoff and full jitter; every other code is the answer.
//
// Several servers (Dial's a:1,b:2,c:3 or dns:///name:port): calls go
// round-robin to the replicas that answer SERVING to grpc.health.v1, so a
// retry lands on another replica than the attempt that failed.
//
// The package does not validate arguments: the server does, and callers
// that want to catch mistakes before sending use stock.ParseEmail,
// stock.ParseTicker and stock.ValidateCount.
package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// Defaults of Options.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultRetries     = 3
	DefaultBackoffBase = 200 * time.Millisecond
	DefaultBackoffMax  = 5 * time.Second
)

// TLS configures transport security. The zero value is plaintext.
type TLS struct {
	// Enabled turns TLS on. Setting any file or ServerName implies it.
	Enabled bool
	// CAFile is a PEM bundle the server's certificate must chain to;
	// empty means the system roots.
	CAFile string
	// CertFile and KeyFile are the client's certificate and key (PEM) for
	// mTLS; give both or neither.
	CertFile, KeyFile string
	// ServerName overrides the name checked in the server's certificate
	// (default: the host of the address).
	ServerName string
}

func (t TLS) enabled() bool {
	return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != ""
}

// Options configures a Client. Zero values take the defaults.
type Options struct {
	// Timeout bounds each attempt of a call (default 5s); a retry gets a
	// fresh one. The caller's context bounds the whole call.
	Timeout time.Duration
	// Retries is how many times a call is retried after its first attempt
	// (default 3). Negative means never.
	Retries int
	// Token, when set, is sent with every RPC as "authorization: Bearer
	// <token>" (the daemon's -admin-token). Without TLS it travels in the
	// clear; that is acceptable on loopback only.
	Token string
	// TLS configures transport security (default plaintext).
	TLS TLS

	// BackoffBase and BackoffMax shape the wait before retry n (n = 0, 1,
	// …): a uniformly random duration in [0, min(BackoffMax,
	// BackoffBase·2ⁿ)) — "full jitter". Defaults 200ms and 5s.
	BackoffBase, BackoffMax time.Duration
	// Rand returns a number in [0, 1) for the jitter (default
	// math/rand/v2.Float64). Tests inject a fixed sequence.
	Rand func() float64
	// Sleep waits d or until ctx is done, returning ctx.Err() then
	// (default: a timer). Tests inject one that records and returns.
	Sleep func(ctx context.Context, d time.Duration) error
	// DialOptions are appended to the client's own (tests, interceptors).
	DialOptions []grpc.DialOption
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

// Client talks to one Stockwatch server, or to several replicas. It is safe for concurrent use.
type Client struct {
	conn   *grpc.ClientConn
	stock  pb.StockServiceClient
	health healthpb.HealthClient
	opts   Options
}

// Dial returns a Client for the server at addr (host:port), or for
// several replicas of it (a:1,b:2,c:3 or dns:///name:port; see CheckAddr).
// With several, calls are spread round-robin over the replicas whose
// health status is SERVING, and each retry goes to the next one, so a
// call whose replica dies is retried on another. It connects lazily: an
// unreachable server shows up as UNAVAILABLE on the first call, not here.
// It returns an error if the TLS files cannot be loaded or the address is
// malformed (CheckAddr's error).
func Dial(addr string, opts Options) (*Client, error) {
	t, err := parseTarget(addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	opts = opts.withDefaults()
	creds := insecure.NewCredentials()
	if opts.TLS.enabled() {
		tc, err := tlsConfig(opts.TLS)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		creds = credentials.NewTLS(tc)
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// gRPC fails calls fast while it waits to reconnect; its default
		// first wait (1s) would swallow our early retries after a server
		// restart, so reconnect on our own schedule.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  opts.BackoffBase / 2,
				Multiplier: 2,
				Jitter:     0.2,
				MaxDelay:   opts.BackoffMax,
			},
			MinConnectTimeout: opts.Timeout,
		}),
	}
	if opts.Token != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer(opts.Token)))
	}
	dopts = append(dopts, t.dialOptions()...)
	dopts = append(dopts, opts.DialOptions...)
	conn, err := grpc.NewClient(t.name, dopts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &Client{
		conn:   conn,
		stock:  pb.NewStockServiceClient(conn),
		health: healthpb.NewHealthClient(conn),
		opts:   opts,
	}, nil
}

// Close closes the connection. Calls in flight fail with CANCELED.
func (c *Client) Close() error { return c.conn.Close() }

// bearer sends the admin token with every RPC.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false so that a token works against a
// plaintext daemon on loopback, which the daemon allows.
func (b bearer) RequireTransportSecurity() bool { return false }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
