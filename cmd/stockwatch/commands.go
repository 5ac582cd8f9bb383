package main

import (
	"context"
	"iter"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/stockwatch/stockwatch/internal/client"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// commands returns the commands in the order "stockwatch -h" lists them.
// They are built per call: a command's flag values live in its closure.
// A command that is one call declares its arguments, the call and the
// text form of the answer; rpc does the rest. The menu runs the same
// declarations, asking for each argument.
func commands() []*command {
	return []*command{
		registerCmd(), updateCmd(), deleteCmd(), userCmd(), latestCmd(), averageCmd(), historyCmd(),
		alertSetCmd(), alertShowCmd(), alertClearCmd(), notificationsCmd(),
		usersCmd(), pricesCmd(), purgeCmd(), healthCmd(), versionCmd(),
	}
}

func registerCmd() *command {
	return &command{
		name:    "register",
		args:    []arg{emailArg, tickerArg},
		summary: "register a user who tracks TICKER",
		help: "Registers EMAIL to track TICKER, and says when TICKER is not verified with Yahoo Finance yet. Fails with\n" +
			"ALREADY_EXISTS if EMAIL is registered, INVALID_ARGUMENT if Yahoo Finance does not know TICKER.",
		example: "stockwatch register alice@example.com AAPL",
		run:     rpc(byEmailTicker((*client.Client).RegisterUser), saved("Registered %s, tracking %s.")),
	}
}

func updateCmd() *command {
	return &command{
		name:    "update",
		args:    []arg{emailArg, tickerArg},
		summary: "change the ticker a user tracks",
		help: "Makes the registered user EMAIL track TICKER instead, and says when TICKER is not verified with Yahoo\n" +
			"Finance yet. Fails with NOT_FOUND if EMAIL is not registered, INVALID_ARGUMENT if Yahoo Finance does not\n" +
			"know TICKER.",
		example: "stockwatch update alice@example.com MSFT",
		run:     rpc(byEmailTicker((*client.Client).UpdateUser), saved("Updated %s, now tracking %s.")),
	}
}

func deleteCmd() *command {
	return &command{
		name:    "delete",
		args:    []arg{emailArg},
		summary: "delete a user",
		help: "Deletes the user EMAIL. Prices stay: they belong to the ticker. Asks first, unless -y; without a\n" +
			"terminal, -y is required. Fails with NOT_FOUND if EMAIL is not registered.",
		example: "stockwatch delete alice@example.com",
		confirm: func(p params) string { return "delete " + p.email },
		run: rpc(byEmail((*client.Client).DeleteUser), func(out *printer, p params, _ *pb.DeleteUserResponse) error {
			return out.text("Deleted %s.", p.email)
		}),
	}
}

func userCmd() *command {
	return &command{
		name:    "user",
		args:    []arg{emailArg},
		summary: "show a user",
		help: "Shows the user EMAIL: the ticker tracked, its status (verified, unverified: not checked with Yahoo Finance\n" +
			"yet, or unknown to Yahoo Finance), and when the user was registered and last updated. Fails with\n" +
			"NOT_FOUND if EMAIL is not registered.",
		example: "stockwatch user alice@example.com",
		run:     rpc(byEmail((*client.Client).GetUser), answer((*printer).userText)),
	}
}

func latestCmd() *command {
	var w watch
	return &command{
		name:    "latest",
		args:    []arg{emailArg},
		summary: "latest price of the user's ticker (-watch: until Ctrl-C)",
		help: "Shows the newest collected price of the ticker EMAIL tracks. With -watch, asks again every -every\n" +
			"(15s by default) until Ctrl-C, and prints a line (with -o json, an object) each time the price or\n" +
			"its market time changes. Fails with NOT_FOUND if EMAIL is not registered, FAILED_PRECONDITION if no\n" +
			"price has been collected yet.",
		example: "stockwatch latest alice@example.com -watch",
		flags:   w.flags,
		check:   w.check,
		run:     w.run,
	}
}

func averageCmd() *command {
	return &command{
		name:    "average",
		args:    []arg{emailArg, countArg},
		summary: "average of the user's last COUNT prices (1-10000)",
		help: "Shows the mean of the newest COUNT (1-10000) prices of the ticker EMAIL tracks, or of all of them\n" +
			"when fewer are stored. Fails with NOT_FOUND if EMAIL is not registered, FAILED_PRECONDITION if no\n" +
			"price has been collected yet.",
		example: "stockwatch average alice@example.com 10",
		run: rpc(func(ctx context.Context, c *client.Client, p params) (*pb.AveragePrice, error) {
			return c.GetAveragePrice(ctx, p.email, p.count)
		}, answer((*printer).averageText)),
	}
}

func usersCmd() *command {
	var lim limit
	return &command{
		name:    "users",
		summary: "all users with their latest price (admin)",
		help: "Lists every user, in e-mail order, with the latest price of the ticker each tracks; all pages\n" +
			"unless -limit says otherwise. With -o json: one UserWithPrice object per line. Needs -token when\n" +
			"the server has an admin token (UNAUTHENTICATED otherwise).",
		example: "stockwatch -token \"$STOCKWATCH_TOKEN\" users -limit 20",
		flags:   lim.flags("users"),
		check:   lim.check,
		run: listing(&lim, func(ctx context.Context, c *client.Client, _ params, size int32) iter.Seq2[*pb.UserWithPrice, error] {
			return c.AllUsers(ctx, size)
		}, "No users.", (*printer).usersTable),
	}
}

func pricesCmd() *command {
	var lim limit
	return &command{
		name:    "prices",
		args:    []arg{optional(tickerArg)},
		summary: "stored prices, newest first (admin)",
		help: "Lists the stored prices of TICKER, or of every ticker, newest first; all pages unless -limit\n" +
			"says otherwise. With -o json: one Price object per line. Needs -token when the server has an\n" +
			"admin token (UNAUTHENTICATED otherwise).",
		example: "stockwatch prices -limit 10 AAPL",
		flags:   lim.flags("prices"),
		check:   lim.check,
		run: listing(&lim, func(ctx context.Context, c *client.Client, p params, size int32) iter.Seq2[*pb.Price, error] {
			return c.AllPrices(ctx, p.ticker, size)
		}, "No prices.", (*printer).pricesTable),
	}
}

func purgeCmd() *command {
	return &command{
		name:    "purge",
		args:    []arg{olderThanArg},
		summary: "delete prices collected more than OLDER_THAN ago (admin)",
		help: "Deletes the prices collected more than OLDER_THAN ago. OLDER_THAN is a Go duration (36h, 90m)\n" +
			"or a number of days (30d, or 1d12h). Asks first, unless -y; without a terminal, -y is required.\n" +
			"Needs -token when the server has an admin token.",
		example: "stockwatch purge 30d -y",
		confirm: func(p params) string { return "delete the prices collected more than " + p.ageArg + " ago" },
		run: rpc(func(ctx context.Context, c *client.Client, p params) (*pb.DeletePricesResponse, error) {
			return c.DeletePrices(ctx, p.age)
		}, func(out *printer, p params, r *pb.DeletePricesResponse) error {
			return out.text("Deleted %s collected more than %s ago.", plural(r.GetDeletedCount(), "price", "prices"), p.ageArg)
		}),
	}
}

func healthCmd() *command {
	return &command{
		name:    "health",
		summary: "ask the server whether it is serving",
		help: "Asks the server's gRPC health service about the Stockwatch API and prints the answer\n" +
			"(SERVING, NOT_SERVING, ...). Exits 0 only when it is SERVING: usable as a probe.",
		example: "stockwatch -addr stockwatch.internal:50051 health",
		run:     health,
	}
}

func versionCmd() *command {
	return &command{
		name:    "version",
		summary: "print the client's version",
		help:    "Prints the version of this client. It does not contact the server.",
		example: "stockwatch version",
		run:     func(_ context.Context, s *session, _ params) error { return printVersion(s.out) },
	}
}

// byEmail is the call of a command whose one argument is an e-mail.
func byEmail[R any](f func(*client.Client, context.Context, string) (R, error)) func(context.Context, *client.Client, params) (R, error) {
	return func(ctx context.Context, c *client.Client, p params) (R, error) { return f(c, ctx, p.email) }
}

// byEmailTicker is the call of a command whose arguments are an e-mail
// and a ticker.
func byEmailTicker[R any](f func(*client.Client, context.Context, string, string) (R, error)) func(context.Context, *client.Client, params) (R, error) {
	return func(ctx context.Context, c *client.Client, p params) (R, error) { return f(c, ctx, p.email, p.ticker) }
}

// answer is the text form of a response that needs nothing else.
func answer[R any](f func(*printer, R) error) func(*printer, params, R) error {
	return func(out *printer, _ params, r R) error { return f(out, r) }
}

// saved is the text form of the user that register or update returns.
func saved(format string) func(*printer, params, *pb.User) error {
	return func(out *printer, _ params, u *pb.User) error { return out.savedText(format, u) }
}

// health asks the server's health service, prints the answer, and fails
// unless it is SERVING.
func health(ctx context.Context, s *session, p params) error {
	r, err := respond(ctx, s, p, func(ctx context.Context, c *client.Client, _ params) (*healthpb.HealthCheckResponse, error) {
		return c.Health(ctx)
	}, func(out *printer, _ params, r *healthpb.HealthCheckResponse) error {
		return out.text("%s", r.GetStatus())
	})
	if err != nil {
		return err
	}
	if r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return &failure{Code: "NOT_SERVING", Message: "stockwatchd at " + s.cfg.addr + " is " + r.GetStatus().String()}
	}
	return nil
}
