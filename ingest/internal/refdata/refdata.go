package refdata

import "strings"

// Kind says what a matched host is.
type Kind uint8

const (
	// Search is a search engine: the keyword is in one of Entry.Params.
	Search Kind = iota + 1
	// Social is a social network.
	Social
)

// Entry is one search engine or social network.
type Entry struct {
	Kind Kind
	Name string
	// Params are the query parameters that may hold the search keyword,
	// in order of preference (search engines only).
	Params []string
}

// A host pattern is one of:
//
//	"example.com"    the host, "www." and "m." in front of it
//	"*.example.com"  any subdomain of example.com, and example.com itself
//	"example.*"      example.<tld> with a country or generic top-level
//	                 domain ("google.de", "google.co.uk", "google.com.au"),
//	                 also with "www." or "m." in front
//
// Socials match every subdomain of their domains (l.facebook.com,
// old.reddit.com) so their patterns are written without "*.".
type entryDef struct {
	Entry
	hosts []string
}

var searchEngines = []entryDef{
	{Entry{Search, "Google", []string{"q", "query"}}, []string{"google.*", "com.google.android.googlequicksearchbox"}},
	{Entry{Search, "Bing", []string{"q"}}, []string{"*.bing.com"}},
	{Entry{Search, "Yahoo!", []string{"p", "q"}}, []string{"*.search.yahoo.com"}},
	{Entry{Search, "Yahoo! Japan", []string{"p"}}, []string{"*.search.yahoo.co.jp"}},
	{Entry{Search, "DuckDuckGo", []string{"q"}}, []string{"*.duckduckgo.com", "duck.com"}},
	{Entry{Search, "Yandex", []string{"text"}}, []string{"yandex.*", "ya.ru"}},
	{Entry{Search, "Baidu", []string{"wd", "word", "kw"}}, []string{"*.baidu.com"}},
	{Entry{Search, "Ecosia", []string{"q"}}, []string{"ecosia.org"}},
	{Entry{Search, "Qwant", []string{"q"}}, []string{"*.qwant.com"}},
	{Entry{Search, "Startpage", []string{"query", "q"}}, []string{"*.startpage.com", "startpage.nl", "*.ixquick.com"}},
	{Entry{Search, "Brave Search", []string{"q"}}, []string{"search.brave.com"}},
	{Entry{Search, "Naver", []string{"query"}}, []string{"*.search.naver.com"}},
	{Entry{Search, "Seznam", []string{"q"}}, []string{"*.search.seznam.cz", "seznam.cz"}},
	{Entry{Search, "Sogou", []string{"query", "keyword"}}, []string{"*.sogou.com"}},
	{Entry{Search, "Ask", []string{"q"}}, []string{"*.ask.com"}},
	{Entry{Search, "AOL", []string{"q", "query"}}, []string{"*.search.aol.com"}},
	{Entry{Search, "Kagi", []string{"q"}}, []string{"kagi.com"}},
	{Entry{Search, "Mojeek", []string{"q"}}, []string{"mojeek.com", "mojeek.co.uk"}},
	{Entry{Search, "Swisscows", []string{"query"}}, []string{"swisscows.com"}},
	{Entry{Search, "MetaGer", []string{"eingabe"}}, []string{"metager.org", "metager.de"}},
	{Entry{Search, "Presearch", []string{"q"}}, []string{"presearch.com", "presearch.org"}},
	{Entry{Search, "You.com", []string{"q"}}, []string{"you.com"}},
	{Entry{Search, "Petal Search", []string{"query"}}, []string{"petalsearch.com"}},
	{Entry{Search, "360 Search", []string{"q"}}, []string{"so.com"}},
	{Entry{Search, "Daum", []string{"q"}}, []string{"search.daum.net"}},
	{Entry{Search, "Dogpile", []string{"q"}}, []string{"dogpile.com"}},
	{Entry{Search, "Lilo", []string{"q"}}, []string{"search.lilo.org"}},
}

var socialNetworks = []entryDef{
	{Entry{Social, "Facebook", nil}, []string{"facebook.com", "fb.com", "fb.me", "com.facebook.katana"}},
	{Entry{Social, "Facebook Messenger", nil}, []string{"messenger.com", "m.me"}},
	{Entry{Social, "Twitter", nil}, []string{"twitter.com", "x.com", "t.co", "com.twitter.android"}},
	{Entry{Social, "LinkedIn", nil}, []string{"linkedin.com", "lnkd.in", "com.linkedin.android"}},
	{Entry{Social, "Reddit", nil}, []string{"reddit.com", "redd.it", "com.reddit.frontpage"}},
	{Entry{Social, "Instagram", nil}, []string{"instagram.com", "com.instagram.android"}},
	{Entry{Social, "YouTube", nil}, []string{"youtube.com", "youtu.be", "com.google.android.youtube"}},
	{Entry{Social, "Pinterest", nil}, []string{"pinterest.*", "pin.it"}},
	{Entry{Social, "TikTok", nil}, []string{"tiktok.com"}},
	{Entry{Social, "VKontakte", nil}, []string{"vk.com", "vk.ru", "vkontakte.ru"}},
	{Entry{Social, "Odnoklassniki", nil}, []string{"ok.ru", "odnoklassniki.ru"}},
	{Entry{Social, "Telegram", nil}, []string{"t.me", "telegram.me", "telegram.org", "org.telegram.messenger"}},
	{Entry{Social, "WhatsApp", nil}, []string{"whatsapp.com", "wa.me", "com.whatsapp"}},
	{Entry{Social, "XING", nil}, []string{"xing.com"}},
	{Entry{Social, "Tumblr", nil}, []string{"tumblr.com"}},
	{Entry{Social, "Bluesky", nil}, []string{"bsky.app"}},
	{Entry{Social, "Threads", nil}, []string{"threads.net", "threads.com"}},
	{Entry{Social, "Hacker News", nil}, []string{"news.ycombinator.com"}},
	{Entry{Social, "Discord", nil}, []string{"discord.com", "discordapp.com", "discord.gg"}},
	{Entry{Social, "Snapchat", nil}, []string{"snapchat.com"}},
	{Entry{Social, "Sina Weibo", nil}, []string{"weibo.com", "weibo.cn", "t.cn"}},
	{Entry{Social, "Quora", nil}, []string{"quora.com"}},
	{Entry{Social, "Flickr", nil}, []string{"flickr.com", "flic.kr"}},
	{Entry{Social, "GitHub", nil}, []string{"github.com"}},
	{Entry{Social, "StackOverflow", nil}, []string{"stackoverflow.com"}},
	{Entry{Social, "Vimeo", nil}, []string{"vimeo.com"}},
	{Entry{Social, "Twitch", nil}, []string{"twitch.tv"}},
	{Entry{Social, "LINE", nil}, []string{"line.me"}},
	{Entry{Social, "Viadeo", nil}, []string{"viadeo.com"}},
}

// Table matches hosts against the search engine and social network lists.
// The zero Table is empty; use Default. A Table is read-only after it is
// built and safe for concurrent use.
type Table struct {
	exact  map[string]*Entry // host → entry
	suffix map[string]*Entry // "example.com" matches every subdomain
	tld    map[string]*tldEntry
}

type tldEntry struct {
	entry *Entry
	// anySub: every subdomain matches (socials); otherwise only "www." and
	// "m." may precede the name.
	anySub bool
}

// Default returns a Table built from the built-in lists.
func Default() *Table {
	t := &Table{
		exact:  make(map[string]*Entry),
		suffix: make(map[string]*Entry),
		tld:    make(map[string]*tldEntry),
	}
	for i := range searchEngines {
		t.add(&searchEngines[i], false)
	}
	for i := range socialNetworks {
		t.add(&socialNetworks[i], true)
	}
	return t
}

func (t *Table) add(d *entryDef, anySub bool) {
	e := &d.Entry
	for _, h := range d.hosts {
		switch {
		case strings.HasSuffix(h, ".*"):
			t.tld[strings.TrimSuffix(h, ".*")] = &tldEntry{entry: e, anySub: anySub}
		case strings.HasPrefix(h, "*."):
			t.suffix[h[2:]] = e
		case anySub:
			t.suffix[h] = e
		default:
			t.exact[h] = e
			t.exact["www."+h] = e
			t.exact["m."+h] = e
		}
	}
}

// Lookup returns the entry of host (lower case, no port), or nil.
func (t *Table) Lookup(host string) *Entry {
	if t == nil || host == "" {
		return nil
	}
	if e := t.exact[host]; e != nil {
		return e
	}
	for h := host; ; {
		if e := t.suffix[h]; e != nil {
			return e
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	if len(t.tld) == 0 {
		return nil
	}
	// name.<tld>: find the label followed by a TLD-like rest.
	labels := strings.Split(host, ".")
	for i := 0; i < len(labels)-1; i++ {
		te := t.tld[labels[i]]
		if te == nil || !isTLDLike(labels[i+1:]) {
			continue
		}
		if i == 0 || te.anySub || (i == 1 && (labels[0] == "www" || labels[0] == "m")) {
			return te.entry
		}
	}
	return nil
}

// isTLDLike reports whether labels look like a public suffix of a big
// service's country sites: "de", "com", "co.uk", "com.au", "co.jp".
func isTLDLike(labels []string) bool {
	switch len(labels) {
	case 1:
		return isLetters(labels[0], 2, 3)
	case 2:
		switch labels[0] {
		case "co", "com", "ac", "ne", "or", "net", "org":
			return isLetters(labels[1], 2, 2)
		}
	}
	return false
}

func isLetters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
