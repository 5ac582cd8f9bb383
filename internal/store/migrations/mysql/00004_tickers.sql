-- What Yahoo Finance is known to say about each ticker: verified,
-- unverified or unknown; when that was settled (checked_time), and when an
-- unverified or unknown ticker is due to be checked (next_check_time). Unix
-- microseconds. A tracked ticker without a row is unverified.
-- Every statement can be run again after a crash at any point: MySQL
-- commits the CREATE TABLE on its own.

-- +goose Up
CREATE TABLE IF NOT EXISTS tickers (
    ticker          VARCHAR(40) NOT NULL,
    status          VARCHAR(16) NOT NULL,
    checked_time    BIGINT      NOT NULL,
    next_check_time BIGINT      NOT NULL,
    PRIMARY KEY (ticker)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Tickers with prices were quoted by Yahoo: verified. Without this the
-- collector would treat every existing ticker as a new, unverified one.
INSERT INTO tickers (ticker, status, checked_time, next_check_time)
SELECT DISTINCT u.ticker, 'verified', 0, 0 FROM users u
WHERE EXISTS (SELECT 1 FROM stock_prices p WHERE p.ticker = u.ticker)
ON DUPLICATE KEY UPDATE tickers.ticker = tickers.ticker;

-- +goose Down
DROP TABLE tickers;
