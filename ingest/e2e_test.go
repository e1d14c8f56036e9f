package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/store/sqlitestore"
)

// The end-to-end table of the tracking endpoint: every request form ×
// every action type × the error cases of Matomo's reference §1.3/§1.6,
// each asserting the exact answer (status, headers, body) and the rows
// stored — through the real Handler, memqueue, Processor and SQLite.

const (
	e2eUA     = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	e2eOrigin = "https://shop.example"
	e2eToken  = "e2e-token-0123456789abcdef"
)

var e2eGIF = []byte{0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b}

type e2eEnv struct {
	t     *testing.T
	h     *ingest.Handler
	q     *memqueue.Queue
	p     *ingest.Processor
	st    *sqlitestore.Store
	clock time.Time
}

func newE2E(t *testing.T) *e2eEnv {
	t.Helper()
	ctx := t.Context()
	st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: ":memory:", Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	site := analytics.Site{Name: "Shop", URLs: []string{"https://shop.example"}, Timezone: "UTC", Ecommerce: true}
	if err := st.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateGoal(ctx, &analytics.Goal{SiteID: site.ID, Name: "Signup", Match: "manually"}); err != nil {
		t.Fatal(err)
	}
	e := &e2eEnv{t: t, st: st, clock: time.Now().UTC().Truncate(time.Second)}
	now := func() time.Time { return e.clock }
	if e.q, err = memqueue.New(memqueue.Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	if e.h, err = ingest.NewHandler(ingest.HandlerOptions{Queue: e.q, Sites: st, Tokens: []string{e2eToken}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.h.LoadSites(ctx); err != nil {
		t.Fatal(err)
	}
	if e.p, err = ingest.NewProcessor(ingest.ProcessorOptions{Queue: e.q, Store: st, Now: now}); err != nil {
		t.Fatal(err)
	}
	return e
}

// do sends one request in the given form.
func (e *e2eEnv) do(form, query string) *httptest.ResponseRecorder {
	e.t.Helper()
	var r *http.Request
	switch form {
	case "GET":
		r = httptest.NewRequest("GET", "/matomo.php?"+query, nil)
	case "POST form":
		r = httptest.NewRequest("POST", "/matomo.php", strings.NewReader(query))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	case "beacon":
		r = httptest.NewRequest("POST", "/matomo.php?"+query, nil)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	case "bulk strings":
		b, _ := json.Marshal(map[string]any{"requests": []string{"?" + query}})
		r = httptest.NewRequest("POST", "/matomo.php", bytes.NewReader(b))
	case "bulk objects":
		vals, err := url.ParseQuery(query)
		if err != nil {
			e.t.Fatal(err)
		}
		obj := map[string]string{}
		for k := range vals {
			obj[k] = vals.Get(k)
		}
		b, _ := json.Marshal(map[string]any{"requests": []any{obj}})
		r = httptest.NewRequest("POST", "/matomo.php", bytes.NewReader(b))
	default:
		e.t.Fatalf("form %q", form)
	}
	r.RemoteAddr = "203.0.113.7:40000"
	r.Header.Set("User-Agent", e2eUA)
	r.Header.Set("Origin", e2eOrigin)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// drain processes everything queued.
func (e *e2eEnv) drain() {
	e.t.Helper()
	for {
		st, err := e.q.Stats(e.t.Context())
		if err != nil {
			e.t.Fatal(err)
		}
		if st.Depth == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(e.t.Context(), 5*time.Second)
		d, err := e.q.Receive(ctx, 500)
		cancel()
		if err != nil {
			e.t.Fatalf("receive: %v", err)
		}
		if err := e.p.Process(e.t.Context(), d); err != nil {
			e.t.Fatalf("process: %v", err)
		}
	}
}

func (e *e2eEnv) visits() []*analytics.VisitDetails {
	e.t.Helper()
	var out []*analytics.VisitDetails
	err := e.st.Visits(e.t.Context(), analytics.VisitQuery{SiteID: 1, WithActions: true}, func(v *analytics.VisitDetails) error {
		out = append(out, v)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// checkAnswer checks the answer of a successful single or bulk request.
func checkAnswer(t *testing.T, form string, w *httptest.ResponseRecorder) {
	t.Helper()
	hdr := w.Header()
	if got := hdr.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if form != "GET" {
		if hdr.Get("Access-Control-Allow-Origin") != e2eOrigin || hdr.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("CORS headers %v", hdr)
		}
	}
	switch {
	case strings.HasPrefix(form, "bulk"):
		if w.Code != 200 || hdr.Get("Content-Type") != "application/json" || w.Body.String() != `{"status":"success","tracked":1,"invalid":0}` {
			t.Errorf("bulk answer %d %q %q", w.Code, hdr.Get("Content-Type"), w.Body.String())
		}
	default:
		if w.Code != 200 || hdr.Get("Content-Type") != "image/gif" || !bytes.Equal(w.Body.Bytes(), e2eGIF) {
			t.Errorf("answer %d %q %x", w.Code, hdr.Get("Content-Type"), w.Body.Bytes())
		}
	}
}

var e2eForms = []string{"GET", "POST form", "beacon", "bulk strings", "bulk objects"}

func TestEndToEndForms(t *testing.T) {
	const base = "idsite=1&rec=1&_id=0123456789abcdef&url=https%3A%2F%2Fshop.example%2Fp"
	items := url.QueryEscape(`[["SKU1","Shirt","Clothes",12.5,2]]`)
	kinds := []struct {
		name  string
		query string
		check func(t *testing.T, vs []*analytics.VisitDetails)
	}{
		{"pageview", "&action_name=Home", func(t *testing.T, vs []*analytics.VisitDetails) {
			a := oneAction(t, vs, analytics.ActionPageview)
			if a.URL != "https://shop.example/p" || a.Title != "Home" || a.Position != 1 {
				t.Errorf("pageview %+v", a)
			}
		}},
		{"event", "&e_c=Video&e_a=Play&e_n=intro&e_v=2.5", func(t *testing.T, vs []*analytics.VisitDetails) {
			a := oneAction(t, vs, analytics.ActionEvent)
			if a.Event == nil || *a.Event != (analytics.Event{Category: "Video", Action: "Play", Name: "intro", Value: 2.5, HasValue: true}) {
				t.Errorf("event %+v", a.Event)
			}
			if vs[0].Events != 1 {
				t.Errorf("visit events = %d", vs[0].Events)
			}
		}},
		{"site search", "&search=shoes&search_cat=Men&search_count=3", func(t *testing.T, vs []*analytics.VisitDetails) {
			a := oneAction(t, vs, analytics.ActionSiteSearch)
			if a.Search == nil || *a.Search != (analytics.Search{Keyword: "shoes", Category: "Men", Count: 3}) {
				t.Errorf("search %+v", a.Search)
			}
		}},
		{"outlink", "&link=https%3A%2F%2Fother.example%2Fx", func(t *testing.T, vs []*analytics.VisitDetails) {
			if a := oneAction(t, vs, analytics.ActionOutlink); a.URL != "https://other.example/x" {
				t.Errorf("outlink %+v", a)
			}
		}},
		{"download", "&download=https%3A%2F%2Fshop.example%2Fcat.pdf", func(t *testing.T, vs []*analytics.VisitDetails) {
			if a := oneAction(t, vs, analytics.ActionDownload); a.URL != "https://shop.example/cat.pdf" {
				t.Errorf("download %+v", a)
			}
		}},
		{"content impression", "&c_n=Banner&c_p=sale.png&c_t=https%3A%2F%2Fshop.example%2Fsale", func(t *testing.T, vs []*analytics.VisitDetails) {
			a := oneAction(t, vs, analytics.ActionContentImpression)
			if a.Content == nil || *a.Content != (analytics.Content{Name: "Banner", Piece: "sale.png", Target: "https://shop.example/sale"}) {
				t.Errorf("content %+v", a.Content)
			}
		}},
		{"content interaction", "&c_n=Banner&c_p=sale.png&c_i=click", func(t *testing.T, vs []*analytics.VisitDetails) {
			a := oneAction(t, vs, analytics.ActionContentInteraction)
			if a.Content == nil || a.Content.Interaction != "click" {
				t.Errorf("content %+v", a.Content)
			}
		}},
		{"goal", "&idgoal=1&revenue=5", func(t *testing.T, vs []*analytics.VisitDetails) {
			c := oneConversion(t, vs)
			if c.GoalID != 1 || c.Revenue != 5 || len(vs[0].ActionList) != 0 || !vs[0].GoalConverted {
				t.Errorf("goal %+v (actions %d)", c, len(vs[0].ActionList))
			}
		}},
		{"ecommerce order", "&idgoal=0&ec_id=A-1&revenue=30&ec_st=25&ec_tx=5&ec_items=" + items, func(t *testing.T, vs []*analytics.VisitDetails) {
			c := oneConversion(t, vs)
			if c.GoalID != analytics.GoalEcommerceOrder || c.OrderID != "A-1" || c.Revenue != 30 || c.Subtotal != 25 || c.Tax != 5 ||
				len(c.Items) != 1 || c.Items[0].SKU != "SKU1" || c.Items[0].Quantity != 2 || c.Items[0].Price != 12.5 {
				t.Errorf("order %+v", c)
			}
		}},
		{"cart update", "&idgoal=0&revenue=25&ec_items=" + items, func(t *testing.T, vs []*analytics.VisitDetails) {
			c := oneConversion(t, vs)
			if c.GoalID != analytics.GoalCart || c.Revenue != 25 || len(c.Items) != 1 {
				t.Errorf("cart %+v", c)
			}
		}},
		{"ping without a visit", "&ping=1", func(t *testing.T, vs []*analytics.VisitDetails) {
			if len(vs) != 0 {
				t.Errorf("a ping opened %d visits", len(vs))
			}
		}},
		{"custom action", "&ca=1", func(t *testing.T, vs []*analytics.VisitDetails) {
			if len(vs) != 1 || len(vs[0].ActionList) != 0 {
				t.Errorf("custom action: %d visits", len(vs))
			}
		}},
	}
	for _, form := range e2eForms {
		for _, k := range kinds {
			t.Run(form+"/"+k.name, func(t *testing.T) {
				e := newE2E(t)
				w := e.do(form, base+k.query)
				checkAnswer(t, form, w)
				e.drain()
				k.check(t, e.visits())
			})
		}
	}
}

func oneAction(t *testing.T, vs []*analytics.VisitDetails, typ analytics.ActionType) analytics.Action {
	t.Helper()
	if len(vs) != 1 || len(vs[0].ActionList) != 1 {
		t.Fatalf("want 1 visit with 1 action, got %d visits", len(vs))
	}
	v := vs[0]
	a := v.ActionList[0]
	wantCounted := 1 // Matomo's visit_total_actions leaves content impressions out
	if typ == analytics.ActionContentImpression {
		wantCounted = 0
	}
	if a.Type != typ || a.VisitID != v.ID || v.VisitorID.String() != "0123456789abcdef" || v.Actions != wantCounted {
		t.Fatalf("action %v of visit %d (visitor %s, %d actions), want %v", a.Type, v.ID, v.VisitorID, v.Actions, typ)
	}
	if v.IP.String() != "203.0.0.0" {
		t.Errorf("stored IP %v, want the anonymized 203.0.0.0", v.IP)
	}
	return a
}

func oneConversion(t *testing.T, vs []*analytics.VisitDetails) analytics.Conversion {
	t.Helper()
	if len(vs) != 1 || len(vs[0].Conversions) != 1 {
		t.Fatalf("want 1 visit with 1 conversion, got %d visits", len(vs))
	}
	return vs[0].Conversions[0]
}

// TestEndToEndErrors: every error answer of §1.3/§1.6 with what is stored.
func TestEndToEndErrors(t *testing.T) {
	const ok = "idsite=1&rec=1&_id=0123456789abcdef&action_name=A&url=https%3A%2F%2Fshop.example%2F"
	old := time.Now().Add(-48 * time.Hour).UTC().Format("2006-01-02 15:04:05")
	cases := []struct {
		name       string
		method     string
		target     string
		body       string
		status     int
		ctype      string
		body0      string // exact body; "GIF" for the GIF
		wantVisits int
	}{
		{"unknown site", "GET", "/matomo.php?idsite=99&rec=1&url=x", "", 400, "image/gif", "GIF", 0},
		{"missing idsite", "GET", "/matomo.php?rec=1&url=x", "", 400, "image/gif", "GIF", 0},
		{"bad idsite", "GET", "/matomo.php?idsite=abc&rec=1", "", 400, "image/gif", "GIF", 0},
		{"cid not 16 hex", "GET", "/matomo.php?" + ok + "&cid=xyz", "", 400, "image/gif", "GIF", 0},
		{"cip without token", "GET", "/matomo.php?" + ok + "&cip=198.51.100.1", "", 400, "image/gif", "GIF", 0},
		{"country without token", "GET", "/matomo.php?" + ok + "&country=fr", "", 400, "image/gif", "GIF", 0},
		{"old cdt without token", "GET", "/matomo.php?" + ok + "&cdt=" + url.QueryEscape(old), "", 400, "image/gif", "GIF", 0},
		{"old cdt with token", "GET", "/matomo.php?" + ok + "&token_auth=" + e2eToken + "&cdt=" + url.QueryEscape(old), "", 200, "image/gif", "GIF", 1},
		{"cip with token", "GET", "/matomo.php?" + ok + "&token_auth=" + e2eToken + "&cip=198.51.100.1", "", 200, "image/gif", "GIF", 1},
		{"rec missing is excluded", "GET", "/matomo.php?idsite=1&_id=0123456789abcdef&url=x", "", 200, "image/gif", "GIF", 0},
		{"send_image=0", "GET", "/matomo.php?" + ok + "&send_image=0", "", 204, "", "", 1},
		{"unknown site, send_image=0", "GET", "/matomo.php?idsite=99&rec=1&send_image=0", "", 400, "", "", 0},
		{"plain GET", "GET", "/matomo.php", "", 200, "text/html; charset=utf-8", "", 0},
		{"empty POST", "POST", "/matomo.php", "", 400, "text/html; charset=utf-8", "", 0},
		{"bulk with an invalid item", "POST", "/matomo.php", `{"requests":["?` + ok + `","?idsite=99&rec=1"]}`, 200, "application/json",
			`{"status":"success","tracked":1,"invalid":1}`, 1},
		{"bulk with a valid token shows invalid indices", "POST", "/matomo.php", `{"token_auth":"` + e2eToken + `","requests":["?idsite=99&rec=1","?` + ok + `"]}`,
			200, "application/json", `{"status":"success","tracked":1,"invalid":1,"invalid_indices":[0]}`, 1},
		{"bulk send_image=0", "POST", "/matomo.php", `{"send_image":0,"requests":["?` + ok + `"]}`, 204, "", "", 1},
		{"bulk malformed", "POST", "/matomo.php", `{"requests":[`, 400, "application/json",
			`{"status":"error","tracked":0,"invalid":0,"message":"bulk request: malformed JSON"}`, 0},
		{"body too large", "POST", "/matomo.php", `{"requests":["?` + strings.Repeat("a", 2<<20) + `"]}`, 413, "", "-", 0},
		{"not a tracker path", "GET", "/admin/", "", 404, "", "-", 0},
		{"any .php is the tracker (the ingest role's rewrite)", "GET", "/js/tracker.php?" + ok, "", 200, "image/gif", "GIF", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newE2E(t)
			var r *http.Request
			if c.body != "" {
				r = httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			} else {
				r = httptest.NewRequest(c.method, c.target, nil)
			}
			r.RemoteAddr = "203.0.113.7:40000"
			r.Header.Set("User-Agent", e2eUA)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d (body %q)", w.Code, c.status, w.Body.String())
			}
			if c.ctype != "" && w.Header().Get("Content-Type") != c.ctype {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), c.ctype)
			}
			switch c.body0 {
			case "-":
			case "GIF":
				if !bytes.Equal(w.Body.Bytes(), e2eGIF) {
					t.Errorf("body %x, want the GIF", w.Body.Bytes())
				}
			case "":
				if c.ctype == "" && w.Body.Len() != 0 {
					t.Errorf("body %q, want empty", w.Body.String())
				}
			default:
				if w.Body.String() != c.body0 {
					t.Errorf("body %q, want %q", w.Body.String(), c.body0)
				}
			}
			if strings.HasPrefix(c.target, "/matomo.php") && w.Header().Get("Cache-Control") != "no-store" && c.status != 413 {
				t.Errorf("Cache-Control %q", w.Header().Get("Cache-Control"))
			}
			e.drain()
			vs := e.visits()
			if len(vs) != c.wantVisits {
				t.Fatalf("%d visits stored, want %d", len(vs), c.wantVisits)
			}
			if c.name == "cip with token" && vs[0].IP.String() != "198.51.0.0" {
				t.Errorf("cip: stored IP %v, want 198.51.0.0", vs[0].IP)
			}
			if c.name == "old cdt with token" && time.Since(vs[0].FirstActionTime) < 47*time.Hour {
				t.Errorf("cdt: visit at %v", vs[0].FirstActionTime)
			}
		})
	}
}

// TestEndToEndVisit: a realistic session across request forms is one
// visit with its actions in order, time on page and a ping extending it.
func TestEndToEndVisit(t *testing.T) {
	e := newE2E(t)
	const id = "idsite=1&rec=1&_id=00000000000000aa"
	steps := []struct {
		after time.Duration
		form  string
		query string
	}{
		{0, "GET", id + "&action_name=Home&url=https%3A%2F%2Fshop.example%2F&urlref=https%3A%2F%2Fwww.google.com%2F"},
		{40 * time.Second, "beacon", id + "&action_name=Shoes&url=https%3A%2F%2Fshop.example%2Fshoes"},
		{10 * time.Second, "POST form", id + "&e_c=Video&e_a=Play&url=https%3A%2F%2Fshop.example%2Fshoes"},
		{60 * time.Second, "bulk strings", id + "&ping=1&url=https%3A%2F%2Fshop.example%2Fshoes"},
		{5 * time.Second, "bulk objects", id + "&idgoal=1&url=https%3A%2F%2Fshop.example%2Fshoes"},
	}
	for _, s := range steps {
		e.clock = e.clock.Add(s.after)
		if w := e.do(s.form, s.query); w.Code/100 != 2 {
			t.Fatalf("%s: %d", s.form, w.Code)
		}
		e.drain()
	}
	vs := e.visits()
	if len(vs) != 1 {
		t.Fatalf("%d visits, want 1", len(vs))
	}
	v := vs[0]
	var got []string
	for _, a := range v.ActionList {
		got = append(got, a.Type.String()+":"+a.Title)
	}
	if strings.Join(got, " ") != "action:Home action:Shoes event:" {
		t.Errorf("actions %v", got)
	}
	if v.Actions != 3 || v.Pageviews != 2 || v.Events != 1 || v.TotalTime != 1+115 || len(v.Conversions) != 1 {
		t.Errorf("visit counters: actions %d pageviews %d events %d total %d conversions %d", v.Actions, v.Pageviews, v.Events, v.TotalTime, len(v.Conversions))
	}
	if v.Referrer.Type != analytics.ReferrerSearch || v.Referrer.Name != "Google" {
		t.Errorf("referrer %+v", v.Referrer)
	}
	if v.ActionList[1].TimeSpentRef != 40 || v.EntryTitle != "Home" || v.ExitTitle != "Shoes" {
		t.Errorf("time spent %d entry %q exit %q", v.ActionList[1].TimeSpentRef, v.EntryTitle, v.ExitTitle)
	}
}
