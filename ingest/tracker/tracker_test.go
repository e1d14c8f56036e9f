package tracker_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest/tracker"
	"github.com/footfall/analytics/ingest/tracker/internal/minify"
)

// TestMinifiedUpToDate checks that the committed *.min.js files are what
// esbuild makes of the readable sources (run go generate if not).
func TestMinifiedUpToDate(t *testing.T) {
	for _, name := range []string{"tracker", "lite"} {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(name + ".js")
			if err != nil {
				t.Fatal(err)
			}
			want, err := minify.JS(name+".js", src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(name + ".min.js")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s.min.js is stale: run go generate ./ingest/tracker", name)
			}
		})
	}
	if !bytes.Equal(tracker.Full(), mustRead(t, "tracker.min.js")) || !bytes.Equal(tracker.Lite(), mustRead(t, "lite.min.js")) {
		t.Error("the embedded scripts differ from the files")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// TestSize holds the scripts to their budget: the full tracker 5 KB
// gzipped, the lite one 1 KB (gzip -9; decimal kilobytes, 5,000 and 1,000
// bytes, the strict reading). Matomo's matomo.js is 63,804 bytes, about
// 23 KB gzipped.
func TestSize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   []byte
		limit int
	}{
		{"matomo.js (full)", tracker.Full(), 5000},
		{"footfall-lite.js", tracker.Lite(), 1000},
	} {
		gz := gzipSize(t, tc.src)
		t.Logf("%s: %d bytes, %d gzipped (limit %d)", tc.name, len(tc.src), gz, tc.limit)
		if gz > tc.limit {
			t.Errorf("%s is %d bytes gzipped, over its %d-byte budget", tc.name, gz, tc.limit)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		path     string
		lite, ok bool
	}{
		{"/matomo.js", false, true},
		{"/piwik.js", false, true},
		{"matomo.js", false, true},
		{"/analytics/matomo.js", false, true},
		{"/js/", false, true},
		{"/a/js/", false, true},
		{"/js/index.php", false, true},
		{"/js/tracker.php", false, true},
		{"/js/piwik.js", false, true},
		{"/footfall-lite.js", true, true},
		{"/x/footfall-lite.js", true, true},
		{"footfall-lite.js", true, true},
		{"/", false, false},
		{"", false, false},
		{"/matomo.php", false, false},
		{"/mymatomo.js", false, false},
		{"/matomo.js/", false, false},
		{"/js", false, false},
		{"/js/other.js", false, false},
		{"/lite.js", false, false},
	} {
		lite, ok := tracker.Match(tc.path)
		if lite != tc.lite || ok != tc.ok {
			t.Errorf("Match(%q) = %v, %v; want %v, %v", tc.path, lite, ok, tc.lite, tc.ok)
		}
	}
}

func TestNewOptions(t *testing.T) {
	if _, err := tracker.New(tracker.Options{MaxAge: -time.Second}); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("negative MaxAge: err = %v, want ErrInvalid", err)
	}
	for _, tc := range []struct {
		maxAge time.Duration
		want   string
	}{
		{0, "public, max-age=86400"},
		{time.Hour, "public, max-age=3600"},
		{1500 * time.Millisecond, "public, max-age=1"},
	} {
		h, err := tracker.New(tracker.Options{MaxAge: tc.maxAge})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/matomo.js", nil))
		if got := rec.Header().Get("Cache-Control"); got != tc.want {
			t.Errorf("MaxAge %v: Cache-Control %q, want %q", tc.maxAge, got, tc.want)
		}
	}
}

func TestHandler(t *testing.T) {
	h, err := tracker.New(tracker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	full, lite := tracker.Full(), tracker.Lite()
	etag := func(path string, gz bool) string {
		r := httptest.NewRequest("GET", path, nil)
		if gz {
			r.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Header().Get("Etag")
	}
	fullTag, fullGzTag, liteTag := etag("/matomo.js", false), etag("/matomo.js", true), etag("/footfall-lite.js", false)
	if fullTag == "" || fullTag == fullGzTag || fullTag == liteTag || !strings.HasPrefix(fullTag, `"`) {
		t.Fatalf("etags %s %s %s: want three different strong tags", fullTag, fullGzTag, liteTag)
	}

	for _, tc := range []struct {
		name     string
		method   string
		path     string
		header   map[string]string
		status   int
		body     []byte // want, after gunzip when gzipped
		gzipped  bool
		wantETag string
	}{
		{name: "matomo.js", path: "/matomo.js", status: 200, body: full, wantETag: fullTag},
		{name: "piwik.js gzip", path: "/piwik.js", header: map[string]string{"Accept-Encoding": "gzip, deflate, br"},
			status: 200, body: full, gzipped: true, wantETag: fullGzTag},
		{name: "js/ under a prefix", path: "/stats/js/", status: 200, body: full, wantETag: fullTag},
		{name: "js/tracker.php", path: "/js/tracker.php", status: 200, body: full, wantETag: fullTag},
		{name: "lite", path: "/footfall-lite.js", header: map[string]string{"Accept-Encoding": "gzip"},
			status: 200, body: lite, gzipped: true},
		{name: "gzip refused with q=0", path: "/matomo.js", header: map[string]string{"Accept-Encoding": "gzip;q=0, br"},
			status: 200, body: full, wantETag: fullTag},
		{name: "gzip through *", path: "/matomo.js", header: map[string]string{"Accept-Encoding": "br;q=1, *;q=0.1"},
			status: 200, body: full, gzipped: true},
		{name: "star refused", path: "/matomo.js", header: map[string]string{"Accept-Encoding": "*;q=0"},
			status: 200, body: full},
		{name: "x-gzip with upper case", path: "/matomo.js", header: map[string]string{"Accept-Encoding": "X-GZIP"},
			status: 200, body: full, gzipped: true},
		{name: "identity only", path: "/matomo.js", header: map[string]string{"Accept-Encoding": "identity"},
			status: 200, body: full},
		{name: "HEAD", method: "HEAD", path: "/matomo.js", status: 200},
		{name: "not modified", path: "/matomo.js", header: map[string]string{"If-None-Match": fullTag}, status: 304, wantETag: fullTag},
		{name: "not modified, gzip, weak and listed", path: "/matomo.js",
			header: map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `"x", W/` + fullGzTag},
			status: 304, wantETag: fullGzTag},
		{name: "not modified, star", path: "/footfall-lite.js", header: map[string]string{"If-None-Match": "*"}, status: 304},
		{name: "other representation's tag", path: "/matomo.js",
			header: map[string]string{"Accept-Encoding": "gzip", "If-None-Match": fullTag},
			status: 200, body: full, gzipped: true, wantETag: fullGzTag},
		{name: "stale tag", path: "/matomo.js", header: map[string]string{"If-None-Match": `"old"`}, status: 200, body: full},
		{name: "POST", method: "POST", path: "/matomo.js", status: 405},
		{name: "unknown path", path: "/tracker.js", status: 404},
		{name: "tracker endpoint is not a script", path: "/matomo.php", status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, tc.path, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			res := rec.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			hdr := res.Header
			switch tc.status {
			case 405:
				if hdr.Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow %q", hdr.Get("Allow"))
				}
				return
			case 404:
				return
			}
			if hdr.Get("Cache-Control") != "public, max-age=86400" || hdr.Get("Vary") != "Accept-Encoding" ||
				hdr.Get("Etag") == "" {
				t.Errorf("headers %v: want Cache-Control, Vary: Accept-Encoding and an ETag", hdr)
			}
			if tc.wantETag != "" && hdr.Get("Etag") != tc.wantETag {
				t.Errorf("ETag %s, want %s", hdr.Get("Etag"), tc.wantETag)
			}
			if tc.status == 304 {
				if rec.Body.Len() != 0 || hdr.Get("Content-Encoding") != "" {
					t.Errorf("304 with body %d bytes, Content-Encoding %q", rec.Body.Len(), hdr.Get("Content-Encoding"))
				}
				return
			}
			if ct := hdr.Get("Content-Type"); ct != "application/javascript; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			body := rec.Body.Bytes()
			if hdr.Get("Content-Length") == "" {
				t.Error("no Content-Length")
			}
			if method == "HEAD" {
				if len(body) != 0 || hdr.Get("Content-Length") != strconv.Itoa(len(full)) {
					t.Errorf("HEAD: body %d bytes, Content-Length %s", len(body), hdr.Get("Content-Length"))
				}
				return
			}
			if hdr.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %s, body %d bytes", hdr.Get("Content-Length"), len(body))
			}
			if gz := hdr.Get("Content-Encoding") == "gzip"; gz != tc.gzipped {
				t.Fatalf("Content-Encoding %q, want gzip: %v", hdr.Get("Content-Encoding"), tc.gzipped)
			}
			if tc.gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, tc.body) {
				t.Errorf("body is not the script (%d bytes, want %d)", len(body), len(tc.body))
			}
		})
	}
}

// FuzzHandler feeds the handler arbitrary paths and negotiation headers:
// it must answer 200, 304, 404 or 405, and a 200 body must be a script.
func FuzzHandler(f *testing.F) {
	h, err := tracker.New(tracker.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("/matomo.js", "gzip", "")
	f.Add("/footfall-lite.js", "gzip;q=0.5,*;q=0", `W/"x", *`)
	f.Add("/js/", ";;q=,", `"`)
	f.Add("/x", "*;q=nan", "")
	f.Add("matomo.js", "gzip;q=1e400", ",,")
	f.Fuzz(func(t *testing.T, path, acceptEncoding, ifNoneMatch string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = path
		r.Header.Set("Accept-Encoding", acceptEncoding)
		r.Header.Set("If-None-Match", ifNoneMatch)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case http.StatusOK:
			body := rec.Body.Bytes()
			if rec.Header().Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, tracker.Full()) && !bytes.Equal(body, tracker.Lite()) {
				t.Fatalf("200 for %q with a body that is no script", path)
			}
		case http.StatusNotModified, http.StatusNotFound:
		default:
			t.Fatalf("status %d for %q", rec.Code, path)
		}
	})
}

// BenchmarkServeHTTP measures serving the script, against a baseline in
// the same run: a handler that only writes the bytes with a Content-Type.
func BenchmarkServeHTTP(b *testing.B) {
	h, err := tracker.New(tracker.Options{})
	if err != nil {
		b.Fatal(err)
	}
	full := tracker.Full()
	baseline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		w.Write(full)
	})
	for _, tc := range []struct {
		name    string
		handler http.Handler
		ae      string
	}{
		{"baseline", baseline, ""},
		{"gzip", h, "gzip, deflate, br"},
		{"identity", h, ""},
		{"not-modified", h, "gzip"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/matomo.js", nil)
			r.Header.Set("Accept-Encoding", tc.ae)
			if tc.name == "not-modified" {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				r.Header.Set("If-None-Match", rec.Header().Get("Etag"))
			}
			w := discard{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				tc.handler.ServeHTTP(w, r)
			}
		})
	}
}

// discard is a ResponseWriter that keeps nothing (a fresh header map per
// request would be the server's cost, not the handler's).
type discard struct{ header http.Header }

func (d discard) Header() http.Header {
	clear(d.header)
	return d.header
}
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// matomoApplyFirst is the order in which Matomo applies configuration
// commands found in _paq before all others (reference §2.1).
var matomoApplyFirst = strings.Fields(`addTracker enableFileTracking forgetCookieConsentGiven
	requireCookieConsent disableBrowserFeatureDetection disableCampaignParameters disableCookies
	setTrackerUrl setAPIUrl enableCrossDomainLinking setCrossDomainLinkingTimeout
	setSessionCookieTimeout setVisitorCookieTimeout setCookieNamePrefix setCookieSameSite
	setSecureCookie setCookiePath setCookieDomain setDomains setUserId setVisitorId setSiteId
	alwaysUseSendBeacon disableAlwaysUseSendBeacon enableLinkTracking setCookieConsentGiven
	requireConsent setConsentGiven disablePerformanceTracking setPagePerformanceTiming
	setExcludedQueryParams setExcludedReferrers`)

// TestApplyFirstOrder checks tracker.js against Matomo's list: the tracker
// takes its first FIRST methods, in source order, as the commands to apply
// first, so they must be exactly the implemented ones of the list, in its
// order.
func TestApplyFirstOrder(t *testing.T) {
	src := string(mustRead(t, "tracker.js"))
	m := regexp.MustCompile(`const FIRST = (\d+);`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("no FIRST in tracker.js")
	}
	first, _ := strconv.Atoi(m[1])
	start := strings.Index(src, "    const api = {")
	if start < 0 {
		t.Fatal("no api object in tracker.js")
	}
	var methods []string
	for _, mm := range regexp.MustCompile(`(?m)^      (\w+)(?:\(|: |,)`).FindAllStringSubmatch(src[start:], -1) {
		methods = append(methods, mm[1])
	}
	implemented := map[string]bool{}
	for _, name := range methods {
		implemented[name] = true
	}
	var want []string
	for _, name := range matomoApplyFirst {
		if implemented[name] {
			want = append(want, name)
		}
	}
	if got := methods[:min(first, len(methods))]; !slices.Equal(got, want) {
		t.Errorf("the first %d methods of the tracker are\n  %v\nwant Matomo's apply-first commands it implements, in order:\n  %v", first, got, want)
	}
}
