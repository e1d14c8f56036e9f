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
	parser *useragent.Parser

	mu   sync.Mutex
	half int
	cur  map[string]*procUAInfo
	old  map[string]*procUAInfo
}

func newProcUACache(size int) *procUACache {
	half := max(size/2, 1)
	return &procUACache{
		parser: useragent.NewParser(), // shared, read-only trie
		half:   half,
		cur:    make(map[string]*procUAInfo, half),
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
	// crawlerdetect is one huge regular expression (~0.5ms a string); a
	// user agent in the plain shape of a mainstream browser cannot match
	// it, so only the others go through it.
	// crawlerdetect's default detector is compiled once at package init and
	// safe for concurrent use.
	info.Bot = a.IsBot() || !procPlainBrowser(ua) && crawlerdetect.IsCrawler(ua)
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

// procBrowserProducts are the product tokens ("Name/version") of
// mainstream browsers' user agents.
var procBrowserProducts = map[string]bool{
	"Mozilla": true, "AppleWebKit": true, "Chrome": true, "Safari": true, "Version": true,
	"Mobile": true, "Firefox": true, "Gecko": true, "Edg": true, "EdgA": true, "EdgiOS": true,
	"Edge": true, "OPR": true, "SamsungBrowser": true, "CriOS": true, "FxiOS": true,
	"YaBrowser": true, "Vivaldi": true,
}

// procPlainBrowser reports whether ua has exactly the shape of a
// mainstream browser's user agent: "Mozilla/5.0 (platform)", then only
// known browser products and "(KHTML, like Gecko)", where the platform
// comment is made of known platform parts ("Windows NT 10.0", "Win64",
// "Intel Mac OS X 10_15_7", "Android 14", a device model after Android,
// "rv:123.0", …). It is a conservative fast path in front of the crawler
// list: a false "no" only costs the slow check. The tests check it against
// crawlerdetect's own corpus of crawler user agents.
func procPlainBrowser(ua string) bool {
	if !strings.HasPrefix(ua, "Mozilla/5.0 (") || len(ua) > 400 {
		return false
	}
	s := ua[len("Mozilla/5.0 "):]
	first, engine := true, false
	for s != "" {
		switch {
		case s[0] == ' ':
			s = s[1:]
		case s[0] == '(':
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return false
			}
			c := s[1:end]
			if first {
				if !procPlainPlatform(c) {
					return false
				}
				first = false
			} else if c != "KHTML, like Gecko" {
				return false
			}
			s = s[end+1:]
		default:
			if first {
				return false
			}
			end := strings.IndexAny(s, " (")
			if end < 0 {
				end = len(s)
			}
			name, ver, _ := strings.Cut(s[:end], "/")
			if !procBrowserProducts[name] || !procPlainVersion(ver) {
				return false
			}
			engine = engine || name == "AppleWebKit" || name == "Gecko"
			s = s[end:]
		}
	}
	return engine
}

func procPlainVersion(v string) bool {
	if len(v) > 24 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

var procPlatformWords = map[string]bool{
	"Win64": true, "x64": true, "WOW64": true, "Macintosh": true, "X11": true, "Linux": true,
	"Ubuntu": true, "Fedora": true, "U": true, "wv": true, "Mobile": true, "Tablet": true,
	"iPhone": true, "iPad": true, "iPod": true, "iPod touch": true, "Linux x86_64": true,
	"Linux i686": true, "Linux aarch64": true, "Linux armv7l": true, "Linux armv8l": true, "K": true,
}

// procPlainPlatform accepts the platform comment of a browser user agent.
func procPlainPlatform(c string) bool {
	if c == "" || len(c) > 160 {
		return false
	}
	android, model := false, false // a device model may follow "Android n", once
	for _, part := range strings.Split(c, "; ") {
		afterAndroid := android && !model
		switch {
		case procPlatformWords[part]:
		case procVersionPart(part, "Windows NT ", ""), procVersionPart(part, "Intel Mac OS X ", ""),
			procVersionPart(part, "rv:", ""), procVersionPart(part, "CPU iPhone OS ", " like Mac OS X"),
			procVersionPart(part, "CPU OS ", " like Mac OS X"):
		case procVersionPart(part, "Android ", ""):
			android = true
		case len(part) == 2 && procLetters(part), len(part) == 5 && part[2] == '-' && procLetters(part[:2]) && procLetters(part[3:]):
			// locale: "en", "en-us"
		case afterAndroid && procDeviceModel(part):
			model = true
		default:
			return false
		}
	}
	return true
}

// procVersionPart reports whether part is prefix, a version, suffix.
func procVersionPart(part, prefix, suffix string) bool {
	v, ok := strings.CutPrefix(part, prefix)
	if !ok {
		return false
	}
	if v, ok = strings.CutSuffix(v, suffix); !ok || v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

func procLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// procDeviceModel accepts an Android device model ("Pixel 8",
// "SM-S918B Build/TP1A.220624.014") without crawler words.
func procDeviceModel(m string) bool {
	if len(m) > 60 {
		return false
	}
	for i := 0; i < len(m); i++ {
		ch := m[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch == ' ' || ch == '.' || ch == '_' || ch == '-' || ch == '/') {
			return false
		}
	}
	l := strings.ToLower(m)
	for _, w := range [...]string{"bot", "crawl", "spider", "http", "www", "headless", "lighthouse", "preview",
		"scan", "fetch", "search", "check", "monitor", "archive", "google", "agent", "test", "validator",
		"screenshot", "generator", "render", "seznam", "wpm"} {
		if strings.Contains(l, w) {
			return false
		}
	}
	return true
}
