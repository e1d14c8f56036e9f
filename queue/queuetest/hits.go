package queuetest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/footfall/analytics"
)

// FullHit returns a Hit with every field and every sub-struct set to a
// distinctive non-zero value (unicode, negative and fractional numbers,
// nanosecond times in a non-UTC zone), for round-trip tests of drivers
// that encode hits. Pos is left zero.
func FullHit() analytics.Hit {
	paris := time.FixedZone("CET", 3600)
	return analytics.Hit{
		ID:     analytics.NewHitID(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)),
		SiteID: 42,
		Time:   time.Date(2026, 3, 14, 16, 9, 26, 535897932, paris),
		Kind:   analytics.KindEcommerceOrder,
		Flags: analytics.FlagNewVisit | analytics.FlagDNT | analytics.FlagGPC | analytics.FlagConsent |
			analytics.FlagTrackBots | analytics.FlagAuthenticated | analytics.FlagCustomAction | analytics.FlagNoCookies |
			analytics.FlagRevenue,

		IP:        netip.MustParseAddr("2001:db8:85a3::8a2e:370:7334"),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36",
		Lang:      "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5",
		UAData:    `{"fullVersionList":[{"brand":"Chromium","version":"125.0.6422.60"}],"mobile":false,"platform":"Linux"}`,

		UserID:   "user@example.com ünïcødé 🦶",
		CID:      analytics.VisitorID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef},
		CookieID: analytics.VisitorID{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10},

		URL:        "https://shop.example.com/checkout/done?order=A-1&utm_source=news#thanks",
		Title:      "Merci — commande confirmée",
		Referrer:   "https://www.google.com/search?q=%C3%BCber+shoes",
		PageViewID: "a1B2c3",
		Link:       "https://cdn.example.com/invoice.pdf",

		Event: &analytics.Event{
			Category: "Video", Action: "Play", Name: "Intro 🎬", Value: -12.5, HasValue: true,
		},
		Search:  &analytics.Search{Keyword: "blue shoes", Category: "Shoes/Kids", Count: 17},
		Content: &analytics.Content{Name: "Banner", Piece: "/img/banner.png", Target: "https://example.com/sale", Interaction: "click"},
		GoalID:  0,
		Revenue: 1234.56,
		Order: &analytics.Order{
			OrderID:  "A-1",
			Revenue:  1234.56,
			Subtotal: 1100.01,
			Tax:      120.3,
			Shipping: 19.25,
			Discount: 5,
			Items: []analytics.Item{
				{SKU: "SKU-1", Name: "Shoe", Categories: []string{"Shoes", "Kids", "Blue", "Sale", "New"}, Price: 49.99, Quantity: 2},
				{SKU: "SKU-2", Name: "Sock ünï", Categories: []string{"Socks"}, Price: 0.5, Quantity: 1000, Deleted: true},
			},
		},
		Product: &analytics.ProductView{SKU: "SKU-1", Name: "Shoe", Categories: []string{"Shoes", "Kids"}, Price: 49.99},
		Timing:  &analytics.PageTiming{Network: 12, Server: -1, Transfer: 3, DOMProcessing: 400, DOMCompletion: 1200, OnLoad: 2147483647},
		Attribution: &analytics.Attribution{
			CampaignName:    "spring-sale",
			CampaignKeyword: "shoes",
			ReferrerURL:     "https://news.example.org/post/1",
			Time:            time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.UTC),
		},
		Location: &analytics.Location{
			CountryCode: "ch", RegionCode: "GE", RegionName: "Genève", City: "Genève",
			Latitude: 46.2044, Longitude: -6.1432, HasCoords: true, TimeZone: "Europe/Zurich",
		},
		Dimensions: []analytics.Dimension{{ID: 1, Value: "gold"}, {ID: 7, Value: ""}, {ID: 300, Value: "ünï"}},
		Device: analytics.Device{
			ScreenWidth: 65535, ScreenHeight: 1080,
			LocalHour: 23, LocalMinute: 59, LocalSecond: 58,
			Plugins: analytics.PluginPDF | analytics.PluginCookie | analytics.PluginJava,
		},
	}
}

// tag identifies a test hit: which visitor sent it and its place in that
// visitor's sequence. It travels in Hit.PageViewID.
type tag struct{ visitor, seq int }

// visitorHit returns hit number seq of visitor v. All hits of one visitor
// share a UserID, hence a shard.
func visitorHit(v, seq int) analytics.Hit {
	now := time.Now()
	return analytics.Hit{
		ID:         analytics.NewHitID(now),
		SiteID:     1,
		Time:       now,
		Kind:       analytics.KindPageview,
		IP:         netip.AddrFrom4([4]byte{192, 0, 2, byte(v)}),
		UserAgent:  "queuetest",
		UserID:     fmt.Sprintf("visitor-%d", v),
		URL:        fmt.Sprintf("https://example.com/%d/%d", v, seq),
		PageViewID: fmt.Sprintf("%d:%d", v, seq),
	}
}

// visitorHits returns hits first … first+n-1 of visitor v.
func visitorHits(v, first, n int) []analytics.Hit {
	hits := make([]analytics.Hit, n)
	for i := range hits {
		hits[i] = visitorHit(v, first+i)
	}
	return hits
}

// tagOf returns the tag of a hit made by visitorHit.
func tagOf(h *analytics.Hit) (tag, error) {
	var tg tag
	if _, err := fmt.Sscanf(h.PageViewID, "%d:%d", &tg.visitor, &tg.seq); err != nil {
		return tag{}, fmt.Errorf("hit %s: PageViewID %q is not a queuetest tag", h.ID, h.PageViewID)
	}
	return tg, nil
}
