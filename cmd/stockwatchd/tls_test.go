package main

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// healthOver calls the health service over TLS configured by tc.
func healthOver(t *testing.T, addr string, tc *tls.Config) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestTLS(t *testing.T) {
	t.Parallel()
	p := tlstest.New(t, "localhost")
	certFile, keyFile, caFile, pool := p.ServerCertFile, p.ServerKeyFile, p.CAFile, p.Pool
	clientPair := p.ClientCert

	t.Run("TLS", func(t *testing.T) {
		t.Parallel()
		addr, _ := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false",
			"-tls-cert", certFile, "-tls-key", keyFile)
		if err := healthOver(t, addr, &tls.Config{ServerName: "localhost"}); status.Code(err) != codes.Unavailable {
			t.Errorf("client without the CA: %v, want UNAVAILABLE (handshake refused)", err)
		}
		if err := healthOver(t, addr, &tls.Config{ServerName: "localhost", RootCAs: pool}); err != nil {
			t.Errorf("client with the CA: %v, want success", err)
		}
	})
	t.Run("MutualTLS", func(t *testing.T) {
		t.Parallel()
		addr, _ := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false",
			"-tls-cert", certFile, "-tls-key", keyFile, "-tls-client-ca", caFile)
		if err := healthOver(t, addr, &tls.Config{ServerName: "localhost", RootCAs: pool}); status.Code(err) != codes.Unavailable {
			t.Errorf("client without a certificate: %v, want UNAVAILABLE (handshake refused)", err)
		}
		if err := healthOver(t, addr, &tls.Config{ServerName: "localhost", RootCAs: pool, Certificates: []tls.Certificate{clientPair}}); err != nil {
			t.Errorf("client with a certificate: %v, want success", err)
		}
	})
	t.Run("KeyReadableByOthers", func(t *testing.T) {
		t.Parallel()
		key, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		loose := writeFile(t, t.TempDir(), "loose-key.pem", key)
		if err := os.Chmod(loose, 0o644); err != nil {
			t.Fatal(err)
		}
		_, logs := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false",
			"-tls-cert", certFile, "-tls-key", loose)
		if logs.find(map[string]any{"msg": "TLS key file is readable by other users", "file": loose}) == nil {
			t.Error("no warning about the key file's mode")
		}
	})
}

func TestNonLoopbackWarning(t *testing.T) {
	t.Parallel()
	_, logs := startInProcess(t, "-role", "api", "-db", storetest.URL(t, storetest.SQLite), "-verify-tickers=false", "-grpc-addr", "0.0.0.0:0")
	if logs.find(map[string]any{"level": "WARN", "msg": "the API listens on a non-loopback address without -admin-token: anyone who reaches it can list and delete data"}) == nil {
		t.Error("no warning for a non-loopback API without an admin token")
	}
}
