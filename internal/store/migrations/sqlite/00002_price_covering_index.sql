-- Latest price and the average of the last X read only this index: the
-- newest rows of a ticker with every column the queries need, so no row
-- is looked up in the table.

-- +goose Up
CREATE INDEX IF NOT EXISTS stock_prices_ticker_cover ON stock_prices (ticker, market_time, price, currency, collect_time);

-- +goose Down
DROP INDEX IF EXISTS stock_prices_ticker_cover;
