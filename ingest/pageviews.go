package ingest

import (
	"context"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/footfall/analytics"
)

// PageviewOptions configure Handler.Pageviews.
type PageviewOptions struct {
	// SiteID is the site the page views belong to. Required.
	SiteID int
	// Track decides which requests are page views. It is called after the
	// wrapped handler answered, with the status and Content-Type it sent.
	// Default: GET requests answered 2xx with an HTML Content-Type.
	Track func(r *http.Request, status int, contentType string) bool
	// Title names the page (action_name). Default: none, so reports group
	// by URL.
	Title func(r *http.Request) string
	// UserID returns the signed-in user's id for the request, if any
	// (Matomo's uid). Default: none.
	UserID func(r *http.Request) string
	// Timeout bounds the Enqueue after each tracked request. It runs after
	// the wrapped handler returned, so it delays the end of the response,
	// never its content. Default: 100ms.
	Timeout time.Duration
}

// Pageviews wraps next so that every page it serves is recorded as a page
// view of opts.SiteID, with no JavaScript: the request's URL, referrer,
// user agent, language and client address (resolved as for tracking
// requests, trusting only TrustedProxies) go through the same queue and
// worker as tracker hits. Visitors are identified like cookieless tracker
// hits (a daily-salted hash of site, address and user agent), unless
// UserID names them; DNT and GPC headers are passed on for the site's
// privacy settings to decide. A failure to enqueue is logged and never
// changes the page.
func (h *Handler) Pageviews(next http.Handler, opts PageviewOptions) http.Handler {
	if opts.Track == nil {
		opts.Track = pageviewDefaultTrack
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 100 * time.Millisecond
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &pageviewRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if !opts.Track(r, rec.status, rec.Header().Get("Content-Type")) {
			return
		}
		var env parseEnv
		h.envFrom(r, &env)
		if env.prefetch {
			return
		}
		hit := analytics.Hit{
			ID:        analytics.NewHitID(env.now),
			SiteID:    opts.SiteID,
			Time:      env.now,
			Kind:      analytics.KindPageview,
			Flags:     env.flags,
			IP:        env.ip,
			UserAgent: parseClean(env.userAgent, h.maxField),
			Lang:      parseClean(env.acceptLang, h.maxField),
			URL:       parseClean(pageviewURL(r), h.maxURL),
			Referrer:  parseClean(env.referer, h.maxURL),
			Device:    analytics.Device{LocalHour: -1, LocalMinute: -1, LocalSecond: -1},
		}
		if opts.Title != nil {
			hit.Title = parseClean(opts.Title(r), h.maxField)
		}
		if opts.UserID != nil {
			hit.UserID = parseClean(opts.UserID(r), 200)
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opts.Timeout)
		defer cancel()
		if err := h.queue.Enqueue(ctx, []analytics.Hit{hit}); err != nil {
			h.logQueueFailure(err, 1)
		}
	})
}

func pageviewDefaultTrack(r *http.Request, status int, contentType string) bool {
	if r.Method != http.MethodGet || status < 200 || status > 299 {
		return false
	}
	if contentType == "" {
		// Not set explicitly: only paths that look like pages.
		ext := path.Ext(r.URL.Path)
		return ext == "" || ext == ".html" || ext == ".htm"
	}
	return strings.HasPrefix(contentType, "text/html") || strings.HasPrefix(contentType, "application/xhtml+xml")
}

// pageviewURL rebuilds the absolute URL the visitor asked for.
func pageviewURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// pageviewRecorder remembers the status a handler sent.
type pageviewRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (p *pageviewRecorder) WriteHeader(code int) {
	if !p.wroteHeader {
		p.status, p.wroteHeader = code, true
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *pageviewRecorder) Write(b []byte) (int, error) {
	if !p.wroteHeader {
		p.wroteHeader = true
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (p *pageviewRecorder) Unwrap() http.ResponseWriter { return p.ResponseWriter }
