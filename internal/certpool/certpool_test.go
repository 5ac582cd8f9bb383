package certpool_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stockwatch/stockwatch/internal/certpool"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

func TestLoad(t *testing.T) {
	if _, err := certpool.Load(tlstest.New(t).CAFile); err != nil {
		t.Errorf("Load(CA file): %v", err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := certpool.Load(garbage); err == nil || err.Error() != "no PEM certificate in "+garbage {
		t.Errorf("Load(garbage) = %v, want no PEM certificate in %s", err, garbage)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	if _, err := certpool.Load(missing); !os.IsNotExist(err) {
		t.Errorf("Load(missing) = %v, want a not-exist error", err)
	}
}
