-- Latest price and the average of the last X read only this index: the
-- newest rows of a ticker with every column the queries need (InnoDB adds
-- the primary key, id), so no row is looked up in the clustered index.

-- +goose Up
CREATE INDEX stock_prices_ticker_cover ON stock_prices (ticker, market_time, price, currency, collect_time);

-- +goose Down
DROP INDEX stock_prices_ticker_cover ON stock_prices;
