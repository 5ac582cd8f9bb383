package client

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	_ "google.golang.org/grpc/health" // the client-side health checker that healthCheckConfig asks for
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// MaxServers bounds the servers of one address list.
const MaxServers = 16

// balanced is the service config of a client of several servers: one
// connection to each, calls spread over those whose grpc.health.v1 status
// of StockService is SERVING (a replica that is shutting down, or
// unreachable, gets none), each user's calls to one of them and a retry
// to the next (affinityName), so that a retry goes to another healthy one.
var balanced = `{"loadBalancingConfig":[{"` + affinityName + `":{}}],` +
	`"healthCheckConfig":{"serviceName":"` + pb.StockService_ServiceDesc.ServiceName + `"}}`

// staticScheme is the scheme of the resolver that hands a list of
// addresses to gRPC; it is local to each connection (grpc.WithResolvers).
const staticScheme = "stockwatch-servers"

// target is what Dial makes of its address.
type target struct {
	name     string             // gRPC's target
	servers  []resolver.Address // a list's servers, for the static resolver
	balanced bool               // several servers: balanced over the healthy ones
}

// CheckAddr returns nil when Dial accepts addr, and otherwise an error
// saying what is wrong with it (Dial returns the same one). addr is one of:
//
//   - host:port — one server;
//   - host:port,host:port,… — several (at most MaxServers, each once);
//   - dns:///name:port — every address the name resolves to, resolved
//     again when a connection fails;
//   - another gRPC target with a scheme (unix:///path, …), as gRPC takes it.
func CheckAddr(addr string) error {
	_, err := parseTarget(addr)
	return err
}

func parseTarget(addr string) (target, error) {
	switch {
	case strings.TrimSpace(addr) == "":
		return target{}, errors.New("empty address")
	case strings.Contains(addr, ","):
		return parseList(addr)
	case strings.HasPrefix(addr, "dns:"):
		// dns:///name:port or dns://resolver/name:port: without a port
		// gRPC would dial 443, which is never the daemon's.
		rest, ok := strings.CutPrefix(addr, "dns://")
		slash := strings.Index(rest, "/")
		if !ok || slash < 0 {
			return target{}, fmt.Errorf("%q: want dns:///host:port", addr)
		}
		if err := checkHostPort(rest[slash+1:]); err != nil {
			return target{}, fmt.Errorf("%q: %w (want dns:///host:port)", addr, err)
		}
		return target{name: addr, balanced: true}, nil
	}
	return target{name: addr}, nil
}

// parseList parses host:port,host:port,….
func parseList(addr string) (target, error) {
	parts := strings.Split(addr, ",")
	if len(parts) > MaxServers {
		return target{}, fmt.Errorf("%d servers: at most %d", len(parts), MaxServers)
	}
	t := target{name: staticScheme + ":///" + addr, balanced: true}
	seen := map[string]bool{}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			return target{}, fmt.Errorf("server %d of %d is empty", i+1, len(parts))
		case strings.Contains(p, "://") || strings.HasPrefix(p, "dns:"):
			return target{}, fmt.Errorf("%q: a list takes host:port only", p)
		}
		if err := checkHostPort(p); err != nil {
			return target{}, fmt.Errorf("%q: %w", p, err)
		}
		if seen[p] {
			return target{}, fmt.Errorf("%s given twice", p)
		}
		seen[p] = true
		// ServerName: TLS checks each server's certificate against its own
		// host (unless TLS.ServerName says otherwise), not against the list.
		t.servers = append(t.servers, resolver.Address{Addr: p, ServerName: p})
	}
	return t, nil
}

// checkHostPort returns an error unless s is host:port with a host and a
// port of 1…65535.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want host:port")
	}
	if host == "" {
		return errors.New("no host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number in 1-65535", port)
	}
	return nil
}

// dialOptions returns the options that make gRPC dial t.
func (t target) dialOptions() []grpc.DialOption {
	var opts []grpc.DialOption
	if t.servers != nil {
		r := manual.NewBuilderWithScheme(staticScheme)
		r.InitialState(resolver.State{Addresses: t.servers})
		opts = append(opts, grpc.WithResolvers(r))
	}
	if t.balanced {
		opts = append(opts, grpc.WithDefaultServiceConfig(balanced))
	}
	return opts
}
