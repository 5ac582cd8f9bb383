package web

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// adminCookie holds the admin token of a signed-in browser (base64url, as
// a cookie value cannot hold every byte). The pages never check it
// themselves: they send it as the bearer token of the admin RPCs, and the
// API compares it with -admin-token (in constant time) as for any client.
const adminCookie = "stockwatch_admin"

// adminPageSize is the number of users and of prices per page of /admin.
const adminPageSize = 50

// purgePeriods are the purge form's choices.
var purgePeriods = []struct{ Value, Label string }{
	{"24h", "1 day"}, {"168h", "7 days"}, {"720h", "30 days"}, {"2160h", "90 days"}, {"8760h", "365 days"},
}

// adminPage is the data of /admin.
type adminPage struct {
	Notice, Error string
	SignedIn      bool // a cookie is set (the API may need none)
	Users         []*pb.UserWithPrice
	NextUsers     string // URL of the next page of users; empty on the last
	Ticker        string // the prices' filter
	Prices        []*pb.Price
	NextPrices    string
	PurgeID       string
	Periods       []struct{ Value, Label string }
	Period        string
}

// signInPage is the data of the sign-in form.
type signInPage struct{ Error string }

// adminContext returns r's context carrying the cookie's admin token, if
// any, as the API's bearer token.
func adminContext(r *http.Request) (context.Context, bool) {
	c, err := r.Cookie(adminCookie)
	if err != nil {
		return r.Context(), false
	}
	tok, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return r.Context(), false
	}
	return withToken(r.Context(), string(tok)), true
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := adminPage{PurgeID: uuid.NewString(), Periods: purgePeriods, Period: "720h", Ticker: q.Get("ticker")}
	if n := q.Get("purged"); n != "" {
		if c, err := strconv.ParseInt(n, 10, 64); err == nil {
			p.Notice = "Deleted " + plural(int(c), "price") + "."
		}
	}
	s.showAdmin(w, r, http.StatusOK, p)
}

// showAdmin renders /admin with p's notice, error and purge form: the
// page of users and the page of prices that r's query asks for. Without
// the admin token the API asks for, it is the sign-in form.
func (s *Server) showAdmin(w http.ResponseWriter, r *http.Request, code int, p adminPage) {
	ctx, signedIn := adminContext(r)
	q := r.URL.Query()
	users, err := s.api.ListUsers(ctx, &pb.ListUsersRequest{PageSize: adminPageSize, PageToken: q.Get("users")})
	if status.Code(err) == codes.Unauthenticated {
		s.askToken(w, r, signedIn, err)
		return
	}
	p.SignedIn = signedIn
	if err == nil {
		p.Users, p.NextUsers = users.GetUsers(), adminURL(q, "users", users.GetNextPageToken())
		var prices *pb.ListPricesResponse
		prices, err = s.api.ListPrices(ctx, &pb.ListPricesRequest{Ticker: p.Ticker, PageSize: adminPageSize, PageToken: q.Get("prices")})
		p.Prices, p.NextPrices = prices.GetPrices(), adminURL(q, "prices", prices.GetNextPageToken())
	}
	if err != nil {
		code, p.Error = apiError(err)
	}
	s.render(w, code, "admin", p)
}

// askToken answers with the sign-in form: 200 for a GET without a
// cookie (the page asks for the token, nothing failed), else 401. A
// cookie the API refused (the token changed) is removed, and the API's
// message shown.
func (s *Server) askToken(w http.ResponseWriter, r *http.Request, hadCookie bool, err error) {
	var p signInPage
	code := http.StatusUnauthorized
	switch {
	case hadCookie:
		_, p.Error = apiError(err)
		s.setCookie(w, "", -1)
	case r.Method == http.MethodGet:
		code = http.StatusOK
	}
	s.render(w, code, "sign-in", p)
}

// adminURL is /admin with q's parameters and key set to value, or ""
// for no value (the last page has no next).
func adminURL(q url.Values, key, value string) string {
	if value == "" {
		return ""
	}
	v := url.Values{}
	for k, vs := range q {
		if k == "users" || k == "prices" || k == "ticker" {
			v[k] = vs
		}
	}
	v.Set(key, value)
	return "/admin?" + v.Encode()
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	if strings.TrimSpace(tok) == "" {
		s.render(w, http.StatusBadRequest, "sign-in", signInPage{Error: "enter the admin token"})
		return
	}
	// The API judges the token: one admin call with it.
	if _, err := s.api.ListUsers(withToken(r.Context(), tok), &pb.ListUsersRequest{PageSize: 1}); err != nil {
		code, msg := apiError(err)
		s.render(w, code, "sign-in", signInPage{Error: msg})
		return
	}
	s.setCookie(w, base64.RawURLEncoding.EncodeToString([]byte(tok)), 0)
	seeOther(w, r, "/admin")
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	s.setCookie(w, "", -1)
	seeOther(w, r, "/admin")
}

// setCookie sets the admin cookie to value (a browser session's, when
// maxAge is 0) or, with maxAge -1, removes it. Only /admin pages get it,
// never script (HttpOnly), never another site's requests (SameSite
// Strict), and only over TLS when the pages are served with it.
func (s *Server) setCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: adminCookie, Value: value, Path: "/admin", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.Secure,
	})
}

func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	ctx, signedIn := adminContext(r)
	id, period := r.PostFormValue("request_id"), r.PostFormValue("older_than")
	p := adminPage{PurgeID: uuid.NewString(), Periods: purgePeriods, Period: period}
	d, err := time.ParseDuration(period)
	if err != nil {
		p.Error = "choose how old the prices to delete must be"
		s.showAdmin(w, r, http.StatusBadRequest, p)
		return
	}
	resp, err := s.api.DeletePrices(ctx, &pb.DeletePricesRequest{RequestId: id, OlderThan: durationpb.New(d)})
	switch {
	case status.Code(err) == codes.Unauthenticated:
		s.askToken(w, r, signedIn, err)
	case err != nil:
		var code int
		code, p.Error = apiError(err)
		p.PurgeID = nextRequestID(err, id)
		s.showAdmin(w, r, code, p)
	default:
		seeOther(w, r, "/admin?purged="+strconv.FormatInt(resp.GetDeletedCount(), 10))
	}
}
