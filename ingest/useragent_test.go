package ingest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	analytics "github.com/footfall/analytics"
	"github.com/x-way/crawlerdetect"
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

// procCrawlerdetectCorpus returns the lines of a test file of the
// crawlerdetect module (its corpus of crawler and device user agents).
func procCrawlerdetectCorpus(t *testing.T, name string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/x-way/crawlerdetect").Output()
	if err != nil {
		t.Fatalf("locating the crawlerdetect module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "testdata", name))
	if err != nil {
		t.Fatalf("reading crawlerdetect's %s: %v", name, err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestPlainBrowserNeverHidesACrawler: the fast path in front of
// crawlerdetect never accepts a user agent that crawlerdetect (or its
// corpus) calls a crawler, and it does accept the common browsers.
func TestPlainBrowserNeverHidesACrawler(t *testing.T) {
	crawlers := procCrawlerdetectCorpus(t, "crawlers.txt")
	if len(crawlers) < 1000 {
		t.Fatalf("only %d crawler user agents", len(crawlers))
	}
	for _, ua := range crawlers {
		if procPlainBrowser(ua) {
			t.Errorf("crawler taken for a plain browser: %q", ua)
		}
	}
	devices := procCrawlerdetectCorpus(t, "devices.txt")
	plain, checked := 0, 0
	for i, ua := range devices {
		if !procPlainBrowser(ua) {
			continue
		}
		plain++
		if i%97 == 0 { // crawlerdetect is slow: check a sample
			checked++
			if crawlerdetect.IsCrawler(ua) {
				t.Errorf("plain browser that crawlerdetect calls a crawler: %q", ua)
			}
		}
	}
	t.Logf("fast path: %d of %d device user agents (%d checked against crawlerdetect)", plain, len(devices), checked)
	for _, ua := range []string{procChromeUA, procFirefoxUA, procIPhoneUA} {
		if !procPlainBrowser(ua) {
			t.Errorf("common browser not on the fast path: %q", ua)
		}
	}
}
