// Package tracker serves Footfall's browser trackers: a JavaScript tracker
// that speaks Matomo's _paq API and tracking protocol, so that pages written
// for Matomo (its documented snippet, and wrappers such as
// @jonkoops/matomo-tracker, vue-matomo or ngx-matomo-client) work unchanged,
// and a lite tracker for pages that only need page views, events and
// outlinks.
//
// # What is served
//
// A Handler answers GET and HEAD for paths ending in
//
//	/matomo.js, /piwik.js, /js/, /js/index.php, /js/tracker.php   the full tracker
//	/footfall-lite.js                                             the lite tracker
//
// (see Match), so it can be mounted at any prefix, with or without
// http.StripPrefix; any other path is 404, other methods 405. Responses carry
// Content-Type: application/javascript; charset=utf-8, a strong ETag (a hash
// of the bytes, one per encoding) that If-None-Match turns into 304,
// Cache-Control: public, max-age=86400 (Options.MaxAge; a day: a new
// version reaches every visitor within a day, and a returning visitor
// revalidates cheaply), and Vary: Accept-Encoding. The
// gzipped bytes are made once by New (gzip level 9) and sent whenever
// Accept-Encoding allows gzip.
//
//	h, err := tracker.New(tracker.Options{})
//	…
//	mux.Handle("/matomo.js", h)
//	mux.Handle("/footfall-lite.js", h)
//
// ingest.Handler takes it as HandlerOptions.Scripts and routes /matomo.js,
// /piwik.js and /js/… to it (there, /js/tracker.php is a tracking endpoint,
// as in Matomo); it does not route /footfall-lite.js, so mount that path on
// the tracker Handler directly.
//
// The scripts are embedded in the binary. tracker.js and lite.js are the
// readable, commented sources; tracker.min.js and lite.min.js are what esbuild
// makes of them (whitespace, identifiers and syntax minified, ES2017) and are
// committed. `go generate ./ingest/tracker` regenerates them; a test fails
// when they are stale.
//
// # Size
//
//	                      minified    gzip -9
//	matomo.js (Footfall)  9,635 B     4,987 B   (budget 5,000 B, checked by a test)
//	footfall-lite.js      1,624 B       967 B   (budget 1,000 B)
//	matomo.js (Matomo 5)  63,804 B    ≈23 KB
//
// # The full tracker
//
// Load it like Matomo's matomo.js: commands pushed on window._paq before it
// loads run when it loads, in order, except that the configuration commands
// Matomo applies first (setTrackerUrl, setSiteId, setUserId, disableCookies,
// requireConsent, setDomains, the cookie settings, …) are applied before the
// others; later pushes run at once (_paq becomes an object whose push
// executes). An entry may be a function, called with the tracker as this.
// Unknown commands and 'Plugin::method' entries are ignored without an
// error. window.Matomo and window.Piwik offer getTracker(url, siteId),
// getAsyncTracker() and addTracker(url, siteId); window.matomoAsyncInit and
// window.piwikAsyncInit are called once the tracker is ready.
//
// Commands, with Matomo's arguments and wire format:
//
//	tracking     trackPageView, trackEvent, trackSiteSearch, trackGoal, trackLink,
//	             trackRequest, ping, trackEcommerceOrder, trackEcommerceCartUpdate,
//	             trackContentImpression, trackContentInteraction,
//	             trackAllContentImpressions
//	links        enableLinkTracking (outlinks by setDomains; downloads by file
//	             extension, download attribute or class matomo_download/piwik_download;
//	             class matomo_link/piwik_link forces an outlink; matomo_ignore/piwik_ignore)
//	page         setCustomUrl, setDocumentTitle, setReferrerUrl, setCustomDimension,
//	             deleteCustomDimension, setUserId, resetUserId, setVisitorId,
//	             appendToTrackingUrl, setExcludedQueryParams, setExcludedReferrers,
//	             setDomains, enableHeartBeatTimer, enableJSErrorTracking,
//	             setPagePerformanceTiming, disablePerformanceTracking,
//	             disableBrowserFeatureDetection
//	ecommerce    addEcommerceItem, removeEcommerceItem, clearEcommerceCart,
//	             setEcommerceView
//	endpoint     setTrackerUrl, setSiteId, addTracker, setRequestMethod,
//	             alwaysUseSendBeacon, disableAlwaysUseSendBeacon
//	cookies      disableCookies, deleteCookies, setCookieDomain, setCookiePath,
//	             setCookieNamePrefix, setSecureCookie, setCookieSameSite,
//	             setVisitorCookieTimeout, setSessionCookieTimeout,
//	             setReferralCookieTimeout
//	privacy      setDoNotTrack, requireConsent, setConsentGiven, rememberConsentGiven,
//	             forgetConsentGiven, requireCookieConsent, setCookieConsentGiven,
//	             rememberCookieConsentGiven, forgetCookieConsentGiven
//	getters      getVisitorId, getTrackerUrl
//
// Every request carries idsite, rec=1, r, h, m, s, url (without pk_vid,
// ignore_referrer and the excluded parameters), urlref, uid, _id (empty
// without cookies), _idn, send_image=0, the attribution of the session
// (_rcn, _rck, _refts, _ref), dimensionN, the product view (_pks, _pkn, _pkc,
// _pkp), pv_id, the appendToTrackingUrl string, the browser features (pdf,
// cookie, res, and uadata: the client hints of
// navigator.userAgentData.getHighEntropyValues) unless
// disableBrowserFeatureDetection, and consent=1 once consent was required and
// given. The first page view carries pf_net … pf_onl from the Navigation
// Timing API (it waits for the load event, at most 3 s). Requests are sent in
// order; after the first, the others wait until 800 ms have passed (so the
// first creates the visit alone), except link clicks and pings.
//
// Transport: navigator.sendBeacon, with the query in the URL and an empty
// application/x-www-form-urlencoded body up to 2000 characters, in the body
// beyond; without beacon (disableAlwaysUseSendBeacon, setRequestMethod('GET'))
// an image GET (send_image=1), or an XHR POST (form body, withCredentials)
// for long requests, setRequestMethod('POST') and bulk requests, falling
// back to an image when the XHR fails. Content impressions and interactions
// are queued and sent 2.5 s later, or when the page is hidden, as one bulk
// request {"requests":["?…",…],"send_image":0} per 50; so are the requests
// held back by requireConsent, when setConsentGiven releases them.
//
// Cookies are Matomo's: _pk_id.<site>.<hash> = <16 hex>.<created>. (13
// months, not sliding), _pk_ses.<site>.<hash> = 1 (30 minutes, refreshed by
// each request), _pk_ref.<site>.<hash> = JSON [campaign, keyword, time,
// referrer], written when a session starts with a campaign parameter
// (pk_campaign, mtm_campaign, utm_campaign, … / pk_kwd, mtm_kwd, utm_term, …)
// or an external referrer (6 months), and mtm_consent,
// mtm_consent_removed, mtm_cookie_consent (a time in ms; 30 years by default,
// which browsers may shorten). <hash> is the first 4 hex digits of
// SHA-1(cookie domain or document.domain + cookie path or "/"). SameSite=Lax
// by default; SameSite=None is used only over https.
//
// Differences from Matomo's matomo.js:
//   - Not implemented, accepted and ignored: custom variables
//     (setCustomVariable), cross-domain linking, trackVisibleContentImpressions
//     and the automatic tracking of clicks in content blocks, form and media
//     analytics, setLinkTrackingTimer, setRequestQueueInterval,
//     setDownloadExtensions and friends, setCustomData, getters other than
//     getVisitorId and getTrackerUrl (getUserId, getSiteId, hasConsent, …),
//     disableCampaignParameters, setAPIUrl, Matomo.addTracker and Matomo's
//     plugin hooks (Matomo.on, addPlugin).
//   - getAsyncTracker ignores its arguments and returns the first tracker.
//   - setTrackerUrl and setSiteId from _paq apply to the first tracker only,
//     so that trackers added with addTracker keep their own.
//   - The download extensions are a shorter list: 7z apk csv dmg doc docx exe
//     gz mp3 mp4 msi odp ods odt pdf ppt pptx rar rtf tar txt xls xlsx zip.
//   - setExcludedQueryParams takes parameter names, not regular expressions.
//   - The title is sent as given (Matomo's server trims it).
//   - Content blocks are found by data-track-content and the pieces and
//     targets by data-content-piece and data-content-target (not by the CSS
//     classes matomoTrackContent …).
//   - The plugin flags qt, realp, wma, fla, java and ag are not sent (no
//     current browser has those plugins; the server reads a missing flag as
//     0). pv_id is 6 hex digits.
//   - The visitor id is random (crypto.getRandomValues), not a hash of
//     browser features.
//   - The heartbeat pings only when the page is blurred or hidden, never on
//     a timer while the page stays in front.
//
// # The lite tracker
//
// /footfall-lite.js tracks page views, events and outlinks without cookies
// (no _id is sent: the server recognises the visitor without cookies) and
// no client hints, with the same wire format (its sendBeacon has no body,
// so no Content-Type) and else an image GET. It reads _paq like the full tracker for setTrackerUrl,
// setSiteId, setCustomUrl, setDocumentTitle, setReferrerUrl, setDomains
// (host names; each also covers its subdomains), trackPageView, trackEvent,
// trackLink and enableLinkTracking (clicks on http(s) links to other hosts,
// except class matomo_ignore); [function] entries get the lite tracker as
// this; every other command is ignored. The set… commands queued before
// it loads run first.
//
// It can be configured by attributes of its own script tag instead:
//
//	<script defer src="https://stats.example.com/footfall-lite.js" data-site-id="3"></script>
//
// data-site-id is the site; data-url the tracking endpoint (default:
// matomo.php next to the script). With data-site-id, it tracks the page view
// and enables outlink tracking by itself unless the tag also has
// data-manual. A single-page application calls, after each route change:
//
//	_paq.push(['setCustomUrl', location.href]);
//	_paq.push(['setDocumentTitle', document.title]);
//	_paq.push(['trackPageView']);
package tracker
