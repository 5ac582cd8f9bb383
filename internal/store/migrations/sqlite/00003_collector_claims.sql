-- Which collector fetches which ticker, until when (Unix microseconds):
-- collectors sharing one database each fetch a ticker once per cycle.

-- +goose Up
CREATE TABLE IF NOT EXISTS collector_claims (
    ticker     TEXT    NOT NULL PRIMARY KEY,
    owner      TEXT    NOT NULL,
    until_time INTEGER NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS collector_claims;
