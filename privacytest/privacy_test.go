package privacytest

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/ingest"
)

// The personal data a page can leak into tracking requests.
const (
	piiMail   = "jane.doe@mail.example"
	piiCard   = "4111 1111 1111 1111"
	piiPass   = "hunter2pass"
	piiToken  = "tok3nv4lue"
	piiSecret = "password=" + piiPass + " token=" + piiToken
)

func piiNeedles() []Needle {
	return []Needle{
		Text("e-mail", piiMail), Text("card", piiCard), Text("card digits", strings.ReplaceAll(piiCard, " ", "")),
		Text("password", piiPass), Text("token", piiToken),
	}
}

// hits is the traffic every case sends: client A (IPv4, a cookie id)
// browses, plays a video and leaks personal data into a URL, a title, a
// referrer, event fields, a search and a custom dimension; client B (IPv6,
// signed in: a user id and a cookie id) views a page and searches; client
// C (IPv4, no identifier) views two pages.
func hits(extra url.Values, hdr map[string]string) []req {
	p := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	a := func(v url.Values) req {
		v.Set("_id", cookieA)
		return req{ip: ipA, ua: uaA, params: v, hdr: hdr}
	}
	b := func(v url.Values) req {
		v.Set("_id", cookieB)
		v.Set("uid", uidB)
		return req{ip: ipB, ua: uaB, params: v, hdr: hdr}
	}
	c := func(v url.Values) req { return req{ip: ipC, ua: uaC, params: v, hdr: hdr} }
	leakURL := "https://shop.example/reset?email=" + url.QueryEscape(piiMail) + "&password=" + piiPass + "&token=" + piiToken +
		"&card=" + strings.ReplaceAll(piiCard, " ", "")
	return []req{
		a(p("url", "https://shop.example/products?ref=home", "action_name", "Products", "urlref", "https://www.google.com/",
			"res", "1920x1080", "h", "12", "m", "1", "s", "2", "dimension1", "blue")),
		b(p("url", "https://shop.example/account", "action_name", "Account")),
		a(p("url", "https://shop.example/products/42", "action_name", "Product 42", "pv_id", "aB3dE6")),
		c(p("url", "https://shop.example/", "action_name", "Home", "urlref", "https://news.example/story")),
		a(p("url", "https://shop.example/products/42", "e_c", "video", "e_a", "play", "e_n", "intro")),
		b(p("url", "https://shop.example/search?q=shoes", "search", "running shoes", "search_cat", "shoes", "search_count", "3")),
		c(p("url", "https://shop.example/about", "action_name", "About")),
		a(p("url", leakURL, "action_name", "Order for "+piiMail+", card "+piiCard+", "+piiSecret,
			"urlref", "https://mail.example/inbox?token="+piiToken+"&u="+piiMail, "dimension2", piiMail+" "+piiSecret)),
		a(p("url", "https://shop.example/account", "e_c", "account "+piiMail, "e_a", "login "+piiSecret, "e_n", piiCard)),
		a(p("url", "https://shop.example/account", "search", piiMail+" "+piiCard+" "+piiSecret)),
	}
}

// want says what a case must store.
type want struct {
	excluded  bool // nothing stored: every hit excluded
	noTrack   bool // "count, don't track": one identifier-free visit per hit
	cookies   bool // A's and B's _id identify them
	uid       bool // B's user id identifies B and is stored
	hashedUID bool // … hashed
	v4Mask    int  // bytes masked of A's and C's stored address; -1: no IP stored
	v6Mask    int  // bits masked of B's stored address; -1: no IP stored
	scrub     bool
}

// TestPrivacySettings runs the traffic of hits through the whole pipeline
// for each privacy setting, on both stores, asserts the stored visits and
// scans the database and the logs for what must not be there.
func TestPrivacySettings(t *testing.T) {
	normal := want{cookies: true, uid: true, v4Mask: 2, v6Mask: 80}
	with := func(w want, f func(*want)) want { f(&w); return w }
	dnt := map[string]string{"DNT": "1"}
	gpc := map[string]string{"Sec-GPC": "1"}
	consent := url.Values{"consent": {"1"}}
	cases := []struct {
		name    string
		site    analytics.Privacy
		params  url.Values
		hdr     map[string]string
		want    want
		comment string
	}{
		{name: "defaults", want: normal},
		{name: "ipv4 1 byte", site: analytics.Privacy{IPv4MaskBytes: 1}, want: with(normal, func(w *want) { w.v4Mask = 1 })},
		{name: "ipv4 2 bytes", site: analytics.Privacy{IPv4MaskBytes: 2}, want: normal},
		{name: "ipv4 3 bytes", site: analytics.Privacy{IPv4MaskBytes: 3}, want: with(normal, func(w *want) { w.v4Mask = 3 })},
		{name: "ipv4 4 bytes", site: analytics.Privacy{IPv4MaskBytes: 4}, want: with(normal, func(w *want) { w.v4Mask = 4 })},
		{name: "ipv6 64 bits", site: analytics.Privacy{IPv6MaskBits: 64}, want: with(normal, func(w *want) { w.v6Mask = 64 })},
		{name: "ipv6 16 bits", site: analytics.Privacy{IPv6MaskBits: 16}, want: with(normal, func(w *want) { w.v6Mask = 16 })},
		{name: "store ip off", site: analytics.Privacy{StoreIP: analytics.Off}, want: with(normal, func(w *want) { w.v4Mask, w.v6Mask = -1, -1 })},
		{name: "cookieless", site: analytics.Privacy{Cookieless: analytics.On}, want: with(normal, func(w *want) { w.cookies = false })},
		{name: "dnt ignore", site: analytics.Privacy{DNT: analytics.DNTIgnore}, hdr: dnt, want: normal},
		{name: "dnt exclude", site: analytics.Privacy{DNT: analytics.DNTExclude}, hdr: dnt, want: want{excluded: true}},
		{name: "dnt count", site: analytics.Privacy{DNT: analytics.DNTCount}, hdr: dnt, want: want{noTrack: true, v4Mask: -1, v6Mask: -1}},
		{name: "gpc ignore", site: analytics.Privacy{GPC: analytics.DNTIgnore}, hdr: gpc, want: normal},
		{name: "gpc exclude", site: analytics.Privacy{GPC: analytics.DNTExclude}, hdr: gpc, want: want{excluded: true}},
		{name: "gpc count", site: analytics.Privacy{GPC: analytics.DNTCount}, hdr: gpc, want: want{noTrack: true, v4Mask: -1, v6Mask: -1}},
		{name: "consent cookies, none given", site: analytics.Privacy{Consent: analytics.ConsentCookies},
			want: with(normal, func(w *want) { w.cookies, w.uid = false, false })},
		{name: "consent cookies, given", site: analytics.Privacy{Consent: analytics.ConsentCookies}, params: consent, want: normal},
		{name: "consent tracking, none given", site: analytics.Privacy{Consent: analytics.ConsentTracking}, want: want{excluded: true}},
		{name: "consent tracking, given", site: analytics.Privacy{Consent: analytics.ConsentTracking}, params: consent, want: normal},
		{name: "hash user id", site: analytics.Privacy{HashUserID: analytics.On}, want: with(normal, func(w *want) { w.hashedUID = true })},
		{name: "scrub pii", site: analytics.Privacy{ScrubPII: analytics.On}, want: with(normal, func(w *want) { w.scrub = true })},
		{name: "everything at once", site: analytics.Privacy{IPv4MaskBytes: 3, IPv6MaskBits: 96, Cookieless: analytics.On,
			HashUserID: analytics.On, ScrubPII: analytics.On, Consent: analytics.ConsentCookies}, params: consent,
			want: want{uid: true, hashedUID: true, v4Mask: 3, v6Mask: 96, scrub: true}},
	}
	// The instance defaults are Footfall's configuration defaults (DNT and
	// GPC "count", 2 bytes, 80 bits): each case's site overrides them.
	inst := config.Default().PrivacyDefaults()
	start := time.Date(2024, 6, 14, 10, 0, 0, 0, time.UTC)
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					p := newPipeline(t, kind, inst, analytics.Site{Timezone: "Europe/London", Privacy: c.site}, start)
					p.pclock.set(start.Add(time.Hour))
					traffic := hits(c.params, c.hdr)
					for _, r := range traffic {
						p.send(r)
					}
					p.drain()
					checkStored(t, p, c.want, len(traffic))
					checkScan(t, p, c.want)
				})
			}
		})
	}
}

// checkStored asserts the visits that must be stored.
func checkStored(t *testing.T, p *pipeline, w want, sent int) {
	t.Helper()
	vs := p.visits()
	p.mu.Lock()
	info := p.info
	p.mu.Unlock()
	switch {
	case w.excluded:
		if len(vs) != 0 || info.Excluded != sent {
			t.Fatalf("excluded: %d visits stored, %d hits excluded of %d", len(vs), info.Excluded, sent)
		}
		return
	case w.noTrack:
		if len(vs) != sent {
			t.Fatalf("count, don't track: %d visits for %d hits", len(vs), sent)
		}
		for _, v := range vs {
			if !v.VisitorID.IsZero() || !v.ConfigID.IsZero() || v.UserID != "" || v.Profilable || v.IP.IsValid() ||
				len(v.Dimensions) != 0 || len(v.ActionList) != 1 || len(v.ActionList[0].Dimensions) != 0 || !v.ActionList[0].VisitorID.IsZero() {
				t.Errorf("count, don't track: visit %+v", v.Visit)
			}
			if v.Location.CountryCode == "" {
				t.Errorf("count, don't track keeps the (aggregate) location: visit %d has none", v.ID)
			}
		}
		return
	}
	if info.Excluded != 0 {
		t.Errorf("%d hits excluded", info.Excluded)
	}
	byIP := map[string][]analytics.VisitDetails{}
	for _, v := range vs {
		byIP[v.Location.City] = append(byIP[v.Location.City], v)
	}
	if len(vs) != 3 || len(byIP["London"]) != 1 || len(byIP["Berlin"]) != 1 || len(byIP["Boxford"]) != 1 {
		for _, v := range vs {
			t.Logf("visit %d: visitor %v config %v ip %v city %q actions %d", v.ID, v.VisitorID, v.ConfigID, v.IP, v.Location.City, v.Actions)
		}
		t.Fatalf("%d visits, want one for each of the 3 clients", len(vs))
	}
	a, b, c := byIP["London"][0], byIP["Berlin"][0], byIP["Boxford"][0]

	// Identity.
	cookie := func(s string) analytics.VisitorID { id, _ := analytics.ParseVisitorID(s); return id }
	if w.cookies {
		eq(t, "A's visitor id", a.VisitorID, cookie(cookieA))
		eq(t, "A profilable", a.Profilable, true)
	} else {
		eq(t, "A's visitor id is the config hash", a.VisitorID, a.ConfigID)
		eq(t, "A profilable", a.Profilable, false)
	}
	storedUID := ""
	switch {
	case w.uid && w.hashedUID:
		storedUID = ingest.HashUserID(uidB, "")
	case w.uid:
		storedUID = uidB
	}
	eq(t, "B's user id", b.UserID, storedUID)
	switch {
	case w.uid:
		eq(t, "B's visitor id from the user id", b.VisitorID, analytics.UserVisitorID(storedUID))
	case w.cookies:
		eq(t, "B's visitor id", b.VisitorID, cookie(cookieB))
	default:
		eq(t, "B's visitor id is the config hash", b.VisitorID, b.ConfigID)
	}
	eq(t, "C's visitor id is the config hash", c.VisitorID, c.ConfigID)
	eq(t, "C profilable", c.Profilable, false)
	if c.ConfigID.IsZero() || a.ConfigID == c.ConfigID {
		t.Errorf("config ids A %v C %v", a.ConfigID, c.ConfigID)
	}
	eq(t, "A's actions", len(a.ActionList), 6)
	eq(t, "B's actions", len(b.ActionList), 2)
	eq(t, "C's actions", len(c.ActionList), 2)

	// Addresses: masked as set, or none; geolocation had the full one.
	mask := func(ip netip.Addr, v4Bytes, v6Bits int) netip.Addr {
		if ip.Is4() {
			pfx, _ := ip.Prefix(32 - 8*v4Bytes)
			return pfx.Addr()
		}
		pfx, _ := ip.Prefix(128 - v6Bits)
		return pfx.Addr()
	}
	if w.v4Mask < 0 {
		eq(t, "A's stored ip", a.IP.IsValid(), false)
		eq(t, "C's stored ip", c.IP.IsValid(), false)
	} else {
		eq(t, "A's stored ip", a.IP, mask(ipA, w.v4Mask, 0))
		eq(t, "C's stored ip", c.IP, mask(ipC, w.v4Mask, 0))
	}
	if w.v6Mask < 0 {
		eq(t, "B's stored ip", b.IP.IsValid(), false)
	} else {
		eq(t, "B's stored ip", b.IP, mask(ipB, 0, w.v6Mask))
	}
	eq(t, "A's country", a.Location.CountryCode, "gb")
	eq(t, "B's country", b.Location.CountryCode, "de")

	// Texts: scrubbed or as sent.
	var dim2 string
	for _, d := range a.Dimensions {
		if d.ID == 2 {
			dim2 = d.Value
		}
	}
	var title string
	for _, act := range a.ActionList {
		if strings.HasPrefix(act.Title, "Order for") {
			title = act.Title
		}
	}
	if w.scrub {
		eq(t, "scrubbed dimension", dim2, "[email] password=[secret] token=[secret]")
		eq(t, "scrubbed title", title, "Order for [email], card [number], password=[secret] token=[secret]")
	} else {
		eq(t, "dimension", dim2, piiMail+" "+piiSecret)
		eq(t, "title", title, "Order for "+piiMail+", card "+piiCard+", "+piiSecret)
	}
}

// checkScan scans the database and the logs for what the case must not
// keep.
func checkScan(t *testing.T, p *pipeline, w want) {
	t.Helper()
	ips := []Needle{IP("A's address", ipA), IP("B's address", ipB), IP("C's address", ipC)}
	cookie := func(name, s string) Needle {
		id, _ := analytics.ParseVisitorID(s)
		return Bytes(name, id[:])
	}
	cookies := []Needle{cookie("A's cookie id", cookieA), cookie("B's cookie id", cookieB)}
	uid := Text("B's user id", uidB)

	db := append([]Needle(nil), ips...)
	logs := append(append(append([]Needle(nil), ips...), cookies...), uid)
	logs = append(logs, piiNeedles()...)
	if !w.cookies {
		db = append(db, cookies...)
	}
	if !w.uid || w.hashedUID {
		db = append(db, uid)
	}
	if w.scrub {
		db = append(db, piiNeedles()...)
	}
	r := p.scan(db, logs)
	t.Logf("%s: scanned %d tables, %d rows, %d cells, %d log bytes", p.kind.name, r.Tables, r.Rows, r.Cells, len(p.logs.Bytes()))

	// Positive controls: the scan does see what is stored.
	if !w.excluded {
		if got := p.found(Text("e-mail", piiMail)); got == w.scrub {
			t.Errorf("control: e-mail found %v with scrub %v", got, w.scrub)
		}
		if w.v4Mask > 0 && w.v4Mask < 4 {
			pfx, _ := ipA.Prefix(32 - 8*w.v4Mask)
			if !p.found(IP("A's masked address", pfx.Addr())) {
				t.Error("control: A's masked address not found by the scan")
			}
		}
		if w.uid && !w.hashedUID && !p.found(uid) {
			t.Error("control: B's user id not found by the scan")
		}
	}
	salts := p.salts()
	if !w.excluded && !w.noTrack && len(salts) == 0 {
		t.Error("control: cookieless visitors were tracked but no salt is stored")
	}
	if w.noTrack && len(salts) != 0 {
		t.Errorf("count, don't track made %d salts", len(salts))
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
