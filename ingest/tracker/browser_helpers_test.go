package tracker_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/footfall/analytics/ingest/tracker"
	"github.com/footfall/analytics/internal/testenv"
)

// This file is the harness of the browser tests: a test server that serves
// pages, the tracker and a tracking endpoint that records what it gets, and
// a headless Chromium driven with chromedp.

// hit is one tracking request as the test server received it.
type hit struct {
	Method      string
	Path        string
	Query       url.Values // parameters in the URL
	Body        string
	ContentType string
	FetchMode   string // Sec-Fetch-Mode: "no-cors" for sendBeacon and images, "cors" for XHR
	FetchDest   string // Sec-Fetch-Dest: "image" for an image GET
}

// params returns the parameters of a single (non-bulk) hit: the URL query,
// or the form body of a POST.
func (h hit) params(t *testing.T) url.Values {
	t.Helper()
	if h.Body == "" {
		return h.Query
	}
	v, err := url.ParseQuery(h.Body)
	if err != nil {
		t.Fatalf("hit body %q: %v", h.Body, err)
	}
	return v
}

// bulk decodes the body of a bulk hit into its requests' parameters, and
// checks its shape: {"requests":["?…",…],"send_image":0}.
func (h hit) bulk(t *testing.T) []url.Values {
	t.Helper()
	var b struct {
		Requests  []string `json:"requests"`
		SendImage *int     `json:"send_image"`
	}
	if err := json.Unmarshal([]byte(h.Body), &b); err != nil {
		t.Fatalf("bulk body %q: %v", h.Body, err)
	}
	if b.SendImage == nil || *b.SendImage != 0 {
		t.Errorf("bulk body %q: want \"send_image\":0", h.Body)
	}
	var out []url.Values
	for _, r := range b.Requests {
		q, ok := strings.CutPrefix(r, "?")
		if !ok {
			t.Errorf("bulk request %q does not start with ?", r)
		}
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatalf("bulk request %q: %v", r, err)
		}
		out = append(out, v)
	}
	return out
}

// recorder keeps the hits of one test.
type recorder struct {
	mu      sync.Mutex
	hits    []hit
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(h hit) {
	r.mu.Lock()
	r.hits = append(r.hits, h)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) snapshot() ([]hit, chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.hits), r.changed
}

// loader is how a test page loads the tracker.
type loader struct {
	name string
	// page renders the page: setup is JavaScript run before the tracker
	// loads (typically _paq.push calls), body is HTML.
	page *template.Template
}

// The loaders of the suite. Both track a page view and enable link
// tracking through _paq, the way Matomo's documentation shows.
var loaders = []loader{
	{
		// A plain script tag after the _paq commands.
		name: "script",
		page: template.Must(template.New("script").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<script>
  var _paq = window._paq = window._paq || [];
  {{.Setup}}
  _paq.push(['setTrackerUrl', '{{.Base}}matomo.php']);
  _paq.push(['setSiteId', '1']);
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
</script>
<script src="{{.Base}}matomo.js"></script>
</head><body>{{.Body}}</body></html>`)),
	},
	{
		// Matomo's tracking code exactly as its documentation gives it,
		// with the host (and the test's path) as the only change.
		name: "snippet",
		page: template.Must(template.New("snippet").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<script>
  var _paq = window._paq = window._paq || [];
  {{.Setup}}
</script>
<!-- Matomo -->
<script>
  var _paq = window._paq = window._paq || [];
  /* tracker methods like "setCustomDimension" should be called before "trackPageView" */
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="//{{.Host}}{{.Path}}";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '1']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src=u+'matomo.js'; s.parentNode.insertBefore(g,s);
  })();
</script>
<!-- End Matomo Code -->
</head><body>{{.Body}}</body></html>`)),
	},
}

// pageData fills a loader's template.
type pageData struct {
	Title string
	Setup string
	Body  string
	Base  string // http://host/t/<id>/
	Host  string // host:port
	Path  string // /t/<id>/
}

// browserEnv is one Chromium and one test server, shared by the tests of a
// loader. Each test gets its own path prefix (/t/<id>/), recorder and
// browser context (so cookies do not leak between tests).
type browserEnv struct {
	loader  loader
	srv     *httptest.Server
	browser context.Context
	scripts *tracker.Handler

	mu    sync.Mutex
	next  int
	tests map[string]*testSite
}

// testSite is what the server serves under one test's prefix.
type testSite struct {
	rec   *recorder
	pages map[string]string // name → HTML
}

func newBrowserEnv(t *testing.T, l loader) *browserEnv {
	t.Helper()
	h, err := tracker.New(tracker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := &browserEnv{loader: l, scripts: h, tests: map[string]*testSite{}}
	env.browser = startChromium(t)
	env.srv = httptest.NewServer(http.HandlerFunc(env.serve))
	t.Cleanup(env.srv.Close)
	return env
}

// startChromium starts a headless Chromium for the test (skipping it, or
// failing it in CI, when there is none) and returns its browser context.
// Each page should use its own child context (see newPage).
func startChromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	chrome := testenv.Tool(t, "chromium", "chromium-browser", "google-chrome")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// The machine's network is closed: keep Chromium from calling home.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// Start the browser; downloads are refused so that download links only
	// navigate.
	if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior,
		browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorDeny}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// serve routes /t/<id>/… to the test's pages, tracker and endpoint.
func (env *browserEnv) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/t/")
	id, name, _ := strings.Cut(rest, "/")
	env.mu.Lock()
	site := env.tests[id]
	env.mu.Unlock()
	if !ok || site == nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".php"):
		body, _ := io.ReadAll(r.Body)
		site.rec.add(hit{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
			Body: string(body), ContentType: r.Header.Get("Content-Type"),
			FetchMode: r.Header.Get("Sec-Fetch-Mode"), FetchDest: r.Header.Get("Sec-Fetch-Dest"),
		})
		answerLikeMatomo(w, r, body)
	case func() bool { _, ok := tracker.Match(name); return ok }():
		env.scripts.ServeHTTP(w, r)
	default:
		doc, ok := site.pages[name]
		if !ok {
			// Link targets (outlinks, downloads): a plain page.
			doc = "<!doctype html><title>target</title><p>" + html.EscapeString(name)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, doc)
	}
}

// answerLikeMatomo answers a tracking request as Matomo does (reference
// §1.3, §1.6): CORS for POST, 204 for send_image=0, else a GIF.
func answerLikeMatomo(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method == http.MethodPost {
		origin := r.Header.Get("Origin")
		if origin == "" {
			origin = "*"
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	if r.URL.Query().Get("send_image") == "0" || strings.Contains(string(body), `"requests"`) ||
		strings.Contains(string(body), "send_image=0") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	gif, _ := hex.DecodeString("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
	w.Write(gif)
}

// page is one test's browser tab and server prefix.
type page struct {
	t    *testing.T
	env  *browserEnv
	ctx  context.Context
	id   string
	site *testSite
}

func (env *browserEnv) newPage(t *testing.T) *page {
	t.Helper()
	env.mu.Lock()
	env.next++
	id := fmt.Sprint(env.next)
	site := &testSite{rec: newRecorder(), pages: map[string]string{}}
	env.tests[id] = site
	env.mu.Unlock()
	ctx, cancel := chromedp.NewContext(env.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab with the test's context: the first Run binds the tab's
	// life to its context, which must not be one with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return &page{t: t, env: env, ctx: ctx, id: id, site: site}
}

// base is the URL prefix of the test: http://127.0.0.1:port/t/<id>/.
func (p *page) base() string { return p.env.srv.URL + "/t/" + p.id + "/" }

// host is the test server's host:port.
func (p *page) host() string { return strings.TrimPrefix(p.env.srv.URL, "http://") }

// addPage registers a page under the test's prefix and returns its URL.
func (p *page) addPage(name, title, setup, body string) string {
	p.t.Helper()
	var sb strings.Builder
	err := p.env.loader.page.Execute(&sb, pageData{
		Title: title, Setup: setup, Body: body,
		Base: p.base(), Host: p.host(), Path: "/t/" + p.id + "/",
	})
	if err != nil {
		p.t.Fatal(err)
	}
	p.env.mu.Lock()
	p.site.pages[name] = sb.String()
	p.env.mu.Unlock()
	return p.base() + name
}

// open registers a page and navigates to it.
func (p *page) open(title, setup, body string) string {
	p.t.Helper()
	u := p.addPage("page.html", title, setup, body)
	p.do(chromedp.Navigate(u))
	return u
}

// openWithReferrer navigates to the page with a Referer.
func (p *page) openWithReferrer(title, setup, body, referrer string) string {
	p.t.Helper()
	u := p.addPage("page.html", title, setup, body)
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	nav := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.Navigate, cdppage.NavigateParams{
			URL: u, Referrer: referrer, ReferrerPolicy: cdppage.ReferrerPolicyUnsafeURL,
		})
		return err
	})
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, nav)); err != nil {
		p.t.Fatal(err)
	}
	return u
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

// eval runs JavaScript in the page and returns its value.
func eval[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// push runs _paq.push(cmd) in the page; cmd is a JavaScript array literal.
func (p *page) push(cmd string) {
	p.t.Helper()
	eval[any](p, "_paq.push("+cmd+"), null")
}

// waitHits waits until the test received n hits, then a little longer to
// see that no more come, and returns exactly n of them or fails.
func (p *page) waitHits(n int) []hit {
	p.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		hits, changed := p.site.rec.snapshot()
		if len(hits) >= n {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			p.t.Fatalf("got %d hits, want %d:\n%s", len(hits), n, describe(hits))
		}
	}
	time.Sleep(300 * time.Millisecond) // no more should follow
	hits, _ := p.site.rec.snapshot()
	if len(hits) != n {
		p.t.Fatalf("got %d hits, want %d:\n%s", len(hits), n, describe(hits))
	}
	return hits
}

// noHits checks that nothing arrives for d.
func (p *page) noHits(d time.Duration) {
	p.t.Helper()
	time.Sleep(d)
	if hits, _ := p.site.rec.snapshot(); len(hits) > 0 {
		p.t.Fatalf("got %d hits, want none:\n%s", len(hits), describe(hits))
	}
}

func describe(hits []hit) string {
	var sb strings.Builder
	for i, h := range hits {
		fmt.Fprintf(&sb, "  %d: %s %s?%s body=%q type=%q mode=%s dest=%s\n", i, h.Method, h.Path, h.Query.Encode(), h.Body, h.ContentType, h.FetchMode, h.FetchDest)
	}
	return sb.String()
}

// cookies returns the browser's cookies for the test server, by name.
func (p *page) cookies() map[string]*network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies,
		storage.GetCookiesParams{BrowserContextID: chromedp.FromContext(p.ctx).BrowserContextID})
	if err != nil {
		p.t.Fatal(err)
	}
	out := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		if c.Domain == "127.0.0.1" {
			out[c.Name] = c
		}
	}
	return out
}

// domainHash is Matomo's cookie-name hash: the first 4 hex digits of
// SHA-1(domain + path).
func domainHash(domain, path string) string {
	sum := sha1.Sum([]byte(domain + path))
	return hex.EncodeToString(sum[:])[:4]
}

// void makes an action of any result type an Action[Void].
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// want describes the parameters a request must have: each value is either
// the exact value or, with the prefix "~", a regular expression that must
// match the whole value. A request with a parameter not listed fails.
type want map[string]string

// with returns a copy of w with kv (name, value pairs) set; a value of
// "-" removes the name.
func (w want) with(kv ...string) want {
	out := want{}
	for k, v := range w {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func checkParams(t *testing.T, what string, got url.Values, w want) {
	t.Helper()
	var problems []string
	for k, pattern := range w {
		vs, ok := got[k]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s missing (want %q)", k, pattern))
			continue
		case len(vs) != 1:
			problems = append(problems, fmt.Sprintf("%s sent %d times: %q", k, len(vs), vs))
			continue
		}
		if re, ok := strings.CutPrefix(pattern, "~"); ok {
			if !regexp.MustCompile("^(?:" + re + ")$").MatchString(vs[0]) {
				problems = append(problems, fmt.Sprintf("%s = %q, want match of %s", k, vs[0], re))
			}
		} else if vs[0] != pattern {
			problems = append(problems, fmt.Sprintf("%s = %q, want %q", k, vs[0], pattern))
		}
	}
	for k := range got {
		if _, ok := w[k]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected %s = %q", k, got[k]))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Errorf("%s:\n  %s\n  (got %s)", what, strings.Join(problems, "\n  "), got.Encode())
	}
}
