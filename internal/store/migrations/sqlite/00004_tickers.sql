-- What Yahoo Finance is known to say about each ticker: verified,
-- unverified or unknown; when that was settled (checked_time), and when an
-- unverified or unknown ticker is due to be checked (next_check_time). Unix
-- microseconds. A tracked ticker without a row is unverified.
-- Every statement can be run again.

-- +goose Up
CREATE TABLE IF NOT EXISTS tickers (
    ticker          TEXT    NOT NULL PRIMARY KEY,
    status          TEXT    NOT NULL,
    checked_time    INTEGER NOT NULL,
    next_check_time INTEGER NOT NULL
);

-- Tickers with prices were quoted by Yahoo: verified. Without this the
-- collector would treat every existing ticker as a new, unverified one.
INSERT INTO tickers (ticker, status, checked_time, next_check_time)
SELECT DISTINCT u.ticker, 'verified', 0, 0 FROM users u
WHERE EXISTS (SELECT 1 FROM stock_prices p WHERE p.ticker = u.ticker)
ON CONFLICT (ticker) DO NOTHING;

-- +goose Down
DROP TABLE tickers;
