// Package tlstest makes a throw-away certificate authority with a server
// and a client certificate, as files and as crypto/tls values, for tests
// of TLS and mTLS.
package tlstest

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
)

// PKI is a CA, a server certificate and a client certificate, valid for an
// hour, written as PEM files (mode 0600) in a temporary directory.
type PKI struct {
	CAFile                        string
	Pool                          *x509.CertPool // holds the CA
	ServerCertFile, ServerKeyFile string
	ServerCert                    tls.Certificate
	ClientCertFile, ClientKeyFile string
	ClientCert                    tls.Certificate
}

// New returns a PKI whose server certificate is valid for names (DNS names
// or IP addresses). It fails tb on any error.
func New(tb testing.TB, names ...string) *PKI {
	tb.Helper()
	dir := tb.TempDir()
	p := &PKI{Pool: x509.NewCertPool()}
	caKey := newKey(tb)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stockwatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER := must[[]byte](tb)(x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey))
	ca := must[*x509.Certificate](tb)(x509.ParseCertificate(caDER))
	p.Pool.AddCert(ca)
	p.CAFile = write(tb, dir, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, names []string, base string) (tls.Certificate, string, string) {
		key := newKey(tb)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, n)
			}
		}
		der := must[[]byte](tb)(x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey))
		keyDER := must[[]byte](tb)(x509.MarshalPKCS8PrivateKey(key))
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
			write(tb, dir, base+".pem", "CERTIFICATE", der),
			write(tb, dir, base+"-key.pem", "PRIVATE KEY", keyDER)
	}
	p.ServerCert, p.ServerCertFile, p.ServerKeyFile = issue(2, "server", x509.ExtKeyUsageServerAuth, names, "server")
	p.ClientCert, p.ClientCertFile, p.ClientKeyFile = issue(3, "operator", x509.ExtKeyUsageClientAuth, nil, "client")
	return p
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	return must[*ecdsa.PrivateKey](tb)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
}

// must returns a function that returns v, failing tb if err is not nil.
func must[T any](tb testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

func write(tb testing.TB, dir, name, typ string, der []byte) string {
	tb.Helper()
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return f
}
