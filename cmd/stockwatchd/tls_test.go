package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
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
)

// testCA issues certificates for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stockwatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by the CA.
func (ca *testCA) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

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
	dir := t.TempDir()
	ca := newCA(t)
	srvCert, srvKey := ca.issue(t, "localhost", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := ca.issue(t, "client", x509.ExtKeyUsageClientAuth)
	caFile := writeFile(t, dir, "ca.pem", ca.pem)
	certFile := writeFile(t, dir, "server.pem", srvCert)
	keyFile := writeFile(t, dir, "server-key.pem", srvKey)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	clientPair, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}

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
		loose := writeFile(t, t.TempDir(), "loose-key.pem", srvKey)
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
