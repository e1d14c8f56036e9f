package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/hashicorp/go-hclog"
)

// HandlerOptions configures a Handler. A zero field means its documented
// default.
type HandlerOptions struct {
	// Queue receives the accepted hits. Required.
	Queue analytics.Queue
	// Sites lists the tracked sites; the handler caches the list and
	// refreshes it in Run. Required.
	Sites SiteSource

	// Tokens are the token_auth values that authenticate a request:
	// needed for cip, for cdt/cdo older than CustomTimestampAuthAfter, for
	// country/region/city/lat/long, and to see invalid_indices in bulk
	// answers. Tokens are kept as SHA-256 digests and compared in constant
	// time. Default: none (those parameters are refused with 400).
	Tokens []string

	// Logger receives warnings (site refresh failures, queue failures).
	// Default: a null logger.
	Logger hclog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// TrustedProxies are the peers whose ClientIPHeaders are believed
	// (Matomo's proxy_ips). Addresses of this list found in a header are
	// skipped (when all are, the leftmost is the client). A peer outside
	// the list is the client, whatever its headers say; to believe every
	// peer, list 0.0.0.0/0 and ::/0 (the leftmost header entry is then the
	// client: spoofable). Default: none (the peer address is the client).
	TrustedProxies []netip.Prefix
	// ClientIPHeaders are the headers that name the client behind a
	// trusted proxy, tried in order (Matomo's proxy_client_headers).
	// "X-Forwarded-For" and Matomo's "HTTP_X_FORWARDED_FOR" spelling are
	// both accepted; RFC 7239 "Forwarded" elements (for=…) are understood.
	// Default: none.
	ClientIPHeaders []string
	// ProxyIPReadFirst takes the first untrusted address of a header list
	// instead of the last. Default: false — the last, Matomo 5's
	// proxy_ip_read_last_in_list=1 and the only choice that a client
	// cannot spoof by sending its own header.
	ProxyIPReadFirst bool

	// MaxBodyBytes bounds a POST body; a larger one is answered 413.
	// Default: 1 MiB.
	MaxBodyBytes int64
	// MaxBulkItems bounds the "requests" of a bulk body; more is a 400.
	// Default: 1000.
	MaxBulkItems int
	// MaxFieldLength bounds text values (title, event and content fields,
	// user agent, language, dimensions…), in characters: longer ones are
	// cut at a character boundary, as Matomo's columns cut them.
	// Default: 1024.
	MaxFieldLength int
	// MaxURLLength bounds URL values (url, urlref, link, download, _ref,
	// c_t) and uadata, in characters. It is larger than Matomo's stored
	// page_maximum_length (1024) on purpose: the processor strips
	// excluded query parameters first and applies the storage limit after.
	// A longer uadata is dropped rather than cut (cut JSON is useless).
	// Default: 2048.
	MaxURLLength int

	// Disabled stops tracking (Matomo's record_statistics=0): every
	// tracking request is answered 503 with the GIF, or 204 with
	// send_image=0, without reading the body or touching the queue.
	Disabled bool

	// SiteRefresh is how often Run reloads the site list. Default: 30s.
	SiteRefresh time.Duration
	// SiteMissRefresh is the least time between two early reloads caused
	// by requests for unknown sites. Default: 5s.
	SiteMissRefresh time.Duration

	// CustomTimestampAuthAfter: a cdt/cdo at least this far in the past
	// needs a valid token (Matomo's
	// tracking_requests_require_authentication_when_custom_timestamp_newer_than).
	// Default: 24h.
	CustomTimestampAuthAfter time.Duration
	// BulkRequiresAuth refuses a bulk request unless every item is
	// authenticated, by the top-level token_auth or its own (Matomo's
	// bulk_requests_require_authentication). Default: false.
	BulkRequiresAuth bool

	// Privacy is the instance default of every site's privacy settings,
	// the same value as ProcessorOptions.Privacy (a site's non-zero fields
	// override it). The handler reads only Cookieless, DNT, GPC and
	// Consent: before a hit is enqueued it clears the identifiers that the
	// Processor will ignore for it — cid and _id on a cookieless site, cid,
	// _id and uid under ConsentCookies without consent=1, every identifier
	// under "count, don't track" or when the hit will be dropped — so that
	// the hit's ShardKey falls back to the cookieless key (site, IP, user
	// agent) and all the hits of one visitor stay on one shard, in order.
	// Default: the Processor's defaults (nothing is cleared).
	Privacy analytics.Privacy

	// Scripts serves the tracker JavaScript: paths ending in /matomo.js,
	// /piwik.js or /footfall-lite.js, and /js/ with anything under it except /js/tracker.php
	// (a tracking endpoint, as in Matomo). It gets the request unchanged.
	// Default: nil — those paths are 404.
	Scripts http.Handler
}

// Validate reports whether o is usable. NewHandler fills the defaults
// before calling it.
func (o *HandlerOptions) Validate() error {
	switch {
	case o.Queue == nil:
		return fmt.Errorf("ingest: handler options: Queue is required: %w", analytics.ErrInvalid)
	case o.Sites == nil:
		return fmt.Errorf("ingest: handler options: Sites is required: %w", analytics.ErrInvalid)
	case o.MaxBodyBytes < 0, o.MaxBulkItems < 0, o.MaxFieldLength < 0, o.MaxURLLength < 0:
		return fmt.Errorf("ingest: handler options: negative limit: %w", analytics.ErrInvalid)
	case o.SiteRefresh < 0, o.SiteMissRefresh < 0, o.CustomTimestampAuthAfter < 0:
		return fmt.Errorf("ingest: handler options: negative duration: %w", analytics.ErrInvalid)
	}
	if p := o.Privacy; p.DNT > analytics.DNTCount || p.GPC > analytics.DNTCount || p.Consent > analytics.ConsentTracking {
		return fmt.Errorf("ingest: handler options: unknown DNT, GPC or consent mode: %w", analytics.ErrInvalid)
	}
	for _, p := range o.TrustedProxies {
		if !p.IsValid() {
			return fmt.Errorf("ingest: handler options: invalid trusted proxy prefix %v: %w", p, analytics.ErrInvalid)
		}
	}
	for _, name := range o.ClientIPHeaders {
		if clientipHeaderName(name) == "" {
			return fmt.Errorf("ingest: handler options: empty client IP header name: %w", analytics.ErrInvalid)
		}
	}
	return nil
}

func (o *HandlerOptions) setDefaults() {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxBulkItems == 0 {
		o.MaxBulkItems = 1000
	}
	if o.MaxFieldLength == 0 {
		o.MaxFieldLength = 1024
	}
	if o.MaxURLLength == 0 {
		o.MaxURLLength = 2048
	}
	if o.SiteRefresh == 0 {
		o.SiteRefresh = 30 * time.Second
	}
	if o.SiteMissRefresh == 0 {
		o.SiteMissRefresh = 5 * time.Second
	}
	if o.CustomTimestampAuthAfter == 0 {
		o.CustomTimestampAuthAfter = 24 * time.Hour
	}
	privacyFillDefaults(&o.Privacy)
}

// Handler is the Matomo tracking endpoint: an http.Handler that parses
// tracking requests into analytics.Hits and enqueues them, answering at
// once without touching the database. It is safe for concurrent use.
type Handler struct {
	queue           analytics.Queue
	sites           SiteSource
	log             hclog.Logger
	now             func() time.Time
	tokens          []authDigest
	trusted         []netip.Prefix
	ipHeaders       []string
	ipReadFirst     bool
	maxBody         int64
	maxBulk         int
	maxField        int
	maxURL          int
	disabled        bool
	siteRefresh     time.Duration
	siteMissRefresh time.Duration
	cdtAuthAfter    time.Duration
	bulkAuth        bool
	scripts         http.Handler
	privacy         analytics.Privacy

	siteMap     atomic.Pointer[sitesMap]
	refresh     chan struct{} // early refresh requests to Run
	lastMiss    atomic.Int64  // Unix ns of the last early refresh request
	lastFailLog atomic.Int64  // Unix ns of the last logged queue failure
	bufs        sync.Pool     // *bytes.Buffer for POST bodies
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler. It serves 503 until the site list is
// loaded: call LoadSites, or start Run, before taking traffic.
func NewHandler(opts HandlerOptions) (*Handler, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		queue:           opts.Queue,
		sites:           opts.Sites,
		log:             opts.Logger,
		now:             opts.Now,
		tokens:          authDigests(opts.Tokens),
		trusted:         make([]netip.Prefix, len(opts.TrustedProxies)),
		ipReadFirst:     opts.ProxyIPReadFirst,
		maxBody:         opts.MaxBodyBytes,
		maxBulk:         opts.MaxBulkItems,
		maxField:        opts.MaxFieldLength,
		maxURL:          opts.MaxURLLength,
		disabled:        opts.Disabled,
		siteRefresh:     opts.SiteRefresh,
		siteMissRefresh: opts.SiteMissRefresh,
		cdtAuthAfter:    opts.CustomTimestampAuthAfter,
		bulkAuth:        opts.BulkRequiresAuth,
		scripts:         opts.Scripts,
		privacy:         opts.Privacy,
		refresh:         make(chan struct{}, 1),
	}
	for i, p := range opts.TrustedProxies {
		h.trusted[i] = p.Masked()
	}
	for _, name := range opts.ClientIPHeaders {
		h.ipHeaders = append(h.ipHeaders, clientipHeaderName(name))
	}
	h.lastMiss.Store(-int64(h.siteMissRefresh))
	return h, nil
}

// ServeHTTP answers the tracking endpoint. The handler can be mounted at
// any prefix, with or without http.StripPrefix: a path ending in .php
// (matomo.php, piwik.php, js/tracker.php, any other) is the tracker, the
// script paths described at HandlerOptions.Scripts go to Scripts, and
// everything else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case handlerIsScript(p):
		if h.scripts != nil {
			h.scripts.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	case strings.HasSuffix(p, ".php"):
		h.serveTracker(w, r)
	default:
		http.NotFound(w, r)
	}
}

// handlerIsScript reports whether p is a tracker-script path.
func handlerIsScript(p string) bool {
	if strings.HasSuffix(p, "/matomo.js") || strings.HasSuffix(p, "/piwik.js") || p == "matomo.js" || p == "piwik.js" ||
		strings.HasSuffix(p, "/footfall-lite.js") || p == "footfall-lite.js" {
		return true
	}
	i := strings.LastIndex(p, "js/")
	if i < 0 || (i > 0 && p[i-1] != '/') || strings.IndexByte(p[i+3:], '/') >= 0 {
		return strings.HasSuffix(p, "/js") || p == "js"
	}
	return p[i+3:] != "tracker.php"
}

func (h *Handler) serveTracker(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		respCORS(hdr, r)
	case http.MethodOptions:
		respPreflight(w, r)
		return
	default:
		hdr["Allow"] = respAllow
		respPlain(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	hdr["Cache-Control"] = respNoStore

	if h.disabled {
		status := http.StatusServiceUnavailable
		image := handlerQuerySendImage(r.URL.RawQuery)
		if !image {
			status = http.StatusNoContent
		}
		respImage(w, status, image)
		return
	}

	var body string
	if r.Method == http.MethodPost {
		buf, status, ok := h.readBody(w, r)
		if !ok {
			respPlain(w, status, http.StatusText(status))
			return
		}
		if parseIsBulk(buf.Bytes()) {
			h.serveBulk(w, r, buf.Bytes())
			h.putBuf(buf)
			return
		}
		body = buf.String()
		h.putBuf(buf)
	}

	var p parseParams
	p.scan(body)
	p.scan(r.URL.RawQuery) // GET wins
	image := parseWantImage(p.v[parseSendImage])
	if p.n == 0 {
		if r.Method == http.MethodPost {
			respAbout(w, http.StatusBadRequest)
		} else {
			respAbout(w, http.StatusOK)
		}
		return
	}

	var env parseEnv
	h.envFrom(r, &env)
	var hit analytics.Hit
	excluded, err := h.parseHit(&p, &env, &hit)
	switch {
	case err != nil && parseIsInvalid(err):
		h.log.Debug("invalid tracking request", "error", err)
		respImage(w, http.StatusBadRequest, image)
		return
	case err != nil:
		respImage(w, http.StatusServiceUnavailable, image)
		return
	case excluded:
		respImage(w, http.StatusOK, image)
		return
	}
	hit.ID = analytics.NewHitID(env.now)
	if err := h.queue.Enqueue(r.Context(), []analytics.Hit{hit}); err != nil {
		h.logQueueFailure(err, 1)
		respImage(w, http.StatusServiceUnavailable, image)
		return
	}
	respImage(w, http.StatusOK, image)
}

// serveBulk answers a bulk JSON request.
func (h *Handler) serveBulk(w http.ResponseWriter, r *http.Request, body []byte) {
	b, err := parseBulk(body, h.maxBulk)
	if err != nil {
		respBulk(w, http.StatusBadRequest, 0, 0, nil, false, handlerMessage(err))
		return
	}
	var env parseEnv
	h.envFrom(r, &env)
	env.tokenOK = h.authValid(b.token())
	if !h.sitesLoaded() {
		respBulk(w, http.StatusServiceUnavailable, 0, 0, nil, false, handlerMessage(errSitesNotLoaded))
		return
	}

	hits := make([]analytics.Hit, 0, len(b.Requests))
	var tracked int
	var invalid []int
	p := new(parseParams)
	for i, raw := range b.Requests {
		*p = parseParams{}
		drop, err := parseBulkItem(raw, p)
		if drop {
			continue
		}
		if h.bulkAuth && !env.tokenOK && !h.authValid(p.v[parseTokenAuth]) {
			respBulk(w, http.StatusBadRequest, 0, 0, nil, false, "bulk requests require a valid token_auth")
			return
		}
		if err != nil {
			invalid = append(invalid, i)
			continue
		}
		hits = append(hits, analytics.Hit{})
		excluded, err := h.parseHit(p, &env, &hits[len(hits)-1])
		if err != nil || excluded {
			hits = hits[:len(hits)-1]
		}
		if err != nil {
			if !parseIsInvalid(err) { // the site list vanished: cannot happen once loaded
				respBulk(w, http.StatusServiceUnavailable, 0, 0, nil, false, handlerMessage(err))
				return
			}
			h.log.Debug("invalid bulk tracking item", "index", i, "error", err)
			invalid = append(invalid, i)
			continue
		}
		tracked++
	}
	for i := range hits {
		hits[i].ID = analytics.NewHitID(env.now)
	}
	if len(hits) > 0 {
		if err := h.queue.Enqueue(r.Context(), hits); err != nil {
			h.logQueueFailure(err, len(hits))
			respBulk(w, http.StatusServiceUnavailable, 0, len(invalid), invalid, env.tokenOK, "tracking queue unavailable")
			return
		}
	}
	if !b.sendImage() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	respBulk(w, http.StatusOK, tracked, len(invalid), invalid, env.tokenOK, "")
}

// handlerMessage is the text of a client-facing error without the package
// prefix and the sentinel suffix.
func handlerMessage(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "ingest: ")
	for _, sentinel := range []error{analytics.ErrInvalid, analytics.ErrUnavailable} {
		s = strings.TrimSuffix(s, ": "+sentinel.Error())
	}
	return s
}

// envFrom fills env from the HTTP envelope of r.
func (h *Handler) envFrom(r *http.Request, env *parseEnv) {
	hd := r.Header
	env.now = h.now().UTC()
	env.ip = h.clientIP(r)
	env.userAgent = handlerHeader(hd, "User-Agent")
	env.acceptLang = handlerHeader(hd, "Accept-Language")
	env.referer = handlerHeader(hd, "Referer")
	if v := handlerHeader(hd, "Dnt"); v != "" && v[0] == '1' || handlerHeader(hd, "X-Do-Not-Track") == "1" {
		env.flags |= analytics.FlagDNT
	}
	if v := handlerHeader(hd, "Sec-Gpc"); v != "" && v[0] == '1' {
		env.flags |= analytics.FlagGPC
	}
	env.prefetch = handlerIsPrefetch(hd)
}

// handlerIsPrefetch recognises browser prefetch and preview requests,
// which Matomo excludes: X-Purpose: preview|instant, X-Moz: prefetch,
// Purpose: prefetch, Sec-Purpose: prefetch[;…].
func handlerIsPrefetch(hd http.Header) bool {
	if v := handlerHeader(hd, "X-Purpose"); v != "" && (strings.EqualFold(v, "preview") || strings.EqualFold(v, "instant")) {
		return true
	}
	if v := handlerHeader(hd, "X-Moz"); v != "" && strings.EqualFold(v, "prefetch") {
		return true
	}
	if v := handlerHeader(hd, "Purpose"); v != "" && strings.EqualFold(v, "prefetch") {
		return true
	}
	if v := handlerHeader(hd, "Sec-Purpose"); v != "" && strings.Contains(strings.ToLower(v), "prefetch") {
		return true
	}
	return false
}

// handlerHeader reads a header by its canonical key without the
// canonicalisation Header.Get does.
func handlerHeader(hd http.Header, key string) string {
	if v := hd[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// handlerQuerySendImage finds send_image in a raw query without parsing
// the rest.
func handlerQuerySendImage(q string) bool {
	image := true
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if v, ok := strings.CutPrefix(pair, "send_image="); ok {
			image = parseWantImage(parseUnescape(v))
		}
	}
	return image
}

// readBody reads a POST body into a pooled buffer. It reports the status
// to answer when it fails (413 when too large, 400 when unreadable).
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, int, bool) {
	if r.ContentLength > h.maxBody {
		return nil, http.StatusRequestEntityTooLarge, false
	}
	buf, _ := h.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if r.Body == nil || r.Body == http.NoBody {
		return buf, 0, true
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		h.putBuf(buf)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, false
		}
		return nil, http.StatusBadRequest, false
	}
	return buf, 0, true
}

// putBuf returns a body buffer to the pool unless it grew very large.
func (h *Handler) putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		h.bufs.Put(buf)
	}
}

// logQueueFailure logs a failed Enqueue at most once per second, so that
// a queue outage does not flood the log.
func (h *Handler) logQueueFailure(err error, hits int) {
	now := time.Now().UnixNano()
	last := h.lastFailLog.Load()
	if now-last < int64(time.Second) || !h.lastFailLog.CompareAndSwap(last, now) {
		return
	}
	h.log.Error("enqueue failed; answering 503", "error", err, "hits", hits)
}
