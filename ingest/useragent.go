package ingest

import (
	"strings"
	"sync"

	analytics "github.com/footfall/analytics"
	useragent "github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
	"github.com/x-way/crawlerdetect"
)

// procUAInfo is what a user agent string tells: the client fields of a
// visit that come from it, and whether it is a bot.
type procUAInfo struct {
	BrowserName, BrowserVersion, BrowserEngine string
	OSName, OSVersion                          string
	DeviceType                                 analytics.DeviceType
	Bot                                        bool
}

// procUAMaxKey bounds the length of a user agent used as a cache key and
// parsed; longer strings are cut (real ones are a few hundred bytes).
const procUAMaxKey = 1024

// procUACache parses user agents with go-useragent (client) and
// crawlerdetect (bots) and keeps the results in a bounded two-generation
// cache: lookups hit the current map, then the previous one (promoting the
// entry); when the current map is full it becomes the previous one. So at
// most 2×half entries are kept and the hot ones survive. Safe for
// concurrent use.
type procUACache struct {
	parser   *useragent.Parser
	crawlers *crawlerdetect.CrawlerDetect

	mu   sync.Mutex
	half int
	cur  map[string]*procUAInfo
	old  map[string]*procUAInfo
}

func newProcUACache(size int) *procUACache {
	half := max(size/2, 1)
	return &procUACache{
		parser:   useragent.NewParser(),
		crawlers: crawlerdetect.New(),
		half:     half,
		cur:      make(map[string]*procUAInfo, half),
	}
}

// get returns the parsed user agent; the result is shared and read-only.
func (c *procUACache) get(ua string) *procUAInfo {
	if len(ua) > procUAMaxKey {
		ua = procTruncate(ua, procUAMaxKey)
	}
	c.mu.Lock()
	if info, ok := c.cur[ua]; ok {
		c.mu.Unlock()
		return info
	}
	if info, ok := c.old[ua]; ok {
		c.putLocked(ua, info)
		c.mu.Unlock()
		return info
	}
	c.mu.Unlock()

	info := c.parse(ua)

	c.mu.Lock()
	c.putLocked(strings.Clone(ua), info)
	c.mu.Unlock()
	return info
}

func (c *procUACache) putLocked(ua string, info *procUAInfo) {
	if len(c.cur) >= c.half {
		c.old = c.cur
		c.cur = make(map[string]*procUAInfo, c.half)
	}
	c.cur[ua] = info
}

func (c *procUACache) parse(ua string) *procUAInfo {
	info := &procUAInfo{}
	if strings.TrimSpace(ua) == "" {
		return info
	}
	a := c.parser.Parse(ua)
	info.Bot = a.IsBot() || c.crawlers.IsCrawler(ua)
	info.BrowserName = string(a.Browser())
	if maj := a.BrowserVersionMajor(); maj != "" {
		info.BrowserVersion = maj
		if minor := a.BrowserVersionMinor(); minor != "" {
			info.BrowserVersion += "." + minor
		}
	}
	info.OSName = string(a.OS())
	info.OSVersion = procOSVersion(ua, a.OS())
	info.BrowserEngine = procEngine(a.Browser(), a.OS(), ua)
	switch a.Device() {
	case agents.DeviceDesktop:
		info.DeviceType = analytics.DeviceDesktop
	case agents.DeviceMobile:
		info.DeviceType = analytics.DeviceSmartphone
	case agents.DeviceTablet:
		info.DeviceType = analytics.DeviceTablet
	case agents.DeviceTV:
		info.DeviceType = analytics.DeviceTV
	}
	return info
}

// procEngine names the rendering engine from the browser and OS (every
// browser on iOS uses WebKit).
func procEngine(b agents.Browser, os agents.OS, ua string) string {
	if os == agents.OSIOS {
		return "WebKit"
	}
	switch b {
	case agents.BrowserFirefox:
		return "Gecko"
	case agents.BrowserSafari, agents.BrowserNintendo:
		return "WebKit"
	case agents.BrowserIE:
		return "Trident"
	case agents.BrowserOperaMini:
		return "Presto"
	case agents.BrowserChrome, agents.BrowserEdge, agents.BrowserOpera, agents.BrowserVivaldi,
		agents.BrowserSamsung, agents.BrowserYandex, agents.BrowserHuawei, agents.BrowserSilk,
		agents.BrowserFalkon:
		return "Blink"
	case agents.BrowserAndroid:
		if strings.Contains(ua, "Chrome/") {
			return "Blink"
		}
		return "WebKit"
	}
	return ""
}

// procOSVersion reads the OS version from the user agent string.
func procOSVersion(ua string, os agents.OS) string {
	switch os {
	case agents.OSWindows:
		v := procVersionAfter(ua, "Windows NT ", '.')
		switch v {
		case "10.0":
			return "10"
		case "6.3":
			return "8.1"
		case "6.2":
			return "8"
		case "6.1":
			return "7"
		case "6.0":
			return "Vista"
		case "5.1", "5.2":
			return "XP"
		}
		return ""
	case agents.OSAndroid:
		return procVersionAfter(ua, "Android ", '.')
	case agents.OSIOS:
		if v := procVersionAfter(ua, "iPhone OS ", '_'); v != "" {
			return v
		}
		return procVersionAfter(ua, "CPU OS ", '_')
	case agents.OSMacOS:
		return procVersionAfter(ua, "Mac OS X ", '_')
	}
	return ""
}

// procVersionAfter returns "major.minor" of the version that follows
// marker in ua, whose parts are separated by sep; "" when there is none.
func procVersionAfter(ua, marker string, sep byte) string {
	i := strings.Index(ua, marker)
	if i < 0 {
		return ""
	}
	s := ua[i+len(marker):]
	n := 0
	parts := 0
	for n < len(s) {
		c := s[n]
		if c >= '0' && c <= '9' {
			n++
			continue
		}
		if (c == sep || c == '.') && parts == 0 && n > 0 && n+1 < len(s) && s[n+1] >= '0' && s[n+1] <= '9' {
			parts++
			n++
			continue
		}
		break
	}
	if n == 0 {
		return ""
	}
	return strings.ReplaceAll(s[:n], string(sep), ".")
}
