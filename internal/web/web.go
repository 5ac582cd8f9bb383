// Package web serves Stockwatch's dashboard: HTML pages, rendered on the
// server with html/template, that look up, register, show, update and
// delete a user, chart the user's prices, and let an administrator list
// users and prices and purge old ones.
//
// The pages are clients of the API: every read and write is a
// StockService call, made (in the daemon) over the REST gateway's
// in-process connection, so that the API's validation, at-most-once,
// admin token check, error messages and metrics apply as to any client.
// The package holds no second path to the store.
//
// Forms work without JavaScript. Each rendered form of a mutation carries
// a fresh request id, so that a form submitted twice takes effect once.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

// maxFormBytes bounds a form's body: the largest legitimate one (an
// admin token) is well under it.
const maxFormBytes = 64 << 10

// contentSecurityPolicy allows the page's own stylesheet and script and
// nothing else: no inline script or style, no other origin, no frames.
// connect-src 'self' lets a script post a form as the form would.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the pages need besides the API.
type Config struct {
	// Secure marks the admin cookie Secure: set it when the pages are
	// served over TLS.
	Secure bool
	// Logger receives template errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock of ages and chart ranges; nil means time.Now.
	Now func() time.Time
}

// Server serves the dashboard. Its zero value is not usable; see New.
type Server struct {
	api     pb.StockServiceClient
	cfg     Config
	pages   map[string]*template.Template
	handler http.Handler
}

// New returns the dashboard, calling api for everything it shows or
// changes. It returns an error if the embedded templates do not parse.
func New(api pb.StockServiceClient, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{api: api, cfg: cfg}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("POST /{$}", s.register)
	mux.HandleFunc("GET /u/{email}", s.user)
	mux.HandleFunc("POST /u/{email}/ticker", s.updateTicker)
	mux.HandleFunc("POST /u/{email}/alert", s.setAlert)
	mux.HandleFunc("POST /u/{email}/alert/clear", s.clearAlert)
	mux.HandleFunc("GET /u/{email}/delete", s.confirmDelete)
	mux.HandleFunc("POST /u/{email}/delete", s.deleteUser)
	mux.HandleFunc("GET /admin", s.admin)
	mux.HandleFunc("POST /admin/sign-in", s.signIn)
	mux.HandleFunc("POST /admin/sign-out", s.signOut)
	mux.HandleFunc("POST /admin/purge", s.purge)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	// Anything else is the 404 page, not the mux's plain text.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, http.StatusNotFound, "error", errorPage{Title: "Not found", Message: "There is no page at this address."})
	})
	// A browser says where a request comes from (Sec-Fetch-Site, or
	// Origin); a POST from another site is refused with 403. Clients that
	// say neither (curl) are not browsers, and have no cookie to abuse.
	s.handler = http.NewCrossOriginProtection().Handler(mux)
	return s, nil
}

// ServeHTTP serves the pages, with security headers on every answer. A
// path it does not know is a 404 page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Paths hold e-mail addresses: never send them to another site.
	h.Set("Referrer-Policy", "same-origin")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	s.handler.ServeHTTP(w, r)
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	v := "public, max-age=" + strconv.Itoa(int(d/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		h.ServeHTTP(w, r)
	})
}

// render writes page with data and status code; a template error is
// logged and answered with a plain 500 (nothing was written yet: the
// page is rendered to a buffer first).
func (s *Server) render(w http.ResponseWriter, code int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.cfg.Logger.Error("web: rendering a page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold prices as of now, and forms a request id of their own.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// seeOther redirects a successful POST to the page showing its result,
// so that reloading that page repeats nothing.
func seeOther(w http.ResponseWriter, r *http.Request, url string) {
	http.Redirect(w, r, url, http.StatusSeeOther)
}

// parsePages parses each page template with the shared layout.
func parsePages() (map[string]*template.Template, error) {
	names := []string{"home", "user", "delete", "admin", "sign-in", "error"}
	pages := make(map[string]*template.Template, len(names))
	for _, n := range names {
		t, err := template.New(n).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, err
		}
		pages[n] = t
	}
	return pages, nil
}

// errorPage is the data of the error page.
type errorPage struct {
	Title, Message string
}
