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
// Before a hit is enqueued, the handler applies the privacy rules of its
// site (HandlerOptions.Privacy, the instance default, and the site's
// Privacy) to the hit's identifiers, exactly as the Processor will: cid
// and _id are cleared on a cookieless site; cid, _id and uid under
// ConsentCookies without consent=1, under "count, don't track" and for a
// hit the Processor will drop (DNTExclude, ConsentTracking without
// consent). The hit's ShardKey then falls back to the cookieless key
// (site, IP, user agent), so that all the hits of one cookieless visitor
// land on one shard and are sessionized in order, and the queue holds no
// identifier that will not be used. The Processor enforces the same rules
// itself (hits from older ingest nodes, site settings that changed
// between the two caches).
//
// The hot path (one GET page view) parses the raw query with a scanner
// that unescapes only the values it keeps, uses shared header values and
// allocates only the queued hit and the strings that needed unescaping.
//
// # Processor
//
// Processor is the worker (the worker role, or a goroutine of an
// all-in-one process). Run takes deliveries off the queue with Workers
// goroutines; a delivery holds hits of one shard, and a shard is handled
// by one goroutine at a time, so one visitor's hits are applied in order.
//
//	p, err := ingest.NewProcessor(ingest.ProcessorOptions{Queue: q, Store: store, Geo: geo})
//	…
//	err = p.Run(ctx) // returns nil when ctx is done or the closed queue is drained
//
// For each delivery (Process):
//
//  1. Hits at or before the shard's checkpoint are skipped: they were
//     committed by a worker that died before its ack.
//  2. Enrichment. The site comes from a cache reloaded every SiteRefresh
//     (and soon after an unknown site shows up; hits of unknown sites are
//     dropped with a log line). Exclusions run in Matomo's order: bots
//     (crawlerdetect and go-useragent, unless bots=1 or TrackBots), DNT and
//     GPC per the site's resolved Privacy (DNTExclude drops the hit,
//     DNTCount keeps it without visitor id, user id, IP or dimensions as a
//     one-hit visit of its own; a DNT or GPC header wins over consent=1),
//     consent (ConsentTracking, Matomo's requireConsent, drops a hit
//     without consent=1; ConsentCookies, requireCookieConsent, makes it
//     cookieless: cid, _id and uid are ignored, the uid too because it
//     identifies the visitor across visits like a cookie), excluded IPs (address, a.b.c.*, CIDR,
//     IPv6) and user agents (case-insensitive substring) of the instance
//     and the site, ExcludeUnknownURLs. The user agent becomes browser,
//     engine, OS and device type (cached). Page URLs lose Matomo's default
//     excluded query parameters (gclid, fbclid, msclkid, …, pk_vid), the
//     click and session identifiers of other platforms (_ga, _gl, ttclid,
//     …) and the instance's and site's lists, and their #fragment unless
//     KeepURLFragment; with SiteSearch a page view with a keyword parameter
//     becomes a site search. The referrer is a campaign (pk_/mtm_/utm_
//     parameters of the page URL), direct (none, excluded, or the site's own
//     host), a search engine with its keyword, a social network, or a
//     website. Geo sees the full address in memory, once per visit (a
//     visit keeps the location of the hit that opened it, as in Matomo,
//     so the hits that join a visit cost no lookup); the stored address is
//     masked (IPv4MaskBytes, IPv6MaskBits) or dropped (StoreIP Off):
//     nothing unmasked reaches the store. ScrubPII removes e-mail
//     addresses, runs of 9 or more digits (phone and card numbers) and
//     the values of secret-like parameters (token, password, session, …:
//     dropped from query strings, "[secret]" in other texts) from every
//     stored free text: page, link, referrer and content target URLs,
//     titles, referrer keywords and campaign fields, event, site search
//     and content fields, custom dimension values and the attribution
//     referrer of conversions (not ecommerce order ids, SKUs and product
//     names, which are the shop's own).
//  3. Sessionization as Matomo: the visitor is the uid (SHA-1 prefix,
//     hashed first with HashUserID), else cid, else _id (both ignored when
//     Cookieless), else the config hash: the first 8 bytes of SHA-256 over
//     site, full IP, user agent and the site's daily salt, so cookieless
//     visitors are recognised within a day only. A salt is made by the
//     store on first use (shared by every worker) and never logged; Run
//     deletes the salts of days that are over in their site's time zone
//     plus SaltGrace (PruneSalts, DeleteExpiredSalts) when it starts and
//     every SaltPruneInterval. The open visit comes from
//     a bounded per-shard cache, else Store.LastVisit. A new visit starts
//     after VisitLength idle, at midnight in the site's time zone, on a new
//     campaign, on new_visit=1, after MaxActionsPerVisit actions (and,
//     with NewVisitOnReferrerChange, from another website); a ping extends
//     a visit and is discarded when it would open one. Goals (idgoal, or
//     URL/title/file/outlink/event patterns) convert once per visit unless
//     AllowMultiple; orders are deduplicated by order ID; a cart update
//     replaces the visit's open cart. Days before today (site time zone)
//     that receive data are listed for re-archiving.
//  4. The delivery becomes one LogBatch, written with the checkpoint read
//     (From) and the last hit's Position (To) in one store transaction.
//     Only then does the shard cache take the new visit states, and the
//     delivery is acknowledged. ErrConflict (another worker wrote the
//     shard) drops the shard's cached state and nacks; a retryable error is
//     retried with backoff, then nacked; any other error is narrowed down
//     to its hit, which is logged with its HitID, dead-lettered when the
//     queue is an analytics.DeadLetterer, and skipped, so one bad hit never
//     blocks its shard.
package ingest
