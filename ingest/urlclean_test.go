package ingest

import (
	"strings"
	"testing"
)

func TestCleanURL(t *testing.T) {
	ex := newProcParamSet(procDefaultExcludedParams, []string{"session_token"}, []string{"Ref"})
	cases := []struct {
		name string
		in   string
		keep bool
		want string
	}{
		{"no query", "https://example.com/a", false, "https://example.com/a"},
		{"kept params in order", "https://example.com/a?b=2&a=1", false, "https://example.com/a?b=2&a=1"},
		{"gclid", "https://example.com/?gclid=abc", false, "https://example.com/"},
		{"fbclid among others", "https://example.com/p?x=1&fbclid=IwAR&y=2", false, "https://example.com/p?x=1&y=2"},
		{"Matomo defaults", "https://example.com/?msclkid=1&twclid=2&wbraid=3&gbraid=4&yclid=5&fb_xd_fragment=6&fb_comment_id=7&phpsessid=8&jsessionid=9&sessionid=10&aspsessionid=11&doing_wp_cron=12&sid=13&pk_vid=14&k=v", false, "https://example.com/?k=v"},
		{"identifier extras", "https://example.com/?gclsrc=a&dclid=b&_ga=c&_gl=d&ttclid=e&li_fat_id=f&igshid=g&mc_eid=h&k=v", false, "https://example.com/?k=v"},
		{"name case-insensitive", "https://example.com/?GCLID=1&PHPSESSID=2", false, "https://example.com/"},
		{"encoded name", "https://example.com/?%67clid=1&a=b", false, "https://example.com/?a=b"},
		{"instance list", "https://example.com/?session_token=s&a=b", false, "https://example.com/?a=b"},
		{"site list", "https://example.com/?ref=x&a=b", false, "https://example.com/?a=b"},
		{"campaign params kept", "https://example.com/?utm_campaign=x&utm_source=y&pk_campaign=z", false, "https://example.com/?utm_campaign=x&utm_source=y&pk_campaign=z"},
		{"all stripped leaves no ?", "https://example.com/p?gclid=1&fbclid=2", false, "https://example.com/p"},
		{"empty pairs dropped when rewriting", "https://example.com/?a=1&&gclid=2&", false, "https://example.com/?a=1"},
		{"fragment dropped", "https://example.com/p?a=1#section", false, "https://example.com/p?a=1"},
		{"fragment kept", "https://example.com/p?a=1#section", true, "https://example.com/p?a=1#section"},
		{"SPA fragment cleaned", "https://example.com/#/route?gclid=1&x=2", true, "https://example.com/#/route?x=2"},
		{"fragment params cleaned", "https://example.com/#gclid=1&x=2", true, "https://example.com/#x=2"},
		{"param value that looks excluded kept", "https://example.com/?q=gclid", false, "https://example.com/?q=gclid"},
		{"not a URL", "just text?gclid=1", false, "just text"},
		{"empty", "", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			procEq(t, "cleaned", procCleanURL(c.in, ex, c.keep), c.want)
		})
	}
	long := "https://example.com/" + strings.Repeat("é", 600)
	if got := procCleanURL(long, ex, false); len(got) > procMaxURLLength || !strings.HasPrefix(long, got) {
		t.Errorf("long URL not cut on a rune boundary: %d bytes", len(got))
	}
}

func TestSiteSearchOf(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		kw, cat  []string
		ok       bool
		keyword  string
		category string
		cleaned  string
	}{
		{name: "q", in: "https://example.com/search?q=Red+Shoes&page=2", kw: procDefaultSearchKeywordParams, ok: true, keyword: "red shoes", cleaned: "https://example.com/search?page=2"},
		{name: "WordPress s", in: "https://example.com/?s=hello", kw: procDefaultSearchKeywordParams, ok: true, keyword: "hello", cleaned: "https://example.com/"},
		{name: "empty keyword", in: "https://example.com/?q=&x=1", kw: procDefaultSearchKeywordParams, ok: false, cleaned: "https://example.com/?q=&x=1"},
		{name: "no params", in: "https://example.com/p", kw: procDefaultSearchKeywordParams, ok: false, cleaned: "https://example.com/p"},
		{name: "custom params with category", in: "https://example.com/find?term=tv&cat=Electronics#top", kw: []string{"term"}, cat: []string{"cat"}, ok: true, keyword: "tv", category: "Electronics", cleaned: "https://example.com/find#top"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kw, cat, cleaned, ok := procSiteSearchOf(c.in, c.kw, c.cat)
			procEq(t, "ok", ok, c.ok)
			procEq(t, "keyword", kw, c.keyword)
			procEq(t, "category", cat, c.category)
			procEq(t, "cleaned", cleaned, c.cleaned)
		})
	}
}

func TestScrub(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://example.com/?email=a@b.com&x=1", "https://example.com/?x=1"},
		{"https://example.com/u/jane.doe%40mail.example/profile", "https://example.com/u/[email]/profile"},
		{"Welcome jane@example.org!", "Welcome [email]!"},
		{"call 0123 456 789 now", "call [number] now"},
		{"card 4111-1111-1111-1111", "card [number]"},
		{"order 12345678", "order 12345678"},
		{"https://example.com/?access_token=abc&api_key=k&page=3", "https://example.com/?page=3"},
		{"not an @ address", "not an @ address"},
		{"", ""},
		{"https://blog.example/?author=jane&auth=x&oauth_token=y", "https://blog.example/?author=jane"},
		{"https://example.com/?Authorization=Bearer%20x&p=1", "https://example.com/?p=1"},
		{"https://app.example/#/reset?token=abc123&lang=en", "https://app.example/#/reset?token=[secret]&lang=en"},
		{"https://app.example/p?x=1#/reset;token=abc123", "https://app.example/p?x=1#/reset;token=[secret]"},
		{"https://example.com/cart;jsessionid=A1B2C3?x=1", "https://example.com/cart;jsessionid=[secret]?x=1"},
		{"login failed for password=hunter2, retry", "login failed for password=[secret], retry"},
		{"token= empty", "token= empty"},
		{"a=b c=d x=1+1", "a=b c=d x=1+1"},
		{"session_id=123456789012&mail=jo@example.org", "session_id=[secret]&mail=[email]"},
		{"pay 4111 1111 1111 1111 / pwd=s3cr3t", "pay [number] / pwd=[secret]"},
		{"https://example.com/?next=%2Flogin%3Fpassword%3Dhunter2%26x%3D1&p=2", "https://example.com/?next=%2Flogin%3Fpassword%3D[secret]&p=2"},
	}
	for _, c := range cases {
		got := procScrubURL(c.in)
		if got != c.want {
			t.Errorf("scrub(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzCleanURL(f *testing.F) {
	ex := newProcParamSet(procDefaultExcludedParams)
	for _, s := range []string{"https://example.com/?gclid=1#x", "?&&=#?=", "%", "https://[::1]:8080/?a=%zz&gclid", "#?gclid=1", "https://e.com/?s=x&q=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := procCleanURL(s, ex, true)
		if len(out) > len(s) || len(out) > procMaxURLLength {
			t.Fatalf("cleaned URL grew: %q → %q", s, out)
		}
		if strings.Contains(strings.ToLower(out), "gclid=") && !strings.Contains(strings.ToLower(s), "gclid=") {
			t.Fatalf("invented a parameter")
		}
		procSiteSearchOf(s, procDefaultSearchKeywordParams, []string{"c"})
		procCampaignOf(s)
		procScrubURL(s)
		procHostOf(s)
	})
}

// FuzzScrubText: scrubbing never panics, never grows a text by more than
// its markers and is idempotent (a scrubbed text has nothing left).
func FuzzScrubText(f *testing.F) {
	for _, s := range []string{"password=hunter2", "a@b.co", "jo%40x.org", "4111 1111 1111 1111", "token==", "=&=", "x=@1.2", "pwd=a@b.com 123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := procScrubText(s)
		if twice := procScrubText(once); twice != once {
			t.Fatalf("not idempotent: %q → %q → %q", s, once, twice)
		}
		if u := procScrubURL(s); procScrubURL(u) != u {
			t.Fatalf("URL scrub not idempotent: %q → %q", s, u)
		}
	})
}
