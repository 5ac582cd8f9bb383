package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/stockwatch/stockwatch/internal/stock"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// notices are the messages a redirect after a successful POST asks the
// next page to show (?done=…): fixed texts, so that a link cannot make a
// page say something else.
var notices = map[string]string{
	"registered":  "Registered.",
	"updated":     "Ticker updated.",
	"deleted":     "The user was deleted.",
	"alert-set":   "Price alert set.",
	"alert-clear": "Price alert cleared.",
}

// homePage is the data of / : look up a user, or register one.
type homePage struct {
	Notice, Error string
	Lookup        string
	Register      registerForm
}

type registerForm struct {
	RequestID, Email, Ticker string
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := homePage{Notice: notices[q.Get("done")], Register: registerForm{RequestID: uuid.NewString()}}
	email := strings.TrimSpace(q.Get("email"))
	if email == "" {
		s.render(w, http.StatusOK, "home", p)
		return
	}
	u, err := s.api.GetUser(r.Context(), &pb.GetUserRequest{Email: email})
	if err != nil {
		code, msg := apiError(err)
		p.Error, p.Lookup, p.Register.Email = msg, email, email
		s.render(w, code, "home", p)
		return
	}
	seeOther(w, r, userURL(u.GetEmail()))
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	f := registerForm{
		RequestID: r.PostFormValue("request_id"),
		Email:     r.PostFormValue("email"),
		Ticker:    r.PostFormValue("ticker"),
	}
	u, err := s.api.RegisterUser(r.Context(), &pb.RegisterUserRequest{RequestId: f.RequestID, Email: f.Email, Ticker: f.Ticker})
	if err != nil {
		code, msg := apiError(err)
		f.RequestID = nextRequestID(err, f.RequestID)
		s.render(w, code, "home", homePage{Error: msg, Register: f})
		return
	}
	seeOther(w, r, userURL(u.GetEmail())+"?done=registered")
}

// chartRange is one of the chart's range buttons.
type chartRange struct {
	Key, Label string
	Span       time.Duration
}

// chartRanges are the chart's ranges; "all" is the longest the API
// serves.
var chartRanges = []chartRange{
	{"1h", "1 h", time.Hour},
	{"1d", "1 d", 24 * time.Hour},
	{"1w", "1 w", 7 * 24 * time.Hour},
	{"all", "all", stock.MaxHistoryRange},
}

const (
	defaultRange = "1d"
	defaultCount = 10
	// chartPoints is about one point per two SVG units of width.
	chartPoints = 300
)

// userPage is the data of /u/{email}.
type userPage struct {
	Notice, Error string
	User          *pb.User
	Status        tickerStatus

	Latest      *pb.Price
	LatestAge   string
	LatestError string

	Count        string // as asked (?n=)
	Average      *pb.AveragePrice
	AverageError string

	Range        string
	Ranges       []chartRange
	History      *pb.PriceHistory
	Chart        *chart
	HistoryError string

	Update registerForm // RequestID and Ticker

	Alert      *pb.Alert // nil: no band
	AlertError string
	AlertForm  alertForm
	ClearID    string // the request id of the clear form
	// Secret is the webhook secret that the band just set made: shown
	// on this page only.
	Secret string
}

// alertForm is the form that sets the band, as submitted or prefilled.
type alertForm struct {
	RequestID, Above, Below, Webhook string
	Email                            bool
}

// Currency is the currency of the user's ticker, as its latest price
// says ("" before any): the band's thresholds are in it.
func (p userPage) Currency() string { return p.Latest.GetCurrency() }

// Change is the history's change in percent, with its sign.
func (p userPage) Change() string {
	return fmt.Sprintf("%+.2f%%", p.History.GetChangePercent())
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	s.showUser(w, r, http.StatusOK, userPage{Notice: notices[r.URL.Query().Get("done")]})
}

// showUser renders the page of the user named by the path, with p's
// notice, error and update form, and answers code; an unknown user is
// the error page.
func (s *Server) showUser(w http.ResponseWriter, r *http.Request, code int, p userPage) {
	ctx := r.Context()
	email := r.PathValue("email")
	u, err := s.api.GetUser(ctx, &pb.GetUserRequest{Email: email})
	if err != nil {
		code, msg := apiError(err)
		s.render(w, code, "error", errorPage{Title: "No such user", Message: msg})
		return
	}
	if r.Method == http.MethodGet && u.GetEmail() != email {
		// The API's form of the address (trimmed, lower case) is the
		// page's one address.
		u := url.URL{Path: userURL(u.GetEmail()), RawQuery: r.URL.RawQuery}
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	p.User, p.Status = u, tickerStatuses[u.GetTickerStatus()]
	if p.Update.RequestID == "" {
		p.Update = registerForm{RequestID: uuid.NewString(), Ticker: u.GetTicker()}
	}
	q := r.URL.Query()

	if p.Alert, err = s.api.GetAlert(ctx, &pb.GetAlertRequest{Email: email}); err != nil {
		p.Alert = nil
		if status.Code(err) != codes.NotFound {
			_, p.AlertError = apiError(err)
		}
	}
	if p.AlertForm.RequestID == "" {
		p.AlertForm = newAlertForm(p.Alert)
	}
	if p.ClearID == "" {
		p.ClearID = uuid.NewString()
	}

	s.prices(ctx, email, q, &p)
	s.chart(ctx, email, q, &p)
	s.render(w, code, "user", p)
}

// prices fills p's latest price and its average of the count asked (n,
// by default defaultCount), or the errors that stand in their place.
func (s *Server) prices(ctx context.Context, email string, q url.Values, p *userPage) {
	var err error
	if p.Latest, err = s.api.GetLatestPrice(ctx, &pb.GetLatestPriceRequest{Email: email}); err != nil {
		_, p.LatestError = apiError(err)
	} else {
		p.LatestAge = age(s.cfg.Now().Sub(p.Latest.GetMarketTime().AsTime()))
	}
	p.Count = q.Get("n")
	if p.Count == "" {
		p.Count = strconv.Itoa(defaultCount)
	}
	if n, err := strconv.ParseInt(p.Count, 10, 32); err != nil {
		p.AverageError = "the number of prices to average must be a whole number from 1 to 10000"
	} else if p.Average, err = s.api.GetAveragePrice(ctx, &pb.GetAveragePriceRequest{Email: email, Count: int32(n)}); err != nil {
		_, p.AverageError = apiError(err)
	}
}

// chart fills p's price history over the range asked (range, by default
// defaultRange) and its chart, or the error that stands in their place.
func (s *Server) chart(ctx context.Context, email string, q url.Values, p *userPage) {
	p.Range, p.Ranges = defaultRange, chartRanges
	span := chartRanges[1].Span
	for _, cr := range chartRanges {
		if cr.Key == q.Get("range") {
			p.Range, span = cr.Key, cr.Span
		}
	}
	// Both ends from this clock: the API's "now" may be a moment later,
	// and the longest range must not exceed its bound.
	until := s.cfg.Now()
	since := until.Add(-span)
	var err error
	p.History, err = s.api.GetPriceHistory(ctx, &pb.GetPriceHistoryRequest{
		Email: email, Since: timestamppb.New(since), Until: timestamppb.New(until), MaxPoints: chartPoints,
	})
	if err != nil {
		_, p.HistoryError = apiError(err)
	} else {
		p.Chart = newChart(p.History, since, until, p.Alert)
	}
}

func (s *Server) updateTicker(w http.ResponseWriter, r *http.Request) {
	email := r.PathValue("email")
	f := registerForm{RequestID: r.PostFormValue("request_id"), Ticker: r.PostFormValue("ticker")}
	u, err := s.api.UpdateUser(r.Context(), &pb.UpdateUserRequest{RequestId: f.RequestID, Email: email, Ticker: f.Ticker})
	if err != nil {
		code, msg := apiError(err)
		f.RequestID = nextRequestID(err, f.RequestID)
		s.showUser(w, r, code, userPage{Error: msg, Update: f})
		return
	}
	seeOther(w, r, userURL(u.GetEmail())+"?done=updated")
}

// deletePage is the data of the confirmation of a deletion.
type deletePage struct {
	Error     string
	User      *pb.User
	RequestID string
}

func (s *Server) confirmDelete(w http.ResponseWriter, r *http.Request) {
	s.showDelete(w, r, http.StatusOK, deletePage{RequestID: uuid.NewString()})
}

func (s *Server) showDelete(w http.ResponseWriter, r *http.Request, code int, p deletePage) {
	u, err := s.api.GetUser(r.Context(), &pb.GetUserRequest{Email: r.PathValue("email")})
	if err != nil {
		code, msg := apiError(err)
		s.render(w, code, "error", errorPage{Title: "No such user", Message: msg})
		return
	}
	p.User = u
	s.render(w, code, "delete", p)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("request_id")
	_, err := s.api.DeleteUser(r.Context(), &pb.DeleteUserRequest{RequestId: id, Email: r.PathValue("email")})
	if err != nil {
		code, msg := apiError(err)
		s.showDelete(w, r, code, deletePage{Error: msg, RequestID: nextRequestID(err, id)})
		return
	}
	seeOther(w, r, "/?done=deleted")
}

// newAlertForm is the set form with a fresh request id, prefilled with
// band (nil: none, e-mail checked).
func newAlertForm(band *pb.Alert) alertForm {
	f := alertForm{RequestID: uuid.NewString(), Email: band == nil, Webhook: band.GetWebhookUrl()}
	if v := band.GetAbove(); v > 0 {
		f.Above = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if v := band.GetBelow(); v > 0 {
		f.Below = strconv.FormatFloat(v, 'f', -1, 64)
	}
	for _, c := range band.GetChannels() {
		f.Email = f.Email || c == pb.Channel_CHANNEL_EMAIL
	}
	return f
}

// threshold parses a threshold field: empty is 0 (that side unset).
func threshold(name, v string) (float64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "%s %q is not a number", name, v)
	}
	return f, nil
}

// setAlert sets the band of the form: e-mail when its box is ticked, the
// webhook when a URL is given. A new webhook secret is shown on the page
// it answers (it is shown only once); otherwise it redirects.
func (s *Server) setAlert(w http.ResponseWriter, r *http.Request) {
	email := r.PathValue("email")
	f := alertForm{
		RequestID: r.PostFormValue("request_id"), Above: r.PostFormValue("above"), Below: r.PostFormValue("below"),
		Webhook: strings.TrimSpace(r.PostFormValue("webhook")), Email: r.PostFormValue("email") != "",
	}
	req := &pb.SetAlertRequest{RequestId: f.RequestID, Email: email, WebhookUrl: f.Webhook}
	if f.Email {
		req.Channels = append(req.Channels, pb.Channel_CHANNEL_EMAIL)
	}
	if f.Webhook != "" {
		req.Channels = append(req.Channels, pb.Channel_CHANNEL_WEBHOOK)
	}
	var a *pb.Alert
	var err error
	if req.Above, err = threshold("above", f.Above); err == nil {
		if req.Below, err = threshold("below", f.Below); err == nil {
			a, err = s.api.SetAlert(r.Context(), req)
		}
	}
	if err != nil {
		code, msg := apiError(err)
		f.RequestID = nextRequestID(err, f.RequestID)
		s.showUser(w, r, code, userPage{Error: msg, AlertForm: f})
		return
	}
	if a.GetWebhookSecret() == "" {
		seeOther(w, r, userURL(a.GetEmail())+"?done=alert-set")
		return
	}
	s.showUser(w, r, http.StatusOK, userPage{Notice: notices["alert-set"], Secret: a.GetWebhookSecret()})
}

func (s *Server) clearAlert(w http.ResponseWriter, r *http.Request) {
	email := r.PathValue("email")
	id := r.PostFormValue("request_id")
	if _, err := s.api.DeleteAlert(r.Context(), &pb.DeleteAlertRequest{RequestId: id, Email: email}); err != nil {
		code, msg := apiError(err)
		s.showUser(w, r, code, userPage{Error: msg, ClearID: nextRequestID(err, id)})
		return
	}
	seeOther(w, r, userURL(email)+"?done=alert-clear")
}
