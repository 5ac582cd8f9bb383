package store

import (
	"context"
	"database/sql"

	"github.com/pressly/goose/v3"
)

// goMigrations returns the migrations of backend (a dialect's name) that
// are Go code instead of files in migrations/<backend>: the changes that
// plain SQL cannot make re-runnable there (migrations/README.md). Their
// versions are numbered with the files'; goose applies both in order.
func goMigrations(backend string) []*goose.Migration {
	if backend != "sqlite" {
		return nil
	}
	return []*goose.Migration{
		// As ../mysql/00008_ticker_generation.sql.
		goose.NewGoMigration(8,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				if err := sqliteAddColumn(ctx, tx, "ticker_prices", "generation", "INTEGER NOT NULL DEFAULT 0"); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ticker_generations (
    ticker     TEXT    NOT NULL PRIMARY KEY,
    generation INTEGER NOT NULL
) WITHOUT ROWID`)
				return err
			}},
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS ticker_generations`); err != nil {
					return err
				}
				return sqliteDropColumn(ctx, tx, "ticker_prices", "generation")
			}},
		),
	}
}

// sqliteAddColumn adds column (with its type and constraints, decl) to
// table unless table has it already: SQLite has no ADD COLUMN IF NOT
// EXISTS.
func sqliteAddColumn(ctx context.Context, tx *sql.Tx, table, column, decl string) error {
	has, err := sqliteHasColumn(ctx, tx, table, column)
	if err != nil || has {
		return err
	}
	_, err = tx.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+column+` `+decl)
	return err
}

// sqliteDropColumn drops column from table if table has it.
func sqliteDropColumn(ctx context.Context, tx *sql.Tx, table, column string) error {
	has, err := sqliteHasColumn(ctx, tx, table, column)
	if err != nil || !has {
		return err
	}
	_, err = tx.ExecContext(ctx, `ALTER TABLE `+table+` DROP COLUMN `+column)
	return err
}

func sqliteHasColumn(ctx context.Context, tx *sql.Tx, table, column string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n)
	return n > 0, err
}
