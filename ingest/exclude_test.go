package ingest

import (
	"net/netip"
	"testing"

	analytics "github.com/footfall/analytics"
)

func TestExclusions(t *testing.T) {
	sites := []analytics.Site{
		{ID: 1, URLs: []string{"https://example.com"},
			ExcludedIPs:        []string{"192.0.2.7", "198.51.100.*", "10.1.0.0/16", "2001:db8:1::/48", "2001:db8:2::5"},
			ExcludedUserAgents: []string{"Acme-Kiosk", "internal-checker"}},
		{ID: 2, URLs: []string{"https://shop.example", "https://*.shop-alias.example", "https://example.org/store"}, ExcludeUnknownURLs: true},
		{ID: 3, URLs: []string{"https://dnt.example"}, Privacy: analytics.Privacy{DNT: analytics.DNTExclude}},
		{ID: 4, URLs: []string{"https://gpc.example"}, Privacy: analytics.Privacy{GPC: analytics.DNTExclude}},
		{ID: 5, URLs: []string{"https://count.example"}, Privacy: analytics.Privacy{DNT: analytics.DNTCount, GPC: analytics.DNTCount}},
		{ID: 6, URLs: []string{"https://ignore.example"}, Privacy: analytics.Privacy{DNT: analytics.DNTIgnore, GPC: analytics.DNTIgnore}},
		{ID: 7, URLs: []string{"https://default.example"}},
	}
	type tc struct {
		name   string
		opts   func(*ProcessorOptions)
		hit    analytics.Hit
		reason string // "" kept
		count  bool   // kept as "count, don't track"
	}
	cases := []tc{
		{name: "plain hit kept", hit: procPV(0)},
		{name: "bot excluded", hit: procPV(0, procUA(procBotUA)), reason: procExclBot},
		{name: "curl excluded as bot", hit: procPV(0, procUA("curl/8.5.0")), reason: procExclBot},
		{name: "bot with bots=1 kept", hit: procPV(0, procUA(procBotUA), procFlags(analytics.FlagTrackBots))},
		{name: "bot kept with TrackBots", opts: func(o *ProcessorOptions) { o.TrackBots = true }, hit: procPV(0, procUA(procBotUA))},
		{name: "single IPv4 excluded", hit: procPV(0, procIP("192.0.2.7")), reason: procExclIP},
		{name: "neighbour IPv4 kept", hit: procPV(0, procIP("192.0.2.8"))},
		{name: "wildcard IPv4 excluded", hit: procPV(0, procIP("198.51.100.200")), reason: procExclIP},
		{name: "CIDR IPv4 excluded", hit: procPV(0, procIP("10.1.255.1")), reason: procExclIP},
		{name: "outside CIDR kept", hit: procPV(0, procIP("10.2.0.1"))},
		{name: "IPv4-mapped IPv6 excluded", hit: procPV(0, procIP("::ffff:192.0.2.7")), reason: procExclIP},
		{name: "IPv6 CIDR excluded", hit: procPV(0, procIP("2001:db8:1:ff::1")), reason: procExclIP},
		{name: "single IPv6 excluded", hit: procPV(0, procIP("2001:db8:2::5")), reason: procExclIP},
		{name: "other IPv6 kept", hit: procPV(0, procIP("2001:db8:3::5"))},
		{name: "instance IP excluded", opts: func(o *ProcessorOptions) { o.ExcludedIPs = []string{"203.0.113.0/24"} }, hit: procPV(0), reason: procExclIP},
		{name: "site UA substring case-insensitive", hit: procPV(0, procUA("Mozilla/5.0 (X11; Linux x86_64) ACME-kiosk/3")), reason: procExclUA},
		{name: "instance UA excluded", opts: func(o *ProcessorOptions) { o.ExcludedUserAgents = []string{"Chrome/122"} }, hit: procPV(0), reason: procExclUA},
		{name: "known URL kept", hit: procPV(0, procSite1(2), procURL("https://www.shop.example/cart"))},
		{name: "wildcard alias kept", hit: procPV(0, procSite1(2), procURL("https://eu.shop-alias.example/"))},
		{name: "path prefix kept", hit: procPV(0, procSite1(2), procURL("https://example.org/store/item"))},
		{name: "outside path prefix excluded", hit: procPV(0, procSite1(2), procURL("https://example.org/storefront")), reason: procExclUnknownURL},
		{name: "unknown URL excluded", hit: procPV(0, procSite1(2), procURL("https://copycat.example/cart")), reason: procExclUnknownURL},
		{name: "unknown site dropped", hit: procPV(0, procSite1(42)), reason: procExclUnknownSite},
		{name: "DNT exclude", hit: procPV(0, procSite1(3), procDNT()), reason: procExclDNT},
		{name: "DNT exclude, IE exempt", hit: procPV(0, procSite1(3), procDNT(), procUA("Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko"))},
		{name: "DNT exclude without header kept", hit: procPV(0, procSite1(3))},
		{name: "DNT exclude ignores GPC", hit: procPV(0, procSite1(3), procFlags(analytics.FlagGPC))},
		{name: "GPC exclude", hit: procPV(0, procSite1(4), procFlags(analytics.FlagGPC)), reason: procExclDNT},
		{name: "GPC exclude ignores DNT", hit: procPV(0, procSite1(4), procDNT())},
		{name: "DNT count", hit: procPV(0, procSite1(5), procDNT()), count: true},
		{name: "GPC count", hit: procPV(0, procSite1(5), procFlags(analytics.FlagGPC)), count: true},
		{name: "DNT ignore", hit: procPV(0, procSite1(6), procDNT(), procFlags(analytics.FlagGPC))},
		{name: "instance default DNT exclude", opts: func(o *ProcessorOptions) { o.Privacy.DNT = analytics.DNTExclude }, hit: procPV(0, procSite1(7), procDNT()), reason: procExclDNT},
		{name: "site overrides instance DNT", opts: func(o *ProcessorOptions) { o.Privacy.DNT = analytics.DNTExclude }, hit: procPV(0, procSite1(6), procDNT())},
		{name: "instance default GPC count", opts: func(o *ProcessorOptions) { o.Privacy.GPC = analytics.DNTCount }, hit: procPV(0, procSite1(7), procFlags(analytics.FlagGPC)), count: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newProcHarness(t, sites, nil, c.opts)
			hit := c.hit
			hit.ID = analytics.NewHitID(hit.Time)
			var ph procHit
			reason, err := h.p.enrich(t.Context(), &hit, &ph)
			if err != nil {
				t.Fatal(err)
			}
			procEq(t, "reason", reason, c.reason)
			if reason == "" {
				procEq(t, "count, don't track", ph.noTrack, c.count)
				if c.count {
					procEq(t, "visitor id", ph.visitorID, analytics.VisitorID{})
					procEq(t, "ip kept", ph.ip.IsValid(), false)
				}
			}
			// Through Process: an excluded hit writes nothing.
			h.process(hit)
			n := len(h.store.sortedVisits())
			if c.reason != "" && n != 0 || c.reason == "" && n != 1 {
				t.Errorf("stored %d visits", n)
			}
		})
	}
}

func TestExcludedIPPatternsInvalid(t *testing.T) {
	for _, s := range []string{"", "1.2.3", "1.2.*.4", "*.*", "10.0.0.0/33", "not-an-ip", "2001:db8::/129"} {
		if _, err := parseProcIPPattern(s); err == nil {
			t.Errorf("parseProcIPPattern(%q) accepted", s)
		}
	}
	_, err := NewProcessor(ProcessorOptions{Queue: &procFakeQueue{}, Store: newProcFakeStore(), ExcludedIPs: []string{"300.1.1.1"}})
	if err == nil {
		t.Error("NewProcessor accepted an invalid excluded IP")
	}
}

func TestAnonymizeIP(t *testing.T) {
	cases := []struct {
		in     string
		v4, v6 int
		want   string
	}{
		{in: "203.0.113.77", v4: 1, want: "203.0.113.0"},
		{in: "203.0.113.77", v4: 2, want: "203.0.0.0"},
		{in: "203.0.113.77", v4: 3, want: "203.0.0.0"},
		{in: "203.0.113.77", v4: 4, want: "0.0.0.0"},
		{in: "::ffff:203.0.113.77", v4: 1, want: "203.0.113.0"},
		{in: "203.0.113.77", v4: -1, want: "203.0.113.77"},
		{in: "2001:db8::77", v6: -1, want: "2001:db8::77"},
		{in: "2001:db8:abcd:1234:5678:9abc:def0:1234", v6: 64, want: "2001:db8:abcd:1234::"},
		{in: "2001:db8:abcd:1234:5678:9abc:def0:1234", v6: 80, want: "2001:db8:abcd::"},
		{in: "2001:db8:abcd:1234:5678:9abc:def0:1234", v6: 104, want: "2001:d00::"},
		{in: "2001:db8:abcd:1234:5678:9abc:def0:1234", v6: 128, want: "::"},
		{in: "2001:db8:abcd:1234:5678:9abc:def0:1234", v6: 4, want: "2001:db8:abcd:1234:5678:9abc:def0:1230"},
	}
	for _, c := range cases {
		got := procAnonymizeIP(netip.MustParseAddr(c.in), c.v4, c.v6)
		if got.String() != c.want {
			t.Errorf("anonymize(%s, v4 %d, v6 %d) = %s, want %s", c.in, c.v4, c.v6, got, c.want)
		}
	}
	if procAnonymizeIP(netip.Addr{}, 2, 80).IsValid() {
		t.Error("invalid address became valid")
	}
}

// TestIPPrivacyStored checks, through Process, that the stored address is
// masked per the site's resolved settings and that Geo saw the full one.
func TestIPPrivacyStored(t *testing.T) {
	sites := []analytics.Site{
		{ID: 1, URLs: []string{"https://example.com"}},
		{ID: 2, URLs: []string{"https://b.example"}, Privacy: analytics.Privacy{IPv4MaskBytes: 1, IPv6MaskBits: 64}},
		{ID: 3, URLs: []string{"https://c.example"}, Privacy: analytics.Privacy{StoreIP: analytics.Off}},
	}
	cases := []struct {
		site    int
		ip      string
		want    string
		wantGeo string
	}{
		{1, "203.0.113.77", "203.0.0.0", "gb"},
		{2, "203.0.113.77", "203.0.113.0", "gb"},
		{3, "203.0.113.77", "invalid IP", "gb"},
		{1, "2001:db8:abcd:1234:5678::1", "2001:db8:abcd::", "gb"},
		{2, "2001:db8:abcd:1234:5678::1", "2001:db8:abcd:1234::", "gb"},
	}
	for _, c := range cases {
		geo := &procFakeGeo{}
		h := newProcHarness(t, sites, nil, func(o *ProcessorOptions) { o.Geo = geo })
		h.process(procPV(0, procSite1(c.site), procIP(c.ip)))
		vs := h.store.sortedVisits()
		if len(vs) != 1 {
			t.Fatalf("%d visits", len(vs))
		}
		procEq(t, "stored ip", vs[0].IP.String(), c.want)
		procEq(t, "country", vs[0].Location.CountryCode, c.wantGeo)
		procEq(t, "geo got the full address", geo.seen, netip.MustParseAddr(c.ip))
	}

	// An authenticated location overrides Geo.
	geo := &procFakeGeo{}
	h := newProcHarness(t, sites, nil, func(o *ProcessorOptions) { o.Geo = geo })
	h.process(procPV(0, func(x *analytics.Hit) { x.Location = &analytics.Location{CountryCode: "fr", City: "Paris"} }))
	procEq(t, "override country", h.store.sortedVisits()[0].Location.CountryCode, "fr")
}

type procFakeGeo struct{ seen netip.Addr }

func (g *procFakeGeo) Lookup(ip netip.Addr) (analytics.Location, error) {
	g.seen = ip
	return analytics.Location{CountryCode: "gb", City: "London"}, nil
}

func TestResolvePrivacy(t *testing.T) {
	inst := ProcessorOptions{}
	inst.setDefaults()
	got := procResolvePrivacy(inst.Privacy, analytics.Privacy{IPv4MaskBytes: -1, IPv6MaskBits: 48, Cookieless: analytics.On, GPC: analytics.DNTCount})
	want := analytics.Privacy{IPv4MaskBytes: -1, IPv6MaskBits: 48, StoreIP: analytics.On, Cookieless: analytics.On,
		DNT: analytics.DNTIgnore, GPC: analytics.DNTCount, HashUserID: analytics.Off, Consent: analytics.ConsentNone, ScrubPII: analytics.Off}
	if got != want {
		t.Errorf("resolved %+v, want %+v", got, want)
	}
	got = procResolvePrivacy(inst.Privacy, analytics.Privacy{Consent: analytics.ConsentCookies})
	procEq(t, "site consent", got.Consent, analytics.ConsentCookies)
	inst.Privacy.Consent = analytics.ConsentTracking
	got = procResolvePrivacy(inst.Privacy, analytics.Privacy{})
	procEq(t, "instance consent", got.Consent, analytics.ConsentTracking)
}
