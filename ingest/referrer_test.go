package ingest

import (
	"testing"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest/internal/refdata"
)

func TestClassifyReferrer(t *testing.T) {
	o := ProcessorOptions{}
	o.setDefaults()
	site, _ := newProcSite(&o, analytics.Site{
		ID:                1,
		URLs:              []string{"https://example.com", "https://*.example.net", "shop.example.org"},
		ExcludedReferrers: []string{"payments.example", "https://sso.example/login"},
	}, nil)
	tab := refdata.Default()
	const page = "https://example.com/landing"
	type want struct {
		typ     analytics.ReferrerType
		name    string
		keyword string
	}
	cases := []struct {
		name    string
		page    string
		ref     string
		want    want
		wantURL string
	}{
		{name: "no referrer", ref: "", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "blank referrer", ref: "   ", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "not a URL", ref: "android", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "own host", ref: "https://example.com/other", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "own host with www", ref: "https://www.example.com/", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "own wildcard alias", ref: "https://blog.example.net/x", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "own alias without scheme", ref: "http://shop.example.org/", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "page host", page: "https://unlisted.example/p", ref: "https://unlisted.example/q", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "excluded referrer is absent", ref: "https://payments.example/return", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "excluded referrer subdomain", ref: "https://eu.payments.example/return", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "excluded referrer with path", ref: "https://sso.example/callback", want: want{analytics.ReferrerDirect, "", ""}},
		{name: "Google without keyword", ref: "https://www.google.com/", want: want{analytics.ReferrerSearch, "Google", ""}},
		{name: "Google UK with keyword", ref: "https://www.google.co.uk/search?q=Cheap+Flights&hl=en", want: want{analytics.ReferrerSearch, "Google", "cheap flights"}},
		{name: "Google Australia", ref: "https://google.com.au/", want: want{analytics.ReferrerSearch, "Google", ""}},
		{name: "Google Germany", ref: "https://www.google.de/url?q=https://example.com/&sa=t", want: want{analytics.ReferrerSearch, "Google", ""}},
		{name: "Google app", ref: "android-app://com.google.android.googlequicksearchbox/", want: want{analytics.ReferrerSearch, "Google", ""}},
		{name: "mail.google is a website", ref: "https://mail.google.com/mail/u/0/", want: want{analytics.ReferrerWebsite, "mail.google.com", ""}},
		{name: "Bing", ref: "https://www.bing.com/search?q=matomo+alternative", want: want{analytics.ReferrerSearch, "Bing", "matomo alternative"}},
		{name: "Bing China", ref: "https://cn.bing.com/search?q=x", want: want{analytics.ReferrerSearch, "Bing", "x"}},
		{name: "Yahoo", ref: "https://search.yahoo.com/search?p=go+analytics", want: want{analytics.ReferrerSearch, "Yahoo!", "go analytics"}},
		{name: "Yahoo UK", ref: "https://uk.search.yahoo.com/search?p=tea", want: want{analytics.ReferrerSearch, "Yahoo!", "tea"}},
		{name: "Yahoo Japan", ref: "https://search.yahoo.co.jp/search?p=%E6%9D%B1%E4%BA%AC", want: want{analytics.ReferrerSearch, "Yahoo! Japan", "東京"}},
		{name: "DuckDuckGo", ref: "https://duckduckgo.com/?q=privacy", want: want{analytics.ReferrerSearch, "DuckDuckGo", "privacy"}},
		{name: "Yandex", ref: "https://yandex.ru/search/?text=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82", want: want{analytics.ReferrerSearch, "Yandex", "привет"}},
		{name: "Yandex Turkey", ref: "https://yandex.com.tr/search/?text=merhaba", want: want{analytics.ReferrerSearch, "Yandex", "merhaba"}},
		{name: "Baidu", ref: "https://www.baidu.com/s?wd=abc", want: want{analytics.ReferrerSearch, "Baidu", "abc"}},
		{name: "Ecosia", ref: "https://www.ecosia.org/search?q=trees", want: want{analytics.ReferrerSearch, "Ecosia", "trees"}},
		{name: "Qwant", ref: "https://www.qwant.com/?q=qwant", want: want{analytics.ReferrerSearch, "Qwant", "qwant"}},
		{name: "Startpage", ref: "https://www.startpage.com/sp/search?query=sp", want: want{analytics.ReferrerSearch, "Startpage", "sp"}},
		{name: "Brave", ref: "https://search.brave.com/search?q=brave", want: want{analytics.ReferrerSearch, "Brave Search", "brave"}},
		{name: "Naver", ref: "https://search.naver.com/search.naver?query=n", want: want{analytics.ReferrerSearch, "Naver", "n"}},
		{name: "Seznam", ref: "https://search.seznam.cz/?q=s", want: want{analytics.ReferrerSearch, "Seznam", "s"}},
		{name: "Sogou", ref: "https://www.sogou.com/web?query=so", want: want{analytics.ReferrerSearch, "Sogou", "so"}},
		{name: "Ask", ref: "https://www.ask.com/web?q=ask", want: want{analytics.ReferrerSearch, "Ask", "ask"}},
		{name: "AOL", ref: "https://search.aol.com/aol/search?q=aol", want: want{analytics.ReferrerSearch, "AOL", "aol"}},
		{name: "Facebook", ref: "https://l.facebook.com/l.php?u=x", want: want{analytics.ReferrerSocial, "Facebook", ""}},
		{name: "Facebook mobile", ref: "https://m.facebook.com/", want: want{analytics.ReferrerSocial, "Facebook", ""}},
		{name: "t.co", ref: "https://t.co/abc", want: want{analytics.ReferrerSocial, "Twitter", ""}},
		{name: "x.com", ref: "https://x.com/someone/status/1", want: want{analytics.ReferrerSocial, "Twitter", ""}},
		{name: "LinkedIn", ref: "https://www.linkedin.com/feed/", want: want{analytics.ReferrerSocial, "LinkedIn", ""}},
		{name: "lnkd.in", ref: "https://lnkd.in/xyz", want: want{analytics.ReferrerSocial, "LinkedIn", ""}},
		{name: "Reddit", ref: "https://old.reddit.com/r/golang/", want: want{analytics.ReferrerSocial, "Reddit", ""}},
		{name: "Instagram", ref: "https://l.instagram.com/", want: want{analytics.ReferrerSocial, "Instagram", ""}},
		{name: "YouTube", ref: "https://www.youtube.com/watch?v=1", want: want{analytics.ReferrerSocial, "YouTube", ""}},
		{name: "Pinterest Germany", ref: "https://www.pinterest.de/pin/1", want: want{analytics.ReferrerSocial, "Pinterest", ""}},
		{name: "TikTok", ref: "https://www.tiktok.com/", want: want{analytics.ReferrerSocial, "TikTok", ""}},
		{name: "VK", ref: "https://vk.com/", want: want{analytics.ReferrerSocial, "VKontakte", ""}},
		{name: "Telegram", ref: "https://t.me/channel", want: want{analytics.ReferrerSocial, "Telegram", ""}},
		{name: "WhatsApp", ref: "https://web.whatsapp.com/", want: want{analytics.ReferrerSocial, "WhatsApp", ""}},
		{name: "XING", ref: "https://www.xing.com/", want: want{analytics.ReferrerSocial, "XING", ""}},
		{name: "Tumblr", ref: "https://someone.tumblr.com/post/1", want: want{analytics.ReferrerSocial, "Tumblr", ""}},
		{name: "Bluesky", ref: "https://bsky.app/profile/x", want: want{analytics.ReferrerSocial, "Bluesky", ""}},
		{name: "Threads", ref: "https://www.threads.net/@x", want: want{analytics.ReferrerSocial, "Threads", ""}},
		{name: "Mastodon instance is a website", ref: "https://mastodon.social/@x", want: want{analytics.ReferrerWebsite, "mastodon.social", ""}},
		{name: "website", ref: "https://www.golang.org/doc/", want: want{analytics.ReferrerWebsite, "golang.org", ""}, wantURL: "https://www.golang.org/doc/"},
		{name: "website with port and user", ref: "http://user@Blog.Example.io:8080/p", want: want{analytics.ReferrerWebsite, "blog.example.io", ""}},
		{name: "lookalike host is a website", ref: "https://notgoogle.com/?q=x", want: want{analytics.ReferrerWebsite, "notgoogle.com", ""}},
		{name: "google on a long TLD is a website", ref: "https://google.example/?q=x", want: want{analytics.ReferrerWebsite, "google.example", ""}},
		{name: "campaign wins over the referrer", page: "https://example.com/?utm_campaign=Spring_Sale&utm_term=Shoes&utm_source=Newsletter&utm_medium=email&utm_content=top&utm_id=42", ref: "https://www.google.com/", want: want{analytics.ReferrerCampaign, "spring_sale", "shoes"}, wantURL: "https://www.google.com/"},
		{name: "pk_campaign", page: "https://example.com/?pk_campaign=Q1&pk_kwd=Ads", want: want{analytics.ReferrerCampaign, "q1", "ads"}},
		{name: "mtm_campaign", page: "https://example.com/?mtm_campaign=m&mtm_kwd=k", want: want{analytics.ReferrerCampaign, "m", "k"}},
		{name: "matomo_campaign", page: "https://example.com/?matomo_campaign=mc", want: want{analytics.ReferrerCampaign, "mc", ""}},
		{name: "piwik_campaign", page: "https://example.com/?piwik_campaign=pc", want: want{analytics.ReferrerCampaign, "pc", ""}},
		{name: "utm_source alone", page: "https://example.com/?utm_source=Twitter", want: want{analytics.ReferrerCampaign, "twitter", ""}},
		{name: "utm_medium alone", page: "https://example.com/?utm_medium=CPC", want: want{analytics.ReferrerCampaign, "cpc", ""}},
		{name: "campaign in the fragment", page: "https://example.com/#pk_campaign=hash", want: want{analytics.ReferrerCampaign, "hash", ""}},
		{name: "empty campaign value ignored", page: "https://example.com/?utm_campaign=&x=1", ref: "https://golang.org/", want: want{analytics.ReferrerWebsite, "golang.org", ""}},
		{name: "campaign with an excluded referrer", page: "https://example.com/?pk_campaign=c", ref: "https://payments.example/", want: want{analytics.ReferrerCampaign, "c", ""}, wantURL: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pg := c.page
			if pg == "" {
				pg = page
			}
			got := procClassifyReferrer(tab, site, pg, c.ref)
			if g := (want{got.Type, got.Name, got.Keyword}); g != c.want {
				t.Errorf("got %v %q %q, want %v %q %q", g.typ, g.name, g.keyword, c.want.typ, c.want.name, c.want.keyword)
			}
			if c.wantURL != "" || c.name == "campaign with an excluded referrer" {
				procEq(t, "url", got.URL, c.wantURL)
			}
			if got.Type == analytics.ReferrerDirect && got.URL != "" {
				t.Errorf("direct entry keeps url %q", got.URL)
			}
		})
	}

	got := procClassifyReferrer(tab, site, "https://example.com/?utm_campaign=Spring_Sale&utm_term=Shoes&utm_source=Newsletter&utm_medium=email&utm_content=Top&utm_id=42", "")
	wantRef := analytics.Referrer{Type: analytics.ReferrerCampaign, Name: "spring_sale", Keyword: "shoes",
		CampaignSource: "newsletter", CampaignMedium: "email", CampaignContent: "Top", CampaignID: "42"}
	if got != wantRef {
		t.Errorf("campaign details %+v, want %+v", got, wantRef)
	}
}

func TestRefdataLookup(t *testing.T) {
	tab := refdata.Default()
	cases := map[string]string{
		"google.com": "Google", "www.google.fr": "Google", "m.google.co.jp": "Google",
		"images.google.com": "", "google.info": "", "google": "",
		"bing.com": "Bing", "www.bing.com": "Bing",
		"facebook.com": "Facebook", "lm.facebook.com": "Facebook",
		"pinterest.com": "Pinterest", "uk.pinterest.co.uk": "Pinterest",
		"example.com": "", "": "",
	}
	for host, want := range cases {
		e := tab.Lookup(host)
		got := ""
		if e != nil {
			got = e.Name
		}
		if got != want {
			t.Errorf("Lookup(%q) = %q, want %q", host, got, want)
		}
	}
	var zero *refdata.Table
	if zero.Lookup("google.com") != nil {
		t.Error("nil table matched")
	}
}

func FuzzClassifyReferrer(f *testing.F) {
	o := ProcessorOptions{}
	o.setDefaults()
	site, _ := newProcSite(&o, analytics.Site{ID: 1, URLs: []string{"https://example.com"}, ExcludedReferrers: []string{"x.example"}}, nil)
	tab := refdata.Default()
	f.Add("https://example.com/?utm_campaign=a", "https://www.google.com/search?q=b")
	f.Add("", "http://[::1]:80/")
	f.Add("https://example.com/#", "android-app://")
	f.Add("%zz", "https://%zz@/?q=%zz")
	f.Add("https://example.com/?pk_campaign=%E6%9D", "https://@:/")
	f.Fuzz(func(t *testing.T, page, ref string) {
		r := procClassifyReferrer(tab, site, page, ref)
		if r.Type == 0 {
			t.Fatalf("no type for %q %q", page, ref)
		}
		if len(r.URL) > procMaxReferrerURL {
			t.Fatalf("url too long")
		}
	})
}
