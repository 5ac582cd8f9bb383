package client_test

import (
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

	"google.golang.org/grpc/codes"

	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/client/clienttest"
)

// pki is a throw-away CA with a server and a client certificate, as files.
type pki struct {
	dir                       string
	caFile, certFile, keyFile string // client side
	serverCert                tls.Certificate
	pool                      *x509.CertPool
}

func newPKI(tb testing.TB) *pki {
	tb.Helper()
	p := &pki{dir: tb.TempDir(), pool: x509.NewCertPool()}
	caKey := mustKey(tb)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "stockwatch test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.pool.AddCert(ca)
	p.caFile = p.write(tb, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := mustKey(tb)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			DNSNames:     []string{cn},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			tb.Fatal(err)
		}
		return der, key
	}
	sDER, sKey := issue(2, "stockwatch.test", x509.ExtKeyUsageServerAuth)
	p.serverCert = tls.Certificate{Certificate: [][]byte{sDER}, PrivateKey: sKey}
	cDER, cKey := issue(3, "operator", x509.ExtKeyUsageClientAuth)
	p.certFile = p.write(tb, "client.pem", "CERTIFICATE", cDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cKey)
	if err != nil {
		tb.Fatal(err)
	}
	p.keyFile = p.write(tb, "client-key.pem", "PRIVATE KEY", keyDER)
	return p
}

func mustKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func (p *pki) write(tb testing.TB, name, typ string, der []byte) string {
	tb.Helper()
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	srv := clienttest.Start(t, clienttest.Options{
		AdminToken: "s3cret",
		TLS: &tls.Config{
			Certificates: []tls.Certificate{p.serverCert},
			ClientCAs:    p.pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		},
	})
	_, port, _ := net.SplitHostPort(srv.Addr)
	addr := net.JoinHostPort("localhost", port)

	tests := []struct {
		name string
		opts client.Options
		want codes.Code
	}{
		{"MTLSWithToken", client.Options{Token: "s3cret", TLS: client.TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile, ServerName: "stockwatch.test"}}, codes.OK},
		{"NoClientCert", client.Options{Token: "s3cret", TLS: client.TLS{CAFile: p.caFile, ServerName: "stockwatch.test"}}, codes.Unavailable},
		{"WrongServerName", client.Options{Token: "s3cret", TLS: client.TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile}}, codes.Unavailable},
		{"UnknownCA", client.Options{Token: "s3cret", TLS: client.TLS{Enabled: true, CertFile: p.certFile, KeyFile: p.keyFile, ServerName: "stockwatch.test"}}, codes.Unavailable},
		{"Plaintext", client.Options{Token: "s3cret"}, codes.Unavailable},
		{"MTLSWithoutToken", client.Options{TLS: client.TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile, ServerName: "stockwatch.test"}}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Retries = -1
			c, err := client.Dial(addr, tt.opts)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			_, err = c.ListUsers(t.Context(), 0, "")
			wantCode(t, err, tt.want)
		})
	}
}
