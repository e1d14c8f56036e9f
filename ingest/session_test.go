package ingest

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
)

const (
	procChromeUA  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
	procFirefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"
	procIPhoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
	procBotUA     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

var (
	procVisitorA = analytics.VisitorID{0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}
	procVisitorB = analytics.VisitorID{0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8}
	procVisitorC = analytics.VisitorID{0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8}
)

type procMod func(*analytics.Hit)

// procPV is a page view of visitor A on site 1 at procBase+at.
func procPV(at time.Duration, mods ...procMod) analytics.Hit {
	h := analytics.Hit{
		SiteID:    1,
		Time:      procBase.Add(at),
		Kind:      analytics.KindPageview,
		IP:        netip.MustParseAddr("203.0.113.7"),
		UserAgent: procChromeUA,
		CookieID:  procVisitorA,
		URL:       "https://example.com/",
		Title:     "Home",
		Device:    analytics.Device{LocalHour: -1, LocalMinute: -1, LocalSecond: -1},
	}
	for _, m := range mods {
		m(&h)
	}
	return h
}

func procAt(t time.Time) procMod { return func(h *analytics.Hit) { h.Time = t } }
func procKind(k analytics.HitKind) procMod {
	return func(h *analytics.Hit) { h.Kind = k }
}
func procURL(u string) procMod                 { return func(h *analytics.Hit) { h.URL = u } }
func procTitle(s string) procMod               { return func(h *analytics.Hit) { h.Title = s } }
func procRef(u string) procMod                 { return func(h *analytics.Hit) { h.Referrer = u } }
func procCookie(v analytics.VisitorID) procMod { return func(h *analytics.Hit) { h.CookieID = v } }
func procCID(v analytics.VisitorID) procMod    { return func(h *analytics.Hit) { h.CID = v } }
func procUID(u string) procMod                 { return func(h *analytics.Hit) { h.UserID = u } }
func procIP(s string) procMod {
	return func(h *analytics.Hit) { h.IP = netip.MustParseAddr(s) }
}
func procUA(s string) procMod                { return func(h *analytics.Hit) { h.UserAgent = s } }
func procFlags(f analytics.HitFlags) procMod { return func(h *analytics.Hit) { h.Flags |= f } }
func procSite1(id int) procMod               { return func(h *analytics.Hit) { h.SiteID = id } }
func procGoalHit(id int, rev float64) procMod {
	return func(h *analytics.Hit) { h.Kind, h.GoalID, h.Revenue = analytics.KindGoal, id, rev }
}
func procEvent(c, a string) procMod {
	return func(h *analytics.Hit) {
		h.Kind = analytics.KindEvent
		h.Event = &analytics.Event{Category: c, Action: a}
	}
}
func procOrder(id string, rev float64, items ...analytics.Item) procMod {
	return func(h *analytics.Hit) {
		h.Kind = analytics.KindEcommerceOrder
		h.Order = &analytics.Order{OrderID: id, Revenue: rev, Items: items}
	}
}
func procCart(rev float64, items ...analytics.Item) procMod {
	return func(h *analytics.Hit) {
		h.Kind = analytics.KindCartUpdate
		h.Order = &analytics.Order{Revenue: rev, Items: items}
	}
}
func procDNT() procMod { return procFlags(analytics.FlagDNT) }

func procTestSites() []analytics.Site {
	return []analytics.Site{
		{ID: 1, Name: "Example", URLs: []string{"https://example.com"}, Ecommerce: true},
		{ID: 2, Name: "New York", URLs: []string{"https://ny.example"}, Timezone: "America/New_York"},
		{ID: 3, Name: "Kolkata", URLs: []string{"https://in.example"}, Timezone: "UTC+5.5"},
		{ID: 4, Name: "Cookieless", URLs: []string{"https://cl.example"}, Privacy: analytics.Privacy{Cookieless: analytics.On}},
		{ID: 5, Name: "DNT count", URLs: []string{"https://dnt.example"}, Privacy: analytics.Privacy{DNT: analytics.DNTCount}},
		{ID: 6, Name: "Search", URLs: []string{"https://search.example"}, SiteSearch: true, Privacy: analytics.Privacy{HashUserID: analytics.On}},
	}
}

func procGoals() []analytics.Goal {
	return []analytics.Goal{
		{SiteID: 1, ID: 1, Name: "signup", Match: "manually", Revenue: 5},
		{SiteID: 1, ID: 2, Name: "download", Match: "manually", AllowMultiple: true, Revenue: 1},
		{SiteID: 1, ID: 3, Name: "pricing page", Match: "url", Pattern: "/pricing", PatternType: "contains"},
	}
}

// procSessCase is one sessionization scenario; check runs against the
// store after the hits were processed.
type procSessCase struct {
	name   string
	opts   func(*ProcessorOptions)
	hits   []analytics.Hit
	noSlow bool // skip the restart-per-hit mode (many hits)
	check  func(t *testing.T, s *procFakeStore)
}

func procWantVisits(t *testing.T, s *procFakeStore, n int) []analytics.Visit {
	t.Helper()
	vs := s.sortedVisits()
	if len(vs) != n {
		for _, v := range vs {
			t.Logf("visit %d: first %v last %v actions %d visitor %v", v.ID, v.FirstActionTime, v.LastActionTime, v.Actions, v.VisitorID)
		}
		t.Fatalf("got %d visits, want %d", len(vs), n)
	}
	return vs
}

func procWantActions(t *testing.T, s *procFakeStore, n int) []analytics.Action {
	t.Helper()
	as := s.sortedActions()
	if len(as) != n {
		t.Fatalf("got %d actions, want %d", len(as), n)
	}
	return as
}

func procEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func procSessCases() []procSessCase {
	ny, _ := time.LoadLocation("America/New_York")
	kol := time.FixedZone("UTC+5.5", 5*3600+1800)
	return []procSessCase{
		{
			name: "29:59 idle stays in the visit",
			hits: []analytics.Hit{procPV(0), procPV(29*time.Minute+59*time.Second, procURL("https://example.com/b"))},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				as := procWantActions(t, s, 2)
				procEq(t, "actions", v.Actions, 2)
				procEq(t, "total time", v.TotalTime, 1800)
				procEq(t, "time spent on previous page", as[1].TimeSpentRef, 1799)
				procEq(t, "visit of second action", as[1].VisitID, v.ID)
			},
		},
		{
			name: "30:01 idle opens a new visit",
			hits: []analytics.Hit{procPV(0), procPV(30*time.Minute + time.Second)},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				procEq(t, "first visit total time", vs[0].TotalTime, 0)
				procEq(t, "visit count", vs[1].VisitCount, 2)
				procEq(t, "returning", vs[1].Returning, int8(1))
				procEq(t, "seconds since last", vs[1].SecondsSinceLast, int64(1801))
				procEq(t, "seconds since first", vs[1].SecondsSinceFirst, int64(1801))
				procEq(t, "same visitor", vs[1].VisitorID, vs[0].VisitorID)
			},
		},
		{
			name: "New York: local midnight splits, 15 minutes apart",
			hits: []analytics.Hit{
				procPV(0, procSite1(2), procAt(time.Date(2024, 3, 12, 23, 50, 0, 0, ny))),
				procPV(0, procSite1(2), procAt(time.Date(2024, 3, 13, 0, 5, 0, 0, ny))),
			},
			check: func(t *testing.T, s *procFakeStore) { procWantVisits(t, s, 2) },
		},
		{
			name: "New York: UTC midnight does not split",
			hits: []analytics.Hit{
				procPV(0, procSite1(2), procAt(time.Date(2024, 3, 12, 23, 55, 0, 0, time.UTC))),
				procPV(0, procSite1(2), procAt(time.Date(2024, 3, 13, 0, 10, 0, 0, time.UTC))),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procEq(t, "actions", v.Actions, 2)
			},
		},
		{
			name: "Kolkata UTC+5.5: local midnight is 18:30 UTC",
			hits: []analytics.Hit{
				procPV(0, procSite1(3), procAt(time.Date(2024, 3, 12, 18, 20, 0, 0, time.UTC))),
				procPV(0, procSite1(3), procAt(time.Date(2024, 3, 12, 18, 40, 0, 0, time.UTC))),
				procPV(0, procSite1(3), procAt(time.Date(2024, 3, 12, 23, 50, 0, 0, time.UTC))),
				procPV(0, procSite1(3), procAt(time.Date(2024, 3, 13, 0, 10, 0, 0, time.UTC))),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 3)
				procEq(t, "first visit day", vs[0].FirstActionTime.In(kol).Day(), 12)
				procEq(t, "second visit day", vs[1].FirstActionTime.In(kol).Day(), 13)
				procEq(t, "second visit actions", vs[1].Actions, 1)
				procEq(t, "third visit actions (across UTC midnight)", vs[2].Actions, 2)
			},
		},
		{
			name: "campaign change opens a visit, the same campaign does not",
			hits: []analytics.Hit{
				procPV(0, procURL("https://example.com/?utm_campaign=Spring&utm_source=news")),
				procPV(time.Minute, procURL("https://example.com/a")),
				procPV(2*time.Minute, procURL("https://example.com/?utm_campaign=spring&utm_source=news")),
				procPV(3*time.Minute, procURL("https://example.com/?pk_campaign=Summer")),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				procEq(t, "first visit actions", vs[0].Actions, 3)
				procEq(t, "first campaign", vs[0].Referrer.Name, "spring")
				procEq(t, "first campaign source", vs[0].Referrer.CampaignSource, "news")
				procEq(t, "second campaign", vs[1].Referrer.Name, "summer")
				procEq(t, "second type", vs[1].Referrer.Type, analytics.ReferrerCampaign)
			},
		},
		{
			name: "campaign change ignored when disabled",
			opts: func(o *ProcessorOptions) { o.DisableNewVisitOnCampaignChange = true },
			hits: []analytics.Hit{
				procPV(0, procURL("https://example.com/?utm_campaign=a")),
				procPV(time.Minute, procURL("https://example.com/?utm_campaign=b")),
			},
			check: func(t *testing.T, s *procFakeStore) { procWantVisits(t, s, 1) },
		},
		{
			name: "website referrer change opens a visit only when enabled",
			opts: func(o *ProcessorOptions) { o.NewVisitOnReferrerChange = true },
			hits: []analytics.Hit{
				procPV(0, procRef("https://blog.one.example/post")),
				procPV(time.Minute, procRef("https://example.com/")),
				procPV(2*time.Minute, procRef("https://other.example/")),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				procEq(t, "first referrer", vs[0].Referrer.Name, "blog.one.example")
				procEq(t, "second referrer", vs[1].Referrer.Name, "other.example")
			},
		},
		{
			name: "new_visit=1 forces a visit",
			hits: []analytics.Hit{procPV(0), procPV(time.Minute, procFlags(analytics.FlagNewVisit))},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				procEq(t, "visit count", vs[1].VisitCount, 2)
			},
		},
		{
			name:   "10000 actions close a visit",
			noSlow: true,
			hits: func() []analytics.Hit {
				hs := make([]analytics.Hit, 10001)
				for i := range hs {
					hs[i] = procPV(time.Duration(i)*time.Second/4, procEvent("c", "a"))
				}
				return hs
			}(),
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				procEq(t, "first visit actions", vs[0].Actions, 10000)
				procEq(t, "first visit events", vs[0].Events, 10000)
				procEq(t, "second visit actions", vs[1].Actions, 1)
			},
		},
		{
			name: "a ping without a visit is discarded",
			hits: []analytics.Hit{procPV(0, procKind(analytics.KindPing))},
			check: func(t *testing.T, s *procFakeStore) {
				procWantVisits(t, s, 0)
				procWantActions(t, s, 0)
				procEq(t, "store writes", s.writes, 0)
			},
		},
		{
			name: "a ping after the visit expired is discarded",
			hits: []analytics.Hit{procPV(0), procPV(31*time.Minute, procKind(analytics.KindPing))},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procEq(t, "last action", v.LastActionTime, procBase)
				procWantActions(t, s, 1)
			},
		},
		{
			name: "a ping extends a visit without an action",
			hits: []analytics.Hit{procPV(0), procPV(10*time.Minute, procKind(analytics.KindPing)), procPV(15*time.Minute, procKind(analytics.KindPing))},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procWantActions(t, s, 1)
				procEq(t, "last action", v.LastActionTime, procBase.Add(15*time.Minute))
				procEq(t, "total time", v.TotalTime, 901)
				procEq(t, "actions", v.Actions, 1)
			},
		},
		{
			name: "uid wins over _id and cid",
			hits: []analytics.Hit{
				procPV(0, procUID("alice@example.com"), procCookie(procVisitorA), procCID(procVisitorC)),
				procPV(time.Minute, procUID("alice@example.com"), procCookie(procVisitorB), procIP("198.51.100.9")),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procEq(t, "visitor id", v.VisitorID, analytics.UserVisitorID("alice@example.com"))
				procEq(t, "user id", v.UserID, "alice@example.com")
				procEq(t, "profilable", v.Profilable, true)
			},
		},
		{
			name: "cid wins over _id",
			hits: []analytics.Hit{
				procPV(0, procCID(procVisitorC), procCookie(procVisitorA)),
				procPV(time.Minute, procCID(procVisitorC), procCookie(procVisitorB)),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procEq(t, "visitor id", v.VisitorID, procVisitorC)
			},
		},
		{
			name: "different _id with the same IP and UA are different visitors",
			hits: []analytics.Hit{procPV(0, procCookie(procVisitorA)), procPV(time.Minute, procCookie(procVisitorB))},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				procEq(t, "second visit count", vs[1].VisitCount, 1)
			},
		},
		{
			name: "no _id: same IP and UA merge within a day",
			hits: []analytics.Hit{
				procPV(0, procCookie(analytics.VisitorID{})),
				procPV(5*time.Minute, procCookie(analytics.VisitorID{})),
				procPV(6*time.Minute, procCookie(analytics.VisitorID{}), procIP("198.51.100.9")),
				procPV(7*time.Minute, procCookie(analytics.VisitorID{}), procUA(procFirefoxUA)),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 3)
				procEq(t, "merged actions", vs[0].Actions, 2)
				procEq(t, "visitor id is the config id", vs[0].VisitorID, vs[0].ConfigID)
				procEq(t, "profilable", vs[0].Profilable, false)
				if vs[0].ConfigID == vs[1].ConfigID || vs[0].ConfigID == vs[2].ConfigID {
					t.Error("another IP or user agent gave the same config id")
				}
			},
		},
		{
			name: "no _id: not merged across local days (new salt)",
			opts: func(o *ProcessorOptions) { o.DisableNewVisitAtMidnight = true },
			hits: []analytics.Hit{
				procPV(0, procCookie(analytics.VisitorID{}), procAt(time.Date(2024, 3, 10, 23, 50, 0, 0, time.UTC))),
				procPV(0, procCookie(analytics.VisitorID{}), procAt(time.Date(2024, 3, 11, 0, 5, 0, 0, time.UTC))),
				// With a cookie the visit does go on across midnight here.
				procPV(0, procAt(time.Date(2024, 3, 10, 23, 52, 0, 0, time.UTC))),
				procPV(0, procAt(time.Date(2024, 3, 11, 0, 7, 0, 0, time.UTC))),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 3)
				procEq(t, "first cookieless visit actions", vs[0].Actions, 1)
				procEq(t, "cookie visit actions", vs[1].Actions, 2)
				procEq(t, "second cookieless visit actions", vs[2].Actions, 1)
				procEq(t, "second cookieless visit count (not recognized)", vs[2].VisitCount, 1)
			},
		},
		{
			name: "cookieless site ignores _id and cid",
			hits: []analytics.Hit{
				procPV(0, procSite1(4), procCookie(procVisitorA)),
				procPV(time.Minute, procSite1(4), procCookie(procVisitorB), procCID(procVisitorC)),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procEq(t, "visitor id is the config id", v.VisitorID, v.ConfigID)
				procEq(t, "actions", v.Actions, 2)
			},
		},
		{
			name: "returning visitor: counts and seconds since",
			hits: []analytics.Hit{
				procPV(0), procPV(10 * time.Minute),
				procPV(5 * time.Hour),
				procPV(48 * time.Hour),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 3)
				procEq(t, "visit 1 count", vs[0].VisitCount, 1)
				procEq(t, "visit 1 returning", vs[0].Returning, int8(0))
				procEq(t, "visit 1 seconds since order", vs[0].SecondsSinceOrder, int64(-1))
				procEq(t, "visit 2 count", vs[1].VisitCount, 2)
				procEq(t, "visit 2 since last", vs[1].SecondsSinceLast, int64(5*3600-600))
				procEq(t, "visit 3 count", vs[2].VisitCount, 3)
				procEq(t, "visit 3 since first", vs[2].SecondsSinceFirst, int64(48*3600))
				procEq(t, "visit 3 since last", vs[2].SecondsSinceLast, int64(43*3600))
			},
		},
		{
			name: "entry, exit, counters and time on the previous page",
			hits: []analytics.Hit{
				procPV(0, procURL("https://example.com/a"), procTitle("A")),
				procPV(time.Minute, procEvent("video", "play")),
				procPV(3*time.Minute, procURL("https://example.com/b"), procTitle("B")),
				procPV(4*time.Minute, procKind(analytics.KindSiteSearch), func(h *analytics.Hit) { h.Search = &analytics.Search{Keyword: "shoes", Count: 3} }),
				procPV(5*time.Minute, procKind(analytics.KindDownload), func(h *analytics.Hit) { h.Link = "https://example.com/f.pdf" }),
				procPV(6*time.Minute, procKind(analytics.KindOutlink), func(h *analytics.Hit) { h.Link = "https://elsewhere.example/" }),
				procPV(7*time.Minute, procKind(analytics.KindContentImpression), func(h *analytics.Hit) { h.Content = &analytics.Content{Name: "banner"} }),
				procPV(8*time.Minute, procKind(analytics.KindContentInteraction), func(h *analytics.Hit) { h.Content = &analytics.Content{Name: "banner", Interaction: "click"} }),
				procPV(9*time.Minute, procKind(analytics.KindCustom)),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				as := procWantActions(t, s, 8)
				procEq(t, "actions", v.Actions, 7)
				procEq(t, "pageviews", v.Pageviews, 2)
				procEq(t, "searches", v.Searches, 1)
				procEq(t, "events", v.Events, 1)
				procEq(t, "interactions", v.Interactions, 3)
				procEq(t, "entry", v.EntryURL, "https://example.com/a")
				procEq(t, "entry title", v.EntryTitle, "A")
				procEq(t, "exit", v.ExitURL, "https://example.com/b")
				procEq(t, "last action id", v.LastActionID, as[7].ID)
				procEq(t, "last action time (custom)", v.LastActionTime, procBase.Add(9*time.Minute))
				procEq(t, "total time", v.TotalTime, 541)
				procEq(t, "page B prev url", as[2].PrevURL, "https://example.com/a")
				procEq(t, "page B time spent ref", as[2].TimeSpentRef, 120)
				procEq(t, "page B position", as[2].Position, 2)
				procEq(t, "download url", as[4].URL, "https://example.com/f.pdf")
				procEq(t, "download type", as[4].Type, analytics.ActionDownload)
				procEq(t, "outlink type", as[5].Type, analytics.ActionOutlink)
				procEq(t, "impression type", as[6].Type, analytics.ActionContentImpression)
				procEq(t, "first action time spent", as[0].TimeSpentRef, 0)
			},
		},
		{
			name: "out-of-order hit keeps the totals",
			hits: []analytics.Hit{
				procPV(0, procURL("https://example.com/a")),
				procPV(10*time.Minute, procURL("https://example.com/c")),
				procPV(5*time.Minute, procURL("https://example.com/b")),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				as := procWantActions(t, s, 3)
				procEq(t, "last action", v.LastActionTime, procBase.Add(10*time.Minute))
				procEq(t, "total time", v.TotalTime, 601)
				procEq(t, "exit", v.ExitURL, "https://example.com/c")
				procEq(t, "late action time spent", as[1].TimeSpentRef, 0)
				procEq(t, "pageviews", v.Pageviews, 3)
			},
		},
		{
			name: "goals: manual once per visit, allow-multiple each hit, URL goal",
			hits: []analytics.Hit{
				procPV(0),
				procPV(time.Minute, procGoalHit(1, 0)),
				procPV(2*time.Minute, procGoalHit(1, 9)),
				procPV(3*time.Minute, procGoalHit(2, 0)),
				procPV(4*time.Minute, procGoalHit(2, 7)),
				procPV(4*time.Minute+time.Second, procGoalHit(2, 0), procFlags(analytics.FlagRevenue)), // an explicit 0
				procPV(5*time.Minute, procGoalHit(99, 0)),
				procPV(6*time.Minute, procURL("https://example.com/pricing")),
				procPV(7*time.Minute, procURL("https://example.com/pricing?x=1")),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procWantActions(t, s, 3)
				procEq(t, "converted", v.GoalConverted, true)
				byGoal := map[int][]analytics.Conversion{}
				for _, c := range s.conversions() {
					byGoal[c.GoalID] = append(byGoal[c.GoalID], c)
					procEq(t, "conversion visit", c.VisitID, v.ID)
				}
				procEq(t, "goal 1 conversions", len(byGoal[1]), 1)
				procEq(t, "goal 2 conversions", len(byGoal[2]), 3)
				procEq(t, "goal 3 conversions", len(byGoal[3]), 1)
				procEq(t, "unknown goal conversions", len(byGoal[99]), 0)
				if len(byGoal[1]) == 1 {
					procEq(t, "goal 1 default revenue", byGoal[1][0].Revenue, 5.0)
				}
				if len(byGoal[2]) == 3 {
					procEq(t, "goal 2 revenues (default 1, sent 7, sent 0)", byGoal[2][0].Revenue+byGoal[2][1].Revenue+byGoal[2][2].Revenue, 8.0)
					if byGoal[2][0].Buster == byGoal[2][1].Buster || byGoal[2][1].Buster == byGoal[2][2].Buster {
						t.Error("allow-multiple conversions share a buster")
					}
				}
				if len(byGoal[3]) == 1 {
					procEq(t, "goal 3 url", byGoal[3][0].URL, "https://example.com/pricing")
					procEq(t, "goal 3 pageviews before", byGoal[3][0].PageviewsBefore, 2)
				}
			},
		},
		{
			name: "ecommerce: order deduplicated, returning customer",
			hits: []analytics.Hit{
				procPV(0),
				procPV(time.Minute, procOrder("A-1", 30, analytics.Item{SKU: "sku1", Price: 30, Quantity: 1})),
				procPV(time.Minute, procOrder("A-1", 30, analytics.Item{SKU: "sku1", Price: 30, Quantity: 1})), // sent twice
				procPV(24 * time.Hour),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				procWantActions(t, s, 2)
				cs := s.conversions()
				procEq(t, "conversions", len(cs), 1)
				if len(cs) == 1 {
					procEq(t, "order id", cs[0].OrderID, "A-1")
					procEq(t, "goal id", cs[0].GoalID, analytics.GoalEcommerceOrder)
					procEq(t, "revenue", cs[0].Revenue, 30.0)
					procEq(t, "items", len(cs[0].Items), 1)
				}
				procEq(t, "buyer", vs[0].GoalBuyer, int8(1))
				procEq(t, "returning customer", vs[1].Returning, int8(2))
				procEq(t, "seconds since order", vs[1].SecondsSinceOrder, int64(24*3600-60))
			},
		},
		{
			name: "ecommerce: cart update replaces the open cart",
			hits: []analytics.Hit{
				procPV(0),
				procPV(time.Minute, procCart(10, analytics.Item{SKU: "a", Price: 10, Quantity: 1})),
				procPV(2*time.Minute, procCart(25, analytics.Item{SKU: "a", Price: 10, Quantity: 1}, analytics.Item{SKU: "b", Price: 15, Quantity: 1})),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				cs := s.conversions()
				procEq(t, "conversions", len(cs), 1)
				if len(cs) == 1 {
					procEq(t, "cart goal", cs[0].GoalID, analytics.GoalCart)
					procEq(t, "cart items", len(cs[0].Items), 2)
					procEq(t, "cart revenue", cs[0].Revenue, 25.0)
				}
				procEq(t, "buyer", v.GoalBuyer, int8(2))
				procEq(t, "last action", v.LastActionTime, procBase.Add(2*time.Minute))
			},
		},
		{
			name: "hashed user id, site search from the page URL",
			hits: []analytics.Hit{
				procPV(0, procSite1(6), procUID("carol"), procURL("https://search.example/find?q=Winter+Boots&page=2")),
				procPV(time.Minute, procSite1(6), procUID("carol"), procURL("https://search.example/boots")),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				as := procWantActions(t, s, 2)
				hashed := procHashUserID("carol", "")
				procEq(t, "hashed user id", v.UserID, hashed)
				procEq(t, "visitor id from the hashed uid", v.VisitorID, analytics.UserVisitorID(hashed))
				procEq(t, "search action", as[0].Type, analytics.ActionSiteSearch)
				procEq(t, "search url without keyword", as[0].URL, "https://search.example/find?page=2")
				if as[0].Search == nil || as[0].Search.Keyword != "winter boots" {
					t.Errorf("search = %+v", as[0].Search)
				}
				procEq(t, "searches", v.Searches, 1)
				procEq(t, "pageviews", v.Pageviews, 1)
			},
		},
		{
			name: "ecommerce ignored on a site without ecommerce",
			hits: []analytics.Hit{
				procPV(0, procSite1(2)),
				procPV(time.Minute, procSite1(2), procOrder("X-1", 10)),
			},
			check: func(t *testing.T, s *procFakeStore) {
				v := procWantVisits(t, s, 1)[0]
				procEq(t, "conversions", len(s.conversions()), 0)
				procEq(t, "buyer", v.GoalBuyer, int8(0))
			},
		},
		{
			name: "DNT count: no identifiers, a visit per hit",
			hits: []analytics.Hit{
				procPV(0, procSite1(5), procDNT(), procUID("bob"), func(h *analytics.Hit) { h.Dimensions = []analytics.Dimension{{ID: 1, Value: "x"}} }),
				procPV(time.Minute, procSite1(5), procDNT()),
				procPV(2*time.Minute, procSite1(5), procDNT(), procKind(analytics.KindPing)),
			},
			check: func(t *testing.T, s *procFakeStore) {
				vs := procWantVisits(t, s, 2)
				for _, v := range vs {
					procEq(t, "visitor id", v.VisitorID, analytics.VisitorID{})
					procEq(t, "config id", v.ConfigID, analytics.VisitorID{})
					procEq(t, "user id", v.UserID, "")
					procEq(t, "ip stored", v.IP.IsValid(), false)
					procEq(t, "dimensions", len(v.Dimensions), 0)
					procEq(t, "visit count", v.VisitCount, 1)
					procEq(t, "actions", v.Actions, 1)
				}
			},
		},
	}
}

// TestSessionize runs every scenario three ways: all hits in one
// delivery, one delivery per hit (the shard cache carries the state) and
// one delivery per hit with a fresh processor each time (the state comes
// back from the store). The result must be the same.
func TestSessionize(t *testing.T) {
	for _, tc := range procSessCases() {
		for _, mode := range []string{"one delivery", "delivery per hit", "restart per hit"} {
			if mode == "restart per hit" && tc.noSlow {
				continue
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				h := newProcHarness(t, procTestSites(), procGoals(), func(o *ProcessorOptions) {
					o.Now = func() time.Time { return procBase }
					if tc.opts != nil {
						tc.opts(o)
					}
				})
				switch mode {
				case "one delivery":
					h.process(tc.hits...)
				default:
					for _, x := range tc.hits {
						if mode == "restart per hit" {
							h.restart()
						}
						h.process(x)
					}
				}
				tc.check(t, h.store)
				procEq(t, "nacks", len(h.queue.nacks), 0)
			})
		}
	}
}

func TestSessionizeLateData(t *testing.T) {
	h := newProcHarness(t, procTestSites(), nil, func(o *ProcessorOptions) {
		o.Now = func() time.Time { return time.Date(2024, 3, 13, 6, 0, 0, 0, time.UTC) } // 02:00 in New York
	})
	h.process(
		procPV(0, procSite1(2), procAt(time.Date(2024, 3, 13, 0, 30, 0, 0, time.UTC))), // Mar 12 in New York
		procPV(0, procSite1(1), procAt(time.Date(2024, 3, 13, 0, 30, 0, 0, time.UTC))), // today in UTC
		procPV(0, procSite1(1), procAt(time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)), procCookie(procVisitorB)),
	)
	want := map[analytics.SiteDay]bool{{SiteID: 2, Day: "2024-03-12"}: true, {SiteID: 1, Day: "2024-03-11"}: true}
	if fmt.Sprint(h.store.invalid) != fmt.Sprint(want) {
		t.Errorf("invalidated %v, want %v", h.store.invalid, want)
	}
}
