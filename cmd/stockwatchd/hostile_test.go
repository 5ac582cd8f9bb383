package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stockwatch/stockwatch/internal/api"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// hostileCodec sends and receives raw bytes. Named "proto", it makes the
// server decode whatever we send with its own protobuf codec.
type hostileCodec struct{}

func (hostileCodec) Name() string { return "proto" }

func (hostileCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (hostileCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

// malformedCode is what the daemon answers to bytes that are not a
// protobuf message at all (bad wire format, invalid UTF-8 in a string
// field): grpc-go alone would answer INTERNAL before any of our code runs;
// api.StrictCodec and api.RejectMalformed make it INVALID_ARGUMENT.
const (
	malformedCode   = codes.InvalidArgument
	malformedPrefix = "request is not a valid protobuf message"
)

// hostileCase is one raw request and the exact answer it must get.
type hostileCase struct {
	name    string
	method  string
	payload []byte
	code    codes.Code
	msg     string // exact message; "" checks the code only
	prefix  string // message prefix, when the rest is the library's detail
	check   func(t *testing.T, resp []byte)
}

// hostileRun sends raw requests and keeps count of the answers.
type hostileRun struct {
	conn  *grpc.ClientConn
	mu    sync.Mutex
	sent  int
	codes map[string]int
}

func (h *hostileRun) call(t *testing.T, method string, payload []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var resp []byte
	err := h.conn.Invoke(ctx, method, &payload, &resp, grpc.ForceCodecV2(hostileCodec{}))
	code := status.Code(err)
	key := code.String()
	if code == malformedCode && strings.HasPrefix(status.Convert(err).Message(), malformedPrefix) {
		key = "InvalidArgument(not protobuf)"
	}
	h.mu.Lock()
	h.sent++
	h.codes[key]++
	h.mu.Unlock()
	return resp, err
}

func (h *hostileRun) run(t *testing.T, c hostileCase) {
	t.Helper()
	resp, err := h.call(t, c.method, c.payload)
	st := status.Convert(err)
	if st.Code() != c.code {
		t.Fatalf("%s: code %v (%q), want %v", c.method, st.Code(), st.Message(), c.code)
	}
	if c.msg != "" && st.Message() != c.msg {
		t.Fatalf("%s: message %q, want %q", c.method, st.Message(), c.msg)
	}
	if c.prefix != "" && !strings.HasPrefix(st.Message(), c.prefix) {
		t.Fatalf("%s: message %q, want prefix %q", c.method, st.Message(), c.prefix)
	}
	if c.check != nil {
		c.check(t, resp)
	}
}

// wire builds a message field by field.
type wire []byte

func (w wire) str(n protowire.Number, s string) wire {
	return protowire.AppendString(protowire.AppendTag(w, n, protowire.BytesType), s)
}

func (w wire) varint(n protowire.Number, v uint64) wire {
	return protowire.AppendVarint(protowire.AppendTag(w, n, protowire.VarintType), v)
}

func (w wire) fixed32(n protowire.Number, v uint32) wire {
	return protowire.AppendFixed32(protowire.AppendTag(w, n, protowire.Fixed32Type), v)
}

func (w wire) fixed64(n protowire.Number, v uint64) wire {
	return protowire.AppendFixed64(protowire.AppendTag(w, n, protowire.Fixed64Type), v)
}

func (w wire) raw(b ...byte) wire { return append(w, b...) }

func hostileMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostileUser decodes a User answer and checks its fields.
func hostileUser(email, ticker string) func(t *testing.T, resp []byte) {
	return func(t *testing.T, resp []byte) {
		t.Helper()
		var u pb.User
		if err := proto.Unmarshal(resp, &u); err != nil {
			t.Fatalf("answer is not a User: %v", err)
		}
		if u.GetEmail() != email || u.GetTicker() != ticker {
			t.Fatalf("answer %v, want user %s tracking %s", &u, email, ticker)
		}
	}
}

// TestHostileRequests sends the daemon raw gRPC requests no generated
// client would send: other message types, bytes that are not protobuf,
// unknown fields, wrong wire types, oversized messages and fields, forged
// page tokens, out-of-range sizes and counts, and a few hundred random
// mutations of valid requests. Every answer has the exact code the case
// names: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, or OK (or NOT_FOUND,
// ALREADY_EXISTS, FAILED_PRECONDITION) when the input is valid; never an
// INTERNAL from Stockwatch's code. The daemon logs no internal error and
// still serves afterwards.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	addr, logs := startInProcess(t, "-role", "api", "-db", "sqlite://"+filepath.Join(t.TempDir(), "hostile.db"), "-verify-tickers=false")
	conn := dialConn(t, addr)
	h := &hostileRun{conn: conn, codes: map[string]int{}}

	const (
		register = pb.StockService_RegisterUser_FullMethodName
		update   = pb.StockService_UpdateUser_FullMethodName
		del      = pb.StockService_DeleteUser_FullMethodName
		getUser  = pb.StockService_GetUser_FullMethodName
		latest   = pb.StockService_GetLatestPrice_FullMethodName
		average  = pb.StockService_GetAveragePrice_FullMethodName
		users    = pb.StockService_ListUsers_FullMethodName
		prices   = pb.StockService_ListPrices_FullMethodName
		purge    = pb.StockService_DeletePrices_FullMethodName
	)
	const (
		tooLarge     = "grpc: received message larger than max"
		badToken     = "invalid page_token"
		needEmail    = "email is required"
		longEmail    = "email is longer than 254 characters"
		reqID        = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
		reqIDUnknown = "0b9f7c1e-2d3a-4b5c-8d6e-7f8091a2b3c4"
	)
	valid := hostileMarshal(t, &pb.RegisterUserRequest{Email: "known@x.com", Ticker: "AAPL"})
	now := timestamppb.New(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))
	enc := encodeToken

	cases := []hostileCase{
		// A valid request first: the user the later cases find.
		{name: "Valid", method: register, payload: valid, code: codes.OK, check: hostileUser("known@x.com", "AAPL")},

		// Another message's bytes. Fields of a different type are unknown
		// to the decoder (protobuf keeps them aside); those of the same
		// number and type land in this message's field.
		{name: "WrongType/PriceAsRegisterUser", method: register,
			payload: hostileMarshal(t, &pb.Price{Ticker: "AAPL", Price: 1.5, Currency: "USD", MarketTime: now}),
			code:    codes.InvalidArgument, msg: `request_id "AAPL" is not a UUID`},
		{name: "WrongType/UserAsGetUser", method: getUser,
			payload: hostileMarshal(t, &pb.User{Email: "known@x.com", Ticker: "AAPL", CreateTime: now}),
			code:    codes.OK, check: hostileUser("known@x.com", "AAPL")},
		{name: "WrongType/ListUsersAsDeleteUser", method: del,
			payload: hostileMarshal(t, &pb.ListUsersRequest{PageSize: 5, PageToken: "x"}),
			code:    codes.InvalidArgument, msg: `email "x" is not a valid address`},
		{name: "WrongType/DeletePricesAsGetAveragePrice", method: average,
			payload: hostileMarshal(t, &pb.DeletePricesRequest{RequestId: "known@x.com", OlderThan: durationpb.New(time.Hour)}),
			code:    codes.InvalidArgument, msg: "count must be between 1 and 10000, got 0"},
		{name: "WrongType/AveragePriceAsListPrices", method: prices,
			payload: hostileMarshal(t, &pb.AveragePrice{Ticker: "AAPL", Average: 2, Currency: "USD", Count: 3, Requested: 3}),
			code:    codes.InvalidArgument, msg: badToken}, // currency (3) is page_token here
		// The e-mail (2) lands in older_than (2), a Duration message, and
		// "known@x.com" does not parse as one.
		{name: "WrongType/RegisterUserAsDeletePrices", method: purge, payload: valid, code: malformedCode, prefix: malformedPrefix},

		// Not protobuf at all: grpc-go's decoder rejects it before us.
		{name: "Malformed/AllOnes", method: register, payload: []byte{0xff, 0xff, 0xff, 0xff}, code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/TruncatedVarint", method: average, payload: wire{}.raw(0x10, 0x80), code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/LengthPastEnd", method: getUser, payload: wire{}.raw(0x0a, 0x7f, 'a'), code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/FieldZero", method: getUser, payload: wire{}.raw(0x00, 0x01), code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/WireType6", method: users, payload: wire{}.raw(0x0e), code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/UnclosedGroup", method: users, payload: wire{}.raw(0x1b, 0x08, 0x01), code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/ElevenByteVarint", method: users, payload: wire{}.raw(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/InvalidUTF8Email", method: getUser, payload: wire{}.str(1, "\xff@x.com"), code: malformedCode, prefix: malformedPrefix},
		{name: "Malformed/HTML", method: register, payload: []byte("<html><body>hello</body></html>"), code: malformedCode, prefix: malformedPrefix},

		// Unknown fields are accepted and ignored: the answer is the one
		// the known fields ask for.
		{name: "UnknownFields/Get", method: getUser,
			payload: wire{}.str(1, "known@x.com").varint(99, 7).str(1000, "x").fixed64(536870911, 1).raw(0x9b, 0x06, 0x08, 0x01, 0x9c, 0x06), // group 99 {1: 1}
			code:    codes.OK, check: hostileUser("known@x.com", "AAPL")},
		{name: "UnknownFields/RegisterWithRequestID", method: register,
			payload: wire(hostileMarshal(t, &pb.RegisterUserRequest{RequestId: reqID, Email: "unknown-fields@x.com", Ticker: "msft"})).str(4, "admin=true").varint(5, 1),
			code:    codes.OK, check: hostileUser("unknown-fields@x.com", "MSFT")},
		// The retry carries other unknown fields: they are not part of the
		// request, so it is the same request and its answer is replayed.
		{name: "UnknownFields/RetryReplays", method: register,
			payload: wire(hostileMarshal(t, &pb.RegisterUserRequest{RequestId: reqID, Email: "unknown-fields@x.com", Ticker: "msft"})).str(4, "other"),
			code:    codes.OK, check: hostileUser("unknown-fields@x.com", "MSFT")},
		{name: "UnknownFields/ReservedNumbers", method: getUser, payload: wire{}.str(19000, "x").str(1, "known@x.com"),
			code: codes.OK, check: hostileUser("known@x.com", "AAPL")},
		{name: "UnknownFields/LastOneWins", method: getUser, payload: wire{}.str(1, "nobody").str(1, "known@x.com"),
			code: codes.OK, check: hostileUser("known@x.com", "AAPL")},

		// A known field with the wrong wire type is an unknown field: the
		// field itself reads as unset.
		{name: "WrongWireType/EmailAsVarint", method: getUser, payload: wire{}.varint(1, 5), code: codes.InvalidArgument, msg: needEmail},
		{name: "WrongWireType/EmailAsFixed64", method: register, payload: wire{}.fixed64(2, 1).str(3, "AAPL"), code: codes.InvalidArgument, msg: needEmail},
		{name: "WrongWireType/CountAsString", method: average, payload: wire{}.str(1, "known@x.com").str(2, "10"),
			code: codes.InvalidArgument, msg: "count must be between 1 and 10000, got 0"},
		{name: "WrongWireType/PageSizeAsFixed32", method: users, payload: wire{}.fixed32(1, 5), code: codes.OK},
		{name: "WrongWireType/OlderThanAsVarint", method: purge, payload: wire{}.varint(2, 3600), code: codes.InvalidArgument, msg: "older_than is required"},

		// Size limits: the daemon reads at most 64 KiB.
		{name: "Size/5MB", method: register, payload: wire{}.str(2, strings.Repeat("a", 5<<20)+"@x.com").str(3, "AAPL"),
			code: codes.ResourceExhausted, prefix: tooLarge},
		{name: "Size/64KiBPlus1", method: getUser, payload: wire{}.str(1, strings.Repeat("a", api.MaxMessageSize-3)), // tag + 3-byte length + body
			code: codes.ResourceExhausted, prefix: tooLarge},
		{name: "Size/Exactly64KiB", method: getUser, payload: wire{}.str(1, strings.Repeat("a", api.MaxMessageSize-4)),
			code: codes.InvalidArgument, msg: longEmail},
		{name: "Size/60KBEmail", method: register, payload: wire{}.str(2, strings.Repeat("a", 60000)+"@x.com").str(3, "AAPL"),
			code: codes.InvalidArgument, msg: longEmail},
		{name: "Size/60KBTicker", method: register, payload: wire{}.str(2, "t@x.com").str(3, strings.Repeat("A", 60000)),
			code: codes.InvalidArgument, msg: `ticker "` + strings.Repeat("A", 40) + `…" is not a valid symbol`},
		{name: "Size/60KBRequestID", method: del, payload: wire{}.str(1, strings.Repeat("f", 60000)).str(2, "known@x.com"),
			code: codes.InvalidArgument, msg: `request_id "` + strings.Repeat("f", 40) + `…" is not a UUID`},
		{name: "Size/60KBPageToken", method: users, payload: wire{}.str(2, strings.Repeat("A", 60000)), code: codes.InvalidArgument, msg: badToken},

		// Forged page tokens.
		{name: "Token/Garbage", method: users, payload: wire{}.str(2, "not a token!"), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/SQL", method: users, payload: wire{}.str(2, "'; DROP TABLE users; --"), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/ForgedSQLEmail", method: users, payload: wire{}.str(2, enc(`{"l":"users","e":"x' OR '1'='1"}`)), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/ForgedNegativeID", method: prices, payload: wire{}.str(3, enc(`{"l":"prices","m":1,"i":-1}`)), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/ForgedOtherTicker", method: prices, payload: wire{}.str(1, "MSFT").str(3, enc(`{"l":"prices","t":"AAPL","m":1,"i":1}`)), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/UsersTokenForPrices", method: prices, payload: wire{}.str(3, enc(`{"l":"users","e":"known@x.com"}`)), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/PricesTokenForUsers", method: users, payload: wire{}.str(2, enc(`{"l":"prices","m":1,"i":1}`)), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/Overflow", method: prices, payload: wire{}.str(3, enc(`{"l":"prices","m":9223372036854775808,"i":1}`)), code: codes.InvalidArgument, msg: badToken},
		{name: "Token/NUL", method: users, payload: wire{}.str(2, "\x00"), code: codes.InvalidArgument, msg: badToken},
		// A well-formed forged token is only a position: it reads from
		// there, like any token of that listing.
		{name: "Token/ForgedButWellFormed", method: users, payload: wire{}.str(2, enc(`{"l":"users","e":"a@x.com"}`)), code: codes.OK},

		// Sizes and counts out of range. int32 fields take the low 32 bits
		// of a 64-bit varint, as protobuf specifies.
		{name: "PageSize/Negative", method: users, payload: wire{}.varint(1, uint64(math.MaxUint64)), code: codes.InvalidArgument, msg: "page_size must not be negative, got -1"},
		{name: "PageSize/MinInt32", method: prices, payload: wire{}.varint(2, uint64(1<<64-1<<31)), code: codes.InvalidArgument, msg: "page_size must not be negative, got -2147483648"},
		{name: "PageSize/MaxInt32ServesAFullPage", method: users, payload: wire{}.varint(1, math.MaxInt32), code: codes.OK},
		{name: "PageSize/1001ServesAFullPage", method: prices, payload: wire{}.varint(2, 1001), code: codes.OK},
		{name: "PageSize/2^32+5TruncatesTo5", method: users, payload: wire{}.varint(1, 1<<32+5), code: codes.OK},
		{name: "Count/Negative", method: average, payload: wire{}.str(1, "known@x.com").varint(2, uint64(math.MaxUint64)), code: codes.InvalidArgument, msg: "count must be between 1 and 10000, got -1"},
		{name: "Count/10001", method: average, payload: wire{}.str(1, "known@x.com").varint(2, 10001), code: codes.InvalidArgument, msg: "count must be between 1 and 10000, got 10001"},
		{name: "Count/MaxInt32", method: average, payload: wire{}.str(1, "known@x.com").varint(2, math.MaxInt32), code: codes.InvalidArgument, msg: "count must be between 1 and 10000, got 2147483647"},
		{name: "Count/2^32+5TruncatesTo5", method: average, payload: wire{}.str(1, "known@x.com").varint(2, 1<<32+5),
			code: codes.FailedPrecondition}, // valid; no price collected yet
		{name: "OlderThan/Negative", method: purge, payload: hostileMarshal(t, &pb.DeletePricesRequest{OlderThan: durationpb.New(-time.Hour)}),
			code: codes.InvalidArgument, msg: "older_than must be positive, got -1h0m0s"},
		{name: "OlderThan/BeyondRange", method: purge, payload: wire{}.str(2, string(wire{}.varint(1, 315576000001))),
			code: codes.InvalidArgument, msg: "older_than is not a valid duration"},
		{name: "OlderThan/MixedSigns", method: purge, payload: wire{}.str(2, string(wire{}.varint(1, 5).varint(2, uint64(math.MaxUint64)))),
			code: codes.InvalidArgument, msg: "older_than is not a valid duration"},
		{name: "OlderThan/MaxInt64Seconds", method: purge, payload: wire{}.str(2, string(wire{}.varint(1, math.MaxInt64))),
			code: codes.InvalidArgument, msg: "older_than is not a valid duration"},

		// Other fields.
		{name: "RequestID/Unknown", method: update, payload: hostileMarshal(t, &pb.UpdateUserRequest{RequestId: reqIDUnknown, Email: "nobody@x.com", Ticker: "AAPL"}),
			code: codes.NotFound, msg: "user nobody@x.com not found"},
		{name: "RequestID/ReusedForOtherRequest", method: update, payload: hostileMarshal(t, &pb.UpdateUserRequest{RequestId: reqID, Email: "unknown-fields@x.com", Ticker: "AAPL"}),
			code: codes.InvalidArgument, msg: "request_id reused with a different request"},
		{name: "Email/NUL", method: latest, payload: wire{}.str(1, "a\x00b@x.com"), code: codes.InvalidArgument, msg: `email "a\x00b@x.com" contains an invisible or control character (U+0000)`},
		{name: "Email/DisplayName", method: latest, payload: wire{}.str(1, "Known <known@x.com>"), code: codes.InvalidArgument, msg: `email "Known <known@x.com>" is not a valid address`},
		{name: "Empty/Register", method: register, payload: nil, code: codes.InvalidArgument, msg: needEmail},
		{name: "Empty/ListPrices", method: prices, payload: nil, code: codes.OK},
		{name: "Empty/DeletePrices", method: purge, payload: nil, code: codes.InvalidArgument, msg: "older_than is required"},
	}
	// The fixed cases run in order: some need an earlier one's effect.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { h.run(t, c) })
	}

	// Random mutations of valid requests, from a fixed seed: every answer
	// is a code a valid or invalid request may get, never anything else.
	seeds := []struct {
		method string
		msg    proto.Message
	}{
		{register, &pb.RegisterUserRequest{RequestId: reqIDUnknown, Email: "m@x.com", Ticker: "AAPL"}},
		{update, &pb.UpdateUserRequest{Email: "known@x.com", Ticker: "BRK-B"}},
		{del, &pb.DeleteUserRequest{Email: "gone@x.com"}},
		{getUser, &pb.GetUserRequest{Email: "known@x.com"}},
		{latest, &pb.GetLatestPriceRequest{Email: "known@x.com"}},
		{average, &pb.GetAveragePriceRequest{Email: "known@x.com", Count: 10}},
		{users, &pb.ListUsersRequest{PageSize: 2, PageToken: enc(`{"l":"users","e":"a@x.com"}`)}},
		{prices, &pb.ListPricesRequest{Ticker: "AAPL", PageSize: 2, PageToken: enc(`{"l":"prices","t":"AAPL","m":1,"i":1}`)}},
		{purge, &pb.DeletePricesRequest{OlderThan: durationpb.New(24 * time.Hour)}},
	}
	allowed := []codes.Code{codes.OK, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition}
	rng := rand.New(rand.NewPCG(6, 3))
	const mutations = 300
	t.Run("Mutations", func(t *testing.T) {
		for i := range mutations {
			s := seeds[i%len(seeds)]
			payload := hostileMutate(rng, hostileMarshal(t, s.msg))
			_, err := h.call(t, s.method, payload)
			st := status.Convert(err)
			switch {
			case slices.Contains(allowed, st.Code()):
			case st.Code() == malformedCode && strings.HasPrefix(st.Message(), malformedPrefix):
			default:
				t.Errorf("%s(%x): %v %q", s.method, payload, st.Code(), st.Message())
			}
		}
	})

	// Still serving, and nothing reached the "internal error" path.
	hc := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health after hostile input: %v, %v", r, err)
	}
	sc := pb.NewStockServiceClient(conn)
	if _, err := sc.RegisterUser(ctx, &pb.RegisterUserRequest{Email: "after@x.com", Ticker: "AAPL"}); err != nil {
		t.Fatalf("RegisterUser after hostile input: %v", err)
	}
	if u, err := sc.GetUser(ctx, &pb.GetUserRequest{Email: "AFTER@x.com"}); err != nil || u.GetTicker() != "AAPL" {
		t.Fatalf("GetUser after hostile input: %v, %v", u, err)
	}
	if line := logs.find(map[string]any{"msg": "internal error"}); line != nil {
		t.Errorf("the daemon logged an internal error: %v", line)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("hostile: %d inputs sent, codes: %v", h.sent, h.codes)
	fmt.Printf("hostile: %d inputs sent, codes: %v\n", h.sent, h.codes)
}

// hostileMutate changes b a little. Half the time it appends well-formed
// fields (which override or add to the request's own); otherwise it
// flips, inserts, deletes or duplicates bytes, truncates b, or appends a
// field, which mostly leaves bytes that are not protobuf.
func hostileMutate(rng *rand.Rand, b []byte) []byte {
	b = slices.Clone(b)
	if rng.IntN(2) == 0 {
		for range 1 + rng.IntN(3) {
			n := protowire.Number(1 + rng.IntN(4))
			switch rng.IntN(3) {
			case 0:
				b = wire(b).varint(n, hostileInts[rng.IntN(len(hostileInts))])
			case 1:
				b = wire(b).str(n, hostileStrings[rng.IntN(len(hostileStrings))])
			default:
				b = wire(b).fixed64(n, rng.Uint64())
			}
		}
		return b
	}
	for range 1 + rng.IntN(3) {
		switch op := rng.IntN(6); {
		case op == 0 && len(b) > 0:
			b[rng.IntN(len(b))] ^= byte(1 << rng.IntN(8))
		case op == 1:
			i := rng.IntN(len(b) + 1)
			b = slices.Insert(b, i, byte(rng.IntN(256)))
		case op == 2 && len(b) > 0:
			i := rng.IntN(len(b))
			b = slices.Delete(b, i, i+1)
		case op == 3 && len(b) > 0:
			b = b[:rng.IntN(len(b))]
		case op == 4:
			n := protowire.Number(1 + rng.IntN(20))
			switch rng.IntN(3) {
			case 0:
				b = wire(b).varint(n, rng.Uint64())
			case 1:
				b = wire(b).str(n, hostileStrings[rng.IntN(len(hostileStrings))])
			default:
				b = wire(b).fixed64(n, rng.Uint64())
			}
		default:
			b = append(b, b...)
		}
	}
	return b
}

// encodeToken wraps s as a page token would be: unpadded URL base64.
func encodeToken(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hostileInts are varint values on the edges of int32 and int64.
var hostileInts = []uint64{0, 1, 10000, 10001, math.MaxInt32, 1 << 31, 1<<32 + 5, math.MaxInt64, math.MaxUint64}

// hostileStrings are field values that have broken other programs.
var hostileStrings = []string{
	"", "'; DROP TABLE users; --", `" OR 1=1 --`, `\`, "%", "_", "\x00",
	"known@x.com", "AAPL", "^GSPC", "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
	strings.Repeat("A", 600), "é", "\u202e", encodeToken(`{"l":"users","e":"a@x.com"}`),
}

// TestHostileAdminWithoutToken: with -admin-token set, an admin RPC
// without the token is UNAUTHENTICATED whatever its body holds: the token
// is checked before the request is looked at.
func TestHostileAdminWithoutToken(t *testing.T) {
	t.Parallel()
	addr, _ := startInProcess(t, "-role", "api", "-db", "sqlite://"+filepath.Join(t.TempDir(), "hostile.db"),
		"-verify-tickers=false", "-admin-token", "s3cret")
	conn := dialConn(t, addr)
	h := &hostileRun{conn: conn, codes: map[string]int{}}
	for _, c := range []hostileCase{
		{name: "ListUsers/NotProtobuf", method: pb.StockService_ListUsers_FullMethodName, payload: []byte{0xff, 0xff, 0xff}, code: codes.Unauthenticated},
		{name: "ListPrices/NotProtobuf", method: pb.StockService_ListPrices_FullMethodName, payload: wire{}.str(1, "\xff\xfe"), code: codes.Unauthenticated},
		{name: "DeletePrices/NotProtobuf", method: pb.StockService_DeletePrices_FullMethodName, payload: []byte{0x0a}, code: codes.Unauthenticated},
		{name: "ListUsers/Valid", method: pb.StockService_ListUsers_FullMethodName, payload: nil, code: codes.Unauthenticated},
		// Not an admin RPC: the body is judged.
		{name: "GetUser/NotProtobuf", method: pb.StockService_GetUser_FullMethodName, payload: []byte{0xff, 0xff, 0xff}, code: malformedCode, prefix: malformedPrefix},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.code == codes.Unauthenticated {
				c.msg = "admin token required"
			}
			h.run(t, c)
		})
	}
}
