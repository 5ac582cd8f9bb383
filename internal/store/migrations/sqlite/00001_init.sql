-- Times are Unix microseconds, UTC.

-- +goose Up
CREATE TABLE IF NOT EXISTS users (
    email       TEXT    NOT NULL PRIMARY KEY,
    ticker      TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS users_ticker ON users (ticker);

CREATE TABLE IF NOT EXISTS stock_prices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticker       TEXT    NOT NULL,
    price        REAL    NOT NULL,
    currency     TEXT    NOT NULL,
    market_time  INTEGER NOT NULL,
    collect_time INTEGER NOT NULL
);
-- Serves "newest first by ticker" and keeps an unrefreshed quote from being stored twice.
CREATE UNIQUE INDEX IF NOT EXISTS stock_prices_ticker_market_time ON stock_prices (ticker, market_time);
CREATE INDEX IF NOT EXISTS stock_prices_market_time ON stock_prices (market_time, id);
CREATE INDEX IF NOT EXISTS stock_prices_collect_time ON stock_prices (collect_time);

CREATE TABLE IF NOT EXISTS requests (
    request_id      TEXT    NOT NULL PRIMARY KEY,
    method          TEXT    NOT NULL,
    fingerprint     BLOB    NOT NULL,
    create_time     INTEGER NOT NULL,
    outcome_kind    TEXT    NOT NULL DEFAULT '',
    outcome_message TEXT    NOT NULL DEFAULT '',
    response        BLOB
);
CREATE INDEX IF NOT EXISTS requests_create_time ON requests (create_time);

-- +goose Down
DROP TABLE IF EXISTS requests;
DROP TABLE IF EXISTS stock_prices;
DROP TABLE IF EXISTS users;
