package tracker_test

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowser runs the tracker in headless Chromium, once for each way of
// loading it (a script tag, and Matomo's documented snippet), and checks
// the exact requests the endpoint receives and the cookies in the browser.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are slow")
	}
	for _, l := range loaders {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			env := newBrowserEnv(t, l)
			for _, tc := range browserCases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, env.newPage(t)) })
			}
		})
	}
}

var browserCases = []struct {
	name string
	run  func(t *testing.T, p *page)
}{
	{"page view", testPageView},
	{"custom url and title", testCustomURL},
	{"event", testEvent},
	{"site search", testSiteSearch},
	{"goal", testGoal},
	{"outlink click", testOutlinkClick},
	{"download click", testDownloadClick},
	{"heartbeat", testHeartBeat},
	{"ping", testPing},
	{"user id", testUserID},
	{"custom dimension", testCustomDimension},
	{"ecommerce", testEcommerce},
	{"content impressions", testContent},
	{"disable cookies", testDisableCookies},
	{"require consent", testRequireConsent},
	{"require cookie consent", testRequireCookieConsent},
	{"do not track", testDoNotTrack},
	{"cookie settings", testCookieSettings},
	{"transports", testTransports},
	{"queue semantics", testQueueSemantics},
	{"add tracker", testAddTracker},
	{"javascript errors", testJSErrors},
	{"track request", testTrackRequest},
}

// common is what every request of the test's page carries, with cookies
// on and the first page view done.
func (p *page) common() want {
	return want{
		"idsite": "1", "rec": "1", "r": `~\d{6}`, "h": `~1?\d|2[0-3]`, "m": `~[1-5]?\d`, "s": `~[1-5]?\d`,
		"url": p.base() + "page.html", "send_image": "0", "pv_id": `~[a-zA-Z0-9]{6}`,
		"_id": `~[0-9a-f]{16}`, "_idn": "0", "pdf": "~[01]", "cookie": "1", "res": p.res(),
		"uadata": `~\{.*"platform":.*\}`,
	}
}

// perf is the page-performance part of the first page view.
var perf = want{"pf_net": `~\d+`, "pf_srv": `~\d+`, "pf_tfr": `~\d+`, "pf_dm1": `~\d+`, "pf_dm2": `~\d+`, "pf_onl": `~\d+`}

// merge joins wants; a later value "-" removes the name.
func merge(ws ...want) want {
	out := want{}
	for _, w := range ws {
		for k, v := range w {
			if v == "-" {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
	}
	return out
}

func (p *page) res() string {
	return eval[string](p, "screen.width + 'x' + screen.height")
}

// beacon checks that h came by navigator.sendBeacon with the query in the
// URL and an empty body, and returns its parameters.
func beacon(t *testing.T, h hit) url.Values {
	t.Helper()
	if h.Method != "POST" || h.Body != "" || h.FetchMode != "no-cors" ||
		!strings.HasPrefix(strings.ToLower(h.ContentType), "application/x-www-form-urlencoded; charset=utf-8") {
		t.Errorf("want a sendBeacon POST with an empty form body, got %s body=%q type=%q mode=%q",
			h.Method, h.Body, h.ContentType, h.FetchMode)
	}
	if !strings.HasSuffix(h.Path, "/matomo.php") {
		t.Errorf("path %s, want …/matomo.php", h.Path)
	}
	return h.Query
}

// firstPageView checks the page view that the loader tracks on load.
func (p *page) firstPageView(t *testing.T, h hit, title string, extra ...string) url.Values {
	t.Helper()
	v := beacon(t, h)
	checkParams(t, "page view", v, merge(p.common(), perf, want{"action_name": title, "_idn": "1"}).with(extra...))
	return v
}

// cookieNames returns Matomo's cookie names for site 1 on 127.0.0.1, path /.
func cookieNames(prefix, path string) (id, ses, ref string) {
	h := domainHash("127.0.0.1", path)
	return prefix + "id.1." + h, prefix + "ses.1." + h, prefix + "ref.1." + h
}

func testPageView(t *testing.T, p *page) {
	const referrer = "http://referrer.example/landing?q=1"
	p.openWithReferrer("Home page", "", "", referrer)
	first := p.firstPageView(t, p.waitHits(1)[0], "Home page",
		"urlref", referrer, "_refts", `~\d{10}`, "_ref", referrer)

	// Cookies: _pk_id = <id>.<creation time>., _pk_ses = 1, _pk_ref = the
	// attribution JSON, all with Matomo's names.
	idName, sesName, refName := cookieNames("_pk_", "/")
	cookies := p.cookies()
	if len(cookies) != 3 {
		t.Errorf("cookies %v, want %s, %s, %s", names(cookies), idName, sesName, refName)
	}
	now := time.Now().Unix()
	if c := cookies[idName]; c == nil {
		t.Errorf("no cookie %s", idName)
	} else {
		m := regexp.MustCompile(`^([0-9a-f]{16})\.(\d{10})\.$`).FindStringSubmatch(c.Value)
		if m == nil || m[1] != first.Get("_id") {
			t.Errorf("%s = %q, want %s.<created>.", idName, c.Value, first.Get("_id"))
		} else {
			created, _ := strconv.ParseInt(m[2], 10, 64)
			if d := now - created; d < -60 || d > 60 {
				t.Errorf("%s created at %d, now is %d", idName, created, now)
			}
			// Expires 13 months (33955200 s) after creation, not sliding.
			if d := int64(c.Expires) - (created + 33955200); d < -2 || d > 2 {
				t.Errorf("%s expires %v, want created+33955200 = %d", idName, c.Expires, created+33955200)
			}
		}
		checkCookie(t, c, "/", network.CookieSameSiteLax)
	}
	if c := cookies[sesName]; c == nil || c.Value != "1" {
		t.Errorf("cookie %s = %+v, want 1", sesName, c)
	} else {
		checkCookie(t, c, "/", network.CookieSameSiteLax)
		if d := int64(c.Expires) - now; d < 1700 || d > 1900 {
			t.Errorf("%s expires in %d s, want 1800", sesName, d)
		}
	}
	if c := cookies[refName]; c == nil {
		t.Errorf("no cookie %s", refName)
	} else {
		raw, err := url.QueryUnescape(c.Value)
		var ref []any
		if err == nil {
			err = json.Unmarshal([]byte(raw), &ref)
		}
		if err != nil || len(ref) != 4 || ref[0] != "" || ref[1] != "" || ref[3] != referrer ||
			strconv.FormatFloat(ref[2].(float64), 'f', 0, 64) != first.Get("_refts") {
			t.Errorf("%s = %q (%q), want [\"\",\"\",%s,%q]", refName, c.Value, raw, first.Get("_refts"), referrer)
		}
	}
	var ua map[string]any
	if err := json.Unmarshal([]byte(first.Get("uadata")), &ua); err != nil {
		t.Errorf("uadata %q: %v", first.Get("uadata"), err)
	} else if ua["fullVersionList"] == nil || ua["mobile"] == nil {
		t.Errorf("uadata %q lacks fullVersionList or mobile", first.Get("uadata"))
	}

	// A second page view: same visitor, new page view id, no pf_*, and the
	// attribution remembered from the session's start.
	p.push(`['trackPageView', 'Second']`)
	second := beacon(t, p.waitHits(2)[1])
	checkParams(t, "second page view", second, merge(p.common(), want{
		"action_name": "Second", "_id": first.Get("_id"), "urlref": referrer,
		"_refts": first.Get("_refts"), "_ref": referrer,
	}))
	if second.Get("pv_id") == first.Get("pv_id") {
		t.Errorf("second page view reuses pv_id %s", first.Get("pv_id"))
	}
	if got := eval[string](p, "Matomo.getAsyncTracker().getVisitorId()"); got != first.Get("_id") {
		t.Errorf("getVisitorId() = %q, want %q", got, first.Get("_id"))
	}
}

func checkCookie(t *testing.T, c *network.Cookie, path string, same network.CookieSameSite) {
	t.Helper()
	if c.Path != path || c.SameSite != same || c.Secure || c.HTTPOnly || c.Session {
		t.Errorf("cookie %s: path %q samesite %q secure %v httponly %v session %v, want path %q samesite %q, persistent",
			c.Name, c.Path, c.SameSite, c.Secure, c.HTTPOnly, c.Session, path, same)
	}
}

func names(m map[string]*network.Cookie) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func testCustomURL(t *testing.T, p *page) {
	p.open("Ignored title", `
		_paq.push(['setCustomUrl', '/virtual/path?a=1&pk_vid=123&secret=x&b=2#frag']);
		_paq.push(['setExcludedQueryParams', ['secret']]);
		_paq.push(['setDocumentTitle', 'Custom title']);
		_paq.push(['setReferrerUrl', 'https://ref.example/from']);`, "")
	p.firstPageView(t, p.waitHits(1)[0], "Custom title",
		"url", p.env.srv.URL+"/virtual/path?a=1&b=2#frag", "urlref", "https://ref.example/from",
		"_refts", `~\d{10}`, "_ref", "https://ref.example/from")
}

func testEvent(t *testing.T, p *page) {
	p.open("Events", "", "")
	pv := p.firstPageView(t, p.waitHits(1)[0], "Events")
	p.push(`['trackEvent', '', 'no category']`)
	p.push(`['trackEvent', 'Videos', ' ']`)
	p.push(`['trackEvent', 'Videos', 'Play', 'Intro film', 12.5]`)
	p.waitHits(2) // requests sent together may arrive in any order
	p.push(`['trackEvent', 'Videos', 'Pause', undefined, 0]`)
	hits := p.waitHits(3)
	checkParams(t, "event", beacon(t, hits[1]), merge(p.common(), want{
		"e_c": "Videos", "e_a": "Play", "e_n": "Intro film", "e_v": "12.5", "ca": "1",
		"pv_id": pv.Get("pv_id"), "_id": pv.Get("_id"),
	}))
	checkParams(t, "event without name", beacon(t, hits[2]), merge(p.common(), want{
		"e_c": "Videos", "e_a": "Pause", "e_v": "0", "ca": "1", "pv_id": pv.Get("pv_id"),
	}))
}

func testSiteSearch(t *testing.T, p *page) {
	p.open("Search", "", "")
	p.waitHits(1)
	p.push(`['trackSiteSearch', 'red shoes', 'Catalog', 0]`)
	p.waitHits(2)
	p.push(`['trackSiteSearch', 'boots']`)
	hits := p.waitHits(3)
	checkParams(t, "search", beacon(t, hits[1]), merge(p.common(),
		want{"search": "red shoes", "search_cat": "Catalog", "search_count": "0"}))
	checkParams(t, "search without category", beacon(t, hits[2]), merge(p.common(), want{"search": "boots"}))
}

func testGoal(t *testing.T, p *page) {
	p.open("Goal", "", "")
	p.waitHits(1)
	p.push(`['trackGoal', 3, 9.99]`)
	p.waitHits(2)
	p.push(`['trackGoal', 4, undefined, {dimension2: 'x'}]`)
	hits := p.waitHits(3)
	checkParams(t, "goal", beacon(t, hits[1]), merge(p.common(), want{"idgoal": "3", "revenue": "9.99"}))
	checkParams(t, "goal with custom data", beacon(t, hits[2]), merge(p.common(), want{"idgoal": "4", "dimension2": "x"}))
}

// stayOnPage cancels the navigation of links marked data-stay (the
// tracker's own listener runs first, in the capture phase).
const stayOnPage = `<script>document.addEventListener('click', function (e) {
	if (e.target.closest('[data-stay]')) e.preventDefault();
});</script>`

func (p *page) click(sel string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(sel)))
}

func testOutlinkClick(t *testing.T, p *page) {
	// localhost is another host name for the test server: links to it are
	// outlinks unless setDomains says otherwise.
	other := strings.Replace(p.base(), "127.0.0.1", "localhost", 1)
	p.open("Links", `_paq.push(['setDomains', ['*.example.test', 'localhost`+strings.TrimSuffix(p.base()[strings.Index(p.base(), "/t/"):], "/")+`/inside']]);`,
		stayOnPage+`
		<p><a id="local" data-stay href="local.html">same host</a>
		<p><a id="inside" data-stay href="`+other+`inside/x.html">alias path</a>
		<p><a id="sub" data-stay href="http://www.example.test/x">subdomain alias</a>
		<p><a id="ignored" class="matomo_ignore" data-stay href="`+other+`out.html">ignored</a>
		<p><a id="mail" data-stay href="mailto:a@example.test">mail</a>
		<p><a id="forced" class="piwik_link" data-stay href="local.html?forced">forced outlink</a>
		<p><a id="out" href="`+other+`out.html?x=1&pk_vid=2">outlink</a>`)
	p.waitHits(1)
	for _, id := range []string{"#local", "#inside", "#sub", "#ignored", "#mail", "#forced"} {
		p.click(id)
	}
	p.waitHits(2)
	p.do(void(chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#out")))))
	hits := p.waitHits(3)
	checkParams(t, "forced outlink", beacon(t, hits[1]), merge(p.common(), want{"link": p.base() + "local.html?forced"}))
	checkParams(t, "outlink", beacon(t, hits[2]), merge(p.common(), want{"link": other + "out.html?x=1"}))
	if loc := eval[string](p, "location.href"); loc != other+"out.html?x=1&pk_vid=2" {
		t.Errorf("the click went to %s, want the outlink", loc)
	}
}

func testDownloadClick(t *testing.T, p *page) {
	p.open("Downloads", "", stayOnPage+`
		<p><a id="class" class="matomo_download" data-stay href="get?id=1">by class</a>
		<p><a id="attr" download data-stay href="files/data.bin">by attribute</a>
		<p><a id="ext" href="files/Report.PDF?v=2">by extension</a>`)
	p.waitHits(1)
	p.click("#class")
	p.waitHits(2)
	p.click("#attr")
	p.waitHits(3)
	p.do(void(chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#ext")))))
	hits := p.waitHits(4)
	for i, u := range []string{"get?id=1", "files/data.bin", "files/Report.PDF?v=2"} {
		checkParams(t, "download "+u, beacon(t, hits[i+1]), merge(p.common(), want{"download": p.base() + u}))
	}
}

// minimize minimizes (or restores) the page's window: the page is blurred
// and hidden (or shown and focused), as when the visitor switches away.
func (p *page) minimize(min bool) {
	p.t.Helper()
	win, err := chromedp.CallBrowser(p.ctx, browser.GetWindowForTarget,
		browser.GetWindowForTargetParams{TargetID: chromedp.FromContext(p.ctx).Target.TargetID})
	if err != nil {
		p.t.Fatal(err)
	}
	state := browser.WindowStateNormal
	if min {
		state = browser.WindowStateMinimized
	}
	if _, err := chromedp.CallBrowser(p.ctx, browser.SetWindowBounds,
		browser.SetWindowBoundsParams{WindowID: win.WindowID, Bounds: &browser.Bounds{WindowState: state}}); err != nil {
		p.t.Fatal(err)
	}
	wantState := map[bool]string{true: "hidden", false: "visible"}[min]
	for range 50 {
		if eval[string](p, "document.visibilityState") == wantState {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("page not %s after minimize(%v)", wantState, min)
}

// advanceClock moves the page's Date.now forward, the tracker's clock.
func (p *page) advanceClock(d time.Duration) {
	p.t.Helper()
	eval[any](p, `(function (ms) {
		var now = Date.now;
		Date.now = function () { return now.call(Date) + ms; };
		return null;
	})(`+strconv.FormatInt(d.Milliseconds(), 10)+`)`)
}

func testHeartBeat(t *testing.T, p *page) {
	p.open("Heartbeat", `_paq.push(['enableHeartBeatTimer', 5]);`, "")
	pv := p.firstPageView(t, p.waitHits(1)[0], "Heartbeat")

	// Leaving the page before the delay: no ping.
	p.minimize(true)
	p.minimize(false)
	p.waitHits(1)

	// Leaving it after the delay: one ping (blur and hidden both fire).
	p.advanceClock(6 * time.Second)
	p.minimize(true)
	hits := p.waitHits(2)
	checkParams(t, "ping", beacon(t, hits[1]), merge(p.common(), want{"ping": "1", "pv_id": pv.Get("pv_id")}))

	// Back and away again at once: nothing, the last request is recent.
	p.minimize(false)
	p.minimize(true)
	p.waitHits(2)
}

func testPing(t *testing.T, p *page) {
	p.open("Ping", "", "")
	p.waitHits(1)
	p.push(`['ping']`)
	checkParams(t, "ping", beacon(t, p.waitHits(2)[1]), merge(p.common(), want{"ping": "1"}))
}

func testUserID(t *testing.T, p *page) {
	p.open("User", `_paq.push(['setUserId', 'alice@example.test']);`, "")
	p.firstPageView(t, p.waitHits(1)[0], "User", "uid", "alice@example.test")
	p.push(`['resetUserId']`)
	p.push(`['trackEvent', 'c', 'a']`)
	checkParams(t, "after resetUserId", beacon(t, p.waitHits(2)[1]),
		merge(p.common(), want{"e_c": "c", "e_a": "a", "ca": "1"}))
}

func testCustomDimension(t *testing.T, p *page) {
	p.open("Dimensions", `_paq.push(['setCustomDimension', 1, 'gold']); _paq.push(['setCustomDimension', 3, 'x y']);`, "")
	p.firstPageView(t, p.waitHits(1)[0], "Dimensions", "dimension1", "gold", "dimension3", "x y")
	p.push(`['deleteCustomDimension', 1]`)
	p.push(`['trackEvent', 'c', 'a', 'n', 1, {dimension3: 'override', dimension4: 'call'}]`)
	checkParams(t, "event", beacon(t, p.waitHits(2)[1]), merge(p.common(), want{
		"e_c": "c", "e_a": "a", "e_n": "n", "e_v": "1", "ca": "1", "dimension3": "override", "dimension4": "call",
	}))
}

func testEcommerce(t *testing.T, p *page) {
	p.open("Shop", `_paq.push(['setEcommerceView', 'SKU1', 'Shirt', ['Clothes', 'Men'], 19.99]);`, "")
	p.firstPageView(t, p.waitHits(1)[0], "Shop",
		"_pks", "SKU1", "_pkn", "Shirt", "_pkc", `["Clothes","Men"]`, "_pkp", "19.99")
	product := want{"_pks": "SKU1", "_pkn": "Shirt", "_pkc": `["Clothes","Men"]`, "_pkp": "19.99"}
	p.push(`['addEcommerceItem', 'SKU1', 'Shirt', ['Clothes', 'Men'], 19.99, 2]`)
	p.push(`['addEcommerceItem', 'SKU2', 'Socks', 'Clothes', '4.5']`)
	p.push(`['addEcommerceItem', 'SKU3', 'Hat', '', 10, 1]`)
	p.push(`['removeEcommerceItem', 'SKU3']`)
	p.push(`['trackEcommerceCartUpdate', 44.48]`)
	p.waitHits(2)
	p.push(`['trackEcommerceOrder', 'A-100', 47.98, 44.48, 3.5, 5, 5]`)
	p.waitHits(3)
	p.push(`['trackEcommerceCartUpdate', 0]`)
	hits := p.waitHits(4)
	items := `[["SKU1","Shirt",["Clothes","Men"],19.99,2],["SKU2","Socks","Clothes",4.5,1]]`
	checkParams(t, "cart update", beacon(t, hits[1]), merge(p.common(), product, want{
		"idgoal": "0", "revenue": "44.48", "ec_items": items,
	}))
	checkParams(t, "order", beacon(t, hits[2]), merge(p.common(), product, want{
		"idgoal": "0", "ec_id": "A-100", "revenue": "47.98", "ec_st": "44.48", "ec_tx": "3.5",
		"ec_sh": "5", "ec_dt": "5", "ec_items": items,
	}))
	checkParams(t, "empty cart after the order", beacon(t, hits[3]), merge(p.common(), product, want{
		"idgoal": "0", "revenue": "0",
	}))
}

func testContent(t *testing.T, p *page) {
	p.open("Content", "", `
		<div data-track-content data-content-name="Banner" data-content-piece="Spring sale" data-content-target="https://shop.example/sale">banner</div>
		<div data-track-content data-content-name="Hero"><img data-content-piece src="hero.png" alt=""><a data-content-target href="more.html">more</a></div>
		<div data-track-content>anonymous</div>`)
	pv := p.firstPageView(t, p.waitHits(1)[0], "Content")
	p.push(`['trackAllContentImpressions']`)
	p.push(`['trackContentImpression', 'Manual', 'Piece', 'https://example.test/t']`)
	p.push(`['trackContentInteraction', 'click', 'Banner', 'Spring sale', 'https://shop.example/sale']`)
	p.push(`['trackAllContentImpressions']`) // already seen on this page view: nothing more
	hits := p.waitHits(2)
	h := hits[1]
	if h.Method != "POST" || len(h.Query) != 0 || h.FetchMode != "no-cors" ||
		!strings.HasPrefix(strings.ToLower(h.ContentType), "application/x-www-form-urlencoded") {
		t.Errorf("bulk: %s ?%s type %q mode %q, want a sendBeacon POST with the JSON body", h.Method, h.Query.Encode(), h.ContentType, h.FetchMode)
	}
	if !strings.HasPrefix(h.Body, `{"requests":["?c_n=Banner&c_p=Spring%20sale&c_t=https%3A%2F%2Fshop.example%2Fsale&idsite=1&rec=1&r=`) ||
		!strings.HasSuffix(h.Body, `"],"send_image":0}`) {
		t.Errorf("bulk body %s", h.Body)
	}
	reqs := h.bulk(t)
	wantReqs := []want{
		{"c_n": "Banner", "c_p": "Spring sale", "c_t": "https://shop.example/sale"},
		{"c_n": "Hero", "c_p": p.base() + "hero.png", "c_t": p.base() + "more.html"},
		{"c_n": "Unknown", "c_p": "Unknown"},
		{"c_n": "Manual", "c_p": "Piece", "c_t": "https://example.test/t"},
		{"c_i": "click", "c_n": "Banner", "c_p": "Spring sale", "c_t": "https://shop.example/sale"},
	}
	if len(reqs) != len(wantReqs) {
		t.Fatalf("bulk has %d requests, want %d: %s", len(reqs), len(wantReqs), h.Body)
	}
	for i, w := range wantReqs {
		checkParams(t, "bulk request "+strconv.Itoa(i), reqs[i], merge(p.common(), w, want{"pv_id": pv.Get("pv_id")}))
	}
}

func testDisableCookies(t *testing.T, p *page) {
	p.open("No cookies", `_paq.push(['disableCookies']);`, "")
	p.firstPageView(t, p.waitHits(1)[0], "No cookies", "_id", "", "_idn", "0", "cookie", "0")
	p.push(`['trackEvent', 'c', 'a']`)
	checkParams(t, "event", beacon(t, p.waitHits(2)[1]),
		merge(p.common(), want{"e_c": "c", "e_a": "a", "ca": "1", "_id": "", "cookie": "0"}))
	if c := p.cookies(); len(c) != 0 {
		t.Errorf("cookies %v, want none", names(c))
	}
	if id := eval[string](p, "Matomo.getAsyncTracker().getVisitorId()"); !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("getVisitorId() = %q, want 16 hex digits", id)
	}
}

func testRequireConsent(t *testing.T, p *page) {
	p.open("Consent", `_paq.push(['requireConsent']);`, "")
	p.push(`['trackEvent', 'before', 'consent']`)
	p.noHits(1500 * time.Millisecond)
	if c := p.cookies(); len(c) != 0 {
		t.Errorf("cookies before consent %v, want none", names(c))
	}

	// Consent: the queued hits go in one bulk request, with cookies.
	p.push(`['setConsentGiven']`)
	hits := p.waitHits(1)
	reqs := hits[0].bulk(t)
	if len(reqs) != 2 {
		t.Fatalf("bulk has %d requests, want 2: %s", len(reqs), hits[0].Body)
	}
	consent := want{"consent": "1"}
	checkParams(t, "queued page view", reqs[0], merge(p.common(), perf, consent, want{"action_name": "Consent", "_idn": "1"}))
	checkParams(t, "queued event", reqs[1], merge(p.common(), consent, want{"e_c": "before", "e_a": "consent", "ca": "1", "_id": reqs[0].Get("_id")}))
	idName, sesName, _ := cookieNames("_pk_", "/")
	if c := p.cookies(); c[idName] == nil || c[sesName] == nil || !strings.HasPrefix(c[idName].Value, reqs[0].Get("_id")+".") {
		t.Errorf("cookies after consent %v, want %s and %s", names(c), idName, sesName)
	}
	p.push(`['trackEvent', 'after', 'consent']`)
	checkParams(t, "event after consent", beacon(t, p.waitHits(2)[1]),
		merge(p.common(), consent, want{"e_c": "after", "e_a": "consent", "ca": "1"}))

	// Remembered consent, then withdrawn.
	p.push(`['rememberConsentGiven']`)
	if c := p.cookies()["mtm_consent"]; c == nil || !regexp.MustCompile(`^\d{13}$`).MatchString(c.Value) {
		t.Errorf("mtm_consent = %+v, want a time in ms", c)
	} else if d := int64(c.Expires) - time.Now().Unix(); d < 399*86400 {
		// The tracker asks for 30 years; Chromium keeps a cookie 400 days at most.
		t.Errorf("mtm_consent expires in %d s, want 30 years (400 days in Chromium)", d)
	}
	p.push(`['forgetConsentGiven']`)
	c := p.cookies()
	if c["mtm_consent"] != nil || c[idName] != nil || c[sesName] != nil || c["mtm_consent_removed"] == nil {
		t.Errorf("cookies after forgetConsentGiven %v, want only mtm_consent_removed", names(c))
	}
	p.push(`['trackEvent', 'after', 'withdrawal']`)
	time.Sleep(time.Second)
	p.waitHits(2)
}

func testRequireCookieConsent(t *testing.T, p *page) {
	p.open("Cookie consent", `_paq.push(['requireCookieConsent']);`, "")
	pv := p.firstPageView(t, p.waitHits(1)[0], "Cookie consent", "_id", "", "_idn", "0", "cookie", "0")
	if c := p.cookies(); len(c) != 0 {
		t.Errorf("cookies before consent %v, want none", names(c))
	}
	// Consent after a request went out cookieless: a ping that sets the id.
	p.push(`['rememberCookieConsentGiven']`)
	ping := beacon(t, p.waitHits(2)[1])
	checkParams(t, "ping", ping, merge(p.common(), want{"ping": "1", "_idn": "1", "pv_id": pv.Get("pv_id")}))
	idName, _, _ := cookieNames("_pk_", "/")
	c := p.cookies()
	if c[idName] == nil || !strings.HasPrefix(c[idName].Value, ping.Get("_id")+".") {
		t.Errorf("cookies after consent %v, want %s", names(c), idName)
	}
	if m := c["mtm_cookie_consent"]; m == nil || !regexp.MustCompile(`^\d{13}$`).MatchString(m.Value) {
		t.Errorf("mtm_cookie_consent = %+v, want a time in ms", m)
	}
}

func testDoNotTrack(t *testing.T, p *page) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: function () { return '1'; }});
			document.cookie = '` + func() string { id, _, _ := cookieNames("_pk_", "/"); return id }() + `=0123456789abcdef.1700000000.; path=/';`,
	}); err != nil {
		t.Fatal(err)
	}
	p.open("DNT", `_paq.push(['setDoNotTrack', true]);`, "")
	p.push(`['trackEvent', 'c', 'a']`)
	p.noHits(1500 * time.Millisecond)
	if c := p.cookies(); len(c) != 0 {
		t.Errorf("cookies %v, want none (the old _pk_id deleted)", names(c))
	}
	// Without setDoNotTrack the header-like flag is not the tracker's
	// business: the page is tracked.
	p.open("DNT ignored", "", "")
	p.waitHits(1)
}

func testCookieSettings(t *testing.T, p *page) {
	// A cookie path long enough that the domain hash covers two SHA-1
	// blocks.
	dir := "t/" + p.id + "/" + strings.Repeat("long-", 12) + "path/"
	u := p.env.srv.URL + "/" + dir + "page.html"
	p.addPage(strings.TrimPrefix(dir, "t/"+p.id+"/")+"page.html", "Cookies", `
		_paq.push(['setCookieNamePrefix', '_ff_']);
		_paq.push(['setCookiePath', '/`+dir+`']);
		_paq.push(['setSessionCookieTimeout', 60]);
		_paq.push(['setVisitorCookieTimeout', 86400]);
		_paq.push(['setCookieSameSite', 'Strict']);`, "")
	p.do(chromedp.Navigate(u))
	h := p.waitHits(1)[0]
	checkParams(t, "page view", beacon(t, h), merge(p.common(), perf, want{"action_name": "Cookies", "_idn": "1", "url": u}))
	idName, sesName, _ := cookieNames("_ff_", "/"+dir)
	c := p.cookies()
	if len(c) != 2 || c[idName] == nil || c[sesName] == nil {
		t.Fatalf("cookies %v, want %s and %s", names(c), idName, sesName)
	}
	checkCookie(t, c[idName], "/"+dir, network.CookieSameSiteStrict)
	now := time.Now().Unix()
	if d := int64(c[sesName].Expires) - now; d < 30 || d > 90 {
		t.Errorf("%s expires in %d s, want 60", sesName, d)
	}
	if d := int64(c[idName].Expires) - now; d < 86000 || d > 86500 {
		t.Errorf("%s expires in %d s, want 86400", idName, d)
	}
}

func testTransports(t *testing.T, p *page) {
	p.open("Transports", "", "")
	p.waitHits(1)
	long := strings.Repeat("x", 2100)

	// sendBeacon with a long request: the query goes in the body.
	p.push(`['trackEvent', 'long', 'beacon', '` + long + `']`)
	h := p.waitHits(2)[1]
	if h.Method != "POST" || len(h.Query) != 0 || h.FetchMode != "no-cors" {
		t.Errorf("long beacon: %s ?%s mode %q, want POST with the query in the body", h.Method, h.Query.Encode(), h.FetchMode)
	}
	checkParams(t, "long beacon", h.params(t), merge(p.common(), want{"e_c": "long", "e_a": "beacon", "e_n": long, "ca": "1"}))

	// setRequestMethod POST without beacon: XHR with a form body.
	p.push(`['disableAlwaysUseSendBeacon']`)
	p.push(`['setRequestMethod', 'POST']`)
	p.push(`['trackEvent', 'xhr', 'post']`)
	h = p.waitHits(3)[2]
	if h.Method != "POST" || len(h.Query) != 0 || h.FetchMode != "cors" ||
		strings.ToLower(h.ContentType) != "application/x-www-form-urlencoded; charset=utf-8" {
		t.Errorf("xhr: %s ?%s type %q mode %q, want an XHR POST with a form body", h.Method, h.Query.Encode(), h.ContentType, h.FetchMode)
	}
	checkParams(t, "xhr", h.params(t), merge(p.common(), want{"e_c": "xhr", "e_a": "post", "ca": "1"}))

	// GET: an image request, asking for the image.
	p.push(`['setRequestMethod', 'GET']`)
	p.push(`['trackEvent', 'image', 'get']`)
	h = p.waitHits(4)[3]
	if h.Method != "GET" || h.FetchDest != "image" || h.Body != "" {
		t.Errorf("image: %s dest %q body %q, want an image GET", h.Method, h.FetchDest, h.Body)
	}
	checkParams(t, "image", h.Query, merge(p.common(), want{"e_c": "image", "e_a": "get", "ca": "1", "send_image": "1"}))

	// Without beacon, a long request is an XHR POST even with GET.
	p.push(`['trackEvent', 'long', 'xhr', '` + long + `']`)
	h = p.waitHits(5)[4]
	if h.Method != "POST" || h.FetchMode != "cors" || len(h.Query) != 0 {
		t.Errorf("long xhr: %s mode %q ?%s, want an XHR POST", h.Method, h.FetchMode, h.Query.Encode())
	}
	checkParams(t, "long xhr", h.params(t), merge(p.common(), want{"e_c": "long", "e_a": "xhr", "e_n": long, "ca": "1"}))
}

func testQueueSemantics(t *testing.T, p *page) {
	p.open("Queue", `
		window.errs = [];
		console.error = function () { errs.push([].slice.call(arguments).join(' ')); };
		window.matomoAsyncInit = function () { window.asyncInit = typeof Matomo.getAsyncTracker; };
		_paq.push(['trackEvent', 'early', 'event']);
		_paq.push(['setUserId', 'u1']);  // applied before the event
		_paq.push(['noSuchCommand', 1]);
		_paq.push(['SomePlugin::someMethod', 2]);
		_paq.push([function (x) { window.fromFunction = this.getTrackerUrl() + x; }, '!']);`, "")
	hits := p.waitHits(2)
	checkParams(t, "early event", beacon(t, hits[0]), merge(p.common(), want{
		"e_c": "early", "e_a": "event", "ca": "1", "uid": "u1", "_idn": "1",
		"pv_id": "-", // before the first page view
	}))
	checkParams(t, "page view", beacon(t, hits[1]), merge(p.common(), perf, want{"action_name": "Queue", "uid": "u1"}))
	got := eval[map[string]any](p, `({errs: errs, fn: window.fromFunction, init: window.asyncInit,
		same: window.Matomo === window.Piwik, push: typeof _paq.push, isArray: Array.isArray(_paq)})`)
	// The snippet's tracker URL has no scheme ("//host/…").
	if fn, _ := got["fn"].(string); strings.TrimPrefix(fn, "http:") == strings.TrimPrefix(p.base(), "http:")+"matomo.php!" {
		got["fn"] = "ok"
	}
	if !reflect.DeepEqual(got, map[string]any{"errs": []any{}, "fn": "ok", "init": "function", "same": true, "push": "function", "isArray": false}) {
		t.Errorf("page state %v: want no console errors, the function entry run with the tracker, matomoAsyncInit called, Piwik === Matomo, _paq replaced", got)
	}
	// After load, a push runs at once; a function gets the tracker.
	if v := eval[string](p, `_paq.push([function () { window.vid = this.getVisitorId(); }]), window.vid`); v != hits[0].Query.Get("_id") {
		t.Errorf("visitor id from a function entry = %q, want %q", v, hits[0].Query.Get("_id"))
	}
	// The direct API.
	eval[any](p, `Matomo.getTracker('`+p.base()+`matomo.php', 7).trackEvent('direct', 'api'), null`)
	checkParams(t, "direct tracker", beacon(t, p.waitHits(3)[2]), merge(p.common(), want{
		"idsite": "7", "e_c": "direct", "e_a": "api", "ca": "1", "_idn": "1", "pv_id": "-",
	}))
}

func testAddTracker(t *testing.T, p *page) {
	p.open("Two sites", `_paq.push(['addTracker', '`+p.base()+`other.php', 2]);`, "")
	hits := p.waitHits(2)
	byPath := map[string]hit{}
	for _, h := range hits {
		byPath[h.Path[strings.LastIndex(h.Path, "/")+1:]] = h
	}
	first := p.firstPageView(t, byPath["matomo.php"], "Two sites")
	other := byPath["other.php"]
	if other.Method != "POST" || other.Body != "" {
		t.Errorf("second tracker: %s body %q", other.Method, other.Body)
	}
	checkParams(t, "second tracker", other.Query, merge(p.common(), perf, want{"action_name": "Two sites", "idsite": "2", "_idn": "1"}))
	if other.Query.Get("_id") == first.Get("_id") {
		t.Log("both trackers share a visitor id") // allowed, but each has its own cookie
	}
	h2 := domainHash("127.0.0.1", "/")
	if c := p.cookies(); c["_pk_id.1."+h2] == nil || c["_pk_id.2."+h2] == nil {
		t.Errorf("cookies %v, want a _pk_id for each site", names(c))
	}
	// Later commands go to both trackers.
	p.push(`['trackEvent', 'both', 'trackers']`)
	hits = p.waitHits(4)
	sites := map[string]bool{}
	for _, h := range hits[2:] {
		checkParams(t, "event", h.Query, merge(p.common(), want{"idsite": "~[12]", "e_c": "both", "e_a": "trackers", "ca": "1"}))
		sites[h.Query.Get("idsite")] = true
	}
	if len(sites) != 2 {
		t.Errorf("event went to sites %v, want 1 and 2", sites)
	}
}

func testJSErrors(t *testing.T, p *page) {
	p.open("Errors", `_paq.push(['enableJSErrorTracking']);`, `<script>
		function fail() { throw new Error('boom'); }
	</script><button id="b" onclick="fail()">fail</button>`)
	p.waitHits(1)
	p.click("#b")
	checkParams(t, "error event", beacon(t, p.waitHits(2)[1]), merge(p.common(), want{
		"e_c": "JavaScript Errors", "e_a": "~" + regexp.QuoteMeta(p.base()+"page.html") + `:\d+:\d+`,
		"e_n": "Uncaught Error: boom", "ca": "1",
	}))
}

func testTrackRequest(t *testing.T, p *page) {
	p.open("Raw", "", "")
	p.waitHits(1)
	p.push(`['appendToTrackingUrl', 'bots=1']`)
	p.push(`['trackRequest', 'ca=1&e_c=raw&e_a=request', {dimension5: 'v'}]`)
	checkParams(t, "raw request", beacon(t, p.waitHits(2)[1]), merge(p.common(), want{
		"ca": "1", "e_c": "raw", "e_a": "request", "dimension5": "v", "bots": "1",
	}))
}
