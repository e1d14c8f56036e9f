// Package ingest is the tracking side of Footfall: the Matomo-compatible
// HTTP endpoint that turns tracking requests into analytics.Hits and puts
// them on an analytics.Queue (Handler), and the worker that takes them off
// the queue, enriches them and writes visits (Processor).
//
// # Handler
//
// Handler is an http.Handler that can be mounted at any prefix, with or
// without http.StripPrefix. Any path ending in .php (matomo.php, piwik.php,
// js/tracker.php, …) is the tracker, as the ingest role rewrites every
// *.php under its prefix; /matomo.js, /piwik.js and /js/… go to
// HandlerOptions.Scripts; everything else is 404.
//
//	h, err := ingest.NewHandler(ingest.HandlerOptions{Queue: q, Sites: store})
//	…
//	go h.Run(ctx) // keeps the site cache fresh
//	mux.Handle("/analytics/", h)
//
// It accepts what every Matomo client sends: a GET with the parameters in
// the query string, a POST form body, a navigator.sendBeacon POST with the
// parameters in the URL and an empty body, and a bulk JSON body
// ({"requests":["?idsite=1&rec=1&…", {…}], "token_auth":…, "send_image":0},
// recognised like Matomo by "requests" in the body). GET values win over
// POST values; url falls back to the Referer header when neither url nor
// urlref is given. Each request becomes one fully typed analytics.Hit
// (every parameter group of the Matomo tracking API, the Kind decided by
// Matomo's precedence: ping, goal/ecommerce, event, content, site search,
// download, outlink, custom action, page view), with a fresh HitID, the
// receive time (or an authenticated cdt) and the client address. A bulk
// request is enqueued with one Enqueue call.
//
// The handler answers at once and never touches the database: sites are
// checked against an in-memory cache (an immutable map behind an atomic
// pointer) that Run refreshes every SiteRefresh, soon after a request for
// an unknown site, and keeps when the source fails. Answers follow
// Matomo's:
//
//   - 200 and the 43-byte transparent GIF, or 204 with send_image=0;
//     Cache-Control: no-store on every tracking answer; on non-GET answers
//     Access-Control-Allow-Origin (the Origin, or *) and
//     Access-Control-Allow-Credentials: true. OPTIONS is a CORS preflight.
//   - 400 (GIF, or empty with send_image=0) for a missing, invalid or
//     unknown idsite, a cid that is not 16 hex digits, an unreadable cip or
//     lat/long, and for cip, country/region/city/lat/long or an old cdt
//     without a valid token_auth.
//   - 200 and nothing queued for a request that is valid but excluded: rec
//     missing or 0, or a browser prefetch (X-Purpose, X-Moz, Purpose,
//     Sec-Purpose headers).
//   - A GET with no parameters gets a short text page (200); a POST with
//     nothing in it the same text with 400.
//   - Bulk: application/json {"status":"success","tracked":N,"invalid":M},
//     with "invalid_indices" (indices into "requests") only for a valid
//     token; 204 when send_image is 0 or false; 400 {"status":"error",…}
//     for malformed JSON, more than MaxBulkItems items, or missing
//     authentication when BulkRequiresAuth. Excluded items count as
//     tracked; strings without '?' are dropped silently.
//   - 503 when the queue refuses the hits (never a silent drop), before the
//     first site list is loaded, and (GIF, or 204) when Disabled.
//   - 413 for a body over MaxBodyBytes, 405 for other methods.
//
// Text values are made valid UTF-8 and cut at a character boundary to
// MaxFieldLength (URLs to MaxURLLength; uid to 200 characters, as Matomo).
// The client address is the peer's, or, behind a TrustedProxies peer, the
// last untrusted address of the first ClientIPHeaders header that names
// one.
//
// The hot path (one GET page view) parses the raw query with a scanner
// that unescapes only the values it keeps, uses shared header values and
// allocates only the queued hit and the strings that needed unescaping.
package ingest
