package ingest

import (
	"fmt"
	"testing"

	analytics "github.com/footfall/analytics"
)

func TestParseUserAgent(t *testing.T) {
	c := newProcUACache(100)
	cases := []struct {
		ua   string
		want procUAInfo
	}{
		{procChromeUA, procUAInfo{BrowserName: "Chrome", BrowserVersion: "122.0", BrowserEngine: "Blink", OSName: "Windows", OSVersion: "10", DeviceType: analytics.DeviceDesktop}},
		{procFirefoxUA, procUAInfo{BrowserName: "Firefox", BrowserVersion: "123.0", BrowserEngine: "Gecko", OSName: "Linux", DeviceType: analytics.DeviceDesktop}},
		{procIPhoneUA, procUAInfo{BrowserName: "Safari", BrowserVersion: "17.4", BrowserEngine: "WebKit", OSName: "iOS", OSVersion: "17.4", DeviceType: analytics.DeviceSmartphone}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.64 Mobile Safari/537.36",
			procUAInfo{BrowserName: "Chrome", BrowserVersion: "122.0", BrowserEngine: "Blink", OSName: "Android", OSVersion: "14", DeviceType: analytics.DeviceSmartphone}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
			procUAInfo{BrowserName: "Safari", BrowserVersion: "17.3", BrowserEngine: "WebKit", OSName: "MacOS", OSVersion: "10.15", DeviceType: analytics.DeviceDesktop}},
		{procBotUA, procUAInfo{Bot: true}},
		{"", procUAInfo{}},
	}
	for _, tc := range cases {
		got := *c.get(tc.ua)
		if tc.want.Bot {
			procEq(t, "bot "+tc.ua, got.Bot, true)
			continue
		}
		if got != tc.want {
			t.Errorf("parse(%q)\n got %+v\nwant %+v", tc.ua, got, tc.want)
		}
	}
}

func TestUACacheBounded(t *testing.T) {
	c := newProcUACache(10)
	for i := 0; i < 100; i++ {
		c.get(fmt.Sprintf("Mozilla/5.0 test/%d", i))
	}
	if n := len(c.cur) + len(c.old); n > 10 {
		t.Errorf("cache holds %d entries, bound 10", n)
	}
	a := c.get(procChromeUA)
	if b := c.get(procChromeUA); a != b {
		t.Error("repeated lookup parsed again")
	}
}
