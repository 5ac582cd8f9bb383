-- The answers of the price reads, kept where the user's ticker points:
--
-- ticker_prices: per ticker, its newest price (the columns of
-- stock_prices), the position (seq) of that price in the ticker's
-- prices ordered by market time, the sum of the ticker's prices up to it
-- (a double-double: sum_hi + sum_lo), and run_start, the seq of the
-- oldest price of the newest run in the newest price's currency.
--
-- price_sums: per ticker and seq, the price's market time and the sum of
-- the ticker's prices before it (before_hi + before_lo). The mean of the
-- newest n prices is then (sum - before[k]) / (last_seq - k + 1) with
-- k = max(last_seq - n + 1, run_start): two primary-key lookups.
--
-- Both are written in the same transaction as every change of
-- stock_prices (store/tickerprices.go). The backfill below derives them
-- from the prices already stored; every statement can run again.

-- +goose Up
CREATE TABLE IF NOT EXISTS ticker_prices (
    ticker       VARCHAR(40) NOT NULL,
    id           BIGINT      NOT NULL,
    price        DOUBLE      NOT NULL,
    currency     VARCHAR(16) NOT NULL,
    market_time  BIGINT      NOT NULL,
    collect_time BIGINT      NOT NULL,
    last_seq     BIGINT      NOT NULL,
    sum_hi       DOUBLE      NOT NULL,
    sum_lo       DOUBLE      NOT NULL,
    run_start    BIGINT      NOT NULL,
    PRIMARY KEY (ticker)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS price_sums (
    ticker      VARCHAR(40) NOT NULL,
    seq         BIGINT      NOT NULL,
    market_time BIGINT      NOT NULL,
    before_hi   DOUBLE      NOT NULL,
    before_lo   DOUBLE      NOT NULL,
    PRIMARY KEY (ticker, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO price_sums (ticker, seq, market_time, before_hi, before_lo)
SELECT ticker,
    ROW_NUMBER() OVER (PARTITION BY ticker ORDER BY market_time),
    market_time,
    COALESCE(SUM(price) OVER (PARTITION BY ticker ORDER BY market_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
    0
FROM stock_prices
ON DUPLICATE KEY UPDATE price_sums.seq = price_sums.seq;

INSERT INTO ticker_prices (ticker, id, price, currency, market_time, collect_time, last_seq, sum_hi, sum_lo, run_start)
SELECT p.ticker, p.id, p.price, p.currency, p.market_time, p.collect_time, s.seq, s.before_hi + p.price, 0,
    1 + COALESCE((SELECT MAX(s2.seq) FROM price_sums s2
        JOIN stock_prices q ON q.ticker = s2.ticker AND q.market_time = s2.market_time
        WHERE s2.ticker = p.ticker AND q.currency <> p.currency), 0)
FROM stock_prices p JOIN price_sums s ON s.ticker = p.ticker AND s.market_time = p.market_time
WHERE p.market_time = (SELECT MAX(m.market_time) FROM stock_prices m WHERE m.ticker = p.ticker)
ON DUPLICATE KEY UPDATE ticker_prices.ticker = ticker_prices.ticker;

-- +goose Down
DROP TABLE IF EXISTS price_sums;
DROP TABLE IF EXISTS ticker_prices;
