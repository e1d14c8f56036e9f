package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	analytics "github.com/footfall/analytics"
)

// fuzzQuerySeeds are real tracker requests plus junk.
var fuzzQuerySeeds = []string{
	"idsite=1&rec=1",
	"idsite=1&rec=1&r=482019&h=13&m=5&s=59&url=https%3A%2F%2Fshop.example%2Fp%3Fx%3D1&urlref=https%3A%2F%2Fsearch.example%2F" +
		"&action_name=Caf%C3%A9&_id=0123456789abcdef&_idn=0&send_image=0&_refts=1714900000&_ref=https%3A%2F%2Fnews.example%2F" +
		"&pv_id=aB3dE6&pf_net=10&pf_srv=20&pf_tfr=5&pf_dm1=100&pf_dm2=50&pf_onl=3&uadata=%7B%22brands%22%3A%5B%5D%7D" +
		"&pdf=1&qt=0&realp=0&wma=0&fla=0&java=0&ag=0&cookie=1&res=1920x1080&dimension1=Blue",
	"idsite=1&rec=1&e_c=Video&e_a=Play&e_n=Intro&e_v=1.5&ca=1",
	"idsite=1&rec=1&c_n=Banner&c_p=img&c_t=https%3A%2F%2Fx&c_i=click",
	"idsite=1&rec=1&search=hat&search_cat=c&search_count=3",
	"idsite=1&rec=1&link=https%3A%2F%2Fout.example%2F",
	"idsite=1&rec=1&download=https%3A%2F%2Fshop.example%2Fa.pdf",
	"idsite=1&rec=1&idgoal=0&ec_id=A1&revenue=30&ec_st=25&ec_tx=3&ec_sh=2&ec_dt=0&ec_items=%5B%5B%22SKU%22%2C%22n%22%2C%5B%22a%22%2C%22b%22%5D%2C1.5%2C2%5D%5D",
	"idsite=1&rec=1&idgoal=3&revenue=9.99",
	"idsite=1&rec=1&ping=1",
	"idsite=1&rec=1&_pks=S&_pkn=N&_pkc=%5B%22a%22%5D&_pkp=1",
	"idsite=1&rec=1&cip=1.2.3.4&cdt=2024-05-01+00%3A00%3A00&country=gb&lat=1&long=2&token_auth=" + testToken,
	"idsite=1&rec=1&cid=0123456789abcdef&uid=u&new_visit=1&consent=1&bots=1",
	"idsite=1&rec=1&cdo=60&cdt=1714975689",
	"idsite=abc", "rec=1", "", "&&&", "=", "%", "%zz=%zz", "idsite=1&rec=1&ec_items=[[[[[", "idsite=1&rec=1&_pkc=[1,{},null]",
	"idsite=2&rec=1&res=99999x99999&h=300&dimension99999999=x", "idsite=1&rec=1&url=%ff%fe",
}

// FuzzParseQuery: any raw query gives either a well-formed Hit (or an
// exclusion) or an error wrapping analytics.ErrInvalid, never a panic; and
// ServeHTTP answers it with 200, 204 or 400.
func FuzzParseQuery(f *testing.F) {
	for _, s := range fuzzQuerySeeds {
		f.Add(s)
	}
	e := newHandlerEnv(f, func(o *HandlerOptions) { o.MaxFieldLength = 64; o.MaxURLLength = 128 })
	env := parseEnv{now: testNow, ip: testPeer, userAgent: testUA, acceptLang: testLang}
	f.Fuzz(func(t *testing.T, raw string) {
		e.queue.mu.Lock()
		e.queue.calls = nil
		e.queue.mu.Unlock()
		var p parseParams
		p.scan(raw)
		var hit analytics.Hit
		excluded, err := e.h.parseHit(&p, &env, &hit)
		switch {
		case err != nil:
			if !errors.Is(err, analytics.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		case !excluded:
			fuzzCheckHit(t, e.h, &hit)
		}

		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/matomo.php", RawQuery: raw}, Header: http.Header{},
			RemoteAddr: "192.0.2.1:1", Body: http.NoBody}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 204, 400:
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

// fuzzCheckHit asserts what every queued hit satisfies.
func fuzzCheckHit(t *testing.T, h *Handler, hit *analytics.Hit) {
	t.Helper()
	if hit.SiteID <= 0 || hit.Kind < analytics.KindPageview || hit.Kind > analytics.KindCustom || hit.Time.IsZero() {
		t.Fatalf("bad hit: site %d kind %v time %v", hit.SiteID, hit.Kind, hit.Time)
	}
	check := func(name, s string, max int) {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
			t.Fatalf("%s %q: invalid UTF-8 or over %d characters", name, s, max)
		}
	}
	check("url", hit.URL, h.maxURL)
	check("urlref", hit.Referrer, h.maxURL)
	check("link", hit.Link, h.maxURL)
	check("uadata", hit.UAData, h.maxURL)
	check("title", hit.Title, h.maxField)
	check("ua", hit.UserAgent, h.maxField)
	check("lang", hit.Lang, h.maxField)
	check("uid", hit.UserID, parseUserIDMax)
	check("pv_id", hit.PageViewID, h.maxField)
	for _, d := range hit.Dimensions {
		check("dimension", d.Value, h.maxField)
	}
	if e := hit.Event; e != nil {
		check("e_c", e.Category, h.maxField)
		check("e_a", e.Action, h.maxField)
		if e.Category == "" || e.Action == "" {
			t.Fatal("event without category or action")
		}
	}
	if o := hit.Order; o != nil {
		for _, it := range o.Items {
			check("sku", it.SKU, h.maxField)
			if len(it.Categories) > parseMaxCategories {
				t.Fatalf("%d categories", len(it.Categories))
			}
		}
	}
	if p := hit.Product; p != nil && len(p.Categories) > parseMaxCategories {
		t.Fatalf("%d categories", len(p.Categories))
	}
	d := hit.Device
	if d.LocalHour < -1 || d.LocalHour > 23 || d.LocalMinute < -1 || d.LocalMinute > 59 || d.LocalSecond < -1 || d.LocalSecond > 59 {
		t.Fatalf("local time %d:%d:%d", d.LocalHour, d.LocalMinute, d.LocalSecond)
	}
}

// FuzzBulk: any POST body is answered without a panic, with a consistent
// bulk answer, and every queued hit is well-formed.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		`{"requests":["?idsite=1&rec=1&action_name=a","?idsite=1&rec=1&e_c=c&e_a=a"],"send_image":0}`,
		`{"requests":["?idsite=1&rec=1"],"token_auth":"` + testToken + `"}`,
		`{"requests":[{"idsite":1,"rec":1,"url":"https://x.example/","ec_items":[["s","n","c",1,2]],"_pkc":["a"]}]}`,
		`{"requests":["no-question-mark",42,null,[],{"idsite":"x"}]}`,
		`{"requests":[`, `{"requests":5}`, `{'requests':[]}`, `"requests"`, `{"requests":[{"idsite":{"a":[1,2]},"rec":true}]}`,
		`idsite=1&rec=1&action_name=form`, ``, `{}`, "\xff\xfe", `{"requests":["?` + strings.Repeat("a=1&", 50) + `idsite=1&rec=1"]}`,
	} {
		f.Add([]byte(s))
	}
	e := newHandlerEnv(f, func(o *HandlerOptions) { o.MaxBulkItems = 50; o.MaxBodyBytes = 64 << 10 })
	f.Fuzz(func(t *testing.T, body []byte) {
		e.queue.mu.Lock()
		e.queue.calls = nil // keep memory flat over a long fuzz run
		e.queue.mu.Unlock()
		r := httptest.NewRequest("POST", "/matomo.php", bytes.NewReader(body))
		r.RemoteAddr = "192.0.2.1:1"
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		queued := e.queue.hits()
		for i := range queued {
			fuzzCheckHit(t, e.h, &queued[i])
		}
		if !parseIsBulk(body) {
			if w.Code != 200 && w.Code != 204 && w.Code != 400 && w.Code != 413 {
				t.Fatalf("form body: status %d", w.Code)
			}
			return
		}
		switch w.Code {
		case 204:
			return
		case 200, 400:
		default:
			t.Fatalf("bulk: status %d", w.Code)
		}
		var resp struct {
			Status  string `json:"status"`
			Tracked int    `json:"tracked"`
			Invalid int    `json:"invalid"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("bulk answer %q is not JSON: %v", w.Body.String(), err)
		}
		if (w.Code == 200) != (resp.Status == "success") || len(queued) > resp.Tracked {
			t.Fatalf("bulk answer %d %q with %d hits queued", w.Code, w.Body.String(), len(queued))
		}
	})
}
