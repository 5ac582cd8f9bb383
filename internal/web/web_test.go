package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/stockwatch/stockwatch/internal/stock"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
	"github.com/stockwatch/stockwatch/internal/testkit"
)

const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// TestHome: / offers the look-up and the register form, with a fresh
// request id on every rendering, and the security headers.
func TestHome(t *testing.T) {
	e := newEnv(t, storetest.SQLite, "")
	p := e.get(t, "/")
	p.want(t, "GET /", 200, `<label for="lookup-email">E-mail</label>`, `<label for="register-ticker">Ticker</label>`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	for k, v := range map[string]string{
		"Content-Security-Policy": csp,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
		"Content-Type":            "text/html; charset=utf-8",
	} {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if id1, id2 := p.requestID(t, "register-form"), e.get(t, "/").requestID(t, "register-form"); id1 == id2 {
		t.Errorf("two renderings of the form carry one request id %s", id1)
	}
	// No inline script or style anywhere: the CSP would block it.
	for _, s := range []string{"<script>", "style=", "<style", " on"} {
		if strings.Contains(p.body, s) {
			t.Errorf("page holds %q, which the CSP blocks", s)
		}
	}
}

// TestLookup: an address finds the user's page (in the API's form of the
// address); an unknown one says so, with the register form filled in.
func TestLookup(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b, "")
		storetest.AddUser(t, e.db, "alice@example.com", "AAPL", t0)
		e.get(t, "/?email=+Alice@Example.com+").wantRedirect(t, "known", "/u/alice@example.com")
		e.get(t, "/?email=bob@example.com").want(t, "unknown", 404,
			`<p class="error" role="alert">User bob@example.com not found.</p>`,
			`id="register-email" name="email" type="email" required maxlength="254" autocomplete="email" value="bob@example.com"`)
		e.get(t, "/?email=not-an-address").want(t, "invalid", 400,
			`Email &#34;not-an-address&#34; is not a valid address.`)
	})
}

// TestRegister: the form registers once; the same form submitted again
// (same request id) replays the first answer instead of failing; errors
// are the API's messages, with the form kept.
func TestRegister(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b, "")
		id := e.get(t, "/").requestID(t, "register-form")
		f := form("request_id", id, "email", "Alice@Example.com", "ticker", "aapl")
		e.post(t, "/", f).wantRedirect(t, "register", "/u/alice@example.com?done=registered")
		e.post(t, "/", f).wantRedirect(t, "the same form again", "/u/alice@example.com?done=registered")
		if !e.hasUser(t, "alice@example.com", "AAPL") {
			t.Error("alice@example.com tracking AAPL not stored")
		}
		if n := storetest.Count(t, e.db, "requests", ""); n != 1 {
			t.Errorf("%d request records, want 1 (the second submission replayed the first)", n)
		}
		e.get(t, "/u/alice@example.com?done=registered").want(t, "notice", 200,
			`<p class="notice" role="status">Registered.</p>`)

		p := e.post(t, "/", form("request_id", e.get(t, "/").requestID(t, "register-form"), "email", "alice@example.com", "ticker", "MSFT"))
		p.want(t, "existing", 409, `<p class="error" role="alert">User alice@example.com already exists.</p>`, `value="MSFT"`)
		if p.requestID(t, "register-form") == id {
			t.Error("the form rendered after a failure reuses the old request id")
		}
		e.post(t, "/", form("email", "bob@example.com", "ticker", "$$$")).want(t, "bad ticker", 400,
			`Ticker &#34;$$$&#34; is not a valid symbol.`)
		e.post(t, "/", form("request_id", "nope", "email", "bob@example.com", "ticker", "AAPL")).want(t, "bad request id", 400,
			`Request_id &#34;nope&#34; is not a UUID.`)
	})
}

// TestUserPage: the user's ticker and status, the latest price with its
// age, the chart of the range asked for with min and max marked, the
// average of the last n, and the forms.
func TestUserPage(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b, "")
		storetest.AddUser(t, e.db, "alice@example.com", "AAPL", t0)
		e.get(t, "/u/alice@example.com").want(t, "no price yet", 200,
			`<span class="ticker" id="ticker">AAPL</span>`,
			`<p class="muted" id="latest-error">No price collected yet for AAPL.</p>`,
			`<p class="muted" id="chart-empty">No price collected yet for AAPL.</p>`)

		// 90 prices, one a minute up to t0 - 1m: 100, 101, … 189.
		var ps []float64
		for i := range 90 {
			ps = append(ps, 100+float64(i))
		}
		ps[30] = 50 // the lowest, 60 minutes before t0
		e.insertPrices(t, "AAPL", ps...)
		p := e.get(t, "/u/alice@example.com")
		p.want(t, "prices", 200,
			`<p class="price"><span id="latest-price">189.00</span> USD</p>`,
			`as of <time datetime="2026-11-27T14:29:00Z">2026-11-27 14:29:00 UTC</time> (1 minute ago)`,
			`<a href="/u/alice@example.com?range=1d&amp;n=10" aria-current="page" class="current">1 d</a>`,
			`<title id="chart-title">AAPL from 2026-11-26 14:30 to 2026-11-27 14:30 UTC: 90 prices, first 100.00, last 189.00, lowest 50.00, highest 189.00 USD</title>`,
			`>min 50.00</text>`, `>max 189.00</text>`,
			`<dd id="change">&#43;89.00%</dd>`,
			// The average of the last 10: 180…189.
			`<p class="price"><span id="average">184.50</span> USD</p>`,
			`id="update-ticker" name="ticker" required maxlength="35" autocapitalize="characters" spellcheck="false" value="AAPL"`,
			`<a class="button danger" id="delete-link" href="/u/alice@example.com/delete">`)
		if n := strings.Count(chartPoints(t, p.body), ","); n != 90 {
			t.Errorf("1 d chart has %d points, want 90", n)
		}

		p = e.get(t, "/u/alice@example.com?range=1h&n=3")
		p.want(t, "1 h and 3", 200,
			`<a href="/u/alice@example.com?range=1h&amp;n=3" aria-current="page" class="current">1 h</a>`,
			`>min 50.00</text>`, `<span id="average">188.00</span>`, `over 3 prices,`)
		if n := strings.Count(chartPoints(t, p.body), ","); n != 60 {
			t.Errorf("1 h chart has %d points, want 60 (the prices of the last hour)", n)
		}
		e.get(t, "/u/alice@example.com?range=all").want(t, "all", 200, `aria-current="page" class="current">all</a>`, `90 prices`)
		e.get(t, "/u/alice@example.com?n=1000").want(t, "fewer stored", 200, `over 90 prices (fewer are stored)`)
		e.get(t, "/u/alice@example.com?n=0").want(t, "n=0", 200,
			`<p class="muted" id="average-error">Count must be between 1 and 10000, got 0.</p>`)
		e.get(t, "/u/alice@example.com?n=ten").want(t, "n=ten", 200,
			`<p class="muted" id="average-error">The number of prices to average must be a whole number from 1 to 10000.</p>`)

		got := e.get(t, "/u/Alice@Example.COM?range=1h")
		if got.code != http.StatusFound || got.location != "/u/alice@example.com?range=1h" {
			t.Errorf("another form of the address: %d to %q, want 302 to the page's address", got.code, got.location)
		}
		e.get(t, "/u/bob@example.com").want(t, "unknown", 404, `<h1>No such user</h1>`,
			`<p class="error" role="alert">User bob@example.com not found.</p>`)
	})
}

// chartPoints returns the chart's polyline points.
func chartPoints(tb testing.TB, body string) string {
	tb.Helper()
	_, after, ok := strings.Cut(body, `<polyline class="line" points="`)
	if !ok {
		tb.Fatalf("no chart on the page:\n%s", body)
	}
	pts, _, _ := strings.Cut(after, `"`)
	return pts
}

// TestUpdateTicker: the form changes the ticker once; errors re-render
// the page with the API's message and the value typed.
func TestUpdateTicker(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b, "")
		storetest.AddUser(t, e.db, "alice@example.com", "AAPL", t0)
		id := e.get(t, "/u/alice@example.com").requestID(t, "update-form")
		e.post(t, "/u/alice@example.com/ticker", form("request_id", id, "ticker", "msft")).
			wantRedirect(t, "update", "/u/alice@example.com?done=updated")
		if !e.hasUser(t, "alice@example.com", "MSFT") {
			t.Error("ticker not updated to MSFT")
		}
		e.get(t, "/u/alice@example.com?done=updated").want(t, "after", 200,
			`<p class="notice" role="status">Ticker updated.</p>`, `<span class="ticker" id="ticker">MSFT</span>`)
		e.post(t, "/u/alice@example.com/ticker", form("request_id", id, "ticker", "GOOG")).want(t, "id reused", 400,
			`<p class="error" role="alert">Request_id reused with a different request.</p>`)
		e.post(t, "/u/alice@example.com/ticker", form("ticker", "b@d")).want(t, "bad ticker", 400,
			`<p class="error" role="alert">Ticker &#34;B@D&#34; is not a valid symbol.</p>`, `value="b@d"`)
		e.post(t, "/u/bob@example.com/ticker", form("ticker", "AAPL")).want(t, "unknown user", 404,
			`User bob@example.com not found.`)
		if !e.hasUser(t, "alice@example.com", "MSFT") {
			t.Error("a failed update changed the ticker")
		}
	})
}

// TestDelete: the delete link leads to a confirmation; confirming
// deletes once, and the same confirmation submitted again replays.
func TestDelete(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b, "")
		storetest.AddUser(t, e.db, "alice@example.com", "AAPL", t0)
		p := e.get(t, "/u/alice@example.com/delete")
		p.want(t, "confirm", 200, `<h1>Delete alice@example.com?</h1>`, `<form method="post" action="/u/alice@example.com/delete" id="delete-form">`,
			`<a class="button" href="/u/alice@example.com">Cancel</a>`)
		if !e.hasUser(t, "alice@example.com", "AAPL") {
			t.Fatal("the confirmation page deleted the user")
		}
		f := form("request_id", p.requestID(t, "delete-form"))
		e.post(t, "/u/alice@example.com/delete", f).wantRedirect(t, "delete", "/?done=deleted")
		e.post(t, "/u/alice@example.com/delete", f).wantRedirect(t, "the same form again", "/?done=deleted")
		if e.hasUser(t, "alice@example.com", "AAPL") {
			t.Error("user not deleted")
		}
		e.get(t, "/?done=deleted").want(t, "notice", 200, `<p class="notice" role="status">The user was deleted.</p>`)
		e.post(t, "/u/alice@example.com/delete", form()).want(t, "gone", 404, `User alice@example.com not found.`)
		e.get(t, "/u/alice@example.com/delete").want(t, "confirm gone", 404, `User alice@example.com not found.`)
	})
}

// TestEscaping: what a user typed is text on every page, never markup,
// and an address with characters special to HTML and to paths ('/'
// included) is one path segment in links.
func TestEscaping(t *testing.T) {
	e := newEnv(t, storetest.SQLite, "")
	p := e.post(t, "/", form("email", "<script>alert(1)</script>@x.com", "ticker", "AAPL"))
	p.want(t, "markup", 400, `Email &#34;&lt;script&gt;alert(1)&lt;/script&gt;@x.com&#34; is not a valid address.`)
	if strings.Contains(p.body, "<script>alert") {
		t.Error("the typed address is not escaped")
	}

	const email = "o'neil&a/b{c}@x.com"
	const path = "/u/o%27neil&a%2Fb%7Bc%7D@x.com"
	e.post(t, "/", form("email", email, "ticker", "AAPL")).wantRedirect(t, "register", path+"?done=registered")
	e.get(t, path).want(t, path, 200, `<h1>o&#39;neil&amp;a/b{c}@x.com</h1>`,
		`<a class="button danger" id="delete-link" href="/u/o%27neil&amp;a%2Fb%7Bc%7D@x.com/delete">`)
	e.get(t, path+"/delete").want(t, "confirm", 200, `<h1>Delete o&#39;neil&amp;a/b{c}@x.com?</h1>`)
	e.post(t, path+"/delete", form()).wantRedirect(t, "delete", "/?done=deleted")
	if e.hasUser(t, email, "AAPL") {
		t.Error("user not deleted")
	}
}

// TestAdmin: /admin asks for the admin token; the API judges it; the
// cookie that keeps it is HttpOnly, SameSite=Strict and for /admin only;
// signed in, the page lists users and prices and purges once.
func TestAdmin(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b, token)
		storetest.AddUser(t, e.db, "alice@example.com", "AAPL", t0)
		e.insertPrices(t, "AAPL", 188.25)
		old := t0.AddDate(0, 0, -40)
		if _, err := e.db.InsertPrices(context.Background(), []stock.Price{
			{Ticker: "AAPL", Price: 187.5, Currency: "USD", MarketTime: old, CollectTime: old},
		}); err != nil {
			t.Fatal(err)
		}

		e.get(t, "/admin").want(t, "signed out", 200, `<label for="token">Admin token</label>`)
		e.post(t, "/admin/purge", form("older_than", "720h")).want(t, "purge signed out", 401, `<label for="token">Admin token</label>`)
		e.post(t, "/admin/sign-in", form("token", "wrong")).want(t, "wrong token", 401,
			`<p class="error" role="alert">Invalid admin token.</p>`)
		e.post(t, "/admin/sign-in", form("token", " ")).want(t, "no token", 400,
			`<p class="error" role="alert">Enter the admin token.</p>`)

		p := e.post(t, "/admin/sign-in", form("token", token))
		p.wantRedirect(t, "sign in", "/admin")
		if got, want := p.header.Get("Set-Cookie"), "stockwatch_admin=czNjcmV0; Path=/admin; HttpOnly; SameSite=Strict"; got != want {
			t.Errorf("Set-Cookie = %q, want %q", got, want)
		}
		p = e.get(t, "/admin")
		p.want(t, "signed in", 200,
			`<td><a href="/u/alice@example.com">alice@example.com</a></td><td>AAPL</td>`,
			`<td class="num">188.25 USD</td>`, `<td class="num">187.50 USD</td>`,
			`<option value="720h" selected>30 days ago</option>`)
		e.get(t, "/admin?ticker=MSFT").want(t, "filter", 200, `<p class="muted">No prices.</p>`)

		f := form("request_id", p.requestID(t, "purge-form"), "older_than", "720h")
		e.post(t, "/admin/purge", f).wantRedirect(t, "purge", "/admin?purged=1")
		e.post(t, "/admin/purge", f).wantRedirect(t, "the same purge again", "/admin?purged=1")
		if n := storetest.Count(t, e.db, "stock_prices", ""); n != 1 {
			t.Errorf("%d prices left, want 1", n)
		}
		e.get(t, "/admin?purged=1").want(t, "notice", 200, `<p class="notice" role="status">Deleted 1 price.</p>`)
		e.post(t, "/admin/purge", form("older_than", "soon")).want(t, "bad period", 400,
			`<p class="error" role="alert">Choose how old the prices to delete must be.</p>`)

		p = e.post(t, "/admin/sign-out", form())
		p.wantRedirect(t, "sign out", "/admin")
		if got := p.header.Get("Set-Cookie"); !strings.HasPrefix(got, "stockwatch_admin=; Path=/admin; Max-Age=0;") {
			t.Errorf("sign out Set-Cookie = %q, want the cookie removed", got)
		}
		e.get(t, "/admin").want(t, "signed out again", 200, `<label for="token">Admin token</label>`)

		// A cookie whose token the daemon no longer takes is removed.
		e.do(t, "GET", "/admin", nil, "Cookie: stockwatch_admin=b2xk").want(t, "old token", 401,
			`<p class="error" role="alert">Invalid admin token.</p>`)
	})
}

// TestAdminWithoutToken: without -admin-token the API asks for none, nor
// does the page.
func TestAdminWithoutToken(t *testing.T) {
	e := newEnv(t, storetest.SQLite, "")
	e.get(t, "/admin").want(t, "admin", 200, `<p class="muted">No users.</p>`, `<p class="muted">No prices.</p>`)
}

// TestCrossOrigin: a POST that a browser says comes from another site is
// refused, before it reaches the API.
func TestCrossOrigin(t *testing.T) {
	e := newEnv(t, storetest.SQLite, "")
	f := form("email", "alice@example.com", "ticker", "AAPL")
	for _, h := range []string{"Sec-Fetch-Site: cross-site", "Origin: https://evil.example"} {
		p := e.do(t, "POST", "/", f, h)
		if p.code != http.StatusForbidden {
			t.Errorf("POST / with %s = %d, want 403", h, p.code)
		}
	}
	if e.hasUser(t, "alice@example.com", "AAPL") {
		t.Fatal("a cross-origin POST registered a user")
	}
	e.post(t, "/", f, "Origin: "+e.url).wantRedirect(t, "same origin", "/u/alice@example.com?done=registered")
}

// TestStaticAndNotFound: the embedded assets are served; any other path
// is the 404 page.
func TestStaticAndNotFound(t *testing.T) {
	e := newEnv(t, storetest.SQLite, "")
	for path, ct := range map[string]string{
		"/static/style.css": "text/css; charset=utf-8",
		"/static/app.js":    "text/javascript; charset=utf-8",
		"/static/icon.svg":  "image/svg+xml",
	} {
		p := e.get(t, path)
		if p.code != 200 || p.header.Get("Content-Type") != ct || p.header.Get("Cache-Control") != "public, max-age=3600" {
			t.Errorf("GET %s = %d %q %q, want 200 %q, cached an hour", path, p.code, p.header.Get("Content-Type"), p.header.Get("Cache-Control"), ct)
		}
	}
	e.get(t, "/nowhere").want(t, "unknown path", 404, `<h1>Not found</h1>`, `There is no page at this address.`)
	e.get(t, "/static/nothing.css").want(t, "unknown asset", 404)
}

// TestAlert: the user page's alert form sets the band once (the secret
// shown on that answer only, and again by its replay), the chart draws
// the band's lines, the clear form clears it once; errors re-render the
// page with the API's message and the values typed.
func TestAlert(t *testing.T) {
	storetest.EachParallel(t, func(t *testing.T, b storetest.Backend) {
		e := newEnv(t, b, "")
		storetest.AddUser(t, e.db, "alice@example.com", "AAPL", t0)
		e.insertPrices(t, "AAPL", 180, 185, 190)
		p := e.get(t, "/u/alice@example.com")
		p.want(t, "no band", 200, `<p class="muted" id="alert-none">No price alert.</p>`,
			`<label><input type="checkbox" name="email" value="on" checked> E-mail to alice@example.com</label>`,
			`<input id="alert-above" name="above" inputmode="decimal" value="">`)
		if strings.Contains(p.body, `class="band`) {
			t.Error("a chart without a band draws a band line")
		}
		id := p.requestID(t, "alert-form")
		if id2 := e.get(t, "/u/alice@example.com").requestID(t, "alert-form"); id2 == id {
			t.Errorf("two renderings of the alert form carry one request id %s", id)
		}

		f := form("request_id", id, "above", "210", "below", " 170 ", "email", "on", "webhook", "https://hooks.example.com/sw")
		set := e.post(t, "/u/alice@example.com/alert", f)
		set.want(t, "set", 200, `<p class="notice" role="status">Price alert set.</p>`,
			`<p class="notice" role="status" id="alert-secret">Webhook secret: <code>whsec_`,
			`Store it: it is shown only once.`)
		secret := secretOf(t, set.body)
		if again := e.post(t, "/u/alice@example.com/alert", f); secretOf(t, again.body) != secret {
			t.Errorf("the same form again shows secret %q, want the first one %q", secretOf(t, again.body), secret)
		}
		testkit.WantCount(t, "request records", storetest.Count(t, e.db, "requests", ""), 1)

		p = e.get(t, "/u/alice@example.com")
		p.want(t, "band", 200,
			`<p id="alert-band">Told when AAPL goes above <strong>210.00</strong> or below <strong>170.00</strong> USD, by e-mail and webhook (<code>https://hooks.example.com/sw</code>); once per crossing, again after the price came back inside by 0.5%.</p>`,
			// The axis spans 170 to 210: the lines at the top and bottom.
			`<line class="band above" x1="0" y1="28.0" x2="640" y2="28.0" stroke-dasharray="6 4"/>`,
			`<text class="band above" x="640" y="24.0" dx="-4" text-anchor="end">alert above 210.00</text>`,
			`<line class="band below" x1="0" y1="220.0" x2="640" y2="220.0" stroke-dasharray="6 4"/>`,
			`<text class="band below" x="640" y="216.0" dx="-4" text-anchor="end">alert below 170.00</text>`,
			`highest 190.00 USD; alert above 210.00; alert below 170.00</title>`,
			`<input id="alert-above" name="above" inputmode="decimal" value="210">`,
			`<input id="alert-webhook" name="webhook" type="url" maxlength="2048" spellcheck="false" value="https://hooks.example.com/sw">`)
		if strings.Contains(p.body, "whsec_") {
			t.Error("the page shows the secret again")
		}

		// A band replaced: no new secret, so a redirect.
		e.post(t, "/u/alice@example.com/alert", form("request_id", p.requestID(t, "alert-form"), "below", "175", "email", "on")).
			wantRedirect(t, "set again", "/u/alice@example.com?done=alert-set")
		e.get(t, "/u/alice@example.com?done=alert-set").want(t, "after", 200, `<p class="notice" role="status">Price alert set.</p>`,
			`<p id="alert-band">Told when AAPL goes below <strong>175.00</strong> USD, by e-mail; once per crossing`)

		for _, tt := range []struct {
			name string
			f    url.Values
			want []string
		}{
			{"not a number", form("above", "lots", "email", "on"), []string{`<p class="error" role="alert">Above &#34;lots&#34; is not a number.</p>`, `name="above" inputmode="decimal" value="lots"`}},
			{"inverted", form("above", "170", "below", "210", "email", "on"), []string{`<p class="error" role="alert">Below (210) must be less than above (170).</p>`, `name="below" inputmode="decimal" value="210"`}},
			{"no threshold", form("email", "on"), []string{`<p class="error" role="alert">Above or below is required.</p>`}},
			{"no channel", form("above", "200"), []string{`<p class="error" role="alert">At least one channel is required.</p>`, `name="email" value="on"> E-mail`}},
		} {
			tt.f.Set("request_id", uuid.NewString())
			e.post(t, "/u/alice@example.com/alert", tt.f).want(t, tt.name, 400, tt.want...)
		}
		e.post(t, "/u/bob@example.com/alert", form("above", "200", "email", "on")).want(t, "unknown user", 404, `User bob@example.com not found.`)

		clear := form("request_id", e.get(t, "/u/alice@example.com").requestID(t, "alert-clear-form"))
		e.post(t, "/u/alice@example.com/alert/clear", clear).wantRedirect(t, "clear", "/u/alice@example.com?done=alert-clear")
		e.post(t, "/u/alice@example.com/alert/clear", clear).wantRedirect(t, "the same clear again", "/u/alice@example.com?done=alert-clear")
		testkit.WantCount(t, "bands", storetest.Count(t, e.db, "alerts", ""), 0)
		e.get(t, "/u/alice@example.com?done=alert-clear").want(t, "cleared", 200, `<p class="notice" role="status">Price alert cleared.</p>`,
			`<p class="muted" id="alert-none">No price alert.</p>`)
		e.post(t, "/u/alice@example.com/alert/clear", form("request_id", uuid.NewString())).want(t, "none to clear", 404,
			`<p class="error" role="alert">User alice@example.com has no alert.</p>`)
	})
}

// secretOf returns the webhook secret a page shows.
func secretOf(tb testing.TB, body string) string {
	tb.Helper()
	_, after, ok := strings.Cut(body, `Webhook secret: <code>`)
	if !ok {
		tb.Fatalf("no secret on the page:\n%s", body)
	}
	s, _, _ := strings.Cut(after, `</code>`)
	return s
}
