-- The generation of a ticker's numbering, so that a reader may keep rows
-- of price_sums in memory (store/read.go):
--
-- ticker_prices.generation changes, in the same transaction, whenever the
-- ticker's price_sums rows are rewritten (renumbered). Rows of one
-- (ticker, generation, seq) never change: seqs are only appended after
-- last_seq or deleted from the front while the generation stands.
--
-- ticker_generations: the generation of a ticker whose ticker_prices row
-- was deleted (all its prices went). A row made for it later starts one
-- above, so that no (ticker, generation) names two numberings.
--
-- Rows existing now get generation 0. Every statement can run again.

-- +goose Up
SET @ddl = IF((SELECT COUNT(*) FROM information_schema.columns
               WHERE table_schema = DATABASE() AND table_name = 'ticker_prices'
                 AND column_name = 'generation') = 0,
    'ALTER TABLE ticker_prices ADD COLUMN generation BIGINT NOT NULL DEFAULT 0',
    'DO 0');
PREPARE stmt FROM @ddl;
EXECUTE stmt;
DEALLOCATE PREPARE stmt;

CREATE TABLE IF NOT EXISTS ticker_generations (
    ticker     VARCHAR(40) NOT NULL,
    generation BIGINT      NOT NULL,
    PRIMARY KEY (ticker)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE IF EXISTS ticker_generations;

SET @ddl = IF((SELECT COUNT(*) FROM information_schema.columns
               WHERE table_schema = DATABASE() AND table_name = 'ticker_prices'
                 AND column_name = 'generation') > 0,
    'ALTER TABLE ticker_prices DROP COLUMN generation',
    'DO 0');
PREPARE stmt FROM @ddl;
EXECUTE stmt;
DEALLOCATE PREPARE stmt;
