package tracker

//go:generate go run gen.go

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/analytics"
)

// The minified scripts, generated from tracker.js and lite.js.
var (
	//go:embed tracker.min.js
	fullJS []byte
	//go:embed lite.min.js
	liteJS []byte
)

// DefaultMaxAge is how long browsers and shared caches keep a script when
// Options.MaxAge is zero. With a day, a new tracker version reaches every
// visitor within a day, and a visitor browsing all day downloads it once
// (revalidation after that is a 304 thanks to the ETag).
const DefaultMaxAge = 24 * time.Hour

// Options configure a Handler.
type Options struct {
	// MaxAge is how long browsers and shared caches may keep a script
	// (Cache-Control: public, max-age=…), rounded down to whole seconds.
	// Default: DefaultMaxAge (24h). Negative is invalid.
	MaxAge time.Duration
}

func (o *Options) setDefaults() {
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
}

// Validate reports whether o is usable. New fills the defaults before
// calling it.
func (o *Options) Validate() error {
	if o.MaxAge < 0 {
		return fmt.Errorf("tracker: MaxAge %v is negative: %w", o.MaxAge, analytics.ErrInvalid)
	}
	return nil
}

// Handler serves the tracker scripts. It is safe for concurrent use; all
// its work (compression, hashing) is done by New.
type Handler struct {
	full, lite script
	// Header values, shared by every response (net/http never changes
	// them), so that serving allocates nothing of its own.
	contentType, cacheControl, vary, nosniff, gzip []string
}

var _ http.Handler = (*Handler)(nil)

// script is one script in its two encodings, with their header values.
type script struct {
	raw, gz         []byte
	etag, gzipEtag  []string
	rawLen, gzipLen []string
}

func newScript(src []byte) script {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // only fails for a bad level
	zw.Write(src)
	zw.Close()
	sum := sha256.Sum256(src)
	tag := base64.RawURLEncoding.EncodeToString(sum[:12])
	return script{
		raw: src, gz: buf.Bytes(),
		// Strong validators, one per representation (RFC 9110 §8.8.3):
		// the gzipped bytes differ from the plain ones.
		etag: []string{`"` + tag + `"`}, gzipEtag: []string{`"` + tag + `-gz"`},
		rawLen: []string{strconv.Itoa(len(src))}, gzipLen: []string{strconv.Itoa(buf.Len())},
	}
}

// New returns a Handler with the defaults filled in for the zero fields of
// opts. It fails with analytics.ErrInvalid if opts do not validate.
func New(opts Options) (*Handler, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Handler{
		full:         newScript(fullJS),
		lite:         newScript(liteJS),
		contentType:  []string{"application/javascript; charset=utf-8"},
		cacheControl: []string{"public, max-age=" + strconv.FormatInt(int64(opts.MaxAge/time.Second), 10)},
		vary:         []string{"Accept-Encoding"},
		nosniff:      []string{"nosniff"},
		gzip:         []string{"gzip"},
	}, nil
}

// Full returns a copy of the minified full tracker, as served at
// /matomo.js.
func Full() []byte { return bytes.Clone(fullJS) }

// Lite returns a copy of the minified lite tracker, as served at
// /footfall-lite.js.
func Lite() []byte { return bytes.Clone(liteJS) }

// Match reports whether the handler serves path p, and which script: a
// path ending in /matomo.js, /piwik.js, /js/, /js/index.php or
// /js/tracker.php is the full tracker, one ending in /footfall-lite.js the
// lite tracker. The leading slash may be missing (after
// http.StripPrefix).
func Match(p string) (lite, ok bool) {
	if p != "" && p[0] != '/' {
		p = "/" + p
	}
	for _, s := range []string{"/matomo.js", "/piwik.js", "/js/", "/js/index.php", "/js/tracker.php"} {
		if strings.HasSuffix(p, s) {
			return false, true
		}
	}
	if strings.HasSuffix(p, "/footfall-lite.js") {
		return true, true
	}
	return false, false
}

// ServeHTTP serves the script named by the request path (see Match; any
// other path is 404) to GET and HEAD requests: gzipped when the client
// accepts it, with a strong ETag answered by 304 on If-None-Match, and
// Cache-Control: public, max-age=….
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lite, ok := Match(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	s := &h.full
	if lite {
		s = &h.lite
	}
	hdr := w.Header()
	hdr["Cache-Control"] = h.cacheControl
	hdr["Vary"] = h.vary
	body, etag, length := s.raw, s.etag, s.rawLen
	gz := acceptsGzip(r.Header["Accept-Encoding"])
	if gz {
		body, etag, length = s.gz, s.gzipEtag, s.gzipLen
	}
	hdr["Etag"] = etag
	if noneMatch(r.Header["If-None-Match"], etag[0]) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr["Content-Type"] = h.contentType
	hdr["X-Content-Type-Options"] = h.nosniff
	if gz {
		hdr["Content-Encoding"] = h.gzip
	}
	hdr["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether Accept-Encoding values allow gzip: "gzip"
// (or "x-gzip") with a non-zero q, or "*" with a non-zero q when gzip is
// not listed.
func acceptsGzip(values []string) bool {
	star := false
	for _, v := range values {
		for v != "" {
			var part string
			part, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(part, ";")
			name = strings.TrimSpace(name)
			q := true // q > 0
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					q = err == nil && f > 0
				}
			}
			switch {
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				return q
			case name == "*":
				star = q
			}
		}
	}
	return star
}

// noneMatch reports whether If-None-Match values list etag (weak
// comparison, as RFC 9110 §13.1.2 asks) or are "*".
func noneMatch(values []string, etag string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}
