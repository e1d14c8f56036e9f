package report

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

func TestNewLiveVisit(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)
	vid, _ := analytics.ParseVisitorID("0123456789abcdef")
	v := &analytics.VisitDetails{
		Visit: analytics.Visit{
			ID: 42, SiteID: 1, VisitorID: vid, UserID: "alice",
			FirstActionTime: t0, LastActionTime: t0.Add(10 * time.Minute), TotalTime: 601,
			LocalTime: 23*3600 + 30*60 + 5, Actions: 2, Events: 1, VisitCount: 3, Returning: 1,
			GoalConverted: true, GoalBuyer: 1,
			Referrer:   analytics.Referrer{Type: analytics.ReferrerCampaign, Name: "spring", Keyword: "shoes", CampaignSource: "news"},
			Client:     analytics.Client{BrowserName: "Chrome", BrowserVersion: "120.0", OSName: "Windows", OSVersion: "10", DeviceType: analytics.DeviceDesktop, Resolution: "1920x1080", Plugins: analytics.PluginCookie | analytics.PluginPDF, Lang: "en-GB"},
			Location:   analytics.Location{CountryCode: "gb", RegionCode: "ENG", RegionName: "England", City: "London", Latitude: 51.5, Longitude: -0.1, HasCoords: true},
			IP:         netip.MustParseAddr("81.2.0.0"),
			Dimensions: []analytics.Dimension{{ID: 3, Value: "gold"}},
		},
		ActionList: []analytics.Action{
			{ID: 1, Time: t0, Type: analytics.ActionPageview, URL: "https://example.com/", Title: "Home", PageViewID: "abc123", Position: 1},
			{ID: 2, Time: t0.Add(10 * time.Minute), Type: analytics.ActionEvent, URL: "https://example.com/", TimeSpentRef: 600,
				Event: &analytics.Event{Category: "Video", Action: "Play", Name: "intro", Value: 1.5, HasValue: true}},
		},
		Conversions: []analytics.Conversion{
			{GoalID: 0, OrderID: "A1", Revenue: 30, Subtotal: 25, Tax: 5, Time: t0.Add(5 * time.Minute),
				Items: []analytics.Item{{SKU: "s1", Name: "Shoe", Categories: []string{"Shoes", "Red"}, Price: 12.5, Quantity: 2}}},
			{GoalID: -1, Time: t0.Add(6 * time.Minute)},
			{GoalID: 4, Revenue: 2, Time: t0.Add(11 * time.Minute)},
		},
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	lv := NewLiveVisit(v, LiveOptions{Location: paris, Goals: map[int]string{4: "Signup"}})
	b, err := json.Marshal(lv)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"idVisit": 42.0, "idSite": 1.0, "visitorId": "0123456789abcdef", "userId": "alice",
		"firstActionTimestamp": float64(t0.Unix()), "lastActionTimestamp": float64(t0.Unix() + 600),
		"visitDuration": 601.0, "referrerType": "campaign", "referrerName": "spring", "referrerKeyword": "shoes",
		"campaignName": "spring", "browserName": "Chrome", "operatingSystemName": "Windows", "deviceType": "Desktop",
		"countryCode": "gb", "city": "London", "visitIp": "81.2.0.0", "visitorType": "returning",
		"visitEcommerceStatus": "ordered", "visitConverted": 1.0, "dimension3": "gold", "visitLocalTime": "23:30:05",
		"serverDate": "2026-03-01", "plugins": "cookie, pdf",
	}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s = %#v, want %#v", k, m[k], w)
		}
	}
	acts := m["actionDetails"].([]any)
	var types []string
	for _, a := range acts {
		types = append(types, a.(map[string]any)["type"].(string))
	}
	if got, w := len(types), 4; got != w {
		t.Fatalf("actionDetails types %v, want 4 entries (cart hidden)", types)
	}
	wantTypes := []string{"action", "ecommerceOrder", "event", "goal"}
	for i := range wantTypes {
		if types[i] != wantTypes[i] {
			t.Fatalf("actionDetails types %v, want %v", types, wantTypes)
		}
	}
	page := acts[0].(map[string]any)
	if page["timeSpent"] != 600.0 || page["pageTitle"] != "Home" || page["pageviewPosition"] != 1.0 {
		t.Errorf("page action = %v", page)
	}
	ev := acts[2].(map[string]any)
	if ev["eventCategory"] != "Video" || ev["eventValue"] != 1.5 {
		t.Errorf("event action = %v", ev)
	}
	order := acts[1].(map[string]any)
	if order["orderId"] != "A1" || order["items"] != 2.0 {
		t.Errorf("order = %v", order)
	}
	if g := acts[3].(map[string]any); g["goalName"] != "Signup" {
		t.Errorf("goal = %v", g)
	}
}

func TestPrettyDuration(t *testing.T) {
	for _, c := range []struct {
		in   int
		want string
	}{{0, "0s"}, {59, "59s"}, {61, "1 min 1s"}, {3725, "1 hours 2 min"}} {
		if got := prettyDuration(c.in); got != c.want {
			t.Errorf("prettyDuration(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}
