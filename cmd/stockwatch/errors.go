package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

// This file is the one place where a failure becomes what a person reads:
// what happened and what to do, then the code for scripts. The commands
// and the menu return errors as they got them; fail and the menu's error
// line both go through explain.

// failure is a failed operation as reported: on stderr as "stockwatch:
// MESSAGE (CODE)", or with -o json as {"code":"CODE","message":"MESSAGE"}.
// Code is the gRPC code's name (NOT_FOUND) or one of the client's own
// (NOT_SERVING, CANCELLED).
type failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (f *failure) Error() string { return f.Message }

// opError is an operation that failed with err, and its arguments, which
// the explanation names ("alice@example.com is not registered").
type opError struct {
	err error
	p   params
}

func (e *opError) Error() string { return e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// fail reports err on stderr, as text or (with -o json) JSON, and returns
// its exit status: 2 for a usage error, 1 for anything else.
func (a *app) fail(err error) int {
	var ue *cliconfig.UsageError
	isUsage := errors.As(err, &ue)
	if a.cfg.output != "json" {
		if isUsage {
			return cliconfig.Exit(a.stderr, "stockwatch", err)
		}
		f := explain(err, a.cfg)
		fmt.Fprintf(a.stderr, "stockwatch: %s (%s)\n", f.Message, f.Code)
		return exitFailed
	}
	v, code := any(explain(err, a.cfg)), exitFailed
	if isUsage {
		help := ue.Cmd
		if help == "" {
			help = "stockwatch"
		}
		v = struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Help    string `json:"help"`
		}{"USAGE", ue.Err.Error(), help + " -h"}
		code = cliconfig.ExitUsage
	}
	b, _ := json.Marshal(v) // strings only: cannot fail
	fmt.Fprintf(a.stderr, "%s\n", b)
	return code
}

// explain returns what err means for the person who ran the operation,
// with cfg, the configuration it ran with.
func explain(err error, cfg config) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	var p params
	if oe := (*opError)(nil); errors.As(err, &oe) {
		p = oe.p
	}
	// The status itself, not status.FromError's copy whose message is
	// the whole chain of wrapping errors.
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return &failure{Code: "UNKNOWN", Message: err.Error()}
	}
	st := se.GRPCStatus()
	code, msg := codeName(st.Code().String()), st.Message()
	switch st.Code() {
	case codes.NotFound:
		switch {
		case p.email == "":
		case noBand(st):
			msg = p.email + " has no price alert: alert-set sets one"
		default:
			msg = p.email + " is not registered"
		}
	case codes.AlreadyExists:
		if p.email != "" {
			msg = p.email + " is already registered: update changes the ticker it tracks"
		}
	case codes.Unauthenticated:
		if cfg.token == "" {
			msg = "this needs the admin token: set -token or STOCKWATCH_TOKEN, or token_file in the configuration file"
		} else {
			msg = "the server refused the admin token: check -token, STOCKWATCH_TOKEN or token_file"
		}
	case codes.Unavailable:
		msg = unavailable(cfg.addr, msg)
	case codes.DeadlineExceeded:
		msg = fmt.Sprintf("no reply from stockwatchd at %s within %s: raise -timeout (STOCKWATCH_TIMEOUT) or check the server", cfg.addr, cfg.timeout)
	case codes.Internal, codes.Unknown:
		msg = "stockwatchd failed (" + msg + "): its log has the details"
	case codes.Canceled:
		msg = "interrupted"
	}
	return &failure{Code: code, Message: msg}
}

// noBand reports whether st is the NOT_FOUND of GetAlert or DeleteAlert
// for a registered user without a band (not an unknown user): the
// server's message is the one way to tell them apart.
func noBand(st *status.Status) bool {
	return st.Code() == codes.NotFound && strings.HasSuffix(st.Message(), " has no alert")
}

// unavailable explains an UNAVAILABLE status whose message is msg: the
// server could not be reached (a transport error: say why, and how to
// point the client elsewhere), or it answered that it cannot serve.
func unavailable(addr, msg string) string {
	const prefix = "connection error: desc = "
	desc := msg
	if i := strings.Index(msg, prefix); i >= 0 {
		desc = msg[i+len(prefix):]
	} else if !strings.Contains(msg, "name resolver error") {
		return fmt.Sprintf("stockwatchd at %s cannot serve now (%s): try again later", addr, msg)
	}
	desc = strings.Trim(desc, `"`)
	reason := strings.TrimSpace(desc[strings.LastIndex(desc, ": ")+1:])
	if strings.Contains(desc, "handshake") || strings.Contains(desc, "tls:") {
		return fmt.Sprintf("cannot reach stockwatchd at %s (TLS: %s) — check -tls, -ca and -server-name", addr, reason)
	}
	return fmt.Sprintf("cannot reach stockwatchd at %s (%s) — is it running? set -addr or STOCKWATCH_ADDR", addr, reason)
}

// codeName spells a gRPC code the way the gRPC spec and grpcurl do:
// "NotFound" → "NOT_FOUND".
func codeName(camel string) string {
	var b strings.Builder
	for i, r := range camel {
		if i > 0 && 'A' <= r && r <= 'Z' && !('A' <= camel[i-1] && camel[i-1] <= 'Z') {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// confirm asks on the terminal whether to do what cmd does with p, and
// returns nil for yes. Without a terminal it asks nothing and returns a
// usage error that says to add -y; a "no" is a CANCELLED failure.
func (a *app) confirm(ctx context.Context, cmd *command, p params) error {
	what := cmd.confirm(p)
	if !a.terminal {
		return usagef(cmd.name, "%s: stdin is not a terminal, so nothing can be confirmed: add -y to %s", cmd.name, what)
	}
	fmt.Fprintf(a.stderr, "Really %s? [y/N] ", what)
	done := make(chan struct{})
	defer close(done)
	line, err := newLines(a.stdin, done).next(ctx)
	if err != nil && ctx.Err() != nil {
		return err
	}
	if !yes(line) {
		return &failure{Code: "CANCELLED", Message: "cancelled: nothing was deleted"}
	}
	return nil
}

// yes reports whether an answer to a [y/N] question is yes.
func yes(answer string) bool {
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true
	}
	return false
}
