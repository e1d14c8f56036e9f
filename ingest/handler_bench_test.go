package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
)

// benchQuery is a page view as the JavaScript tracker sends it (§2.2):
// 30 parameters, escaped title, URLs and client hints.
const benchQuery = "action_name=Blue%20Hat%20%E2%80%93%20Hats%20%7C%20Shop&idsite=1&rec=1&r=482019&h=13&m=5&s=59" +
	"&url=https%3A%2F%2Fshop.example%2Fhats%2Fblue%3Fsize%3DM&urlref=https%3A%2F%2Fwww.google.com%2F" +
	"&_id=0123456789abcdef&_idn=0&_refts=0&pv_id=aB3dE6" +
	"&pf_net=12&pf_srv=85&pf_tfr=4&pf_dm1=310&pf_dm2=95&pf_onl=2" +
	"&fla=0&java=0&qt=0&realp=0&pdf=1&wma=0&ag=0&cookie=1&res=1920x1080" +
	"&uadata=%7B%22fullVersionList%22%3A%5B%7B%22brand%22%3A%22Chromium%22%2C%22version%22%3A%22124.0.6367.91%22%7D%2C" +
	"%7B%22brand%22%3A%22Google%20Chrome%22%2C%22version%22%3A%22124.0.6367.91%22%7D%5D%2C%22mobile%22%3Afalse%2C" +
	"%22model%22%3A%22%22%2C%22platform%22%3A%22Linux%22%2C%22platformVersion%22%3A%226.5.0%22%7D"

const benchUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"

// benchWriter is a minimal reusable ResponseWriter.
type benchWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) reset()                      { clear(w.h); w.code, w.n = 0, 0 }

func benchRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "203.0.113.50:51234"
	r.Header.Set("User-Agent", benchUA)
	r.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	r.Header.Set("Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")
	r.Header.Set("Referer", "https://shop.example/hats/blue?size=M")
	r.Header.Set("Sec-Fetch-Dest", "image")
	return r
}

// benchHandler returns a Handler over a real memqueue and a function that
// empties the queue (called with the timer stopped).
func benchHandler(b *testing.B) (*Handler, func()) {
	q, err := memqueue.New(memqueue.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Close() })
	h, err := NewHandler(HandlerOptions{Queue: q, Sites: &handlerSites{sites: []analytics.Site{{ID: 1}}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := h.LoadSites(context.Background()); err != nil {
		b.Fatal(err)
	}
	drain := func() {
		ctx := context.Background()
		for {
			st, err := q.Stats(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if st.Depth == 0 {
				return
			}
			d, err := q.Receive(ctx, 1<<16)
			if err != nil {
				b.Fatal(err)
			}
			if err := d.Ack(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	return h, drain
}

// BenchmarkHelloWorld is the baseline: the least an http.Handler does.
func BenchmarkHelloWorld(b *testing.B) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, world!\n")
	})
	r := benchRequest("GET", "/hello?"+benchQuery, nil)
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		hello.ServeHTTP(w, r)
	}
}

// BenchmarkHandlerGET: one JavaScript-tracker page view, parsed and put on
// a memqueue.
func BenchmarkHandlerGET(b *testing.B) {
	h, drain := benchHandler(b)
	r := benchRequest("GET", "/matomo.php?"+benchQuery, nil)
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
		if i++; i%100_000 == 0 {
			b.StopTimer()
			if w.code != 200 {
				b.Fatalf("status %d", w.code)
			}
			drain()
			b.StartTimer()
		}
	}
	if w.code != 200 || w.n != len(respGIF) {
		b.Fatalf("status %d, %d bytes", w.code, w.n)
	}
}

// BenchmarkHandlerGETParallel: the same from every CPU at once (shared
// queue and site cache).
func BenchmarkHandlerGETParallel(b *testing.B) {
	h, drain := benchHandler(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := benchRequest("GET", "/matomo.php?"+benchQuery, nil)
		w := &benchWriter{h: http.Header{}}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
			if w.code != 200 {
				b.Errorf("status %d", w.code) // queue full: b.N too large for MaxHits
				return
			}
		}
	})
	b.StopTimer()
	drain()
}

// BenchmarkHandlerBulk: a bulk request of 50 page views (the JS tracker's
// chunk size), one Enqueue. ns/op is per request; see hits/s.
func BenchmarkHandlerBulk(b *testing.B) {
	h, drain := benchHandler(b)
	items := make([]string, 50)
	for i := range items {
		items[i] = "?" + benchQuery
	}
	body, err := json.Marshal(map[string]any{"requests": items, "send_image": 0})
	if err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(body)
	r := benchRequest("POST", "/matomo.php", nil)
	r.Body = io.NopCloser(rd)
	r.ContentLength = int64(len(body))
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		rd.Reset(body)
		w.reset()
		h.ServeHTTP(w, r)
		if i++; i%2000 == 0 {
			b.StopTimer()
			if w.code != 204 {
				b.Fatalf("status %d", w.code)
			}
			drain()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "hits/s")
}

// BenchmarkServerHelloWorld and BenchmarkServerHandlerGET go through a real
// HTTP server on loopback with keep-alive: the end-to-end ratio.
func BenchmarkServerHelloWorld(b *testing.B) {
	benchServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, world!\n")
	}), nil)
}

func BenchmarkServerHandlerGET(b *testing.B) {
	h, drain := benchHandler(b)
	benchServer(b, h, drain)
}

func benchServer(b *testing.B, h http.Handler, drain func()) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	target := srv.URL + "/matomo.php?" + benchQuery
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("User-Agent", benchUA)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		if i++; drain != nil && i%100_000 == 0 {
			b.StopTimer()
			drain()
			b.StartTimer()
		}
	}
}
