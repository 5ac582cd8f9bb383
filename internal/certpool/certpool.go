// Package certpool reads the CA files of TLS settings: the client's CA
// that the server's certificate must chain to, the daemon's CA that
// client certificates must chain to.
package certpool

import (
	"crypto/x509"
	"fmt"
	"os"
)

// Load returns a pool of the PEM certificates in file. It returns the
// error of reading file, or one saying that file holds no PEM
// certificate; the caller adds which setting named file.
func Load(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", file)
	}
	return pool, nil
}
