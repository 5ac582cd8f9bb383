package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// TestMySQLUnavailable: the server errors that mean "not now" are
// KindUnavailable (clients retry them); the rest are not.
func TestMySQLUnavailable(t *testing.T) {
	db, err := openMySQL("u@127.0.0.1:1/db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		number uint16
		want   bool
	}{
		{erConCount, true},
		{erServerShutdown, true},
		{erReadOnly, true},
		{erReadOnlyTx, true},
		{erConnKilled, true},
		{erClientTimeout, true},
		{erDupEntry, false},
		{1064, false}, // syntax error
	} {
		err := db.wrap(fmt.Errorf("query: %w", &mysql.MySQLError{Number: tt.number, Message: "x"}), "op")
		if got := errors.Is(err, stock.ErrUnavailable); got != tt.want {
			t.Errorf("MySQL error %d: unavailable = %v, want %v", tt.number, got, tt.want)
		}
	}
}
