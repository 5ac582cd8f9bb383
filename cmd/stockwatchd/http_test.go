package main

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

// restCall sends one request to the daemon's HTTP address and returns the
// status and body.
func restCall(t *testing.T, addr, method, path, body string, header ...string) (int, string) {
	t.Helper()
	resp, got := testkit.HTTP(t, http.DefaultClient, method, "http://"+addr+path, strings.NewReader(body), header...)
	return resp.StatusCode, got
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
		{"GET", "/", "", nil, 200, `<form method="post" action="/" id="register-form">`},
		{"GET", "/u/alice@example.com", "", nil, 200, `<span class="ticker" id="ticker">AAPL</span>`},
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

// TestHTTPWithTLS: with -tls-cert and -tls-key, the HTTP port (REST,
// pages, metrics, probes) is served over TLS with the API's settings: a
// client certificate is required there too when -tls-client-ca is set,
// and the admin cookie is Secure. The gateway's own connection to the API
// stays in the process and needs no certificate.
func TestHTTPWithTLS(t *testing.T) {
	t.Parallel()
	p := tlstest.New(t, "127.0.0.1")
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{
			Timeout:       20 * time.Second,
			Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Pool, Certificates: certs}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	send := func(t *testing.T, c *http.Client, method, url, body string, header ...string) (*http.Response, string, error) {
		t.Helper()
		return testkit.TryHTTP(t, c, method, url, strings.NewReader(body), header...)
	}

	t.Run("MutualTLS", func(t *testing.T) {
		t.Parallel()
		_, logs := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false",
			"-tls-cert", p.ServerCertFile, "-tls-key", p.ServerKeyFile, "-tls-client-ca", p.CAFile)
		addr := httpAddr(t, logs)
		if code, body := restCall(t, addr, "GET", "/healthz", ""); code != http.StatusBadRequest {
			t.Errorf("plain HTTP = %d %s, want 400 (Go's answer to HTTP on a TLS port)", code, body)
		}
		if _, _, err := send(t, client(), "GET", "https://"+addr+"/healthz", ""); err == nil {
			t.Error("HTTPS without a client certificate succeeded, want the handshake refused")
		}
		c := client(p.ClientCert)
		for _, tt := range []struct{ method, path, body, contains string }{
			{"POST", "/v1/users", `{"email":"a@x.com","ticker":"AAPL"}`, `"email":"a@x.com"`},
			{"GET", "/u/a@x.com", "", `<span class="ticker" id="ticker">AAPL</span>`},
			{"GET", "/openapi.json", "", `"/v1/users/{email}/price-history"`},
			{"GET", "/metrics", "", "grpc_server_handled_total"},
			{"GET", "/healthz", "", "ok"},
			{"GET", "/readyz", "", "ready"},
		} {
			resp, body, err := send(t, c, tt.method, "https://"+addr+tt.path, tt.body)
			if err != nil || resp.StatusCode != 200 || !strings.Contains(body, tt.contains) {
				t.Errorf("%s %s over mTLS = %v %v, want 200 with %s", tt.method, tt.path, resp, err, tt.contains)
			}
		}
	})
	t.Run("SecureCookie", func(t *testing.T) {
		t.Parallel()
		_, logs := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false",
			"-tls-cert", p.ServerCertFile, "-tls-key", p.ServerKeyFile, "-admin-token", "s3cret")
		resp, body, err := send(t, client(), "POST", "https://"+httpAddr(t, logs)+"/admin/sign-in", "token=s3cret",
			"Content-Type: application/x-www-form-urlencoded")
		if err != nil {
			t.Fatal(err)
		}
		want := "stockwatch_admin=czNjcmV0; Path=/admin; HttpOnly; Secure; SameSite=Strict"
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Set-Cookie") != want {
			t.Errorf("sign in over TLS = %d, Set-Cookie %q, want 303 and %q\n%s", resp.StatusCode, resp.Header.Get("Set-Cookie"), want, body)
		}
	})
}
