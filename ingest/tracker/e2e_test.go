package tracker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/ingest/tracker"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/store/sqlitestore"
	"github.com/hashicorp/go-hclog"
)

// TestEndToEnd runs the real pipeline behind the tracker: pages with
// Matomo's snippet, ingest.Handler serving the tracker (Scripts) and the
// endpoint, memqueue, ingest.Processor and sqlitestore. The ingest clock is
// moved forward between page views: a page view 10 minutes after the first
// belongs to the same visit, one 31 minutes after the last opens a new
// visit of the same visitor. The lite tracker's page view is stored as a
// cookieless visit.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are slow")
	}
	// Headless Chromium says so in its user agent, and bots are excluded:
	// look like the browser it is.
	browserCtx := startChromium(t, chromedp.UserAgent(
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// The clock of ingest and the processor: real time plus an offset the
	// test moves.
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }

	store, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(t.TempDir(), "footfall.db"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	q, err := memqueue.New(memqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := tracker.New(tracker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "e2e", Output: testWriter{t}, Level: hclog.Info})
	endpoint, err := ingest.NewHandler(ingest.HandlerOptions{
		Queue: q, Sites: store, Scripts: scripts, Now: now, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	proc, err := ingest.NewProcessor(ingest.ProcessorOptions{Queue: q, Store: store, Now: now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}

	pages := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if html, ok := pages[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(html))
			return
		}
		if lite, _ := tracker.Match(r.URL.Path); lite {
			scripts.ServeHTTP(w, r) // ingest.Handler does not route the lite tracker
			return
		}
		endpoint.ServeHTTP(w, r) // matomo.php, matomo.js
	}))
	defer srv.Close()
	site := analytics.Site{Name: "E2E", URLs: []string{srv.URL}, Timezone: "UTC"}
	if err := store.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	if site.ID != 1 {
		t.Fatalf("site id %d: the snippet tracks site 1", site.ID)
	}
	if err := endpoint.LoadSites(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	}()

	host := strings.TrimPrefix(srv.URL, "http://")
	for path, title := range map[string]string{"/one.html": "Page one", "/two.html": "Page two"} {
		var sb strings.Builder
		err := loaders[1].page.Execute(&sb, pageData{
			Title: title, Body: `<a id="next" href="/two.html">next</a>`,
			Base: srv.URL + "/", Host: host, Path: "/",
		})
		if err != nil {
			t.Fatal(err)
		}
		pages[path] = sb.String()
	}

	pages["/lite.html"] = `<!doctype html><html><head><title>Lite page</title>
<script defer src="/footfall-lite.js" data-site-id="1"></script></head><body>lite</body></html>`

	tab, cancelTab := chromedp.NewContext(browserCtx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		actx, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(actx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	// visits waits until the store holds the given number of actions and
	// returns the site's visits.
	visits := func(actions int) []analytics.VisitDetails {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var got []analytics.VisitDetails
			n := 0
			err := store.Visits(ctx, analytics.VisitQuery{SiteID: site.ID, WithActions: true}, func(v *analytics.VisitDetails) error {
				got = append(got, *v)
				n += len(v.ActionList)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n >= actions {
				if n > actions {
					t.Fatalf("%d actions stored, want %d", n, actions)
				}
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d actions stored after 20s, want %d (visits %+v)", n, actions, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	checkPageview := func(a analytics.Action, url, title string) {
		t.Helper()
		if a.Type != analytics.ActionPageview || a.URL != url || a.Title != title {
			t.Errorf("action %v %q %q, want page view %q %q", a.Type, a.URL, a.Title, url, title)
		}
		if a.Timing == nil {
			t.Errorf("page view %q has no page timing", url)
		}
	}

	// One page session: one visit, one page view.
	start := now()
	run(chromedp.Navigate(srv.URL + "/one.html"))
	vs := visits(1)
	if len(vs) != 1 || vs[0].Actions != 1 || vs[0].Pageviews != 1 {
		t.Fatalf("after one page view: %d visits (%+v), want one with one page view", len(vs), vs)
	}
	checkPageview(vs[0].ActionList[0], srv.URL+"/one.html", "Page one")
	first := vs[0]
	if first.VisitorID.IsZero() || !first.Profilable || first.Referrer.Type != analytics.ReferrerDirect {
		t.Errorf("visit: visitor %s profilable %v referrer %v, want the cookie's visitor, a direct entry",
			first.VisitorID, first.Profilable, first.Referrer.Type)
	}
	if id := idCookie(t, tab); id != first.VisitorID.String() {
		t.Errorf("visit of visitor %s, the _pk_id cookie says %s", first.VisitorID, id)
	}

	// Ten minutes later, a click to the second page, then a reload: the
	// same visit.
	offset.Add(int64(10 * time.Minute))
	run(void(chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#next")))))
	visits(2)
	run(chromedp.Reload())
	vs = visits(3)
	if len(vs) != 1 {
		t.Fatalf("%d visits, want 1: %+v", len(vs), vs)
	}
	v := vs[0]
	if v.ID != first.ID || v.Actions != 3 || v.Pageviews != 3 || len(v.ActionList) != 3 {
		t.Fatalf("visit %d with %d actions, %d page views; want visit %d with 3", v.ID, v.Actions, v.Pageviews, first.ID)
	}
	checkPageview(v.ActionList[1], srv.URL+"/two.html", "Page two")
	checkPageview(v.ActionList[2], srv.URL+"/two.html", "Page two")
	if a := v.ActionList[1]; a.PrevURL != srv.URL+"/one.html" || a.TimeSpentRef < 600 || a.TimeSpentRef > 610 {
		t.Errorf("second page view: previous %q, %d s after it; want one.html, 600 s", a.PrevURL, a.TimeSpentRef)
	}
	if d := v.LastActionTime.Sub(start); d < 10*time.Minute || d > 10*time.Minute+30*time.Second {
		t.Errorf("last action %v after the first, want 10 minutes", d)
	}
	if v.TotalTime < 600 || v.TotalTime > 640 {
		t.Errorf("visit lasted %d s, want 600", v.TotalTime)
	}

	// Half an hour of silence: the next page view opens a second visit of
	// the same visitor.
	offset.Add(int64(31 * time.Minute))
	run(chromedp.Navigate(srv.URL + "/one.html"))
	vs = visits(4)
	if len(vs) != 2 {
		t.Fatalf("%d visits after 31 idle minutes, want 2", len(vs))
	}
	second := vs[1]
	if second.ID == first.ID || second.VisitorID != first.VisitorID || second.Actions != 1 || second.VisitCount != 2 {
		t.Errorf("second visit %d of visitor %s with %d actions, count %d; want a new visit of %s, its second",
			second.ID, second.VisitorID, second.Actions, second.VisitCount, first.VisitorID)
	}

	// The lite tracker, later again: a cookieless visit.
	offset.Add(int64(31 * time.Minute))
	run(chromedp.Navigate(srv.URL + "/lite.html"))
	vs = visits(5)
	if len(vs) != 3 {
		t.Fatalf("%d visits after the lite page, want 3", len(vs))
	}
	lite := vs[2]
	if lite.Profilable || lite.Actions != 1 || len(lite.ActionList) != 1 {
		t.Fatalf("lite visit: profilable %v, %d actions; want a cookieless visit with one page view", lite.Profilable, lite.Actions)
	}
	if a := lite.ActionList[0]; a.Type != analytics.ActionPageview || a.URL != srv.URL+"/lite.html" || a.Title != "Lite page" {
		t.Errorf("lite action %v %q %q, want the page view of lite.html", a.Type, a.URL, a.Title)
	}
}

// idCookie returns the visitor id of the _pk_id cookie of site 1.
func idCookie(t *testing.T, tab context.Context) string {
	t.Helper()
	p := &page{t: t, ctx: tab}
	id, _, _ := cookieNames("_pk_", "/")
	c := p.cookies()[id]
	if c == nil {
		t.Fatalf("no cookie %s", id)
	}
	return strings.SplitN(c.Value, ".", 2)[0]
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
