package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stockwatch/stockwatch/internal/apitext"
	"github.com/stockwatch/stockwatch/internal/money"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"userURL":  userURL,
	"price":    money.Amount,
	"sentence": sentence,
	"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"channel":  apitext.Channel,
}

// userURL is the path of a user's page.
func userURL(email string) string { return "/u/" + url.PathEscape(email) }

// sentence returns s with a capital first letter and a final period: the
// API's messages ("user bob@x.com not found") read as sentences on a page.
func sentence(s string) string {
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// age says how long ago d was, in words.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// tickerStatus is a ticker status in words: a short label and what it
// means for the user.
type tickerStatus struct {
	Label, Detail, Class string
}

var tickerStatuses = map[pb.TickerStatus]tickerStatus{
	pb.TickerStatus_TICKER_STATUS_VERIFIED: {"verified", "Yahoo Finance knows this ticker: prices are collected.", "ok"},
	pb.TickerStatus_TICKER_STATUS_UNVERIFIED: {"not verified yet",
		"Yahoo Finance could not be asked yet: a price should appear within a minute.", "wait"},
	pb.TickerStatus_TICKER_STATUS_UNKNOWN: {"unknown to Yahoo Finance",
		"Yahoo Finance has no such symbol; it is asked again, less and less often.", "bad"},
}

// apiError returns the HTTP status and the message to show for an error
// of an API call: the API's own message, and the status the REST API
// answers with the same code.
func apiError(err error) (int, string) {
	st := status.Convert(err)
	return runtime.HTTPStatusFromCode(st.Code()), st.Message()
}

// nextRequestID is the request id of a form rendered again after its
// submission failed with err: the submitted one when the failure was
// transient (so that submitting again retries the same operation, which
// may have taken effect), else a fresh one (the user may change the form,
// and the API stored the outcome under the old id).
func nextRequestID(err error, submitted string) string {
	switch status.Code(err) {
	case codes.Unavailable, codes.Aborted, codes.DeadlineExceeded:
		if uuid.Validate(submitted) == nil {
			return submitted
		}
	}
	return uuid.NewString()
}
