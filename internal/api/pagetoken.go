package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/stockwatch/stockwatch/internal/stock"
)

// pageToken is the position after a page. Clients see it as an opaque
// string; it is bound to the listing (and ticker filter) it came from.
type pageToken struct {
	List   string `json:"l"`           // "users", "prices" or "notifications"
	Ticker string `json:"t,omitempty"` // prices: the filter it was issued for
	Email  string `json:"e,omitempty"` // users: last e-mail of the page; notifications: the user's
	Market int64  `json:"m,omitempty"` // prices: last market time, Unix µs
	ID     int64  `json:"i,omitempty"` // prices, notifications: last id
}

func (t pageToken) encode() string {
	b, _ := json.Marshal(t) // cannot fail: plain fields
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadToken = stock.Errorf(stock.KindInvalid, "invalid page_token")

// decodePageToken parses s, which must have been issued for list (and,
// for prices, for the same ticker filter). An empty s is the first page.
// It returns KindInvalid for anything else.
func decodePageToken(s, list, ticker string) (*pageToken, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > 4096 { // issued ones reach ~2 KiB: 254 e-mail runes, up to 6 JSON bytes each ("&" is \u0026)
		return nil, errBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errBadToken
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.List != list || t.Ticker != ticker {
		return nil, errBadToken
	}
	switch list {
	case "users":
		if _, err := stock.ParseEmail(t.Email); err != nil || t.Market != 0 || t.ID != 0 {
			return nil, errBadToken
		}
	case "prices":
		if t.ID <= 0 || t.Market < 0 || t.Email != "" {
			return nil, errBadToken
		}
	case "notifications":
		if t.ID <= 0 || t.Market != 0 || t.Email == "" {
			return nil, errBadToken
		}
	}
	return &t, nil
}

func (t *pageToken) priceCursor() *stock.PriceCursor {
	if t == nil {
		return nil
	}
	return &stock.PriceCursor{MarketTime: time.UnixMicro(t.Market).UTC(), ID: t.ID}
}

// pageRequest is what the request of every listing carries.
type pageRequest interface {
	GetPageSize() int32
	GetPageToken() string
}

// listPage is the paging of a listing: it checks req's page size and
// token (issued for list and ticker), reads with read one row more than
// a page from the token's position (nil: the start), and returns the
// page converted by wire, with the token of the next page made by next
// from the page's last row ("" after the last page). It returns
// INVALID_ARGUMENT for a bad size or token, else read's error.
func listPage[T, W any](ctx context.Context, req pageRequest, list, ticker string,
	read func(ctx context.Context, tok *pageToken, n int) ([]T, error), next func(last T) pageToken, wire func(T) W) ([]W, string, error) {
	size, err := stock.PageSize(req.GetPageSize())
	if err != nil {
		return nil, "", err
	}
	tok, err := decodePageToken(req.GetPageToken(), list, ticker)
	if err != nil {
		return nil, "", err
	}
	// One extra row tells whether another page exists.
	rows, err := read(ctx, tok, size+1)
	if err != nil {
		return nil, "", err
	}
	var nextToken string
	if len(rows) > size {
		rows = rows[:size]
		t := next(rows[size-1])
		t.List = list
		nextToken = t.encode()
	}
	var out []W
	for _, r := range rows {
		out = append(out, wire(r))
	}
	return out, nextToken, nil
}
