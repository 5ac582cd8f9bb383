package client

import (
	"cmp"
	"context"
	"hash/fnv"
	"slices"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/balancer/base"
)

// affinityName is the load-balancing policy of a client of several
// servers (see balanced). Among the servers that are READY and, by their
// grpc.health.v1 status, SERVING:
//
//   - the calls about one user (an e-mail) go to one server, the first of
//     the user's order of servers, so that what the user changes is seen
//     at once by the price reads that follow, whichever process makes
//     them: a replica keeps which ticker a user follows for
//     -user-cache-ttl (docs/reads.md), and forgets it when it writes it;
//   - a retry of such a call goes to the next server of that order (the
//     n-th attempt to the n-th, round and round), so that retries go round
//     the servers as they would under round_robin;
//   - a call about no user (the admin ones) goes round the servers.
//
// A user's order is rendezvous hashing over the servers' addresses: when
// a server leaves or comes back, only its users move.
const affinityName = "stockwatch_affinity"

func init() {
	balancer.Register(base.NewBalancerBuilder(affinityName, affinityPickerBuilder{}, base.Config{HealthCheck: true}))
}

// affinityKey is the context key of a call's user and attempt.
type affinityKey struct{}

// affinity is what the picker needs of a call: whose it is, and which
// attempt.
type affinity struct {
	user    string // the e-mail, normalised as the server does (case, spaces)
	attempt int
}

// withUser returns ctx for the calls about the user email.
func withUser(ctx context.Context, email string) context.Context {
	return context.WithValue(ctx, affinityKey{}, affinity{user: strings.ToLower(strings.TrimSpace(email))})
}

// withAttempt returns ctx for attempt n (0 first) of a call about the
// user ctx names, if any.
func withAttempt(ctx context.Context, n int) context.Context {
	a, ok := ctx.Value(affinityKey{}).(affinity)
	if !ok || n == 0 {
		return ctx
	}
	a.attempt = n
	return context.WithValue(ctx, affinityKey{}, a)
}

type affinityPickerBuilder struct{}

func (affinityPickerBuilder) Build(info base.PickerBuildInfo) balancer.Picker {
	if len(info.ReadySCs) == 0 {
		return base.NewErrPicker(balancer.ErrNoSubConnAvailable)
	}
	p := &affinityPicker{}
	for sc, sci := range info.ReadySCs {
		p.servers = append(p.servers, server{sc: sc, addr: sci.Address.Addr})
	}
	slices.SortFunc(p.servers, func(a, b server) int { return strings.Compare(a.addr, b.addr) })
	return p
}

type server struct {
	sc   balancer.SubConn
	addr string
}

type affinityPicker struct {
	servers []server // READY and SERVING, by address
	next    atomic.Uint32
}

func (p *affinityPicker) Pick(info balancer.PickInfo) (balancer.PickResult, error) {
	a, ok := info.Ctx.Value(affinityKey{}).(affinity)
	if !ok {
		n := p.next.Add(1) - 1
		return balancer.PickResult{SubConn: p.servers[int(n%uint32(len(p.servers)))].sc}, nil
	}
	o := p.order(a.user)
	return balancer.PickResult{SubConn: o[a.attempt%len(p.servers)].sc}, nil
}

// order returns the servers in user's order: by a hash of the user and
// the server's address, highest first.
func (p *affinityPicker) order(user string) []server {
	type scored struct {
		s     server
		score uint64
	}
	u := hash64(user)
	all := make([]scored, len(p.servers))
	for i, s := range p.servers {
		all[i] = scored{s, mix64(u ^ hash64(s.addr))}
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	out := make([]server, len(all))
	for i, sc := range all {
		out[i] = sc.s
	}
	return out
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// mix64 is SplitMix64's finaliser: every bit of x moves every bit of the
// result, which FNV alone does not do for strings that differ at the end
// (addresses that differ in their port).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
