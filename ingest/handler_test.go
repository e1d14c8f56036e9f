package ingest

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
)

// handlerForm is one way a client sends a tracking request.
type handlerForm struct {
	name string
	post bool // CORS headers expected
	bulk bool // answered with bulk JSON
	// build turns a raw query string into method, target and body.
	build func(t *testing.T, q string) (method, target, body string)
}

var handlerForms = []handlerForm{
	{name: "get", build: func(_ *testing.T, q string) (string, string, string) {
		return http.MethodGet, "/matomo.php?" + q, ""
	}},
	{name: "post-form", post: true, build: func(_ *testing.T, q string) (string, string, string) {
		return http.MethodPost, "/matomo.php", q
	}},
	{name: "beacon", post: true, build: func(_ *testing.T, q string) (string, string, string) {
		return http.MethodPost, "/piwik.php?" + q, ""
	}},
	{name: "bulk-string", post: true, bulk: true, build: func(t *testing.T, q string) (string, string, string) {
		item, err := json.Marshal("?" + q)
		if err != nil {
			t.Fatal(err)
		}
		return http.MethodPost, "/matomo.php", `{"requests":[` + string(item) + `]}`
	}},
	{name: "bulk-object", post: true, bulk: true, build: func(t *testing.T, q string) (string, string, string) {
		obj := map[string]string{}
		for _, pair := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(pair, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				continue // a JSON object has no malformed escapes to carry
			}
			obj[k] = v
		}
		item, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		return http.MethodPost, "/matomo.php", `{"requests":[` + string(item) + `]}`
	}},
}

// handlerOutcome is what a request should come to.
type handlerOutcome int

const (
	outTracked  handlerOutcome = iota // 200, one hit queued
	outExcluded                       // 200, counted, nothing queued
	outInvalid                        // 400 (bulk: counted invalid)
)

type handlerKindCase struct {
	name string
	q    string
	hdr  map[string]string
	out  handlerOutcome
	want analytics.Hit
}

func enc(s string) string { return url.QueryEscape(s) }

// handlerKindCases covers every hit kind, the precedence between kinds,
// every parameter group and every per-request error of §1.2/§1.3.
func handlerKindCases() []handlerKindCase {
	h := func(k analytics.HitKind, f func(*analytics.Hit)) analytics.Hit {
		hit := baseHit(k)
		if f != nil {
			f(&hit)
		}
		return hit
	}
	items := `[["SKU1","Shirt","Clothes",12.5,2],["SKU2","Hat",["Hats","Summer","","A","B","C","D"],"5",1],[""],["SKU3"],"junk",[7,8,"x","y","z"]]`
	return []handlerKindCase{
		{name: "pageview minimal", q: "idsite=1&rec=1", want: baseHit(analytics.KindPageview)},
		{name: "pageview title and url", q: "idsite=2&rec=1&action_name=Hello+World%21&url=" + enc("https://shop.example/p?a=1&b=é"),
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.SiteID = 2
				x.Title = "Hello World!"
				x.URL = "https://shop.example/p?a=1&b=é"
			})},
		{name: "pageview every group",
			q: "idsite=1&rec=1&r=123456&h=13&m=5&s=59&url=" + enc("https://shop.example/p?x=1") +
				"&urlref=" + enc("https://search.example/?q=hat") + "&action_name=Caf%C3%A9+menu&_id=0123456789ABCDEF&_idn=0" +
				"&uid=user%40example.com&new_visit=1&pv_id=aB3dE6&res=1920x1080&pdf=1&qt=0&realp=0&wma=0&fla=0&java=1&ag=0&cookie=1" +
				"&lang=fr-FR&uadata=" + enc(`{"brands":[]}`) + "&pf_net=10&pf_srv=20&pf_tfr=5&pf_dm1=100&pf_dm2=50&pf_onl=3" +
				"&dimension2=Gold&dimension1=Blue&_rcn=spring&_rck=hats&_refts=1714900000&_ref=" + enc("https://news.example/") +
				"&consent=1&bots=1&send_image=1&data=%7B%7D&cs=UTF-8&apiv=1&_idts=1&_viewts=2&_ects=3&rand=4&unknown=%zz",
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.URL = "https://shop.example/p?x=1"
				x.Referrer = "https://search.example/?q=hat"
				x.Title = "Café menu"
				x.CookieID = analytics.VisitorID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
				x.UserID = "user@example.com"
				x.Flags = analytics.FlagNewVisit | analytics.FlagConsent | analytics.FlagTrackBots
				x.PageViewID = "aB3dE6"
				x.Device = analytics.Device{ScreenWidth: 1920, ScreenHeight: 1080, LocalHour: 13, LocalMinute: 5, LocalSecond: 59,
					Plugins: analytics.PluginPDF | analytics.PluginJava | analytics.PluginCookie}
				x.Lang = "fr-FR"
				x.UAData = `{"brands":[]}`
				x.Timing = &analytics.PageTiming{Network: 10, Server: 20, Transfer: 5, DOMProcessing: 100, DOMCompletion: 50, OnLoad: 3}
				x.Dimensions = []analytics.Dimension{{ID: 1, Value: "Blue"}, {ID: 2, Value: "Gold"}}
				x.Attribution = &analytics.Attribution{CampaignName: "spring", CampaignKeyword: "hats",
					ReferrerURL: "https://news.example/", Time: time.Unix(1714900000, 0).UTC()}
			})},
		{name: "pageview all plugins, ua override, partial timing",
			q: "idsite=1&rec=1&pdf=1&qt=1&realp=1&wma=1&fla=1&java=1&ag=1&cookie=1&ua=Bot%2F1.0&pf_srv=7&pf_net=x&h=24&m=-1&s=60&res=0x10",
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.Device.Plugins = 0xff
				x.UserAgent = "Bot/1.0"
				x.Timing = &analytics.PageTiming{Network: -1, Server: 7, Transfer: -1, DOMProcessing: -1, DOMCompletion: -1, OnLoad: -1}
			})},
		{name: "cookies off", q: "idsite=1&rec=1&cookie=0&_id=",
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.Flags = analytics.FlagNoCookies })},
		{name: "visitor id: short _id ignored, long _id cut, valid cid",
			q: "idsite=1&rec=1&_id=abc&cid=FEDCBA9876543210",
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.CID = analytics.VisitorID{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
			})},
		{name: "long _id: first 16 hex", q: "idsite=1&rec=1&_id=00112233445566778899",
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.CookieID = analytics.VisitorID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}
			})},
		{name: "non-hex _id ignored", q: "idsite=1&rec=1&_id=zzzzzzzzzzzzzzzz", want: baseHit(analytics.KindPageview)},
		{name: "uid cut to 200 characters", q: "idsite=1&rec=1&uid=" + strings.Repeat("é", 250),
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.UserID = strings.Repeat("é", 200) })},
		{name: "product view", q: "idsite=1&rec=1&action_name=Hat&_pks=SKU9&_pkn=Blue+Hat&_pkc=" + enc(`["Hats","Blue"]`) + "&_pkp=19.9",
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.Title = "Hat"
				x.Product = &analytics.ProductView{SKU: "SKU9", Name: "Blue Hat", Categories: []string{"Hats", "Blue"}, Price: 19.9}
			})},
		{name: "product view with plain category", q: "idsite=1&rec=1&_pkc=Hats",
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.Product = &analytics.ProductView{Categories: []string{"Hats"}}
			})},
		{name: "event", q: "idsite=1&rec=1&e_c=Video&e_a=Play&e_n=Intro&e_v=1.5&ca=1&url=" + enc("https://shop.example/"),
			want: h(analytics.KindEvent, func(x *analytics.Hit) {
				x.Flags = analytics.FlagCustomAction
				x.URL = "https://shop.example/"
				x.Event = &analytics.Event{Category: "Video", Action: "Play", Name: "Intro", Value: 1.5, HasValue: true}
			})},
		{name: "event trimmed, bad value", q: "idsite=1&rec=1&e_c=+Video+&e_a=Play&e_v=abc",
			want: h(analytics.KindEvent, func(x *analytics.Hit) {
				x.Event = &analytics.Event{Category: "Video", Action: "Play"}
			})},
		{name: "event with blank action is a custom action", q: "idsite=1&rec=1&e_c=Video&e_a=+&ca=1",
			want: h(analytics.KindCustom, func(x *analytics.Hit) { x.Flags = analytics.FlagCustomAction })},
		{name: "event with blank action, no ca, is a page view", q: "idsite=1&rec=1&e_c=Video",
			want: baseHit(analytics.KindPageview)},
		{name: "content impression", q: "idsite=1&rec=1&c_n=Banner&c_p=%2Fimg%2Fbanner.png&c_t=" + enc("https://shop.example/sale"),
			want: h(analytics.KindContentImpression, func(x *analytics.Hit) {
				x.Content = &analytics.Content{Name: "Banner", Piece: "/img/banner.png", Target: "https://shop.example/sale"}
			})},
		{name: "content interaction beats link", q: "idsite=1&rec=1&c_n=Banner&c_p=img&c_i=click&link=" + enc("https://out.example/"),
			want: h(analytics.KindContentInteraction, func(x *analytics.Hit) {
				x.Content = &analytics.Content{Name: "Banner", Piece: "img", Interaction: "click"}
			})},
		{name: "site search", q: "idsite=1&rec=1&search=blue+hat&search_cat=Hats&search_count=4",
			want: h(analytics.KindSiteSearch, func(x *analytics.Hit) {
				x.Search = &analytics.Search{Keyword: "blue hat", Category: "Hats", Count: 4}
			})},
		{name: "site search no count, content beats nothing", q: "idsite=1&rec=1&search=x&search_count=-3",
			want: h(analytics.KindSiteSearch, func(x *analytics.Hit) {
				x.Search = &analytics.Search{Keyword: "x", Count: -1}
			})},
		{name: "content beats search", q: "idsite=1&rec=1&c_n=X&search=y",
			want: h(analytics.KindContentImpression, func(x *analytics.Hit) { x.Content = &analytics.Content{Name: "X"} })},
		{name: "outlink", q: "idsite=1&rec=1&link=" + enc("https://partner.example/") + "&url=" + enc("https://partner.example/"),
			want: h(analytics.KindOutlink, func(x *analytics.Hit) {
				x.Link = "https://partner.example/"
				x.URL = "https://partner.example/"
			})},
		{name: "download beats link", q: "idsite=1&rec=1&download=" + enc("https://shop.example/cat.pdf") + "&link=" + enc("https://x.example/"),
			want: h(analytics.KindDownload, func(x *analytics.Hit) { x.Link = "https://shop.example/cat.pdf" })},
		{name: "search beats download", q: "idsite=1&rec=1&search=a&download=b",
			want: h(analytics.KindSiteSearch, func(x *analytics.Hit) { x.Search = &analytics.Search{Keyword: "a", Count: -1} })},
		{name: "goal", q: "idsite=1&rec=1&idgoal=3&revenue=9.99",
			want: h(analytics.KindGoal, func(x *analytics.Hit) { x.GoalID = 3; x.Revenue = 9.99; x.Flags |= analytics.FlagRevenue })},
		{name: "goal with explicit zero revenue", q: "idsite=1&rec=1&idgoal=3&revenue=0",
			want: h(analytics.KindGoal, func(x *analytics.Hit) { x.GoalID = 3; x.Flags |= analytics.FlagRevenue })},
		{name: "goal beats event", q: "idsite=1&rec=1&idgoal=2&e_c=a&e_a=b",
			want: h(analytics.KindGoal, func(x *analytics.Hit) { x.GoalID = 2 })},
		{name: "negative or bad idgoal is no goal", q: "idsite=1&rec=1&idgoal=-1&revenue=abc",
			want: baseHit(analytics.KindPageview)},
		{name: "ecommerce order",
			q: "idsite=1&rec=1&idgoal=0&ec_id=A-1&revenue=30.5&ec_st=25&ec_tx=3.5&ec_sh=2&ec_dt=1%2C5&ec_items=" + enc(items),
			want: h(analytics.KindEcommerceOrder, func(x *analytics.Hit) {
				x.Revenue = 30.5
				x.Flags |= analytics.FlagRevenue
				x.Order = &analytics.Order{OrderID: "A-1", Revenue: 30.5, Subtotal: 25, Tax: 3.5, Shipping: 2, Discount: 1.5,
					Items: []analytics.Item{
						{SKU: "SKU1", Name: "Shirt", Categories: []string{"Clothes"}, Price: 12.5, Quantity: 2},
						{SKU: "SKU2", Name: "Hat", Categories: []string{"Hats", "Summer", "A", "B", "C"}, Price: 5, Quantity: 1},
						{SKU: "SKU3", Quantity: 1},
						{SKU: "7", Name: "8", Categories: []string{"x"}, Quantity: 1},
					}}
			})},
		{name: "cart update", q: "idsite=1&rec=1&idgoal=0&revenue=17.5&ec_items=" + enc(`[["SKU1","Shirt","",12.5,1]]`),
			want: h(analytics.KindCartUpdate, func(x *analytics.Hit) {
				x.Revenue = 17.5
				x.Flags |= analytics.FlagRevenue
				x.Order = &analytics.Order{Revenue: 17.5, Items: []analytics.Item{{SKU: "SKU1", Name: "Shirt", Price: 12.5, Quantity: 1}}}
			})},
		{name: "cart update with malformed items", q: "idsite=1&rec=1&idgoal=0&ec_items=%5B%5B",
			want: h(analytics.KindCartUpdate, func(x *analytics.Hit) { x.Order = &analytics.Order{} })},
		{name: "ping", q: "idsite=1&rec=1&ping=1&url=" + enc("https://shop.example/"),
			want: h(analytics.KindPing, func(x *analytics.Hit) { x.URL = "https://shop.example/" })},
		{name: "ping beats goal", q: "idsite=1&rec=1&ping=1&idgoal=2",
			want: baseHit(analytics.KindPing)},
		{name: "custom action", q: "idsite=1&rec=1&ca=1",
			want: h(analytics.KindCustom, func(x *analytics.Hit) { x.Flags = analytics.FlagCustomAction })},
		{name: "headers: DNT, GPC", q: "idsite=1&rec=1", hdr: map[string]string{"DNT": "1", "Sec-GPC": "1"},
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.Flags = analytics.FlagDNT | analytics.FlagGPC })},
		{name: "headers: X-Do-Not-Track, no Accept-Language", q: "idsite=1&rec=1",
			hdr:  map[string]string{"X-Do-Not-Track": "1", "Accept-Language": ""},
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.Flags = analytics.FlagDNT; x.Lang = "" })},
		{name: "DNT 0 is no DNT", q: "idsite=1&rec=1", hdr: map[string]string{"DNT": "0"}, want: baseHit(analytics.KindPageview)},

		// Authenticated overrides.
		{name: "valid token alone", q: "idsite=1&rec=1&token_auth=" + testToken,
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.Flags = analytics.FlagAuthenticated })},
		{name: "wrong token alone is harmless", q: "idsite=1&rec=1&token_auth=nope", want: baseHit(analytics.KindPageview)},
		{name: "cip with token", q: "idsite=1&rec=1&cip=%3A%3Affff%3A203.0.113.9&token_auth=" + testToken,
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.Flags = analytics.FlagAuthenticated
				x.IP = netip.MustParseAddr("203.0.113.9")
			})},
		{name: "cip without token", q: "idsite=1&rec=1&cip=203.0.113.9", out: outInvalid},
		{name: "cip with wrong token", q: "idsite=1&rec=1&cip=203.0.113.9&token_auth=nope", out: outInvalid},
		{name: "cip unreadable", q: "idsite=1&rec=1&cip=999.1.1.1&token_auth=" + testToken, out: outInvalid},
		{name: "location with token", q: "idsite=1&rec=1&country=GB&region=ENG&city=London&lat=51.5&long=-0.12&token_auth=" + testToken,
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.Flags = analytics.FlagAuthenticated
				x.Location = &analytics.Location{CountryCode: "gb", RegionCode: "ENG", City: "London", Latitude: 51.5, Longitude: -0.12, HasCoords: true}
			})},
		{name: "country without token", q: "idsite=1&rec=1&country=gb", out: outInvalid},
		{name: "city without token", q: "idsite=1&rec=1&city=Paris", out: outInvalid},
		{name: "lat without token", q: "idsite=1&rec=1&lat=1", out: outInvalid},
		{name: "lat out of range", q: "idsite=1&rec=1&lat=91&long=0&token_auth=" + testToken, out: outInvalid},
		{name: "long unreadable", q: "idsite=1&rec=1&long=east&token_auth=" + testToken, out: outInvalid},
		{name: "recent cdt needs no token", q: "idsite=1&rec=1&cdt=" + enc("2024-05-06 06:00:00"),
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.Time = time.Date(2024, 5, 6, 6, 0, 0, 0, time.UTC) })},
		{name: "recent unix cdt", q: "idsite=1&rec=1&cdt=1714975689",
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.Time = time.Unix(1714975689, 0).UTC() })},
		{name: "cdo", q: "idsite=1&rec=1&cdo=60",
			want: h(analytics.KindPageview, func(x *analytics.Hit) { x.Time = testNow.Add(-time.Minute) })},
		{name: "old cdt without token", q: "idsite=1&rec=1&cdt=" + enc("2024-05-04 07:08:09"), out: outInvalid},
		{name: "old cdt via cdo without token", q: "idsite=1&rec=1&cdo=90000", out: outInvalid},
		{name: "old cdt with token", q: "idsite=1&rec=1&cdt=" + enc("2024-05-04 07:08:09") + "&token_auth=" + testToken,
			want: h(analytics.KindPageview, func(x *analytics.Hit) {
				x.Flags = analytics.FlagAuthenticated
				x.Time = time.Date(2024, 5, 4, 7, 8, 9, 0, time.UTC)
			})},
		{name: "future cdt ignored", q: "idsite=1&rec=1&cdt=" + enc("2030-01-01 00:00:00"), want: baseHit(analytics.KindPageview)},
		{name: "cdt over 20 years old ignored", q: "idsite=1&rec=1&cdt=" + enc("2000-01-01 00:00:00"), want: baseHit(analytics.KindPageview)},
		{name: "unreadable cdt ignored", q: "idsite=1&rec=1&cdt=yesterday", want: baseHit(analytics.KindPageview)},

		// Site and cid validation.
		{name: "idsite missing", q: "rec=1&action_name=x", out: outInvalid},
		{name: "idsite zero", q: "idsite=0&rec=1", out: outInvalid},
		{name: "idsite negative", q: "idsite=-1&rec=1", out: outInvalid},
		{name: "idsite not a number", q: "idsite=abc&rec=1", out: outInvalid},
		{name: "idsite unknown", q: "idsite=99&rec=1", out: outInvalid},
		{name: "cid too short", q: "idsite=1&rec=1&cid=abc", out: outInvalid},
		{name: "cid too long", q: "idsite=1&rec=1&cid=0123456789abcdef0", out: outInvalid},
		{name: "cid not hex", q: "idsite=1&rec=1&cid=0123456789abcdeg", out: outInvalid},

		// Exclusions: valid, answered 200, nothing queued.
		{name: "rec missing", q: "idsite=1&action_name=x", out: outExcluded},
		{name: "rec zero", q: "idsite=1&rec=0", out: outExcluded},
		{name: "rec zero with unknown site is invalid", q: "idsite=99&rec=0", out: outInvalid},
		{name: "prefetch X-Purpose", q: "idsite=1&rec=1", hdr: map[string]string{"X-Purpose": "preview"}, out: outExcluded},
		{name: "prefetch X-Moz", q: "idsite=1&rec=1", hdr: map[string]string{"X-Moz": "prefetch"}, out: outExcluded},
		{name: "prefetch Sec-Purpose", q: "idsite=1&rec=1", hdr: map[string]string{"Sec-Purpose": "prefetch;prerender"}, out: outExcluded},
	}
}

// TestHandlerMatrix sends every case of handlerKindCases in every request
// form and checks status, headers, exact body and the queued hits.
func TestHandlerMatrix(t *testing.T) {
	gif := string(respGIF)
	for _, form := range handlerForms {
		for _, c := range handlerKindCases() {
			t.Run(form.name+"/"+c.name, func(t *testing.T) {
				e := newHandlerEnv(t, nil)
				method, target, body := form.build(t, c.q)
				w := e.do(method, target, body, c.hdr)

				hdr := map[string]string{
					"Cache-Control":                    "no-store",
					"Access-Control-Allow-Origin":      "",
					"Access-Control-Allow-Credentials": "",
				}
				if form.post {
					hdr["Access-Control-Allow-Origin"] = testOrigin
					hdr["Access-Control-Allow-Credentials"] = "true"
				}
				var status int
				var wantBody string
				switch {
				case form.bulk:
					hdr["Content-Type"] = "application/json"
					status = http.StatusOK
					switch c.out {
					case outInvalid:
						wantBody = `{"status":"success","tracked":0,"invalid":1}`
					default:
						wantBody = `{"status":"success","tracked":1,"invalid":0}`
					}
				default:
					hdr["Content-Type"] = "image/gif"
					hdr["Content-Length"] = "43"
					wantBody = gif
					status = http.StatusOK
					if c.out == outInvalid {
						status = http.StatusBadRequest
					}
				}
				checkResp(t, w, status, hdr, wantBody)
				var want []analytics.Hit
				if c.out == outTracked {
					want = []analytics.Hit{c.want}
				}
				checkHits(t, want, e.queue.hits())
				if n := len(e.queue.calls); n > 1 {
					t.Errorf("%d Enqueue calls, want at most 1", n)
				}
			})
		}
	}
}
