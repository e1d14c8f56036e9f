package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/hashicorp/go-hclog"
)

// TestPrivacyJudge pins the per-hit rules shared by the processor and the
// handler.
func TestPrivacyJudge(t *testing.T) {
	const ie = "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko"
	all := privacyVerdict{useUID: true, useCookie: true}
	uidOnly := privacyVerdict{useUID: true}
	none := privacyVerdict{}
	count := privacyVerdict{noTrack: true}
	cases := []struct {
		name  string
		inst  analytics.Privacy
		site  analytics.Privacy
		flags analytics.HitFlags
		ua    string
		want  privacyVerdict
	}{
		{name: "defaults", want: all},
		{name: "cookieless keeps uid", site: analytics.Privacy{Cookieless: analytics.On}, want: uidOnly},
		{name: "instance cookieless", inst: analytics.Privacy{Cookieless: analytics.On}, want: uidOnly},
		{name: "site turns instance cookieless off", inst: analytics.Privacy{Cookieless: analytics.On}, site: analytics.Privacy{Cookieless: analytics.Off}, want: all},
		{name: "dnt ignore", site: analytics.Privacy{DNT: analytics.DNTIgnore}, flags: analytics.FlagDNT, want: all},
		{name: "dnt exclude", site: analytics.Privacy{DNT: analytics.DNTExclude}, flags: analytics.FlagDNT, want: privacyVerdict{exclude: procExclDNT}},
		{name: "dnt exclude, IE exempt", site: analytics.Privacy{DNT: analytics.DNTExclude}, flags: analytics.FlagDNT, ua: ie, want: all},
		{name: "dnt count", site: analytics.Privacy{DNT: analytics.DNTCount}, flags: analytics.FlagDNT, want: count},
		{name: "dnt count without header", site: analytics.Privacy{DNT: analytics.DNTCount}, want: all},
		{name: "gpc exclude", site: analytics.Privacy{GPC: analytics.DNTExclude}, flags: analytics.FlagGPC, want: privacyVerdict{exclude: procExclDNT}},
		{name: "gpc count", inst: analytics.Privacy{GPC: analytics.DNTCount}, flags: analytics.FlagGPC, want: count},
		{name: "gpc count beats dnt ignore", site: analytics.Privacy{DNT: analytics.DNTIgnore, GPC: analytics.DNTCount}, flags: analytics.FlagDNT | analytics.FlagGPC, want: count},
		{name: "dnt exclude beats gpc count", site: analytics.Privacy{DNT: analytics.DNTExclude, GPC: analytics.DNTCount}, flags: analytics.FlagDNT | analytics.FlagGPC, want: privacyVerdict{exclude: procExclDNT}},
		{name: "consent tracking without consent", site: analytics.Privacy{Consent: analytics.ConsentTracking}, want: privacyVerdict{exclude: procExclConsent}},
		{name: "consent tracking with consent", site: analytics.Privacy{Consent: analytics.ConsentTracking}, flags: analytics.FlagConsent, want: all},
		{name: "instance consent tracking", inst: analytics.Privacy{Consent: analytics.ConsentTracking}, want: privacyVerdict{exclude: procExclConsent}},
		{name: "site consent none beats instance", inst: analytics.Privacy{Consent: analytics.ConsentTracking}, site: analytics.Privacy{Consent: analytics.ConsentNone}, want: all},
		{name: "consent cookies without consent", site: analytics.Privacy{Consent: analytics.ConsentCookies}, want: none},
		{name: "consent cookies with consent", site: analytics.Privacy{Consent: analytics.ConsentCookies}, flags: analytics.FlagConsent, want: all},
		{name: "consent cookies with consent, cookieless site", site: analytics.Privacy{Consent: analytics.ConsentCookies, Cookieless: analytics.On}, flags: analytics.FlagConsent, want: uidOnly},
		{name: "dnt count beats consent", site: analytics.Privacy{DNT: analytics.DNTCount, Consent: analytics.ConsentCookies}, flags: analytics.FlagDNT | analytics.FlagConsent, want: count},
		{name: "dnt exclude beats consent", site: analytics.Privacy{DNT: analytics.DNTExclude}, flags: analytics.FlagDNT | analytics.FlagConsent, want: privacyVerdict{exclude: procExclDNT}},
		{name: "unknown modes read as defaults", site: analytics.Privacy{DNT: 9, GPC: 9, Consent: 9}, flags: analytics.FlagDNT | analytics.FlagGPC, want: all},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst := c.inst
			privacyFillDefaults(&inst)
			h := analytics.Hit{Flags: c.flags, UserAgent: c.ua}
			if got := newPrivacyRules(&inst, &c.site).judge(&h); got != c.want {
				t.Errorf("verdict %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestConsent runs hits through Process on sites that require consent
// (requireConsent, requireCookieConsent) and checks what is stored.
func TestConsent(t *testing.T) {
	sites := []analytics.Site{
		{ID: 1, URLs: []string{"https://example.com"}},
		{ID: 2, URLs: []string{"https://cookies.example"}, Privacy: analytics.Privacy{Consent: analytics.ConsentCookies}},
		{ID: 3, URLs: []string{"https://tracking.example"}, Privacy: analytics.Privacy{Consent: analytics.ConsentTracking}},
		{ID: 4, URLs: []string{"https://none.example"}, Privacy: analytics.Privacy{Consent: analytics.ConsentNone}},
	}
	consent := procFlags(analytics.FlagConsent)
	ids := []procMod{procCookie(procVisitorA), procCID(procVisitorB), procUID("alice@example.com")}
	type want struct {
		excluded int
		visits   int
		cookie   bool // visitor id from the tracker (uid hash here, as uid wins)
		userID   bool
	}
	cases := []struct {
		name string
		inst analytics.ConsentMode
		site int
		mods []procMod
		want want
	}{
		{"no requirement", 0, 1, nil, want{visits: 2, cookie: true, userID: true}},
		{"cookies, no consent: cookieless", 0, 2, nil, want{visits: 1}},
		{"cookies, consent: tracked", 0, 2, []procMod{consent}, want{visits: 2, cookie: true, userID: true}},
		{"tracking, no consent: excluded", 0, 3, nil, want{excluded: 2}},
		{"tracking, consent: tracked", 0, 3, []procMod{consent}, want{visits: 2, cookie: true, userID: true}},
		{"instance tracking, no consent", analytics.ConsentTracking, 1, nil, want{excluded: 2}},
		{"instance cookies, no consent", analytics.ConsentCookies, 1, nil, want{visits: 1}},
		{"site none beats instance tracking", analytics.ConsentTracking, 4, nil, want{visits: 2, cookie: true, userID: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var info BatchInfo
			h := newProcHarness(t, sites, nil, func(o *ProcessorOptions) {
				o.Privacy.Consent = c.inst
				o.OnBatch = func(bi BatchInfo) { info = bi }
			})
			// Two hits of one visitor (same IP and user agent) with
			// different identifiers: tracked, they are two visitors;
			// cookieless, they are one.
			first := procPV(0, append(append([]procMod{procSite1(c.site)}, ids...), c.mods...)...)
			second := procPV(time.Minute, append([]procMod{procSite1(c.site), procCookie(procVisitorC)}, c.mods...)...)
			h.process(first, second)
			procEq(t, "excluded", info.Excluded, c.want.excluded)
			vs := h.store.sortedVisits()
			procEq(t, "visits", len(vs), c.want.visits)
			if len(vs) == 0 {
				return
			}
			v := vs[0]
			procEq(t, "visitor id from uid", v.VisitorID == analytics.UserVisitorID("alice@example.com"), c.want.cookie)
			procEq(t, "profilable", v.Profilable, c.want.cookie)
			procEq(t, "user id stored", v.UserID != "", c.want.userID)
			if !c.want.cookie {
				procEq(t, "visitor id is the config hash", v.VisitorID, v.ConfigID)
				procEq(t, "actions in the one visit", v.Actions, 2)
			}
		})
	}
}

// TestScrubEveryField sends PII in every free-text field that a hit can
// store, through Process with ScrubPII on, and looks for it in everything
// stored.
func TestScrubEveryField(t *testing.T) {
	const (
		mail  = "jane.doe@mail.example"
		card  = "4111 1111 1111 1111"
		pass  = "hunter2pass"
		token = "tok3nv4lue"
	)
	pii := "x " + mail + " " + card + " password=" + pass + " token=" + token
	piiURL := "https://example.com/p/" + mail + "?password=" + pass + "&token=" + token + "&n=" + strings.ReplaceAll(card, " ", "")
	sites := []analytics.Site{{ID: 1, URLs: []string{"https://example.com"}, Ecommerce: true, SiteSearch: true,
		Privacy: analytics.Privacy{ScrubPII: analytics.On}}}
	goals := []analytics.Goal{{SiteID: 1, ID: 1, Name: "g", Match: "manually"}}
	camp := "https://example.com/landing?mtm_campaign=" + mail + "&mtm_kwd=password%3D" + pass + "&mtm_source=token%3D" + token +
		"&mtm_medium=" + strings.ReplaceAll(card, " ", "") + "&mtm_content=" + mail + "&mtm_cid=" + strings.ReplaceAll(card, " ", "-")
	hits := []analytics.Hit{
		procPV(0, procURL(camp), procTitle(pii), procRef(piiURL),
			func(h *analytics.Hit) { h.Dimensions = []analytics.Dimension{{ID: 1, Value: pii}} }),
		procPV(time.Second, procURL(piiURL), procTitle(pii)),
		procPV(2*time.Second, func(h *analytics.Hit) {
			h.Kind, h.Event = analytics.KindEvent, &analytics.Event{Category: pii, Action: pii, Name: pii}
		}),
		procPV(3*time.Second, func(h *analytics.Hit) {
			h.Kind, h.Search = analytics.KindSiteSearch, &analytics.Search{Keyword: pii, Category: pii, Count: 1}
		}),
		procPV(4*time.Second, procURL("https://example.com/search?q="+mail+"+password%3D"+pass)),
		procPV(5*time.Second, func(h *analytics.Hit) {
			h.Kind, h.Content = analytics.KindContentInteraction, &analytics.Content{Name: pii, Piece: pii, Target: piiURL, Interaction: pii}
		}),
		procPV(6*time.Second, func(h *analytics.Hit) { h.Kind, h.Link = analytics.KindOutlink, piiURL }),
		procPV(7*time.Second, func(h *analytics.Hit) { h.Kind, h.Link = analytics.KindDownload, piiURL }),
		procPV(8*time.Second, procGoalHit(1, 0), func(h *analytics.Hit) {
			h.Attribution = &analytics.Attribution{CampaignName: mail, CampaignKeyword: "password=" + pass, ReferrerURL: piiURL}
		}),
		procPV(9*time.Second, procGoalHit(1, 0), procFlags(analytics.FlagNewVisit), func(h *analytics.Hit) {
			h.Attribution = &analytics.Attribution{ReferrerURL: piiURL}
		}),
	}
	h := newProcHarness(t, sites, goals, nil)
	h.process(hits...)
	stored := fmt.Sprintf("%+v\n%+v\n%+v", h.store.sortedVisits(), procDeref(h.store.sortedActions()), h.store.conversions())
	for _, secret := range []string{mail, "jane.doe", card, strings.ReplaceAll(card, " ", ""), pass, token} {
		if strings.Contains(stored, secret) {
			t.Errorf("%q stored:\n%s", secret, stored)
		}
	}
	for _, marker := range []string{"[email]", "[number]", "[secret]"} {
		if !strings.Contains(stored, marker) {
			t.Errorf("no %s in what was stored (did the hits arrive?)", marker)
		}
	}
	if n := len(h.store.sortedActions()); n != 8 {
		t.Errorf("%d actions stored, want 8", n)
	}

	// Scrubbing off: the same texts are stored as sent (the test sees them).
	sites[0].Privacy.ScrubPII = analytics.Off
	h = newProcHarness(t, sites, goals, nil)
	h.process(hits...)
	stored = fmt.Sprintf("%+v", procDeref(h.store.sortedActions()))
	if !strings.Contains(stored, mail) || !strings.Contains(stored, pass) {
		t.Errorf("without ScrubPII the texts should be kept:\n%s", stored)
	}
}

// procDeref prints the sub-structs of actions, not their addresses.
func procDeref(as []analytics.Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		s := fmt.Sprintf("%+v", a)
		if a.Event != nil {
			s += fmt.Sprintf(" event %+v", *a.Event)
		}
		if a.Search != nil {
			s += fmt.Sprintf(" search %+v", *a.Search)
		}
		if a.Content != nil {
			s += fmt.Sprintf(" content %+v", *a.Content)
		}
		out[i] = s
	}
	return out
}

// procSaltStore is a SaltStore that records DeleteSaltsBefore calls as
// "day [sites]".
type procSaltStore struct {
	*procFakeStore
	mu      sync.Mutex
	deletes []string
}

func (s *procSaltStore) DeleteSaltsBefore(ctx context.Context, day string, sites ...int) (int, error) {
	s.mu.Lock()
	s.deletes = append(s.deletes, fmt.Sprint(day, " ", sites))
	s.mu.Unlock()
	return s.procFakeStore.DeleteSaltsBefore(ctx, day, sites...)
}

func TestSaltCutoff(t *testing.T) {
	cases := []struct {
		now   string
		grace time.Duration
		want  string
	}{
		// Day D is over everywhere at D+1 12:00 UTC.
		{"2024-03-11T11:59:59Z", 0, "2024-03-10"},
		{"2024-03-11T12:00:00Z", 0, "2024-03-11"},
		{"2024-03-12T11:59:59Z", 24 * time.Hour, "2024-03-10"},
		{"2024-03-12T12:00:00Z", 24 * time.Hour, "2024-03-11"},
		{"2024-03-11T12:00:00Z", -time.Hour, "2024-03-11"},
		// The zone of now does not matter.
		{"2024-03-12T05:00:00-07:00", 24 * time.Hour, "2024-03-11"},
	}
	for _, c := range cases {
		now, err := time.Parse(time.RFC3339, c.now)
		if err != nil {
			t.Fatal(err)
		}
		procEq(t, c.now+" cutoff", SaltCutoff(now, c.grace), c.want)
	}
}

// TestDeleteExpiredSalts checks, zone by zone and minute by minute around
// the deadline, that a day's salt is kept while the day is going on in its
// site's zone or within the grace of its end, and gone from then on; and
// that the salt of a site missing from the list (deleted meanwhile) goes
// once the day is over in every zone plus the grace.
func TestDeleteExpiredSalts(t *testing.T) {
	ctx := t.Context()
	zones := []string{"UTC", "UTC-12", "UTC+14", "UTC+5.5", "America/Los_Angeles", "Pacific/Kiritimati",
		"Asia/Kolkata", "Europe/Paris", "bad/zone"}
	const grace = 6 * time.Hour
	overEverywhere := time.Date(2024, 3, 11, 12, 0, 0, 0, time.UTC).Add(grace)
	for _, zone := range zones {
		loc, err := analytics.ParseTimezone(zone)
		if err != nil {
			loc = time.UTC // as the Processor counts the days of such a site
		}
		dayStart := time.Date(2024, 3, 10, 0, 0, 0, 0, loc)
		deadline := dayStart.AddDate(0, 0, 1).Add(grace)
		sites := []analytics.Site{{ID: 1, Timezone: zone}}
		var times []time.Time
		for now := dayStart; now.Before(deadline.Add(48 * time.Hour)); now = now.Add(time.Hour) {
			times = append(times, now)
		}
		times = append(times, deadline.Add(-time.Minute), deadline, deadline.Add(time.Minute),
			overEverywhere.Add(-time.Minute), overEverywhere)
		for _, now := range times {
			st := newProcFakeStore()
			for _, site := range []int{1, 2} {
				if _, err := st.DailySalt(ctx, site, "2024-03-10"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := DeleteExpiredSalts(ctx, st, sites, now, grace); err != nil {
				t.Fatal(err)
			}
			if kept, want := st.hasSalt(1, "2024-03-10"), now.Before(deadline); kept != want {
				t.Fatalf("%s at %v (deadline %v): salt kept = %v, want %v", zone, now.UTC(), deadline.UTC(), kept, want)
			}
			if kept, want := st.hasSalt(2, "2024-03-10"), now.Before(overEverywhere); kept != want {
				t.Fatalf("%s at %v: salt of an unlisted site kept = %v, want %v", zone, now.UTC(), kept, want)
			}
		}
	}
}

// TestProcessorPrunesSalts: Run deletes expired salts when it starts, and
// PruneSalts forgets them in the processor's cache too, so a later hit
// of the same day gets a new salt from the store rather than the old one.
func TestProcessorPrunesSalts(t *testing.T) {
	ctx := t.Context()
	site := analytics.Site{ID: 1, URLs: []string{"https://example.com"}, Timezone: "America/Los_Angeles", Privacy: analytics.Privacy{Cookieless: analytics.On}}
	st := &procSaltStore{procFakeStore: newProcFakeStore(site)}
	now := procBase
	q := &procFakeQueue{}
	p, err := NewProcessor(ProcessorOptions{Queue: q, Store: st, Now: func() time.Time { return now }, SaltGrace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// A hit on 2024-03-10 02:00 LA time makes that day's salt.
	hit := procPV(0, procAt(time.Date(2024, 3, 10, 10, 0, 0, 0, time.UTC)))
	d := &analytics.Delivery{Shard: "s", Hits: []analytics.Hit{hit}, Acker: q}
	d.Hits[0].Pos = analytics.Position{Hi: 1, Lo: 1}
	if err := p.Process(ctx, d); err != nil {
		t.Fatal(err)
	}
	if !st.hasSalt(1, "2024-03-10") {
		t.Fatal("no salt made")
	}
	first := st.sortedVisits()[0].ConfigID

	// The day ends in Los Angeles at 2024-03-11 07:00 UTC (PDT); one
	// minute before the end of the grace the salt is kept, in the store
	// and in the cache.
	now = time.Date(2024, 3, 11, 7, 59, 0, 0, time.UTC)
	if _, err := p.PruneSalts(ctx); err != nil {
		t.Fatal(err)
	}
	if !st.hasSalt(1, "2024-03-10") || len(p.salts.m) != 1 {
		t.Fatalf("salt pruned within the grace: in store %v, cached %d", st.hasSalt(1, "2024-03-10"), len(p.salts.m))
	}
	// Run (the closed fake queue ends it at once) prunes at start: at the
	// end of the grace in the site's zone, long before the day is over
	// everywhere (2024-03-11 12:00 UTC).
	st.mu.Lock()
	st.deletes = nil
	st.mu.Unlock()
	now = time.Date(2024, 3, 11, 8, 0, 0, 0, time.UTC)
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	deletes := slices.Clone(st.deletes)
	st.mu.Unlock()
	if want := []string{"2024-03-11 [1]", "2024-03-10 []"}; !slices.Equal(deletes, want) {
		t.Fatalf("Run deleted salts %q, want %q", deletes, want)
	}
	if st.hasSalt(1, "2024-03-10") {
		t.Fatal("expired salt still in the store")
	}
	if len(p.salts.m) != 0 {
		t.Fatalf("expired salt still cached: %d", len(p.salts.m))
	}
	// A late hit of that day hashes with a new salt: not the old visitor.
	late := hit
	late.Time = late.Time.Add(time.Minute)
	late.Pos = analytics.Position{Hi: 1, Lo: 2}
	if err := p.Process(ctx, &analytics.Delivery{Shard: "s", Hits: []analytics.Hit{late}, Acker: q}); err != nil {
		t.Fatal(err)
	}
	vs := st.sortedVisits()
	if len(vs) != 2 || vs[1].ConfigID == first {
		t.Fatalf("late hit after the salt was deleted: %d visits, config ids %v", len(vs), vs)
	}

	// SaltPruneInterval < 0: Run leaves salts alone.
	p2, err := NewProcessor(ProcessorOptions{Queue: q, Store: st, Now: func() time.Time { return now }, SaltPruneInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	procEq(t, "deletes with pruning off", len(st.deletes), 2)
}

// TestHandlerStripsIdentifiers: the handler clears the identifiers that
// the processor would ignore, so the hit's shard key is the cookieless
// one, and keeps them where the processor uses them.
func TestHandlerStripsIdentifiers(t *testing.T) {
	sites := []analytics.Site{
		{ID: 1, Name: "plain"},
		{ID: 2, Name: "cookieless", Privacy: analytics.Privacy{Cookieless: analytics.On}},
		{ID: 3, Name: "cookie consent", Privacy: analytics.Privacy{Consent: analytics.ConsentCookies}},
		{ID: 4, Name: "consent", Privacy: analytics.Privacy{Consent: analytics.ConsentTracking}},
		{ID: 5, Name: "dnt count", Privacy: analytics.Privacy{DNT: analytics.DNTCount, GPC: analytics.DNTExclude}},
	}
	const ids = "&_id=0123456789abcdef&cid=fedcba9876543210&uid=alice"
	type kept struct{ cookie, uid bool }
	cases := []struct {
		name  string
		inst  analytics.Privacy
		query string
		hdr   map[string]string
		want  kept
	}{
		{"plain", analytics.Privacy{}, "idsite=1", nil, kept{true, true}},
		{"instance cookieless", analytics.Privacy{Cookieless: analytics.On}, "idsite=1", nil, kept{false, true}},
		{"cookieless site", analytics.Privacy{}, "idsite=2", nil, kept{false, true}},
		{"cookie consent, none given", analytics.Privacy{}, "idsite=3", nil, kept{false, false}},
		{"cookie consent, given", analytics.Privacy{}, "idsite=3&consent=1", nil, kept{true, true}},
		{"consent required, none given (dropped later)", analytics.Privacy{}, "idsite=4", nil, kept{false, false}},
		{"consent required, given", analytics.Privacy{}, "idsite=4&consent=1", nil, kept{true, true}},
		{"dnt count", analytics.Privacy{}, "idsite=5", map[string]string{"DNT": "1"}, kept{false, false}},
		{"gpc exclude (dropped later)", analytics.Privacy{}, "idsite=5", map[string]string{"Sec-GPC": "1"}, kept{false, false}},
		{"dnt without a rule", analytics.Privacy{}, "idsite=1", map[string]string{"DNT": "1"}, kept{true, true}},
		{"instance dnt count", analytics.Privacy{DNT: analytics.DNTCount}, "idsite=1", map[string]string{"DNT": "1"}, kept{false, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newHandlerEnv(t, func(o *HandlerOptions) { o.Privacy = c.inst })
			e.sites.set(sites, nil)
			if err := e.h.LoadSites(t.Context()); err != nil {
				t.Fatal(err)
			}
			w := e.do(http.MethodGet, "/matomo.php?rec=1&"+c.query+ids, "", c.hdr)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			got := e.queue.hits()
			if len(got) != 1 {
				t.Fatalf("%d hits queued", len(got))
			}
			h := got[0]
			procEq(t, "cookie id kept", !h.CookieID.IsZero(), c.want.cookie)
			procEq(t, "cid kept", !h.CID.IsZero(), c.want.cookie)
			procEq(t, "uid kept", h.UserID != "", c.want.uid)
			if !c.want.uid {
				// Sharded like a hit that never had identifiers.
				bare := h
				bare.UserID, bare.CID, bare.CookieID = "", analytics.VisitorID{}, analytics.VisitorID{}
				procEq(t, "shard key", h.ShardKey(), bare.ShardKey())
			}
		})
	}
	// Bulk requests go through the same rules.
	e := newHandlerEnv(t, nil)
	e.sites.set(sites, nil)
	if err := e.h.LoadSites(t.Context()); err != nil {
		t.Fatal(err)
	}
	body := `{"requests":["?rec=1&idsite=2` + ids + `","?rec=1&idsite=1` + ids + `"]}`
	if w := e.do(http.MethodPost, "/matomo.php", body, nil); w.Code != http.StatusOK {
		t.Fatalf("bulk status %d", w.Code)
	}
	got := e.queue.hits()
	if len(got) != 2 || !got[0].CookieID.IsZero() || got[0].UserID != "alice" || got[1].CookieID.IsZero() {
		t.Fatalf("bulk hits: %+v", got)
	}
}

// TestCookielessOneShard: a visitor of a cookieless site whose tracker
// sends a new _id on each page (cookies blocked) is one visitor, and all
// its hits share a shard key.
func TestCookielessOneShard(t *testing.T) {
	e := newHandlerEnv(t, nil)
	e.sites.set([]analytics.Site{{ID: 1, Privacy: analytics.Privacy{Cookieless: analytics.On}}}, nil)
	if err := e.h.LoadSites(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e.do(http.MethodGet, fmt.Sprintf("/matomo.php?rec=1&idsite=1&_id=%016x", 0xabc000+i), "", nil)
	}
	hits := e.queue.hits()
	if len(hits) != 5 {
		t.Fatalf("%d hits", len(hits))
	}
	for _, h := range hits[1:] {
		procEq(t, "shard key", h.ShardKey(), hits[0].ShardKey())
	}
}

func TestHandlerPrivacyValidate(t *testing.T) {
	for _, p := range []analytics.Privacy{{DNT: 7}, {GPC: 7}, {Consent: 7}} {
		_, err := NewHandler(HandlerOptions{Queue: &handlerRecQueue{}, Sites: &handlerSites{}, Privacy: p})
		if err == nil {
			t.Errorf("NewHandler accepted %+v", p)
		}
	}
	_, err := NewProcessor(ProcessorOptions{Queue: &procFakeQueue{}, Store: newProcFakeStore(), Privacy: analytics.Privacy{Consent: 7}})
	if err == nil {
		t.Error("NewProcessor accepted an unknown consent mode")
	}
}

// TestRunPrunesPeriodically: Run deletes expired salts every
// SaltPruneInterval while it waits for hits, and stops with ctx.
func TestRunPrunesPeriodically(t *testing.T) {
	st := &procSaltStore{procFakeStore: newProcFakeStore()}
	q, err := memqueue.New(memqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	p, err := NewProcessor(ProcessorOptions{Queue: q, Store: st, SaltPruneInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st.mu.Lock()
		n := len(st.deletes)
		st.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d prunes in 30s with a 1ms interval", n)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStripIdentifiersAllocs: the handler's privacy step allocates
// nothing, whatever it decides.
func TestStripIdentifiersAllocs(t *testing.T) {
	e := newHandlerEnv(t, nil)
	e.sites.set([]analytics.Site{{ID: 1}, {ID: 2, Privacy: analytics.Privacy{Cookieless: analytics.On, Consent: analytics.ConsentCookies}}}, nil)
	if err := e.h.LoadSites(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, site := range []int{1, 2} {
		hit := analytics.Hit{SiteID: site, UserID: "u", CookieID: procVisitorA, Flags: analytics.FlagDNT}
		if n := testing.AllocsPerRun(100, func() {
			h := hit
			e.h.stripIdentifiers(&h)
		}); n != 0 {
			t.Errorf("site %d: %v allocations", site, n)
		}
	}
}

// procLeakyGeo fails naming the address, as maxmindgeo does for a
// corrupt record.
type procLeakyGeo struct{}

func (procLeakyGeo) Lookup(ip netip.Addr) (analytics.Location, error) {
	return analytics.Location{}, fmt.Errorf("geo: lookup %s (%s): corrupt record", ip, ip.StringExpanded())
}

// TestGeoErrorNotLogged: a failing Geo is logged without the address.
func TestGeoErrorNotLogged(t *testing.T) {
	for _, ip := range []string{"81.2.69.142", "::ffff:81.2.69.142", "2a02:1234:5678:9abc:def0:1122:3344:5566"} {
		var buf strings.Builder
		log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace})
		h := newProcHarness(t, procTestSites(), nil, func(o *ProcessorOptions) { o.Geo = procLeakyGeo{}; o.Logger = log })
		h.process(procPV(0, procIP(ip)))
		out := buf.String()
		a := netip.MustParseAddr(ip)
		if !strings.Contains(out, "geolocation failed") || strings.Contains(out, a.Unmap().String()) || strings.Contains(out, a.StringExpanded()) {
			t.Errorf("%s: log:\n%s", ip, out)
		}
		procEq(t, "visits", len(h.store.sortedVisits()), 1)
	}
}
