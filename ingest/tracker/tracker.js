// Footfall tracker: a small browser tracker that speaks Matomo's `_paq`
// JavaScript API and Matomo's HTTP tracking protocol.
//
// This is the readable source. tracker.min.js is generated from it by
// esbuild (go generate ./ingest/tracker); a test checks that the two match.
// Written from the protocol description only (reference §2), not from
// Matomo's code. Keep it ES2017 (no ?. or ??, no object spread) and small:
// every byte here is downloaded by every visitor, and a test holds the
// gzipped size under 5 KB.
(() => {
  const w = window, d = document, n = navigator, loc = location;
  // Loaded twice (a wrapper and a snippet), or after Matomo's own tracker:
  // the first one owns _paq.
  if (w.Matomo && w.Matomo.initialized) return;

  const enc = encodeURIComponent;
  const now = () => Date.now();
  const on = (target, type, fn) => target.addEventListener(type, fn, true);
  const isFn = (f) => typeof f == 'function';
  const wait = (ms) => ms > 0 && new Promise((ok) => setTimeout(ok, ms));
  // hex returns 2k random hex digits.
  const hex = (k) => Array.from(crypto.getRandomValues(new Uint8Array(k)), (x) => (x | 256).toString(16).slice(1)).join('');
  const HEX16 = /^[0-9a-f]{16}$/;
  const FORM = 'application/x-www-form-urlencoded; charset=UTF-8';
  const words = (s) => s.split(' ');
  const CAMPAIGN = words('pk_campaign mtm_campaign piwik_campaign matomo_campaign utm_campaign utm_source utm_medium');
  const KEYWORD = words('pk_kwd mtm_kwd piwik_kwd matomo_kwd utm_term');
  // Query parameters never reported in `url`.
  const STRIP = words('pk_vid ignore_referrer ignore_referer');
  // pf_* parameters, each followed by the Navigation Timing interval
  // (end, start) it measures.
  const PERF = words('net connectEnd fetchStart srv responseStart requestStart tfr responseEnd responseStart ' +
    'dm1 domInteractive domLoading dm2 domComplete domInteractive onl loadEventEnd loadEventStart');
  // File extensions that make a link a download.
  const DOWNLOAD = /\.(7z|apk|csv|dmg|docx?|exe|gz|mp[34]|msi|od[pst]|pdf|pptx?|rar|rtf|tar|txt|xlsx?|zip)([?&#]|$)/i;
  // The first FIRST methods of a tracker object (in key order) are the
  // commands Matomo applies before all others when it reads the _paq queue.
  const FIRST = 27;

  // hash4 returns the first 4 hex digits of SHA-1(s) (UTF-8), the domain
  // hash in Matomo's cookie names: a complete SHA-1, written small. The
  // round constants are floor(2^30 * sqrt(2, 3, 5, 10)); the third and
  // fourth initial words are the complements of the first two.
  const rol = (x, k) => x << k | x >>> 32 - k;
  const K = [2, 3, 5, 10].map((k) => Math.sqrt(k) * 2 ** 30 | 0);
  const hash4 = (s) => {
    const m = unescape(enc(s)), l = m.length, W = [], X = []; // UTF-8 bytes
    let h = [0x67452301, 0xefcdab89, ~0x67452301, ~0xefcdab89, 0xc3d2e1f0];
    // Big-endian words of the message, the 0x80 byte, zeros, the bit length.
    for (let i = 0; i <= l; i++) W[i >> 2] |= (i < l ? m.charCodeAt(i) : 128) << 24 - i % 4 * 8;
    W[(l + 8 >> 6) * 16 + 15] = l * 8;
    for (let o = 0; o < W.length; o += 16) {
      let [a, b, c, d, e] = h;
      for (let t = 0; t < 80; t++) {
        X[t] = t < 16 ? W[o + t] | 0 : rol(X[t - 3] ^ X[t - 8] ^ X[t - 14] ^ X[t - 16], 1);
        const T = rol(a, 5) + e + X[t] + K[t / 20 | 0] +
          (t < 20 ? d ^ b & (c ^ d) : t < 40 || t > 59 ? b ^ c ^ d : b & c | d & (b | c)) | 0;
        e = d; d = c; c = rol(b, 30); b = a; a = T;
      }
      h = h.map((v, i) => v + [a, b, c, d, e][i] | 0);
    }
    return (h[0] >>> 16 | 65536).toString(16).slice(1);
  };

  const getCookie = (name) => {
    try {
      return decodeURIComponent((('; ' + d.cookie).split('; ' + name + '=')[1] || '').split(';')[0]);
    } catch (e) {
      return '';
    }
  };

  // param reads a query parameter of the page.
  const param = (k) => new URLSearchParams(loc.search).get(k);
  const firstParam = (list) => list.map(param).find((v) => v) || '';

  // matches reports whether URL u is covered by one of the domain patterns
  // of setDomains/setExcludedReferrers: "x.com", "*.x.com" or ".x.com"
  // (x.com and its subdomains), "x.com/path" (paths under /path).
  const matches = (u, list) => list.some((x) => {
    const [, wild, dom, path] = /^(\*?\.)?([^/]*)(.*)/.exec(('' + x).toLowerCase());
    try {
      const { hostname: h, pathname: p } = new URL(u);
      return (h == dom || !!wild && h.endsWith('.' + dom)) && p.toLowerCase().startsWith(path);
    } catch (e) {
      return false;
    }
  });

  // Client hints are fetched once (secure pages of Chromium browsers);
  // requests wait for them, a few milliseconds.
  let uaData;
  const hints = Promise.resolve(n.userAgentData && n.userAgentData.getHighEntropyValues(
    ['model', 'platformVersion', 'fullVersionList'])).then((v) => { uaData = v; }, () => 0);

  const trackers = [];
  let main;

  // Tracker returns a tracker object for the given endpoint and site. Every
  // public method is a Matomo command of the same name.
  function Tracker(trackerUrl, siteId) {
    // Settings and state. Flags left undefined are off.
    let userId, forcedId, customUrl, title, referrer = d.referrer, extra = '', productView;
    let dims = {}, domains = [loc.hostname], excludedParams = [], excludedRefs = [];
    let prefix = '_pk_', cookieDomain, cookiePath, secure, sameSite = 'Lax';
    let visitorTTL = 33955200, sessionTTL = 1800, refTTL = 15768000;
    let cookiesOff, needCookieConsent, cookieConsent, needConsent, consent, dnt, consentQueue = [], sentCookieless;
    let beacon = 1, method, features = 1, perf = 1, perfManual, firstPageView = 1;
    let cart = {}, pageViewId, contentQueue = [], contentTimer, contentSeen = {};
    let linkTracking, heartBeat, hadFocus = d.hasFocus(), lastSent, firstSent, jsErrors;
    let chain = hints, uuid = hex(8);

    // --- cookies ---
    const cookieName = (k) => prefix + k + '.' + siteId + '.' + hash4((cookieDomain || d.domain) + (cookiePath || '/'));
    const setCookie = (name, value, ttl) => {
      // SameSite=None needs Secure, which needs https.
      const same = sameSite == 'None' && loc.protocol != 'https:' ? 'Lax' : sameSite;
      d.cookie = name + '=' + enc(value) + ';max-age=' + (ttl | 0) +
        ';path=' + (cookiePath || '/') + (cookieDomain ? ';domain=' + cookieDomain : '') +
        (secure || same == 'None' ? ';secure' : '') + ';SameSite=' + same;
    };
    // Cookie lifetimes are in seconds. Consent cookies last 30 years unless told.
    const stamp = (name, hours) => setCookie(name, now(), (hours || 262800) * 3600);
    const drop = (name) => setCookie(name, '', -1);
    const cookiesOn = () => !cookiesOff && (!needCookieConsent || cookieConsent) && n.cookieEnabled;
    const deleteCookies = () => ['id', 'ses', 'ref'].forEach((k) => drop(cookieName(k)));
    // idCookie returns the visitor id and creation time of the _pk_id cookie.
    const idCookie = () => (cookiesOn() && getCookie(cookieName('id')) || '').split('.');
    const setConsentFlags = () => {
      if (getCookie('mtm_consent')) consent = cookieConsent = 1;
      if (getCookie('mtm_cookie_consent')) cookieConsent = 1;
    };

    // purify removes tracking and excluded parameters from the query of
    // URL u, keeping the rest as written.
    const purify = (u) => {
      const [, base, query, hash] = /^([^?#]*)\??([^#]*)(.*)/.exec(u);
      const q = query.split('&').filter((p) => !STRIP.concat(excludedParams).includes(p.split('=')[0])).join('&');
      return base + (q ? '?' + q : '') + hash;
    };

    // serialize turns {k: v} into "&k=v…", skipping empty values (null,
    // undefined, '', false; 0 is kept).
    const serialize = (o) => {
      let s = '';
      for (const k in o) if (o[k] || o[k] === 0) s += '&' + enc(k) + '=' + enc(o[k]);
      return s;
    };

    // build makes the query of one action: its own parameters (an object,
    // or a query string for trackRequest), then those every request carries
    // that are fixed when it is tracked, then the custom data of the call.
    const build = (action, data) => {
      const t = new Date(), o = typeof action == 'string' ? {} : action;
      Object.assign(o, {
        idsite: siteId, rec: 1, r: Math.random().toFixed(6).slice(2),
        h: t.getHours(), m: t.getMinutes(), s: t.getSeconds(), url: purify(customUrl || loc.href),
        urlref: /[?&]ignore_refere?r=/.test(loc.search) || matches(referrer, excludedRefs) ? '' : referrer,
        uid: userId, send_image: 0,
      });
      for (const k in dims) o['dimension' + k] = dims[k];
      const q = serialize(Object.assign(o, productView, { pv_id: pageViewId }, data));
      return (o == action ? q.slice(1) : action + q) + extra;
    };

    // finish adds, when a request is sent, what depends on cookies and
    // consent at that moment: visitor id, attribution, features, consent.
    const finish = (q) => {
      let id = forcedId, fresh = 0;
      if (cookiesOn()) {
        let [u, ts] = idCookie();
        if (!HEX16.test(u)) u = uuid, ts = now() / 1e3 | 0, fresh = 1;
        setCookie(cookieName('id'), (uuid = u) + '.' + ts + '.', +ts + +visitorTTL - now() / 1e3);
        if (!getCookie(cookieName('ses'))) {
          // A new session: remember its campaign or external referrer for
          // goal attribution.
          const name = firstParam(CAMPAIGN);
          if (name || referrer && !matches(referrer, domains.concat(excludedRefs))) {
            setCookie(cookieName('ref'), JSON.stringify([name, name && firstParam(KEYWORD),
              now() / 1e3 | 0, referrer.slice(0, 1024)]), refTTL);
          }
        }
        setCookie(cookieName('ses'), 1, sessionTTL);
        try {
          const [rcn, rck, refts, ref] = JSON.parse(getCookie(cookieName('ref')));
          q += serialize({ _rcn: rcn, _rck: rck, _refts: refts, _ref: ref });
        } catch (e) { /* no attribution cookie */ }
        id = id || uuid;
      } else {
        deleteCookies();
        sentCookieless = 1;
      }
      q += '&_id=' + (id || '') + '&_idn=' + fresh;
      if (features) {
        if (uaData) q += '&uadata=' + enc(JSON.stringify(uaData));
        // Browsers no longer run plugins: only the PDF viewer can be there,
        // and a missing plugin flag (qt realp wma fla java ag) reads as 0.
        q += '&pdf=' + (n.pdfViewerEnabled ? 1 : 0) + '&cookie=' +
          (cookiesOn() ? 1 : 0) + '&res=' + screen.width + 'x' + screen.height;
      }
      return q + (needConsent && consent ? '&consent=1' : '');
    };

    // timing returns the pf_* parameters: the ones set by
    // setPagePerformanceTiming, else those the Navigation Timing API knows.
    const timing = () => {
      const t = performance.timing || {};
      let s = '';
      for (let i = 0; i < 18; i += 3) {
        const v = perfManual ? perfManual[i / 3] != null && +perfManual[i / 3]
          : t[PERF[i + 1]] && t[PERF[i + 2]] && t[PERF[i + 1]] - t[PERF[i + 2]];
        if (v >= 0) s += '&pf_' + PERF[i] + '=' + (v | 0);
      }
      perfManual = 0;
      return s;
    };

    // transmit sends one request (or a bulk body) by the best transport:
    // sendBeacon, else XHR POST (long or bulk), else an image GET.
    const transmit = (q, bulk) => {
      const u = trackerUrl || main.getTrackerUrl();
      const post = bulk || method == 'POST' || q.length > 2000;
      const image = () => { new Image().src = u + '?' + q.replace('send_image=0', 'send_image=1'); };
      firstSent = firstSent || now();
      lastSent = now();
      if (!u || beacon && n.sendBeacon && n.sendBeacon(post ? u : u + '?' + q, new Blob(post ? [q] : [], { type: FORM }))) return;
      if (post) {
        const x = new XMLHttpRequest();
        x.open('POST', u);
        x.withCredentials = true;
        x.setRequestHeader('Content-Type', FORM);
        if (!bulk) x.onloadend = () => (x.status / 100 | 0) == 2 || image();
        x.send(q);
      } else image();
    };

    // dispatch sends requests ([query, wants pf_*] pairs) in order, after
    // the client hints and, unless urgent, 800 ms after the first request
    // (which then creates the visit alone). A page view with pf_* waits for
    // the load event (at most 3 s). Requests wait for consent when it is
    // required; nothing is sent under Do Not Track.
    const dispatch = (list, bulk, urgent, cb) => {
      if (dnt) return;
      if (needConsent && !consent) return consentQueue.push(...list);
      const pf = list.some((x) => x[1]);
      chain = chain.then(() => urgent || wait(firstSent + 800 - now()))
        .then(() => pf && d.readyState != 'complete' &&
          new Promise((ok) => { on(w, 'load', () => setTimeout(ok)); setTimeout(ok, 3000); }))
        .then(() => {
          const all = list.map((x) => finish(x[0] + (x[1] ? timing() : '')));
          if (bulk) {
            for (let i = 0; i < all.length; i += 50) {
              transmit(JSON.stringify({ requests: all.slice(i, i + 50).map((q) => '?' + q), send_image: 0 }), 1);
            }
          } else all.forEach((q) => transmit(q));
          if (isFn(cb)) cb();
        }).catch(console.error);
    };

    const track = (action, data, cb, urgent, pf) => dispatch([[build(action, data), pf]], 0, urgent, cb);

    // Content impressions and interactions are queued and sent in bulk
    // 2.5 s later, or when the page is hidden.
    const flushContent = () => {
      clearTimeout(contentTimer);
      contentTimer = 0;
      if (contentQueue.length) dispatch(contentQueue.splice(0), 1, 1);
    };
    // content queues an impression (i empty; once per page view) or an
    // interaction i.
    const content = (i, name, piece, target) => {
      const o = { c_i: i, c_n: name, c_p: piece || 'Unknown', c_t: target }, key = JSON.stringify(o);
      if (name && (i || !contentSeen[key])) {
        contentSeen[key] = 1;
        contentQueue.push([build(o)]);
        contentTimer = contentTimer || setTimeout(flushContent, 2500);
      }
    };
    on(d, 'visibilitychange', () => d.hidden && flushContent());

    // Heartbeat: a ping when the page loses focus or is hidden, if it had
    // focus and nothing was sent for the heart-beat delay.
    const beat = (focus) => {
      if (heartBeat && focus && now() - lastSent >= heartBeat) api.ping();
    };

    // Link tracking: clicks on outlinks and downloads.
    const onClick = (e) => {
      const a = e.target.closest && e.target.closest('a[href],area[href]');
      if (!a || e.type == 'auxclick' && e.button != 1) return;
      const has = (c) => a.matches('.matomo_' + c + ',.piwik_' + c);
      const href = a.href;
      const type = has('ignore') || !/^https?:/.test(href) ? ''
        : has('download') || a.hasAttribute('download') || DOWNLOAD.test(href) ? 'download'
          : has('link') || !matches(href, domains) ? 'link' : '';
      if (type) api.trackLink(href, type);
    };

    // order tracks an ecommerce order or cart update with the cart's items.
    const order = (o) => {
      const items = Object.values(cart);
      o.ec_items = items[0] && JSON.stringify(items);
      o.idgoal = 0;
      track(o);
    };

    const api = {
      // --- applied first, in this order, when the _paq queue is read ---
      addTracker(u, id) {
        const t = Tracker(u, id);
        trackers.push(t);
        return t;
      },
      forgetCookieConsentGiven() {
        drop('mtm_cookie_consent');
        cookieConsent = 0;
        needCookieConsent = 1;
        deleteCookies();
      },
      requireCookieConsent() {
        needCookieConsent = 1;
        setConsentFlags();
      },
      disableBrowserFeatureDetection() { features = 0; },
      disableCookies() { cookiesOff = 1; },
      setTrackerUrl(u) { trackerUrl = u; },
      setSessionCookieTimeout(s) { sessionTTL = s; },
      setVisitorCookieTimeout(s) { visitorTTL = s; },
      setCookieNamePrefix(v) { prefix = v; },
      setCookieSameSite(v) { sameSite = v; },
      setSecureCookie(v) { secure = v; },
      setCookiePath(v) { cookiePath = v; },
      setCookieDomain(v) { cookieDomain = ('' + v).replace(/^\*|\.$/g, ''); },
      setDomains(list) {
        domains = [].concat(list);
        // The page's own host is local too, unless a path pattern covers it.
        if (!matches(loc.href, domains)) domains.push(loc.hostname);
      },
      setUserId(id) { userId = id; },
      setVisitorId(id) { if (HEX16.test(id = ('' + id).toLowerCase())) forcedId = id; },
      setSiteId(id) { siteId = id; },
      alwaysUseSendBeacon() { beacon = 1; },
      disableAlwaysUseSendBeacon() { beacon = 0; },
      enableLinkTracking() {
        if (!linkTracking) {
          linkTracking = 1;
          on(d, 'click', onClick);
          on(d, 'auxclick', onClick);
        }
      },
      setCookieConsentGiven() {
        cookieConsent = 1;
        if (sentCookieless && cookiesOn()) {
          sentCookieless = 0;
          api.ping();
        }
      },
      requireConsent() {
        needConsent = needCookieConsent = 1;
        setConsentFlags();
      },
      setConsentGiven(cookies) {
        consent = 1;
        if (cookies !== false) api.setCookieConsentGiven();
        dispatch(consentQueue.splice(0), 1);
      },
      disablePerformanceTracking() { perf = 0; },
      setPagePerformanceTiming(...v) { perfManual = v; },
      setExcludedQueryParams(list) { excludedParams = [].concat(list); },
      setExcludedReferrers(list) { excludedRefs = [].concat(list); },

      // --- the rest ---
      getTrackerUrl: () => trackerUrl,
      resetUserId() { userId = ''; },
      getVisitorId: () => forcedId || (HEX16.test(idCookie()[0]) ? idCookie()[0] : uuid),
      setCustomUrl(u) { customUrl = new URL(u, loc.href).href; },
      setDocumentTitle(t) { title = t; },
      setReferrerUrl(u) { referrer = u; },
      setCustomDimension(id, v) { dims[id] = v; },
      deleteCustomDimension(id) { delete dims[id]; },
      appendToTrackingUrl(s) { extra = s ? '&' + s : ''; },
      setRequestMethod(m) {
        method = m;
        if (m == 'GET') beacon = 0;
      },
      setReferralCookieTimeout(s) { refTTL = s; },
      deleteCookies,
      setDoNotTrack(v) {
        dnt = v && /^(1|yes)$/.test(n.doNotTrack || w.doNotTrack);
        if (dnt) {
          cookiesOff = 1;
          deleteCookies();
        }
      },
      rememberConsentGiven(hours) {
        stamp('mtm_consent', hours);
        drop('mtm_consent_removed');
        api.setConsentGiven();
      },
      forgetConsentGiven(hours) {
        drop('mtm_consent');
        stamp('mtm_consent_removed', hours);
        api.forgetCookieConsentGiven();
        consent = 0;
        needConsent = 1;
      },
      rememberCookieConsentGiven(hours) {
        stamp('mtm_cookie_consent', hours);
        api.setCookieConsentGiven();
      },
      trackPageView(t, data, cb) {
        pageViewId = hex(3);
        contentSeen = {};
        const pf = perf && (firstPageView || perfManual);
        firstPageView = 0;
        track({ action_name: t || title || d.title }, data, cb, 0, pf);
      },
      trackEvent(c, a, name, v, data, cb) {
        // Category and action must not be blank ([x] makes undefined and null '').
        if (/\S/.test([c]) && /\S/.test([a])) {
          track({ e_c: c, e_a: a, e_n: name, e_v: v, ca: 1 }, data, cb);
        }
      },
      trackSiteSearch(kw, cat, count, data) {
        track({ search: kw, search_cat: cat, search_count: count }, data);
      },
      trackGoal(id, revenue, data, cb) { track({ idgoal: id, revenue }, data, cb); },
      trackLink(u, type, data, cb) { track({ [type == 'download' ? type : 'link']: purify(u) }, data, cb, 1); },
      trackRequest(q, data, cb) { track(q, data, cb); },
      ping() { track({ ping: 1 }, 0, 0, 1); },
      enableHeartBeatTimer(sec) {
        if (!heartBeat) {
          on(w, 'blur', () => beat(1));
          // A page made visible is in front: as good as focused.
          on(d, 'visibilitychange', () => d.hidden ? beat(hadFocus) : hadFocus = 1);
        }
        heartBeat = Math.max(sec || 15, 5) * 1e3;
      },
      enableJSErrorTracking() {
        if (!jsErrors) {
          jsErrors = 1;
          on(w, 'error', (e) => e.message &&
            api.trackEvent('JavaScript Errors', [e.filename, e.lineno, e.colno].join(':'), e.message));
        }
      },

      // --- ecommerce ---
      addEcommerceItem(sku, name, cat, price, qty) {
        if (sku) cart[sku] = ['' + sku, name || '', cat || '', +price || 0, +qty || 1];
      },
      removeEcommerceItem(sku) { delete cart[sku]; },
      clearEcommerceCart() { cart = {}; },
      setEcommerceView(sku, name, cat, price) {
        productView = { _pks: sku, _pkn: name, _pkc: cat && cat.map ? JSON.stringify(cat) : cat, _pkp: price };
      },
      trackEcommerceOrder(id, grand, sub, tax, ship, disc) {
        if (id || id === 0) {
          order({ ec_id: id, revenue: grand, ec_st: sub, ec_tx: tax, ec_sh: ship, ec_dt: disc });
          cart = {};
        }
      },
      trackEcommerceCartUpdate(grand) { order({ revenue: grand }); },

      // --- content ---
      trackContentImpression(name, piece, target) { content('', name, piece, target); },
      trackContentInteraction(interaction, name, piece, target) {
        if (interaction) content(interaction, name, piece, target);
      },
      // Each [data-track-content] block: name, piece and target from its
      // data-content-* attributes, else from the piece's media source and
      // the target's link.
      trackAllContentImpressions() {
        d.querySelectorAll('[data-track-content]').forEach((el) => {
          const part = (k) => el.querySelector('[data-content-' + k + ']') || el;
          const attr = (e, k) => e.getAttribute('data-content-' + k);
          const piece = part('piece'), target = part('target');
          api.trackContentImpression(attr(el, 'name') || piece.src || el.title || 'Unknown',
            attr(piece, 'piece') || piece.src, attr(target, 'target') || target.href);
        });
      },
    };
    return api;
  }

  // The async tracker, the global Matomo/Piwik object and the _paq queue.
  main = Tracker();
  trackers.push(main);
  const M = w.Matomo = w.Piwik = {
    initialized: true,
    getTracker: Tracker,
    getAsyncTracker: () => main,
  };

  // run executes one _paq entry, [name, ...args] or [function, ...args],
  // on every async tracker (the endpoint and site only on the first).
  // Unknown names and 'Plugin::method' are ignored.
  const run = (cmd) => {
    try {
      const [name, ...args] = cmd;
      for (const t of /^(addTracker|setTrackerUrl|setSiteId)$/.test(name) ? [main] : trackers) {
        if (isFn(name)) name.apply(t, args);
        else if (isFn(t[name])) t[name](...args);
      }
    } catch (e) {
      console.error(e);
    }
  };
  const queued = [].concat(w._paq || []);
  w._paq = { push: (...cmds) => { cmds.forEach(run); } };
  const first = Object.keys(main).slice(0, FIRST);
  first.forEach((k) => queued.forEach((c) => c && c[0] == k && run(c)));
  queued.forEach((c) => c && first.includes(c[0]) || run(c));
  for (const k of ['matomoAsyncInit', 'piwikAsyncInit']) if (isFn(w[k])) w[k](M);
})();
