package ingest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	analytics "github.com/footfall/analytics"
)

// TestHandlerResponses covers the answers that do not depend on the hit:
// empty requests, send_image=0, failures, methods, paths, bulk errors and
// limits.
func TestHandlerResponses(t *testing.T) {
	gif := string(respGIF)
	getGIF := map[string]string{"Content-Type": "image/gif", "Content-Length": "43", "Cache-Control": "no-store",
		"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": ""}
	postGIF := map[string]string{"Content-Type": "image/gif", "Content-Length": "43", "Cache-Control": "no-store",
		"Access-Control-Allow-Origin": testOrigin, "Access-Control-Allow-Credentials": "true"}
	getEmpty := map[string]string{"Content-Type": "", "Cache-Control": "no-store", "Access-Control-Allow-Origin": ""}
	postEmpty := map[string]string{"Content-Type": "", "Cache-Control": "no-store", "Access-Control-Allow-Origin": testOrigin,
		"Access-Control-Allow-Credentials": "true"}
	bulkJSON := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store",
		"Access-Control-Allow-Origin": testOrigin, "Access-Control-Allow-Credentials": "true"}
	scripts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "js:"+r.URL.Path)
	})
	withScripts := func(o *HandlerOptions) { o.Scripts = scripts }

	tests := []struct {
		name         string
		opt          func(*HandlerOptions)
		setup        func(*handlerEnv)
		method, path string
		body         string
		hdr          map[string]string
		status       int
		wantHdr      map[string]string
		wantBody     string
		wantHits     int
	}{
		{name: "GET without parameters", method: "GET", path: "/matomo.php", status: 200,
			wantHdr: map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}, wantBody: respAboutText},
		{name: "GET with empty query", method: "GET", path: "/matomo.php?&&", status: 200,
			wantHdr: map[string]string{"Content-Type": "text/html; charset=utf-8"}, wantBody: respAboutText},
		{name: "POST with nothing", method: "POST", path: "/matomo.php", status: 400,
			wantHdr: map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
				"Access-Control-Allow-Origin": testOrigin, "Access-Control-Allow-Credentials": "true"}, wantBody: respAboutText},
		{name: "POST without Origin gets *", method: "POST", path: "/matomo.php?idsite=1&rec=1", hdr: map[string]string{"Origin": ""},
			status: 200, wantHdr: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"},
			wantBody: gif, wantHits: 1},
		{name: "HEAD tracks like GET", method: "HEAD", path: "/matomo.php?idsite=1&rec=1", status: 200, wantHdr: getGIF,
			wantBody: gif /* net/http drops it for HEAD */, wantHits: 1},
		{name: "send_image=0", method: "GET", path: "/matomo.php?idsite=1&rec=1&send_image=0", status: 204, wantHdr: getEmpty, wantHits: 1},
		{name: "send_image=0 on beacon", method: "POST", path: "/matomo.php?idsite=1&rec=1&send_image=0", status: 204, wantHdr: postEmpty, wantHits: 1},
		{name: "send_image=0 in body", method: "POST", path: "/matomo.php", body: "idsite=1&rec=1&send_image=0", status: 204, wantHdr: postEmpty, wantHits: 1},
		{name: "send_image=0 excluded", method: "GET", path: "/matomo.php?idsite=1&send_image=0", status: 204, wantHdr: getEmpty},
		{name: "send_image=0 invalid", method: "GET", path: "/matomo.php?idsite=7&rec=1&send_image=0", status: 400, wantHdr: getEmpty},
		{name: "queue down", setup: func(e *handlerEnv) { e.queue.err = errQueueDown },
			method: "GET", path: "/matomo.php?idsite=1&rec=1", status: 503, wantHdr: getGIF, wantBody: gif},
		{name: "queue down, send_image=0", setup: func(e *handlerEnv) { e.queue.err = errQueueDown },
			method: "GET", path: "/matomo.php?idsite=1&rec=1&send_image=0", status: 503, wantHdr: getEmpty},
		{name: "queue down, excluded hit still 200", setup: func(e *handlerEnv) { e.queue.err = errQueueDown },
			method: "GET", path: "/matomo.php?idsite=1&rec=0", status: 200, wantHdr: getGIF, wantBody: gif},
		{name: "queue down, bulk", setup: func(e *handlerEnv) { e.queue.err = errQueueDown },
			method: "POST", path: "/matomo.php", body: `{"requests":["?idsite=1&rec=1","?idsite=9&rec=1"]}`, status: 503, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":1,"message":"tracking queue unavailable"}`},
		{name: "disabled", opt: func(o *HandlerOptions) { o.Disabled = true },
			method: "GET", path: "/matomo.php?idsite=1&rec=1", status: 503, wantHdr: getGIF, wantBody: gif},
		{name: "disabled, send_image=0", opt: func(o *HandlerOptions) { o.Disabled = true },
			method: "GET", path: "/matomo.php?idsite=1&rec=1&send_image=0", status: 204, wantHdr: getEmpty},
		{name: "disabled, bulk", opt: func(o *HandlerOptions) { o.Disabled = true },
			method: "POST", path: "/matomo.php", body: `{"requests":["?idsite=1&rec=1"]}`, status: 503, wantHdr: postGIF, wantBody: gif},
		{name: "sites not loaded", setup: func(e *handlerEnv) { e.h.siteMap.Store(nil) },
			method: "GET", path: "/matomo.php?idsite=1&rec=1", status: 503, wantHdr: getGIF, wantBody: gif},
		{name: "sites not loaded, bulk", setup: func(e *handlerEnv) { e.h.siteMap.Store(nil) },
			method: "POST", path: "/matomo.php", body: `{"requests":["?idsite=1&rec=1"]}`, status: 503, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"site list not loaded yet"}`},
		{name: "preflight", method: "OPTIONS", path: "/matomo.php", hdr: map[string]string{"Access-Control-Request-Headers": "content-type, x-foo"},
			status: 204, wantHdr: map[string]string{"Access-Control-Allow-Origin": testOrigin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Allow-Headers": "content-type, x-foo",
				"Access-Control-Max-Age": "86400", "Vary": "Origin"}},
		{name: "preflight without Origin", method: "OPTIONS", path: "/piwik.php", hdr: map[string]string{"Origin": ""},
			status: 204, wantHdr: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Content-Type"}},
		{name: "PUT", method: "PUT", path: "/matomo.php?idsite=1&rec=1", status: 405,
			wantHdr: map[string]string{"Allow": "GET, POST, OPTIONS", "Content-Type": "text/plain; charset=utf-8"}, wantBody: "method not allowed\n"},
		{name: "any .php is the tracker", method: "GET", path: "/stats/index.php?idsite=1&rec=1", status: 200, wantHdr: getGIF, wantBody: gif, wantHits: 1},
		{name: "js/tracker.php is the tracker", opt: withScripts, method: "GET", path: "/js/tracker.php?idsite=1&rec=1", status: 200, wantBody: gif, wantHits: 1},
		{name: "other path", method: "GET", path: "/index.html?idsite=1&rec=1", status: 404, wantBody: "404 page not found\n"},
		{name: "root", method: "GET", path: "/", status: 404, wantBody: "404 page not found\n"},
		{name: "script without Scripts", method: "GET", path: "/matomo.js", status: 404, wantBody: "404 page not found\n"},
		{name: "matomo.js", opt: withScripts, method: "GET", path: "/matomo.js", status: 200,
			wantHdr: map[string]string{"Content-Type": "text/javascript"}, wantBody: "js:/matomo.js"},
		{name: "piwik.js under a prefix", opt: withScripts, method: "GET", path: "/a/piwik.js", status: 200, wantBody: "js:/a/piwik.js"},
		{name: "js/", opt: withScripts, method: "GET", path: "/js/", status: 200, wantBody: "js:/js/"},
		{name: "lite tracker", opt: withScripts, method: "GET", path: "/analytics/footfall-lite.js", status: 200, wantBody: "js:/analytics/footfall-lite.js"},
		{name: "js/index.php", opt: withScripts, method: "GET", path: "/js/index.php", status: 200, wantBody: "js:/js/index.php"},

		// Bulk.
		{name: "bulk malformed", method: "POST", path: "/matomo.php", body: `{"requests":[`, status: 400, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"bulk request: malformed JSON"}`},
		{name: "bulk requests not an array", method: "POST", path: "/matomo.php", body: `{"requests":5}`, status: 400, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"bulk request: malformed JSON"}`},
		{name: "bulk without requests member", method: "POST", path: "/matomo.php", body: `{"x":"requests"}`, status: 400, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"bulk request: no \"requests\" array"}`},
		{name: "bulk single quotes", method: "POST", path: "/matomo.php", body: `{'requests':[]}`, status: 400, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"bulk request: malformed JSON"}`},
		{name: "bulk empty", method: "POST", path: "/matomo.php", body: `{"requests":[]}`, status: 200, wantHdr: bulkJSON,
			wantBody: `{"status":"success","tracked":0,"invalid":0}`},
		{name: "bulk too many", opt: func(o *HandlerOptions) { o.MaxBulkItems = 2 }, method: "POST", path: "/matomo.php",
			body: `{"requests":["?idsite=1&rec=1","?idsite=1&rec=1","?idsite=1&rec=1"]}`, status: 400, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"bulk request: 3 requests, at most 2 allowed"}`},
		{name: "bulk at the limit", opt: func(o *HandlerOptions) { o.MaxBulkItems = 2 }, method: "POST", path: "/matomo.php",
			body: `{"requests":["?idsite=1&rec=1","?idsite=1&rec=1"]}`, status: 200, wantHdr: bulkJSON,
			wantBody: `{"status":"success","tracked":2,"invalid":0}`, wantHits: 2},
		{name: "bulk mixed without token", method: "POST", path: "/matomo.php",
			body:   `{"requests":["?idsite=1&rec=1","no-question-mark",{"idsite":1,"rec":true,"action_name":"Obj"},"?idsite=99&rec=1",42,"?idsite=1&rec=0",{"idsite":"abc"},null]}`,
			status: 200, wantHdr: bulkJSON, wantBody: `{"status":"success","tracked":3,"invalid":4}`, wantHits: 2},
		{name: "bulk mixed with token shows indices", method: "POST", path: "/matomo.php",
			body:   `{"requests":["?idsite=1&rec=1","no-question-mark",{"idsite":1,"rec":true,"action_name":"Obj"},"?idsite=99&rec=1",42,"?idsite=1&rec=0",{"idsite":"abc"},null],"token_auth":"` + testToken + `"}`,
			status: 200, wantHdr: bulkJSON, wantBody: `{"status":"success","tracked":3,"invalid":4,"invalid_indices":[3,4,6,7]}`, wantHits: 2},
		{name: "bulk wrong token shows no indices", method: "POST", path: "/matomo.php",
			body:   `{"requests":["?idsite=99&rec=1"],"token_auth":"nope"}`,
			status: 200, wantHdr: bulkJSON, wantBody: `{"status":"success","tracked":0,"invalid":1}`},
		{name: "bulk valid token, no invalid", method: "POST", path: "/matomo.php",
			body:   `{"requests":["?idsite=1&rec=1"],"token_auth":"` + testToken + `"}`,
			status: 200, wantHdr: bulkJSON, wantBody: `{"status":"success","tracked":1,"invalid":0,"invalid_indices":[]}`, wantHits: 1},
		{name: "bulk send_image 0", method: "POST", path: "/matomo.php", body: `{"requests":["?idsite=1&rec=1"],"send_image":0}`,
			status: 204, wantHdr: postEmpty, wantHits: 1},
		{name: "bulk send_image false", method: "POST", path: "/matomo.php", body: `{"requests":["?idsite=1&rec=1"],"send_image":false}`,
			status: 204, wantHdr: postEmpty, wantHits: 1},
		{name: "bulk send_image \"0\"", method: "POST", path: "/matomo.php", body: `{"send_image":"0","requests":["?idsite=1&rec=1"]}`,
			status: 204, wantHdr: postEmpty, wantHits: 1},
		{name: "bulk send_image 1", method: "POST", path: "/matomo.php", body: `{"requests":["?idsite=1&rec=1"],"send_image":1}`,
			status: 200, wantHdr: bulkJSON, wantBody: `{"status":"success","tracked":1,"invalid":0}`, wantHits: 1},
		{name: "bulk requires auth, none", opt: func(o *HandlerOptions) { o.BulkRequiresAuth = true }, method: "POST", path: "/matomo.php",
			body: `{"requests":["?idsite=1&rec=1"]}`, status: 400, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"bulk requests require a valid token_auth"}`},
		{name: "bulk requires auth, one item without", opt: func(o *HandlerOptions) { o.BulkRequiresAuth = true }, method: "POST", path: "/matomo.php",
			body: `{"requests":["?idsite=1&rec=1&token_auth=` + testToken + `","?idsite=1&rec=1"]}`, status: 400, wantHdr: bulkJSON,
			wantBody: `{"status":"error","tracked":0,"invalid":0,"message":"bulk requests require a valid token_auth"}`},
		{name: "bulk requires auth, top-level token", opt: func(o *HandlerOptions) { o.BulkRequiresAuth = true }, method: "POST", path: "/matomo.php",
			body: `{"requests":["?idsite=1&rec=1","?idsite=2&rec=1"],"token_auth":"` + testToken + `"}`, status: 200, wantHdr: bulkJSON,
			wantBody: `{"status":"success","tracked":2,"invalid":0,"invalid_indices":[]}`, wantHits: 2},
		{name: "bulk requires auth, item tokens", opt: func(o *HandlerOptions) { o.BulkRequiresAuth = true }, method: "POST", path: "/matomo.php",
			body: `{"requests":[{"idsite":1,"rec":1,"token_auth":"` + testToken + `"}]}`, status: 200, wantHdr: bulkJSON,
			wantBody: `{"status":"success","tracked":1,"invalid":0}`, wantHits: 1},
		{name: "bulk detected whatever the content type", method: "POST", path: "/matomo.php", hdr: map[string]string{"Content-Type": "text/plain"},
			body: ` { "requests" : [ "?idsite=1&rec=1" ] } `, status: 200, wantHdr: bulkJSON,
			wantBody: `{"status":"success","tracked":1,"invalid":0}`, wantHits: 1},

		// Limits.
		{name: "body too large", opt: func(o *HandlerOptions) { o.MaxBodyBytes = 64 }, method: "POST", path: "/matomo.php",
			body: "idsite=1&rec=1&action_name=" + strings.Repeat("x", 100), status: 413,
			wantHdr: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}, wantBody: "Request Entity Too Large\n"},
		{name: "body at the limit", opt: func(o *HandlerOptions) { o.MaxBodyBytes = 64 }, method: "POST", path: "/matomo.php",
			body: "idsite=1&rec=1&action_name=" + strings.Repeat("x", 64-27), status: 200, wantHdr: postGIF, wantBody: gif, wantHits: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newHandlerEnv(t, tc.opt)
			if tc.setup != nil {
				tc.setup(e)
			}
			w := e.do(tc.method, tc.path, tc.body, tc.hdr)
			checkResp(t, w, tc.status, tc.wantHdr, tc.wantBody)
			if got := len(e.queue.hits()); got != tc.wantHits {
				t.Errorf("%d hits queued, want %d", got, tc.wantHits)
			}
			if len(e.queue.calls) > 1 {
				t.Errorf("%d Enqueue calls, want at most 1", len(e.queue.calls))
			}
		})
	}
}

// TestHandlerBodyTooLargeChunked: without Content-Length the limit is
// enforced while reading.
func TestHandlerBodyTooLargeChunked(t *testing.T) {
	e := newHandlerEnv(t, func(o *HandlerOptions) { o.MaxBodyBytes = 64 })
	r := handlerRequest("POST", "/matomo.php", "", nil)
	r.Body = io.NopCloser(strings.NewReader("idsite=1&rec=1&action_name=" + strings.Repeat("x", 100)))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	checkResp(t, w, 413, nil, "Request Entity Too Large\n")
	if n := len(e.queue.hits()); n != 0 {
		t.Errorf("%d hits queued", n)
	}
}

// TestHandlerBodyReadError: a body that fails mid-way is a 400.
func TestHandlerBodyReadError(t *testing.T) {
	e := newHandlerEnv(t, nil)
	r := handlerRequest("POST", "/matomo.php", "", nil)
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader("idsite=1&"), handlerErrReader{}))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	checkResp(t, w, 400, nil, "Bad Request\n")
}

type handlerErrReader struct{}

func (handlerErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestHandlerGETWinsOverPOST(t *testing.T) {
	e := newHandlerEnv(t, nil)
	w := e.do("POST", "/matomo.php?action_name=FromGet&idsite=2",
		"idsite=1&rec=1&action_name=FromPost&url=https%3A%2F%2Fshop.example%2Fbody&action_name=FromPost2", nil)
	checkResp(t, w, 200, nil, string(respGIF))
	want := baseHit(analytics.KindPageview)
	want.SiteID = 2
	want.Title = "FromGet"
	want.URL = "https://shop.example/body"
	checkHits(t, []analytics.Hit{want}, e.queue.hits())

	// Within one source the last value wins, as in PHP.
	e = newHandlerEnv(t, nil)
	e.do("GET", "/matomo.php?idsite=1&rec=1&action_name=a&action_name=b&dimension3=x&dimension3=y", "", nil)
	want = baseHit(analytics.KindPageview)
	want.Title = "b"
	want.Dimensions = []analytics.Dimension{{ID: 3, Value: "y"}}
	checkHits(t, []analytics.Hit{want}, e.queue.hits())
}

func TestHandlerRefererFallback(t *testing.T) {
	const ref = "https://shop.example/from-referer"
	tests := []struct {
		name, q       string
		wantURL, wRef string
	}{
		{"no url, no urlref: Referer is the url", "idsite=1&rec=1", ref, ""},
		{"empty url and urlref count as absent", "idsite=1&rec=1&url=&urlref=", ref, ""},
		{"urlref only: no fallback", "idsite=1&rec=1&urlref=https%3A%2F%2Fa.example%2F", "", "https://a.example/"},
		{"url given", "idsite=1&rec=1&url=https%3A%2F%2Fb.example%2F", "https://b.example/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newHandlerEnv(t, nil)
			e.do("GET", "/matomo.php?"+tc.q, "", map[string]string{"Referer": ref})
			want := baseHit(analytics.KindPageview)
			want.URL, want.Referrer = tc.wantURL, tc.wRef
			checkHits(t, []analytics.Hit{want}, e.queue.hits())
		})
	}
}

// TestHandlerBulkTokens: the top-level token authenticates every item,
// an item's own token authenticates that item, and items share the HTTP
// envelope (peer, headers).
func TestHandlerBulkTokens(t *testing.T) {
	e := newHandlerEnv(t, nil)
	body := `{"token_auth":"` + testToken + `","requests":["?idsite=1&rec=1&cip=198.51.100.7","?idsite=2&rec=1&country=FR"]}`
	w := e.do("POST", "/matomo.php", body, map[string]string{"Referer": "https://shop.example/r"})
	checkResp(t, w, 200, nil, `{"status":"success","tracked":2,"invalid":0,"invalid_indices":[]}`)
	h1 := baseHit(analytics.KindPageview)
	h1.Flags = analytics.FlagAuthenticated
	h1.IP = netip.MustParseAddr("198.51.100.7")
	h1.URL = "https://shop.example/r"
	h2 := baseHit(analytics.KindPageview)
	h2.SiteID = 2
	h2.Flags = analytics.FlagAuthenticated
	h2.Location = &analytics.Location{CountryCode: "fr"}
	h2.URL = "https://shop.example/r"
	checkHits(t, []analytics.Hit{h1, h2}, e.queue.hits())

	e = newHandlerEnv(t, nil)
	body = `{"requests":["?idsite=1&rec=1&cip=198.51.100.7&token_auth=` + testToken + `","?idsite=1&rec=1&cip=198.51.100.8"]}`
	w = e.do("POST", "/matomo.php", body, nil)
	checkResp(t, w, 200, nil, `{"status":"success","tracked":1,"invalid":1}`)
	checkHits(t, []analytics.Hit{h1WithoutURL(h1)}, e.queue.hits())
}

func h1WithoutURL(h analytics.Hit) analytics.Hit { h.URL = ""; return h }

// TestHandlerBulkObjectValues: JSON numbers, booleans and arrays in object
// items read as Matomo reads them.
func TestHandlerBulkObjectValues(t *testing.T) {
	e := newHandlerEnv(t, nil)
	body := `{"requests":[{"idsite":1,"rec":true,"e_c":"Video","e_a":"Play","e_v":2.5,"_pkc":["x","y"],"dimension4":12,"new_visit":false,"h":null,` +
		`"ec_items":[["S",1,"c",2,3]]},` +
		`{"idsite":"1","rec":"1","idgoal":0,"ec_items":[["S","n",["a"],"2.5","3"]],"revenue":7.5}]}`
	w := e.do("POST", "/matomo.php", body, nil)
	checkResp(t, w, 200, nil, `{"status":"success","tracked":2,"invalid":0}`)
	h1 := baseHit(analytics.KindEvent)
	h1.Event = &analytics.Event{Category: "Video", Action: "Play", Value: 2.5, HasValue: true}
	h1.Product = &analytics.ProductView{Categories: []string{"x", "y"}}
	h1.Dimensions = []analytics.Dimension{{ID: 4, Value: "12"}}
	h2 := baseHit(analytics.KindCartUpdate)
	h2.Revenue = 7.5
	h2.Flags |= analytics.FlagRevenue
	h2.Order = &analytics.Order{Revenue: 7.5, Items: []analytics.Item{{SKU: "S", Name: "n", Categories: []string{"a"}, Price: 2.5, Quantity: 3}}}
	checkHits(t, []analytics.Hit{h1, h2}, e.queue.hits())
}

func TestHandlerTruncation(t *testing.T) {
	e := newHandlerEnv(t, func(o *HandlerOptions) { o.MaxFieldLength = 10; o.MaxURLLength = 20 })
	q := "idsite=1&rec=1&action_name=" + enc(strings.Repeat("é", 11)) +
		"&url=" + enc("https://shop.example/"+strings.Repeat("a", 20)) +
		"&urlref=%ff%fe%41" +
		"&uadata=" + enc(`{"brands":["aaaaaaaaaaaaaa"]}`) +
		"&dimension1=" + strings.Repeat("d", 11) +
		"&e_c=" + strings.Repeat("c", 12) + "&e_a=a"
	e.do("GET", "/matomo.php?"+q, "", map[string]string{"User-Agent": strings.Repeat("u", 30)})
	want := baseHit(analytics.KindEvent)
	want.Title = strings.Repeat("é", 10)
	want.URL = "https://shop.example"
	want.Referrer = "\uFFFDA"
	want.UserAgent = strings.Repeat("u", 10)
	want.Lang = testLang[:10]
	want.Dimensions = []analytics.Dimension{{ID: 1, Value: strings.Repeat("d", 10)}}
	want.Event = &analytics.Event{Category: strings.Repeat("c", 10), Action: "a"}
	checkHits(t, []analytics.Hit{want}, e.queue.hits())
}

func TestNewHandlerValidation(t *testing.T) {
	q, s := &handlerRecQueue{}, &handlerSites{}
	tests := []struct {
		name string
		o    HandlerOptions
		ok   bool
	}{
		{"minimal", HandlerOptions{Queue: q, Sites: s}, true},
		{"no queue", HandlerOptions{Sites: s}, false},
		{"no sites", HandlerOptions{Queue: q}, false},
		{"negative body limit", HandlerOptions{Queue: q, Sites: s, MaxBodyBytes: -1}, false},
		{"negative refresh", HandlerOptions{Queue: q, Sites: s, SiteRefresh: -1}, false},
		{"invalid prefix", HandlerOptions{Queue: q, Sites: s, TrustedProxies: []netip.Prefix{{}}}, false},
		{"empty header name", HandlerOptions{Queue: q, Sites: s, ClientIPHeaders: []string{" "}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewHandler(tc.o)
			if tc.ok != (err == nil) || tc.ok != (h != nil) {
				t.Fatalf("NewHandler = %v, %v; want ok=%v", h, err, tc.ok)
			}
			if err != nil && !errors.Is(err, analytics.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
	h, _ := NewHandler(HandlerOptions{Queue: q, Sites: s})
	if h.maxBody != 1<<20 || h.maxBulk != 1000 || h.maxField != 1024 || h.maxURL != 2048 ||
		h.siteRefresh.Seconds() != 30 || h.siteMissRefresh.Seconds() != 5 || h.cdtAuthAfter.Hours() != 24 {
		t.Errorf("defaults not applied: %+v", h)
	}
}
