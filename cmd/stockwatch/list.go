package main

import (
	"context"
	"flag"
	"fmt"
	"iter"

	"google.golang.org/protobuf/proto"

	"github.com/stockwatch/stockwatch/internal/client"
)

// listPageSize is the page size the listing commands ask for: the
// server's maximum, so that a long listing takes few round trips.
const listPageSize = 1000

// The listing commands (users, prices) page through every page by
// default, each page one retried call, so that a script sees the whole
// table; -limit stops after N rows for a quick look. With -o json they
// print one object per row (a UserWithPrice or a Price), not one per page:
// page tokens mean nothing once the listing is complete, and a line per
// row streams into jq or a shell loop.

// limit is the -limit flag of a listing command: print at most this
// many rows, 0 for all.
type limit int

// flags defines -limit; what names the rows.
func (l *limit) flags(what string) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.IntVar((*int)(l), "limit", 0, "print at most `N` "+what+" (0: all)")
	}
}

// check rejects a negative -limit.
func (l *limit) check() error {
	if *l < 0 {
		return fmt.Errorf("-limit: must not be negative, got %d", int(*l))
	}
	return nil
}

// listing is the run of a listing command: it prints the rows of
// items, asked for in pages of the size given, up to l, as list does.
func listing[T proto.Message](l *limit, items func(context.Context, *client.Client, params, int32) iter.Seq2[T, error],
	none string, table func(*printer, []T) error) func(context.Context, *session, params) error {
	return func(ctx context.Context, s *session, p params) error {
		c, err := s.client()
		if err != nil {
			return err
		}
		n := int(*l)
		return list(s.out, items(ctx, c, p, pageSize(n)), n, none, table)
	}
}

// pageSize is the page to ask for when at most limit rows (0: all) will
// be printed.
func pageSize(limit int) int32 {
	if limit > 0 && limit < listPageSize {
		return int32(limit)
	}
	return listPageSize
}

// list drains a listing, stopping after limit items (0: all). With -o json
// it prints each item as it arrives; otherwise it prints them all with
// table, or none when there are none. It returns the first error.
func list[T proto.Message](out *printer, items iter.Seq2[T, error], limit int, none string, table func(*printer, []T) error) error {
	var rows []T
	for item, err := range items {
		if err != nil {
			return err
		}
		if out.json {
			if err := out.message(item); err != nil {
				return err
			}
		} else {
			rows = append(rows, item)
		}
		if limit--; limit == 0 {
			break
		}
	}
	switch {
	case out.json:
		return nil
	case len(rows) == 0:
		return out.text("%s", none)
	}
	return table(out, rows)
}
