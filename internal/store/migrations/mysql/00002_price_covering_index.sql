-- Latest price and the average of the last X read only this index: the
-- newest rows of a ticker with every column the queries need (InnoDB adds
-- the primary key, id), so no row is looked up in the clustered index.
-- MySQL commits CREATE INDEX on its own and has no IF NOT EXISTS for it:
-- the check before it lets a start that stopped after it run this file
-- again (see ../README.md).

-- +goose Up
SET @ddl = IF((SELECT COUNT(*) FROM information_schema.statistics
               WHERE table_schema = DATABASE() AND table_name = 'stock_prices'
                 AND index_name = 'stock_prices_ticker_cover') = 0,
    'CREATE INDEX stock_prices_ticker_cover ON stock_prices (ticker, market_time, price, currency, collect_time)',
    'DO 0');
PREPARE stmt FROM @ddl;
EXECUTE stmt;
DEALLOCATE PREPARE stmt;

-- +goose Down
SET @ddl = IF((SELECT COUNT(*) FROM information_schema.statistics
               WHERE table_schema = DATABASE() AND table_name = 'stock_prices'
                 AND index_name = 'stock_prices_ticker_cover') > 0,
    'DROP INDEX stock_prices_ticker_cover ON stock_prices',
    'DO 0');
PREPARE stmt FROM @ddl;
EXECUTE stmt;
DEALLOCATE PREPARE stmt;
