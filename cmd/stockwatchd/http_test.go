package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

// restCall sends one request to the daemon's HTTP address and returns the
// status and body.
func restCall(t *testing.T, addr, method, path, body string, header ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestREST: the daemon serves the REST/JSON API and its OpenAPI document
// on -http-addr beside /metrics, /healthz and /readyz, with the admin
// token and the API's interceptors (REST calls are counted as RPCs).
func TestREST(t *testing.T) {
	t.Parallel()
	_, logs := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false", "-admin-token", "s3cret")
	addr := httpAddr(t, logs)
	const key = "Idempotency-Key: 5f0c6b9e-2a43-4c8e-9b1d-3f6a7c2e8d10"
	for _, tt := range []struct {
		method, path, body string
		header             []string
		code               int
		contains           string
	}{
		{"POST", "/v1/users", `{"email":"alice@example.com","ticker":"aapl"}`, []string{key}, 200, `"ticker":"AAPL"`},
		{"POST", "/v1/users", `{"email":"alice@example.com","ticker":"aapl"}`, []string{key}, 200, `"ticker":"AAPL"`},
		{"POST", "/v1/users", `{"email":"alice@example.com","ticker":"aapl"}`, nil, 409, `"message":"user alice@example.com already exists"`},
		{"GET", "/v1/users/alice@example.com/price-history", "", nil, 400, `"message":"no price collected yet for AAPL"`},
		{"GET", "/v1/users", "", nil, 401, `"message":"admin token required"`},
		{"GET", "/v1/users", "", []string{"Authorization: Bearer s3cret"}, 200, `"email":"alice@example.com"`},
		{"GET", "/openapi.json", "", nil, 200, `"/v1/users/{email}/price-history"`},
		{"GET", "/healthz", "", nil, 200, "ok"},
		{"GET", "/readyz", "", nil, 200, "ready"},
	} {
		code, body := restCall(t, addr, tt.method, tt.path, tt.body, tt.header...)
		if code != tt.code || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s = %d %s, want %d with %s", tt.method, tt.path, code, body, tt.code, tt.contains)
		}
	}
	m := scrape(t, addr)
	for _, s := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="RegisterUser",grpc_service="stockwatch.v1.StockService",grpc_type="unary"}`,
		`grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="ListUsers",grpc_service="stockwatch.v1.StockService",grpc_type="unary"}`,
	} {
		if m[s] < 1 {
			t.Errorf("%s = %v, want REST calls counted", s, m[s])
		}
	}
	if m[`stockwatch_requests_replayed_total{method="/stockwatch.v1.StockService/RegisterUser"}`] != 1 {
		t.Errorf("replays of RegisterUser = %v, want 1", m[`stockwatch_requests_replayed_total{method="/stockwatch.v1.StockService/RegisterUser"}`])
	}
}

// TestRESTWithMutualTLS: the gateway's connection to the API stays in the
// process, so it needs no client certificate when gRPC clients do.
func TestRESTWithMutualTLS(t *testing.T) {
	t.Parallel()
	p := tlstest.New(t, "localhost")
	_, logs := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false",
		"-tls-cert", p.ServerCertFile, "-tls-key", p.ServerKeyFile, "-tls-client-ca", p.CAFile)
	code, body := restCall(t, httpAddr(t, logs), "POST", "/v1/users", `{"email":"a@x.com","ticker":"AAPL"}`)
	if code != 200 || !strings.Contains(body, `"email":"a@x.com"`) {
		t.Errorf("POST /v1/users = %d %s, want 200", code, body)
	}
}
