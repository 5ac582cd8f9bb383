#!/usr/bin/env bash
# Regenerates the code of proto/ with the generator versions pinned in
# go.mod (tool directives) and Debian's protoc: the Go messages and gRPC
# stubs, the REST/JSON gateway (in a package of its own,
# proto/gateway/..., so that gRPC clients do not link it) and its OpenAPI
# document, both from the HTTP rules in stockwatch_http.yaml. CI runs it
# and fails on a diff.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
for gen in google.golang.org/protobuf/cmd/protoc-gen-go \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2; do
  go build -o "$bin/${gen##*/}" "$gen"
done
src=stockwatch/v1/stockwatch.proto
rules=proto/stockwatch/v1/stockwatch_http.yaml
# No stale generated file survives (openapi.go is not generated).
mkdir -p proto/gateway && find proto/gateway \( -name '*.pb.gw.go' -o -name '*.swagger.json' \) -delete
PATH="$bin:$PATH" protoc -I proto -I /usr/include \
  --go_out=proto --go_opt=paths=source_relative \
  --go-grpc_out=proto --go-grpc_opt=paths=source_relative \
  --grpc-gateway_out=proto/gateway --grpc-gateway_opt=paths=source_relative \
  --grpc-gateway_opt=standalone=true,grpc_api_configuration="$rules" \
  --openapiv2_out=proto/gateway --openapiv2_opt=grpc_api_configuration="$rules" \
  --openapiv2_opt=openapi_configuration=proto/stockwatch/v1/stockwatch_openapi.yaml \
  --openapiv2_opt=json_names_for_fields=false,disable_service_tags=true,preserve_rpc_order=true \
  "proto/$src"
