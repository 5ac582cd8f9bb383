package api

import (
	"bytes"
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	protobuf "google.golang.org/protobuf/proto"
)

// grpc-go decodes a request before any interceptor runs and answers every
// decode failure with INTERNAL, whatever the codec returns. A request that
// is not protobuf at all is the client's mistake, so StrictCodec decodes
// it instead into an empty message carrying malformedMarker as its only
// unknown field, and RejectMalformed answers that with INVALID_ARGUMENT.

// malformedMarker is an unknown varint field with the largest field number.
var malformedMarker = protowire.AppendVarint(protowire.AppendTag(nil, protowire.MaxValidNumber, protowire.VarintType), 1)

type strictCodec struct{ encoding.CodecV2 }

// StrictCodec returns grpc-go's proto codec, except that a request that
// fails to decode becomes a marked empty message (see RejectMalformed)
// rather than an error. Install it with grpc.ForceServerCodecV2.
func StrictCodec() encoding.CodecV2 { return strictCodec{encoding.GetCodecV2(proto.Name)} }

func (c strictCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(protobuf.Message)
	if err == nil || !ok {
		return err
	}
	protobuf.Reset(m)
	m.ProtoReflect().SetUnknown(malformedMarker)
	return nil
}

// RejectMalformed returns an interceptor that answers INVALID_ARGUMENT
// "request is not a valid protobuf message" to a request StrictCodec
// could not decode.
func RejectMalformed() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m, ok := req.(protobuf.Message); ok && bytes.Equal(m.ProtoReflect().GetUnknown(), malformedMarker) {
			return nil, status.Error(codes.InvalidArgument, "request is not a valid protobuf message")
		}
		return handler(ctx, req)
	}
}
