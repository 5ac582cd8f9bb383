-- The price epoch, so that a reader may keep tickers' newest prices in
-- memory (store/pricecache.go):
--
-- price_epoch: one row (id 1) whose n moves up by one, in the same
-- transaction, whenever prices are stored or deleted. A daemon that keeps
-- prices (store.WithPriceCache) polls it and stops serving what it kept
-- when n moved.
--
-- Every statement can run again.

-- +goose Up
CREATE TABLE IF NOT EXISTS price_epoch (
    id INTEGER NOT NULL PRIMARY KEY,
    n  INTEGER NOT NULL
);
INSERT OR IGNORE INTO price_epoch (id, n) VALUES (1, 0);

-- +goose Down
DROP TABLE IF EXISTS price_epoch;
