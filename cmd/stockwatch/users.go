package main

import (
	"context"
	"flag"
	"iter"

	"google.golang.org/protobuf/proto"
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

func usersCmd() *command {
	var limit int
	return &command{
		name:    "users",
		summary: "all users with their latest price (admin)",
		help: "Lists every user, in e-mail order, with the latest price of the ticker each tracks; all pages\n" +
			"unless -limit says otherwise. With -o json: one UserWithPrice object per line. Needs -token when\n" +
			"the server has an admin token (UNAUTHENTICATED otherwise).",
		example: "stockwatch -token \"$STOCKWATCH_TOKEN\" users -limit 20",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&limit, "limit", 0, "print at most `N` users (0: all)")
		},
		run: func(ctx context.Context, s *session, _ []string) error {
			if limit < 0 {
				return usagef("users", "-limit: must not be negative, got %d", limit)
			}
			c, err := s.client()
			if err != nil {
				return err
			}
			return list(s.out, c.AllUsers(ctx, pageSize(limit)), limit, "No users.", s.out.usersTable)
		},
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
func list[T proto.Message](out *printer, items iter.Seq2[T, error], limit int, none string, table func([]T) error) error {
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
	return table(rows)
}
