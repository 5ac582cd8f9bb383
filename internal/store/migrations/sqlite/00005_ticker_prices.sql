-- The answers of the price reads, kept where the user's ticker points.
-- See ../mysql/00005_ticker_prices.sql for what the columns hold; both
-- tables are written in the same transaction as every change of
-- stock_prices (store/tickerprices.go). Every statement can run again.

-- +goose Up
CREATE TABLE IF NOT EXISTS ticker_prices (
    ticker       TEXT    NOT NULL PRIMARY KEY,
    id           INTEGER NOT NULL,
    price        REAL    NOT NULL,
    currency     TEXT    NOT NULL,
    market_time  INTEGER NOT NULL,
    collect_time INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    sum_hi       REAL    NOT NULL,
    sum_lo       REAL    NOT NULL,
    run_start    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS price_sums (
    ticker      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    market_time INTEGER NOT NULL,
    before_hi   REAL    NOT NULL,
    before_lo   REAL    NOT NULL,
    PRIMARY KEY (ticker, seq)
) WITHOUT ROWID;

INSERT INTO price_sums (ticker, seq, market_time, before_hi, before_lo)
SELECT ticker,
    ROW_NUMBER() OVER (PARTITION BY ticker ORDER BY market_time),
    market_time,
    COALESCE(SUM(price) OVER (PARTITION BY ticker ORDER BY market_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
    0
FROM stock_prices WHERE true
ON CONFLICT (ticker, seq) DO NOTHING;

INSERT INTO ticker_prices (ticker, id, price, currency, market_time, collect_time, last_seq, sum_hi, sum_lo, run_start)
SELECT p.ticker, p.id, p.price, p.currency, p.market_time, p.collect_time, s.seq, s.before_hi + p.price, 0,
    1 + COALESCE((SELECT MAX(s2.seq) FROM price_sums s2
        JOIN stock_prices q ON q.ticker = s2.ticker AND q.market_time = s2.market_time
        WHERE s2.ticker = p.ticker AND q.currency <> p.currency), 0)
FROM stock_prices p JOIN price_sums s ON s.ticker = p.ticker AND s.market_time = p.market_time
WHERE p.market_time = (SELECT MAX(m.market_time) FROM stock_prices m WHERE m.ticker = p.ticker)
ON CONFLICT (ticker) DO NOTHING;

-- +goose Down
DROP TABLE IF EXISTS price_sums;
DROP TABLE IF EXISTS ticker_prices;
