package tracker_test

import (
	"net/url"
	"strings"
	"testing"
	"text/template"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// liteLoader loads /footfall-lite.js: Setup is HTML placed before the
// script tag (typically a _paq script), Body the page's body; Title the
// script tag's attributes.
var liteLoader = loader{
	name: "lite",
	page: template.Must(template.New("lite").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Lite page</title>
{{.Setup}}
<script src="{{.Base}}footfall-lite.js" {{.Title}}></script>
</head><body>{{.Body}}</body></html>`)),
}

// liteCommon is what every lite request carries.
func (p *page) liteCommon() want {
	return want{
		"idsite": "1", "rec": "1", "r": `~\d{6}`, "h": `~1?\d|2[0-3]`, "m": `~[1-5]?\d`, "s": `~[1-5]?\d`,
		"url": p.base() + "page.html", "send_image": "0", "pv_id": `~[a-zA-Z0-9]{6}`, "cookie": "0", "res": p.res(),
	}
}

// liteBeacon checks that h came by navigator.sendBeacon with the query in
// the URL and no body, and returns its parameters.
func liteBeacon(t *testing.T, h hit) url.Values {
	t.Helper()
	if h.Method != "POST" || h.Body != "" || h.FetchMode != "no-cors" || h.ContentType != "" {
		t.Errorf("want a sendBeacon POST without body, got %s body=%q type=%q mode=%q",
			h.Method, h.Body, h.ContentType, h.FetchMode)
	}
	return h.Query
}

func TestLite(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are slow")
	}
	env := newBrowserEnv(t, liteLoader)

	t.Run("data attributes", func(t *testing.T) {
		p := env.newPage(t)
		other := strings.Replace(p.base(), "127.0.0.1", "localhost", 1)
		p.open(`data-site-id="1"`, "", stayOnPage+`
			<a id="local" data-stay href="local.html">local</a>
			<a id="out" href="`+other+`out.html">out</a>`)
		checkParams(t, "page view", liteBeacon(t, p.waitHits(1)[0]), merge(p.liteCommon(), want{"action_name": "Lite page"}))
		p.click("#local")
		p.do(void(chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#out")))))
		hits := p.waitHits(2)
		checkParams(t, "outlink", liteBeacon(t, hits[1]), merge(p.liteCommon(), want{"link": other + "out.html"}))
		if c := p.cookies(); len(c) != 0 {
			t.Errorf("cookies %v, want none", names(c))
		}
	})

	t.Run("data-url and data-manual", func(t *testing.T) {
		p := env.newPage(t)
		p.open(`data-site-id="5" data-url="`+p.base()+`elsewhere.php" data-manual`, "", "")
		p.noHits(500 * time.Millisecond)
		p.push(`['trackEvent', 'c', 'a', 'n', 2]`)
		h := p.waitHits(1)[0]
		if !strings.HasSuffix(h.Path, "/elsewhere.php") {
			t.Errorf("sent to %s, want elsewhere.php", h.Path)
		}
		checkParams(t, "event", h.Query, merge(p.liteCommon(), want{
			"idsite": "5", "e_c": "c", "e_a": "a", "e_n": "n", "e_v": "2", "ca": "1", "pv_id": "-",
		}))
	})

	t.Run("_paq", func(t *testing.T) {
		p := env.newPage(t)
		other := strings.Replace(p.base(), "127.0.0.1", "localhost", 1)
		p.open("", `<script>
			var _paq = window._paq = window._paq || [];
			window.errs = [];
			console.error = function () { errs.push([].slice.call(arguments).join(' ')); };
			_paq.push(['trackPageView']);
			_paq.push(['enableLinkTracking']);
			_paq.push(['setCustomUrl', '/spa/route']);
			_paq.push(['setDocumentTitle', 'Route']);
			_paq.push(['setReferrerUrl', 'https://ref.example/']);
			_paq.push(['setDomains', ['localhost']]);
			_paq.push(['setTrackerUrl', '`+p.base()+`matomo.php']);
			_paq.push(['setSiteId', 1]);
			_paq.push(['enableHeartBeatTimer']);
			_paq.push(['Plugin::call']);
			_paq.push([function () { window.fnThis = typeof this.trackPageView; }]);
			</script>`, `<a id="sub" href="`+other+`x.html">not an outlink</a>`)
		base := merge(p.liteCommon(), want{"url": p.env.srv.URL + "/spa/route", "urlref": "https://ref.example/"})
		pv := liteBeacon(t, p.waitHits(1)[0])
		checkParams(t, "page view", pv, merge(base, want{"action_name": "Route"}))
		p.push(`['trackEvent', 'c', 'a']`)
		p.waitHits(2) // requests sent together may arrive in any order
		p.push(`['trackLink', 'https://example.test/file.zip', 'download']`)
		hits := p.waitHits(3)
		checkParams(t, "event", liteBeacon(t, hits[1]), merge(base, want{"e_c": "c", "e_a": "a", "ca": "1", "pv_id": pv.Get("pv_id")}))
		checkParams(t, "download", liteBeacon(t, hits[2]), merge(base, want{"download": "https://example.test/file.zip", "pv_id": pv.Get("pv_id")}))
		if got := eval[string](p, "errs.length + ' ' + window.fnThis"); got != "0 function" {
			t.Errorf("console errors and this of a function entry: %q, want \"0 function\"", got)
		}
		// A link to a host of setDomains is no outlink.
		p.do(void(chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS("#sub")))))
		p.waitHits(3)
	})
}
