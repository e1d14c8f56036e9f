// Footfall lite tracker (/footfall-lite.js): page views, events and
// outlinks, no cookies, under 1 KB gzipped. Same wire protocol as the full
// tracker; it sends no _id, so the server identifies the visitor without
// cookies. See doc.go for how to use it.
//
// Configured by the _paq queue like Matomo's tracker (the commands it
// knows are the methods of `api` below; the rest are ignored) and/or by
// data- attributes on its own script tag:
//
//   data-site-id   the site (setSiteId)
//   data-url       the tracking endpoint (setTrackerUrl); default: matomo.php
//                  next to this script
//   data-manual    with data-site-id: do not track the page view and
//                  outlinks by itself
//
// Readable source; lite.min.js is generated from it (go generate).
(() => {
  const w = window, d = document, loc = location, enc = encodeURIComponent;
  const random = () => Math.random().toFixed(6).slice(2); // 6 digits
  const script = d.currentScript || {};
  const attr = (k) => script.getAttribute && script.getAttribute('data-' + k);
  let trackerUrl = attr('url') || (script.src || '').replace(/[^/]*$/, 'matomo.php');
  let siteId = attr('site-id'), customUrl, title, referrer = d.referrer, domains = [loc.hostname];
  let pageViewId, linkTracking;

  // send tracks one action: its parameters, then those of every request,
  // by sendBeacon (query in the URL, no body) or else an image.
  const send = (o) => {
    const t = new Date();
    let q = 'rec=1&send_image=0&cookie=0&r=' + random();
    Object.assign(o, {
      idsite: siteId, h: t.getHours(), m: t.getMinutes(), s: t.getSeconds(), url: customUrl || loc.href,
      urlref: referrer, pv_id: pageViewId, res: screen.width + 'x' + screen.height,
    });
    for (const k in o) if (o[k] || o[k] === 0) q += '&' + k + '=' + enc(o[k]);
    const u = trackerUrl + '?' + q;
    if (!(navigator.sendBeacon && navigator.sendBeacon(u))) {
      new Image().src = u.replace('send_image=0', 'send_image=1');
    }
  };

  const api = {
    setTrackerUrl(u) { trackerUrl = u; },
    setSiteId(id) { siteId = id; },
    setCustomUrl(u) { customUrl = new URL(u, loc.href).href; },
    setDocumentTitle(t) { title = t; },
    setReferrerUrl(u) { referrer = u; },
    // Hosts whose links are not outlinks; each covers its subdomains.
    setDomains(list) { domains = domains.concat(list); },
    trackPageView(t) {
      pageViewId = random();
      send({ action_name: t || title || d.title });
    },
    trackEvent(c, a, name, v) {
      if (c && a) send({ e_c: c, e_a: a, e_n: name, e_v: v, ca: 1 });
    },
    trackLink(u, type) { send({ [type == 'download' ? type : 'link']: u }); },
    // Clicks on http(s) links to other hosts, unless class matomo_ignore.
    enableLinkTracking() {
      if (!linkTracking) {
        linkTracking = 1;
        d.addEventListener('click', (e) => {
          const a = e.target.closest && e.target.closest('a[href]'), h = a && a.hostname;
          if (h && /^http/.test(a.href) && !a.matches('.matomo_ignore,.piwik_ignore') &&
            !domains.some((x) => ('.' + h).endsWith('.' + ('' + x).replace(/^\*?\./, '')))) {
            api.trackLink(a.href);
          }
        }, true);
      }
    },
  };

  // _paq: queued commands run now (set… first), later ones at once;
  // [function] entries run with the tracker as `this`.
  const run = (cmd) => {
    try {
      const [name, ...args] = cmd;
      if (typeof name == 'function') name.apply(api, args);
      else if (api[name]) api[name](...args);
    } catch (e) {
      console.error(e);
    }
  };
  const queued = [].concat(w._paq || []);
  w._paq = { push: (...cmds) => { cmds.forEach(run); } };
  queued.forEach((c) => /^set/.test(c && c[0]) && run(c));
  queued.forEach((c) => /^set/.test(c && c[0]) || run(c));
  if (attr('site-id') && attr('manual') == null) {
    api.trackPageView();
    api.enableLinkTracking();
  }
})();
