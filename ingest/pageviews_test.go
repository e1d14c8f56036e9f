package ingest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/footfall/analytics"
)

func TestPageviews(t *testing.T) {
	app := http.NewServeMux()
	app.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<p>hi</p>"))
	})
	app.HandleFunc("/implicit", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<p>no content type set</p>")) })
	app.HandleFunc("/style.css", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("body{}")) })
	app.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	})
	app.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) })

	want := func(url, ref string, mod func(*analytics.Hit)) analytics.Hit {
		h := analytics.Hit{SiteID: 7, Time: testNow, Kind: analytics.KindPageview, IP: testPeer, UserAgent: testUA,
			Lang: testLang, URL: url, Referrer: ref,
			Device: analytics.Device{LocalHour: -1, LocalMinute: -1, LocalSecond: -1}}
		if mod != nil {
			mod(&h)
		}
		return h
	}
	cases := []struct {
		name   string
		method string
		target string
		hdr    map[string]string
		opts   PageviewOptions
		want   []analytics.Hit
	}{
		{name: "html page", method: "GET", target: "http://shop.example/page?x=1", hdr: map[string]string{"Referer": "https://www.google.com/"},
			want: []analytics.Hit{want("http://shop.example/page?x=1", "https://www.google.com/", nil)}},
		{name: "page without content type", method: "GET", target: "http://shop.example/implicit",
			want: []analytics.Hit{want("http://shop.example/implicit", "", nil)}},
		{name: "asset", method: "GET", target: "http://shop.example/style.css"},
		{name: "json api", method: "GET", target: "http://shop.example/api"},
		{name: "not found", method: "GET", target: "http://shop.example/missing"},
		{name: "post", method: "POST", target: "http://shop.example/page"},
		{name: "prefetch", method: "GET", target: "http://shop.example/page", hdr: map[string]string{"Sec-Purpose": "prefetch"}},
		{name: "dnt and gpc passed on", method: "GET", target: "http://shop.example/page", hdr: map[string]string{"Dnt": "1", "Sec-Gpc": "1"},
			want: []analytics.Hit{want("http://shop.example/page", "", func(h *analytics.Hit) { h.Flags = analytics.FlagDNT | analytics.FlagGPC })}},
		{name: "title and user id", method: "GET", target: "http://shop.example/page",
			opts: PageviewOptions{Title: func(*http.Request) string { return "The page" }, UserID: func(*http.Request) string { return "u-1" }},
			want: []analytics.Hit{want("http://shop.example/page", "", func(h *analytics.Hit) { h.Title, h.UserID = "The page", "u-1" })}},
		{name: "custom filter", method: "GET", target: "http://shop.example/api",
			opts: PageviewOptions{Track: func(r *http.Request, status int, ct string) bool { return status == 200 }},
			want: []analytics.Hit{want("http://shop.example/api", "", nil)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newHandlerEnv(t, nil)
			c.opts.SiteID = 7
			mw := e.h.Pageviews(app, c.opts)
			w := httptest.NewRecorder()
			mw.ServeHTTP(w, handlerRequest(c.method, c.target, "", c.hdr))
			if w.Code == 0 || w.Body.Len() == 0 {
				t.Fatalf("the page itself was not served: %d %q", w.Code, w.Body.String())
			}
			checkHits(t, c.want, e.queue.hits())
		})
	}
}

func TestPageviewsQueueDown(t *testing.T) {
	e := newHandlerEnv(t, nil)
	e.queue.err = analytics.ErrUnavailable
	mw := e.h.Pageviews(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("page"))
	}), PageviewOptions{SiteID: 1})
	w := httptest.NewRecorder()
	mw.ServeHTTP(w, handlerRequest("GET", "http://shop.example/", "", nil))
	if w.Code != 200 || w.Body.String() != "page" {
		t.Fatalf("a queue failure changed the page: %d %q", w.Code, w.Body.String())
	}
	if !errors.Is(e.queue.err, analytics.ErrUnavailable) || len(e.queue.hits()) != 0 {
		t.Fatal("nothing may be queued")
	}
}
