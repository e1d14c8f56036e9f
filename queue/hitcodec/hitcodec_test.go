package hitcodec

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/footfall/analytics"
)

// hitCmp compares hits: addresses as values, times with Equal, floats
// bit-exact enough (NaN equals NaN).
var hitCmp = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmpopts.EquateNaNs(),
}

// fullHit sets every field and sub-struct to a distinctive value.
func fullHit() analytics.Hit {
	cet := time.FixedZone("CET", 3600)
	return analytics.Hit{
		ID:     analytics.NewHitID(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)),
		Pos:    analytics.Position{Hi: 1773500966535, Lo: 7},
		SiteID: 42,
		Time:   time.Date(2026, 3, 14, 16, 9, 26, 535897932, cet),
		Kind:   analytics.KindEcommerceOrder,
		Flags:  analytics.FlagNewVisit | analytics.FlagDNT | analytics.FlagNoCookies,

		IP:        netip.MustParseAddr("2001:db8:85a3::8a2e:370:7334"),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36",
		Lang:      "fr-CH, fr;q=0.9, en;q=0.8",
		UAData:    `{"mobile":false,"platform":"Linux"}`,

		UserID:   "user@example.com ünïcødé 🦶",
		CID:      analytics.VisitorID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef},
		CookieID: analytics.VisitorID{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10},

		URL:        "https://shop.example.com/checkout/done?order=A-1#thanks",
		Title:      "Merci — commande confirmée",
		Referrer:   "https://shop.example.com/checkout/cart",
		PageViewID: "a1B2c3",
		Link:       "https://cdn.example.org/invoice.pdf",

		Event:   &analytics.Event{Category: "Video", Action: "Play", Name: "Intro 🎬", Value: -12.5, HasValue: true},
		Search:  &analytics.Search{Keyword: "blue shoes", Category: "Shoes/Kids", Count: -1},
		Content: &analytics.Content{Name: "Banner", Piece: "/img/banner.png", Target: "https://example.com/sale", Interaction: "click"},
		GoalID:  -3,
		Revenue: 1234.56,
		Order: &analytics.Order{
			OrderID: "A-1", Revenue: 1234.56, Subtotal: 1100.01, Tax: 120.3, Shipping: math.Inf(1), Discount: math.Copysign(0, -1),
			Items: []analytics.Item{
				{SKU: "SKU-1", Name: "Shoe", Categories: []string{"Shoes", "Kids", "Blue", "Sale", "New"}, Price: 49.99, Quantity: 2},
				{SKU: "SKU-2", Name: "Sock", Categories: []string{"Socks"}, Price: 0.5, Quantity: -1000, Deleted: true},
			},
		},
		Product: &analytics.ProductView{SKU: "SKU-1", Name: "Shoe", Categories: []string{"Shoes", "Kids"}, Price: math.NaN()},
		Timing:  &analytics.PageTiming{Network: 12, Server: -1, Transfer: 3, DOMProcessing: math.MinInt32, DOMCompletion: 1200, OnLoad: math.MaxInt32},
		Attribution: &analytics.Attribution{
			CampaignName: "spring-sale", CampaignKeyword: "shoes", ReferrerURL: "https://news.example.org/post/1",
			Time: time.Date(1969, 3, 1, 8, 0, 0, 123456789, time.UTC),
		},
		Location: &analytics.Location{
			CountryCode: "ch", RegionCode: "GE", RegionName: "Genève", City: "Genève",
			Latitude: 46.2044, Longitude: -6.1432, HasCoords: true, TimeZone: "Europe/Zurich",
		},
		Dimensions: []analytics.Dimension{{ID: 1, Value: "gold"}, {ID: 7, Value: ""}, {ID: -300, Value: "ünï"}},
		Device: analytics.Device{
			ScreenWidth: 65535, ScreenHeight: 1080, LocalHour: -1, LocalMinute: 59, LocalSecond: 0,
			Plugins: analytics.PluginPDF | analytics.PluginCookie | analytics.PluginJava,
		},
	}
}

// typicalHit is a page view as the JavaScript tracker sends it: the
// receive time, IPv4, a 120-character Chrome user agent, a 60-character
// URL, a 30-character title, `_id`, `pv_id`, `res`, the plugin flags and
// the local time; no uadata.
func typicalHit() analytics.Hit {
	now := time.Date(2026, 5, 4, 10, 11, 12, 345678901, time.UTC)
	return analytics.Hit{
		ID:         analytics.NewHitID(now),
		SiteID:     3,
		Time:       now,
		Kind:       analytics.KindPageview,
		IP:         netip.MustParseAddr("203.0.113.77"),
		UserAgent:  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
		Lang:       "en-US,en;q=0.9",
		CookieID:   analytics.VisitorID{0x5a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71},
		URL:        "https://www.example.com/blog/2026/05/how-we-count-visitors?x=1",
		Title:      "How we count visitors — Blog",
		PageViewID: "Xk3p9Q",
		Device: analytics.Device{
			ScreenWidth: 1920, ScreenHeight: 1080, LocalHour: 12, LocalMinute: 11, LocalSecond: 12,
			Plugins: analytics.PluginPDF | analytics.PluginQuickTime | analytics.PluginRealPlayer | analytics.PluginWindowsMedia |
				analytics.PluginFlash | analytics.PluginJava | analytics.PluginSilverlight | analytics.PluginCookie,
		},
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		hit  func() analytics.Hit
	}{
		{"full", fullHit},
		{"typical", typicalHit},
		{"zero", func() analytics.Hit { return analytics.Hit{} }},
		{"zero sub-structs", func() analytics.Hit {
			return analytics.Hit{
				Event: &analytics.Event{}, Search: &analytics.Search{}, Content: &analytics.Content{},
				Order: &analytics.Order{}, Product: &analytics.ProductView{}, Timing: &analytics.PageTiming{},
				Attribution: &analytics.Attribution{}, Location: &analytics.Location{},
			}
		}},
		{"time without id", func() analytics.Hit {
			return analytics.Hit{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
		}},
		{"time far from id", func() analytics.Hit {
			h := typicalHit()
			h.Time = time.Date(1950, 1, 1, 0, 0, 0, 999999999, time.UTC)
			return h
		}},
		{"time before the id in the same millisecond", func() analytics.Hit {
			h := typicalHit()
			h.Time = h.Time.Add(-time.Nanosecond)
			return h
		}},
		{"ipv4-mapped ipv6", func() analytics.Hit { return analytics.Hit{IP: netip.MustParseAddr("::ffff:203.0.113.7")} }},
		{"ipv6 zone", func() analytics.Hit { return analytics.Hit{IP: netip.MustParseAddr("fe80::1%eth0")} }},
		{"referrer without url", func() analytics.Hit { return analytics.Hit{Referrer: "http://www.a.example/"} }},
		{"link equals url", func() analytics.Hit {
			return analytics.Hit{URL: "https://a.example/x", Link: "https://a.example/x", Referrer: "https://a.example/"}
		}},
		{"affixes only", func() analytics.Hit {
			return analytics.Hit{UserAgent: uaPrefixes[1] + uaSuffixes[1], URL: "https://"}
		}},
		{"user agent without table match", func() analytics.Hit { return analytics.Hit{UserAgent: "curl/8.5.0"} }},
		{"local time zero but present", func() analytics.Hit {
			return analytics.Hit{Device: analytics.Device{LocalHour: 0, LocalMinute: 0, LocalSecond: 1}}
		}},
		{"extremes", func() analytics.Hit {
			return analytics.Hit{
				SiteID: math.MinInt64, GoalID: math.MaxInt64, Kind: 255, Flags: math.MaxUint16,
				Pos:    analytics.Position{Hi: math.MaxUint64, Lo: math.MaxUint64},
				Device: analytics.Device{ScreenHeight: 1, LocalHour: math.MinInt8, Plugins: math.MaxUint16},
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.hit()
			b := Append(nil, &want)
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(Append(h)): %v", err)
			}
			if diff := cmp.Diff(want, got, hitCmp); diff != "" {
				t.Errorf("round trip changed the hit (-want +got):\n%s", diff)
			}
			if got.Time.Location() != time.UTC {
				t.Errorf("decoded time in %v, want UTC", got.Time.Location())
			}
			// Append appends.
			pre := []byte("xyz")
			if b2 := Append(pre, &want); string(b2[3:]) != string(b) || string(b2[:3]) != "xyz" {
				t.Errorf("Append to a non-empty slice wrote %q, want xyz + the encoding", b2)
			}
		})
	}
}

// TestTypicalSize pins the size budget: a typical page view must stay
// within 250 bytes so that a Redis stream entry stays within 350.
func TestTypicalSize(t *testing.T) {
	h := typicalHit()
	n := len(Append(nil, &h))
	t.Logf("typical page view: %d bytes (user agent %d, URL %d, title %d characters)", n, len(h.UserAgent), len(h.URL), len(h.Title))
	if n > 250 {
		t.Errorf("typical hit encodes to %d bytes, budget 250", n)
	}
	// Without any table match the encoding adds little to the raw bytes:
	// the ID (16), cookie id (8), IP (4) and the strings.
	h.UserAgent = strings.Repeat("u", 120)
	h.URL = "ftp:" + h.URL[5:]
	raw := 16 + 8 + 4 + len(h.UserAgent) + len(h.URL) + len(h.Title) + len(h.PageViewID) + len(h.Lang)
	n = len(Append(nil, &h))
	t.Logf("without affix matches: %d bytes for %d raw bytes", n, raw)
	if n-raw > 32 {
		t.Errorf("typical hit without affix matches encodes to %d bytes, %d over its raw content", n, n-raw)
	}
}

func TestDecodeErrors(t *testing.T) {
	h := fullHit()
	good := Append(nil, &h)
	tests := []struct {
		name    string
		in      []byte
		version bool
	}{
		{"empty", nil, false},
		{"version zero", []byte{0, 0, 1}, false},
		{"newer version", append([]byte{Version + 1}, good[1:]...), true},
		{"unknown field bit", []byte{Version, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1}, false},
		{"truncated", good[:len(good)-1], false},
		{"trailing byte", append(append([]byte(nil), good...), 0), false},
		{"huge string length", []byte{Version, bUserAgent, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, false},
		{"affix out of range", []byte{Version, bUserAgent, 1, 0x7f, 0}, false},
		{"zero id marked present", append([]byte{Version, bID, 1}, make([]byte, 16)...), false},
		{"ipv4 and ipv6", append(binary.AppendUvarint([]byte{Version}, bIPv4|bIPv6), 1, 1, 2, 3, 4), false},
		{"varint overflow", []byte{Version, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if !errors.Is(err, analytics.ErrInvalid) {
				t.Fatalf("Decode(%x) = %v, want an error wrapping analytics.ErrInvalid", tc.in, err)
			}
			if got := errors.Is(err, ErrVersion); got != tc.version {
				t.Errorf("errors.Is(%v, ErrVersion) = %v, want %v", err, got, tc.version)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, h := range []analytics.Hit{fullHit(), typicalHit(), {}, {URL: "http://x", Referrer: "http://y", Link: "http://x/z"}} {
		f.Add(Append(nil, &h))
	}
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Add([]byte{Version + 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Decode(b)
		if err != nil {
			if !errors.Is(err, analytics.ErrInvalid) {
				t.Fatalf("Decode error %v does not wrap analytics.ErrInvalid", err)
			}
			return
		}
		again, err := Decode(Append(nil, &h))
		if err != nil {
			t.Fatalf("Decode(Append(Decode(b))): %v", err)
		}
		if diff := cmp.Diff(h, again, hitCmp); diff != "" {
			t.Fatalf("re-encoding changed the hit (-first +again):\n%s", diff)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    analytics.Hit
	}{{"typical", typicalHit()}, {"full", fullHit()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			var n int
			for b.Loop() {
				buf = Append(buf[:0], &tc.h)
				n = len(buf)
			}
			b.ReportMetric(float64(n), "bytes/hit")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    analytics.Hit
	}{{"typical", typicalHit()}, {"full", fullHit()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			enc := Append(nil, &tc.h)
			for b.Loop() {
				if _, err := Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "bytes/hit")
		})
	}
}

// TestEncodesEveryField fails when the contract grows a field the codec
// does not know: add it to Append and Decode (a new presence bit or a new
// Version) and to fullHit, then to this list.
func TestEncodesEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[analytics.Hit](): {"ID", "Pos", "SiteID", "Time", "Kind", "Flags", "IP", "UserAgent", "Lang", "UAData",
			"UserID", "CID", "CookieID", "URL", "Title", "Referrer", "PageViewID", "Link", "Event", "Search", "Content",
			"GoalID", "Revenue", "Order", "Product", "Timing", "Attribution", "Location", "Dimensions", "Device"},
		reflect.TypeFor[analytics.Event]():       {"Category", "Action", "Name", "Value", "HasValue"},
		reflect.TypeFor[analytics.Search]():      {"Keyword", "Category", "Count"},
		reflect.TypeFor[analytics.Content]():     {"Name", "Piece", "Target", "Interaction"},
		reflect.TypeFor[analytics.Order]():       {"OrderID", "Revenue", "Subtotal", "Tax", "Shipping", "Discount", "Items"},
		reflect.TypeFor[analytics.Item]():        {"SKU", "Name", "Categories", "Price", "Quantity", "Deleted"},
		reflect.TypeFor[analytics.ProductView](): {"SKU", "Name", "Categories", "Price"},
		reflect.TypeFor[analytics.PageTiming]():  {"Network", "Server", "Transfer", "DOMProcessing", "DOMCompletion", "OnLoad"},
		reflect.TypeFor[analytics.Attribution](): {"CampaignName", "CampaignKeyword", "ReferrerURL", "Time"},
		reflect.TypeFor[analytics.Location](): {"CountryCode", "RegionCode", "RegionName", "City", "Latitude", "Longitude",
			"HasCoords", "TimeZone"},
		reflect.TypeFor[analytics.Dimension](): {"ID", "Value"},
		reflect.TypeFor[analytics.Device]():    {"ScreenWidth", "ScreenHeight", "LocalHour", "LocalMinute", "LocalSecond", "Plugins"},
	}
	if reflect.TypeFor[analytics.HitFlags]().Size() != 2 || reflect.TypeFor[analytics.HitKind]().Size() != 1 {
		t.Errorf("HitFlags or HitKind changed size; the codec writes them as uint16 and one byte")
	}
	for typ, fields := range known {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if diff := cmp.Diff(fields, got); diff != "" {
			t.Errorf("%v changed (-encoded +contract); update hitcodec:\n%s", typ, diff)
		}
	}
}
