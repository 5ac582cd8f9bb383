-- Which collector fetches which ticker, until when (Unix microseconds):
-- collectors sharing one database each fetch a ticker once per cycle.

-- +goose Up
CREATE TABLE IF NOT EXISTS collector_claims (
    ticker     VARCHAR(40) NOT NULL,
    owner      VARCHAR(64) NOT NULL,
    until_time BIGINT      NOT NULL,
    PRIMARY KEY (ticker)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE IF EXISTS collector_claims;
