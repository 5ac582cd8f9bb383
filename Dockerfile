# Stockwatch: one image for every role of the daemon (-role all|api|collector),
# with the client beside it for health checks and administration.
#
#   docker compose up --build            # see compose.yaml and .env.example
#   docker build -t stockwatch .
#   docker run --rm stockwatch -h
#
# deploy/deploy_test.go checks this file and builds the binaries with the very
# `go build` command below; keep the two in step.

# ---- build: static binaries ------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Dependencies first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/ ./cmd/stockwatchd ./cmd/stockwatch

# The runtime image has no shell: prepare its writable working directory here
# (65532 is distroless's "nonroot" user and group).
RUN mkdir -p /data && chown 65532:65532 /data

# ---- runtime: distroless, no shell, non-root ---------------------------------
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/stockwatchd /out/stockwatch /usr/local/bin/
COPY --from=build --chown=65532:65532 /data /data

# The default database is sqlite://stockwatch.db in the working directory:
# keep it on a volume the nonroot user can write. Compose uses MySQL instead.
WORKDIR /data
VOLUME ["/data"]

# A container must listen on all of its interfaces; the daemon's own defaults
# (localhost) only suit a laptop.
ENV STOCKWATCH_GRPC_ADDR=:50051 \
    STOCKWATCH_HTTP_ADDR=:9464

# 50051: gRPC API (role all or api). 9464: /metrics, /healthz, /readyz.
EXPOSE 50051 9464

USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/stockwatchd"]
