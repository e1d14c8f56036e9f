package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/footfall/analytics"
)

// Harness makes stores for the suite.
type Harness interface {
	// MakeStore returns a fresh, migrated Store that shares no data with
	// any other store the harness made (its own file or database). The
	// suite closes it; the harness removes what it created with t.Cleanup.
	MakeStore(ctx context.Context, t *testing.T) (analytics.Store, error)
}

// Features says what a driver claims where drivers may differ.
type Features struct {
	// TimePrecision is the precision the store keeps times at (Visit,
	// Action and Conversion times, Site.Created). The suite writes times
	// that are multiples of it and expects them back exactly; a time with
	// a finer part must come back truncated (never rounded: 23:59:59.9999
	// stays in its day). Default: time.Millisecond.
	TimePrecision time.Duration
	// MaxNameLen is the longest dictionary name (URL, title, event,
	// content, product and search fields) the store keeps, in bytes; one
	// byte more fails the batch with ErrInvalid. Default: 4096
	// (Matomo's log_action.name).
	MaxNameLen int
}

func (f *Features) setDefaults() {
	if f.TimePrecision <= 0 {
		f.TimePrecision = time.Millisecond
	}
	if f.MaxNameLen <= 0 {
		f.MaxNameLen = 4096
	}
}

// InvalidationLister is an optional Store method the suite uses to read
// back LogBatch.Invalidated. A store without it is only checked to accept
// and validate invalidations.
type InvalidationLister interface {
	// Invalidations returns the stored site days, ordered by site and day,
	// each once.
	Invalidations(ctx context.Context) ([]analytics.SiteDay, error)
}

// Run runs the conformance suite. newHarness is called once per subtest.
//
// Contract points the suite pins down beyond analytics.go:
//   - nil and empty slices are equivalent; sub-structs of an Action
//     (Event, Search, …) come back nil exactly when they were nil;
//   - Location.Latitude/Longitude are kept only with HasCoords; an
//     Event.Value only with HasValue;
//   - times come back in UTC at Features.TimePrecision, truncated, and so
//     does the Site.Created that CreateSite sets on its argument;
//   - Goals and CreateGoal of an unknown site fail with ErrNotFound; goal
//     IDs count 1, 2, … per site; CreateSite and UpdateSite reject an
//     invalid Timezone with ErrInvalid; UpdateSite with a zero Created
//     keeps the stored one;
//   - WriteBatch rejects with ErrInvalid, writing nothing: an empty Shard,
//     To before From, a visit, action or conversion with a non-positive
//     ID, VisitID or SiteID, an unknown action type, an order (GoalID 0)
//     without OrderID, more than 5 product or item categories, a name
//     longer than Features.MaxNameLen, an invalid invalidated day;
//   - LastVisit with both or neither of VisitorID and ConfigID fails with
//     ErrInvalid, and so does LastVisits (BatchVisitFinder) with such a
//     match anywhere in its list, returning nothing; ReserveIDs with
//     n ≤ 0 or an unknown kind with ErrInvalid; DailySalt and
//     DeleteSaltsBefore with a day not "2006-01-02" with ErrInvalid;
//   - Visits orders ties by visit ID (descending with NewestFirst),
//     actions by time then ID, conversions by time;
//   - a call with a cancelled context fails with an error wrapping
//     context.Canceled and changes nothing.
func Run(t *testing.T, newHarness func(t *testing.T) Harness, f Features) {
	f.setDefaults()
	tests := []struct {
		name string
		fn   func(e *env)
	}{
		{"Sites", testSites},
		{"Goals", testGoals},
		{"RoundTrip", testRoundTrip},
		{"TimePrecision", testTimePrecision},
		{"Upsert", testUpsert},
		{"Fencing", testFencing},
		{"InvalidBatch", testInvalidBatch},
		{"AtomicInvalidAction", testAtomicInvalidAction},
		{"AtomicCancel", testAtomicCancel},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ReserveIDs", testReserveIDs},
		{"LastVisit", testLastVisit},
		{"LastVisits", testLastVisits},
		{"VisitsQuery", testVisitsQuery},
		{"VisitsMany", testVisitsMany},
		{"Salts", testSalts},
		{"Invalidations", testInvalidations},
		{"Retention", testRetention},
		{"UnusedNames", testUnusedNames},
		{"VisitorEraser", testVisitorEraser},
		{"Migrator", testMigrator},
		{"Pinger", testPinger},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(newEnv(t, newHarness(t), f))
		})
	}
}

// env is one subtest's store and helpers.
type env struct {
	t    *testing.T
	ctx  context.Context
	s    analytics.Store
	f    Features
	base time.Time
	seq  int // makes names and ids unique
}

func newEnv(t *testing.T, h Harness, f Features) *env {
	t.Helper()
	s, err := h.MakeStore(t.Context(), t)
	if err != nil {
		t.Fatalf("MakeStore: %v", err)
	}
	if s == nil {
		t.Fatal("MakeStore returned a nil store")
	}
	t.Cleanup(func() { s.Close() })
	return &env{
		t:    t,
		ctx:  t.Context(),
		s:    s,
		f:    f,
		base: time.Date(2024, 3, 10, 8, 0, 0, 0, time.UTC),
	}
}

// tm returns base+d at the store's precision.
func (e *env) tm(d time.Duration) time.Time {
	return e.base.Add(d).Truncate(e.f.TimePrecision)
}

func (e *env) next() int {
	e.seq++
	return e.seq
}

func (e *env) cmpOpts() cmp.Options {
	return cmp.Options{
		cmpopts.EquateEmpty(),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	}
}

func (e *env) diff(want, got any) string { return cmp.Diff(want, got, e.cmpOpts()) }

func (e *env) must(err error, what string, args ...any) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// wantErr fails unless err wraps target.
func (e *env) wantErr(err, target error, what string, args ...any) {
	e.t.Helper()
	if !errors.Is(err, target) {
		e.t.Errorf("%s: got error %v, want one wrapping %v", fmt.Sprintf(what, args...), err, target)
	}
}

func (e *env) reserve(kind analytics.IDKind, n int) int64 {
	e.t.Helper()
	first, err := e.s.ReserveIDs(e.ctx, kind, n)
	e.must(err, "ReserveIDs(%d, %d)", kind, n)
	if first <= 0 {
		e.t.Fatalf("ReserveIDs(%d, %d) = %d, want > 0", kind, n, first)
	}
	return first
}

func (e *env) checkpoint(shard string) analytics.Position {
	e.t.Helper()
	p, err := e.s.Checkpoint(e.ctx, shard)
	e.must(err, "Checkpoint(%q)", shard)
	return p
}

// nextPos returns a Position after p.
func nextPos(p analytics.Position) analytics.Position {
	return analytics.Position{Hi: max(p.Hi, 1_710_000_000_000) + 1, Lo: p.Lo + 3}
}

// commit writes b on its shard from the stored checkpoint to the next
// Position and fails the test on error. It returns the new checkpoint.
func (e *env) commit(b *analytics.LogBatch) analytics.Position {
	e.t.Helper()
	b.From = e.checkpoint(b.Shard)
	b.To = nextPos(b.From)
	e.must(e.s.WriteBatch(e.ctx, b), "WriteBatch(%s, %v→%v)", b.Shard, b.From, b.To)
	return b.To
}

func (e *env) newSite(name string) analytics.Site {
	e.t.Helper()
	s := analytics.Site{
		Name:     name,
		URLs:     []string{"https://" + name + ".example"},
		Timezone: "Europe/Paris",
		Currency: "EUR",
	}
	e.must(e.s.CreateSite(e.ctx, &s), "CreateSite(%s)", name)
	return s
}

// visits collects the visits of q.
func (e *env) visits(q analytics.VisitQuery) []analytics.VisitDetails {
	e.t.Helper()
	var out []analytics.VisitDetails
	err := e.s.Visits(e.ctx, q, func(d *analytics.VisitDetails) error {
		out = append(out, *d)
		return nil
	})
	e.must(err, "Visits(%+v)", q)
	return out
}

// state is everything of a store that a batch can change, as seen
// through the contract: every visit of the given sites with its actions,
// conversions and items, the checkpoints of the given shards and the
// invalidations (when the store lists them).
type state struct {
	Visits        []analytics.VisitDetails
	Checkpoints   map[string]analytics.Position
	Invalidations []analytics.SiteDay
}

func (e *env) state(sites []int, shards ...string) state {
	e.t.Helper()
	st := state{Checkpoints: map[string]analytics.Position{}}
	for _, id := range sites {
		st.Visits = append(st.Visits, e.visits(analytics.VisitQuery{SiteID: id, WithActions: true})...)
	}
	for _, sh := range shards {
		st.Checkpoints[sh] = e.checkpoint(sh)
	}
	if l, ok := e.s.(InvalidationLister); ok {
		days, err := l.Invalidations(e.ctx)
		e.must(err, "Invalidations")
		st.Invalidations = days
	}
	return st
}

// details returns the VisitDetails the store must return for v and the
// given actions and conversions (those of v, sorted).
func details(v analytics.Visit, actions []analytics.Action, convs []analytics.Conversion) analytics.VisitDetails {
	d := analytics.VisitDetails{Visit: v}
	for _, a := range actions {
		if a.VisitID == v.ID {
			d.ActionList = append(d.ActionList, a)
		}
	}
	for _, c := range convs {
		if c.VisitID == v.ID {
			d.Conversions = append(d.Conversions, c)
		}
	}
	sortActions(d.ActionList)
	slices.SortStableFunc(d.Conversions, func(a, b analytics.Conversion) int { return a.Time.Compare(b.Time) })
	return d
}

func sortActions(a []analytics.Action) {
	slices.SortFunc(a, func(x, y analytics.Action) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
}

// sortVisits orders details as Visits does without NewestFirst.
func sortVisits(d []analytics.VisitDetails) {
	slices.SortFunc(d, func(x, y analytics.VisitDetails) int {
		if c := x.SiteID - y.SiteID; c != 0 {
			return c
		}
		if c := x.FirstActionTime.Compare(y.FirstActionTime); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
}

// ---------------------------------------------------------------------------
// Fixtures: every field set, strings that need care (unicode, quotes).
// ---------------------------------------------------------------------------

func vid(n int) analytics.VisitorID {
	var v analytics.VisitorID
	for i := range v {
		v[i] = byte(n*31 + i*7 + 1)
	}
	return v
}

// visit returns a visit with every field set.
func (e *env) visit(siteID int, id int64, first time.Time) analytics.Visit {
	n := e.next()
	ip := netip.AddrFrom4([4]byte{192, 0, 2, 0})
	if n%2 == 0 {
		ip = netip.MustParseAddr("2001:db8:85a3::")
	}
	return analytics.Visit{
		ID:                id,
		SiteID:            siteID,
		VisitorID:         vid(n),
		ConfigID:          vid(n + 1000),
		UserID:            fmt.Sprintf("user-%d@example.com", n),
		Profilable:        true,
		FirstActionTime:   first,
		LastActionTime:    first.Add(9*time.Minute + 7*e.f.TimePrecision),
		TotalTime:         548,
		LocalTime:         3600*9 + 61,
		Actions:           7,
		Interactions:      5,
		Searches:          2,
		Events:            2,
		Pageviews:         3,
		VisitCount:        4,
		Returning:         2,
		SecondsSinceFirst: 86400 * 3,
		SecondsSinceLast:  7200,
		SecondsSinceOrder: 3600,
		GoalConverted:     true,
		GoalBuyer:         3,
		EntryURL:          fmt.Sprintf("https://example.com/entry/%d?q=a&b='c'", n),
		EntryTitle:        "Entrée — ünïcode ✓",
		ExitURL:           fmt.Sprintf("https://example.com/exit/%d", n),
		ExitTitle:         "Exit \"quoted\"",
		LastActionID:      id*10 + 3,
		Referrer: analytics.Referrer{
			Type: analytics.ReferrerCampaign, Name: "spring-sale", Keyword: "shoes",
			URL:            "https://news.example.org/article?id=1",
			CampaignSource: "newsletter", CampaignMedium: "email", CampaignContent: "banner", CampaignID: "c-42",
		},
		Client: analytics.Client{
			BrowserName: "Firefox", BrowserVersion: "124.0", BrowserEngine: "Gecko",
			OSName: "GNU/Linux", OSVersion: "6.8", DeviceType: analytics.DeviceSmartphone,
			DeviceBrand: "Fairphone", DeviceModel: "5", Resolution: "1080x2400",
			Plugins: analytics.PluginPDF | analytics.PluginCookie, Lang: "fr-fr,en",
		},
		Location: analytics.Location{
			CountryCode: "fr", RegionCode: "IDF", RegionName: "Île-de-France", City: "Paris",
			Latitude: 48.856613, Longitude: 2.352222, HasCoords: true, TimeZone: "Europe/Paris",
		},
		IP:         ip,
		Dimensions: []analytics.Dimension{{ID: 1, Value: "gold"}, {ID: 4, Value: "ünï"}},
	}
}

// actions returns one action of every kind for v, with every optional
// part used somewhere, IDs from first on. Two actions share a time, with
// the higher ID first in the slice.
func (e *env) actions(v *analytics.Visit, first int64) []analytics.Action {
	t0 := v.FirstActionTime
	p := e.f.TimePrecision
	mk := func(i int, typ analytics.ActionType, at time.Time) analytics.Action {
		n := e.next()
		a := analytics.Action{
			ID:           first + int64(i),
			HitID:        analytics.NewHitID(at),
			VisitID:      v.ID,
			SiteID:       v.SiteID,
			VisitorID:    v.VisitorID,
			Time:         at,
			Type:         typ,
			URL:          fmt.Sprintf("https://example.com/page/%d", n),
			Title:        fmt.Sprintf("Page %d", n),
			PageViewID:   fmt.Sprintf("pv%04d", n%10000),
			Position:     i + 1,
			TimeSpentRef: i * 3,
		}
		if i > 0 {
			a.PrevURL = fmt.Sprintf("https://example.com/prev/%d", n)
			a.PrevTitle = "Previous ✓"
		}
		return a
	}
	var out []analytics.Action
	a := mk(0, analytics.ActionPageview, t0)
	a.Product = &analytics.ProductView{SKU: "SKU-1", Name: "Shoe", Categories: []string{"a", "b", "c", "d", "e"}, Price: 59.9}
	a.Timing = &analytics.PageTiming{Network: 1, Server: 20, Transfer: 3, DOMProcessing: 400, DOMCompletion: 50, OnLoad: 6}
	a.Dimensions = []analytics.Dimension{{ID: 2, Value: "x"}}
	out = append(out, a)

	a = mk(1, analytics.ActionEvent, t0.Add(10*time.Second+3*p))
	a.Event = &analytics.Event{Category: "video", Action: "play", Name: "intro", Value: 12.5, HasValue: true}
	out = append(out, a)

	a = mk(2, analytics.ActionEvent, t0.Add(20*time.Second))
	a.Event = &analytics.Event{Category: "video", Action: "pause"}
	out = append(out, a)

	a = mk(3, analytics.ActionSiteSearch, t0.Add(30*time.Second))
	a.Search = &analytics.Search{Keyword: "red shoes", Category: "shoes", Count: 12}
	out = append(out, a)

	a = mk(4, analytics.ActionSiteSearch, t0.Add(40*time.Second))
	a.Search = &analytics.Search{Keyword: "nothing", Count: -1}
	out = append(out, a)

	a = mk(5, analytics.ActionOutlink, t0.Add(50*time.Second))
	a.URL = "https://elsewhere.example.net/out"
	a.Title = ""
	out = append(out, a)

	a = mk(6, analytics.ActionDownload, t0.Add(60*time.Second))
	a.URL = "https://example.com/file.pdf"
	a.Title = ""
	out = append(out, a)

	a = mk(7, analytics.ActionContentImpression, t0.Add(70*time.Second))
	a.Content = &analytics.Content{Name: "hero", Piece: "banner.png", Target: "https://example.com/sale"}
	out = append(out, a)

	// Same time as the previous one, higher ID: it sorts after it, but is
	// written before it.
	a = mk(8, analytics.ActionContentInteraction, t0.Add(70*time.Second))
	a.Content = &analytics.Content{Name: "hero", Piece: "banner.png", Target: "https://example.com/sale", Interaction: "click"}
	out = append(out, a)
	out[7], out[8] = out[8], out[7]

	a = mk(9, analytics.ActionPageview, t0.Add(80*time.Second))
	a.Product = &analytics.ProductView{Categories: []string{"only"}}
	a.Timing = &analytics.PageTiming{Network: -1, Server: -1, Transfer: -1, DOMProcessing: -1, DOMCompletion: -1, OnLoad: -1}
	out = append(out, a)

	// A bare page view: nothing optional.
	a = mk(10, analytics.ActionPageview, t0.Add(90*time.Second))
	a.PrevURL, a.PrevTitle, a.Title, a.PageViewID = "", "", "", ""
	out = append(out, a)
	return out
}

// conversions returns a goal conversion, two conversions of a goal that
// allows several, an order with items and an open cart for v.
func (e *env) conversions(v *analytics.Visit, actions []analytics.Action) []analytics.Conversion {
	t0 := v.FirstActionTime
	base := analytics.Conversion{
		VisitID:         v.ID,
		SiteID:          v.SiteID,
		VisitorID:       v.VisitorID,
		URL:             "https://example.com/thanks",
		PageviewsBefore: 3,
		VisitCount:      v.VisitCount,
		Returning:       v.Returning,
		Referrer:        v.Referrer,
		CountryCode:     "fr",
	}
	c1 := base
	c1.Time, c1.GoalID, c1.Revenue = t0.Add(11*time.Second), 1, 10.5
	if len(actions) > 0 {
		c1.ActionID = actions[0].ID
	}
	c2 := base
	c2.Time, c2.GoalID, c2.Buster = t0.Add(12*time.Second), 2, 1
	c3 := base
	c3.Time, c3.GoalID, c3.Buster, c3.Revenue = t0.Add(13*time.Second), 2, 2, 3
	order := base
	order.Time, order.GoalID = t0.Add(14*time.Second), analytics.GoalEcommerceOrder
	order.OrderID = fmt.Sprintf("ORD-%d-%d", v.ID, e.next())
	order.Revenue, order.Subtotal, order.Tax, order.Shipping, order.Discount = 121.5, 100, 19, 7.5, 5
	order.Items = []analytics.Item{
		{SKU: "SKU-1", Name: "Shoe", Categories: []string{"Shoes", "Men"}, Price: 59.9, Quantity: 1},
		{SKU: "SKU-2", Name: "Sock ✓", Categories: []string{"a", "b", "c", "d", "e"}, Price: 4.05, Quantity: 3},
		{SKU: "SKU-3", Price: 0.5, Quantity: 10},
	}
	cart := base
	cart.Time, cart.GoalID, cart.Revenue = t0.Add(15*time.Second), analytics.GoalCart, 64
	cart.Items = []analytics.Item{
		{SKU: "SKU-4", Name: "Hat", Categories: []string{"Hats"}, Price: 20, Quantity: 2},
		{SKU: "SKU-5", Name: "Scarf", Price: 24, Quantity: 1, Deleted: true},
	}
	return []analytics.Conversion{c1, c2, c3, order, cart}
}

// fullBatch returns n full visits of a site starting at first, one hour
// apart, with their actions and conversions, IDs reserved from the store.
func (e *env) fullBatch(shard string, siteID, n int, first time.Time) (*analytics.LogBatch, []analytics.VisitDetails) {
	e.t.Helper()
	b := &analytics.LogBatch{Shard: shard}
	vfirst := e.reserve(analytics.IDVisit, n)
	var want []analytics.VisitDetails
	for i := 0; i < n; i++ {
		v := e.visit(siteID, vfirst+int64(i), first.Add(time.Duration(i)*time.Hour))
		acts := e.actions(&v, e.reserve(analytics.IDAction, 11))
		convs := e.conversions(&v, acts)
		b.Visits = append(b.Visits, v)
		b.Actions = append(b.Actions, acts...)
		b.Conversions = append(b.Conversions, convs...)
		want = append(want, details(v, acts, convs))
	}
	return b, want
}

// ---------------------------------------------------------------------------
// Sites and goals
// ---------------------------------------------------------------------------

func fullSite(name string, created time.Time) analytics.Site {
	return analytics.Site{
		Name:                 name,
		URLs:                 []string{"https://" + name + ".example", "https://www." + name + ".example"},
		Timezone:             "UTC+5.5",
		Currency:             "JPY",
		Ecommerce:            true,
		SiteSearch:           true,
		SearchKeywordParams:  []string{"q", "query"},
		SearchCategoryParams: []string{"cat"},
		ExcludedIPs:          []string{"10.0.0.0/8", "192.168.1.*", "2001:db8::1"},
		ExcludedParams:       []string{"sessionid", "token"},
		ExcludedUserAgents:   []string{"curl/"},
		ExcludedReferrers:    []string{"spam.example"},
		ExcludeUnknownURLs:   true,
		KeepURLFragment:      true,
		Privacy: analytics.Privacy{
			IPv4MaskBytes: 3, IPv6MaskBits: 64, StoreIP: analytics.Off, Cookieless: analytics.On,
			DNT: analytics.DNTExclude, GPC: analytics.DNTCount, HashUserID: analytics.On,
			ScrubPII: analytics.Off, RetentionDays: -1, Consent: analytics.ConsentCookies,
		},
		Created: created,
	}
}

func testSites(e *env) {
	ctx, s := e.ctx, e.s
	if sites, err := s.Sites(ctx); err != nil || len(sites) != 0 {
		e.t.Fatalf("Sites of a fresh store = %v, %v; want none", sites, err)
	}

	a := fullSite("alpha", time.Time{})
	e.must(s.CreateSite(ctx, &a), "CreateSite(alpha)")
	if a.ID <= 0 {
		e.t.Fatalf("CreateSite set ID %d, want > 0", a.ID)
	}
	if a.Created.IsZero() {
		e.t.Fatal("CreateSite left a zero Created")
	}
	b := fullSite("beta", e.tm(-48*time.Hour+123*time.Millisecond))
	b.ID = 12345 // ignored: the store assigns IDs
	e.must(s.CreateSite(ctx, &b), "CreateSite(beta)")
	c := analytics.Site{Name: "gamma"}
	e.must(s.CreateSite(ctx, &c), "CreateSite(gamma)")
	if !(a.ID < b.ID && b.ID < c.ID) {
		e.t.Fatalf("site IDs %d, %d, %d do not increase", a.ID, b.ID, c.ID)
	}
	if got := e.tm(-48*time.Hour + 123*time.Millisecond); !b.Created.Equal(got) {
		e.t.Errorf("CreateSite changed a given Created to %v, want %v", b.Created, got)
	}

	for _, want := range []analytics.Site{a, b, c} {
		got, err := s.Site(ctx, want.ID)
		e.must(err, "Site(%d)", want.ID)
		if d := e.diff(want, got); d != "" {
			e.t.Errorf("Site(%d) differs from what CreateSite set (-want +got):\n%s", want.ID, d)
		}
	}
	all, err := s.Sites(ctx)
	e.must(err, "Sites")
	if d := e.diff([]analytics.Site{a, b, c}, all); d != "" {
		e.t.Errorf("Sites (-want +got):\n%s", d)
	}

	// Every field changes.
	u := analytics.Site{
		ID: b.ID, Name: "beta renamed", URLs: []string{"https://b.example"}, Timezone: "America/New_York",
		Currency: "USD", SearchKeywordParams: []string{"s"}, ExcludedIPs: []string{"203.0.113.7"},
		Privacy: analytics.Privacy{IPv4MaskBytes: -1, IPv6MaskBits: 128, StoreIP: analytics.On, Cookieless: analytics.Off,
			DNT: analytics.DNTIgnore, GPC: analytics.DNTExclude, HashUserID: analytics.Off, ScrubPII: analytics.On, RetentionDays: 30,
			Consent: analytics.ConsentTracking},
		Created: e.tm(-24 * time.Hour),
	}
	e.must(s.UpdateSite(ctx, u), "UpdateSite(%d)", u.ID)
	got, err := s.Site(ctx, u.ID)
	e.must(err, "Site(%d) after update", u.ID)
	if d := e.diff(u, got); d != "" {
		e.t.Errorf("Site after UpdateSite (-want +got):\n%s", d)
	}
	// A zero Created keeps the stored one.
	u2 := u
	u2.Created = time.Time{}
	u2.Name = "beta again"
	e.must(s.UpdateSite(ctx, u2), "UpdateSite(%d) with zero Created", u.ID)
	got, err = s.Site(ctx, u.ID)
	e.must(err, "Site(%d)", u.ID)
	u2.Created = u.Created
	if d := e.diff(u2, got); d != "" {
		e.t.Errorf("Site after UpdateSite with zero Created (-want +got):\n%s", d)
	}
	// The others are untouched.
	for _, want := range []analytics.Site{a, c} {
		got, err := s.Site(ctx, want.ID)
		e.must(err, "Site(%d)", want.ID)
		if d := e.diff(want, got); d != "" {
			e.t.Errorf("UpdateSite(%d) changed site %d (-want +got):\n%s", u.ID, want.ID, d)
		}
	}

	unknown := c.ID + 1000
	_, err = s.Site(ctx, unknown)
	e.wantErr(err, analytics.ErrNotFound, "Site(unknown)")
	e.wantErr(s.UpdateSite(ctx, analytics.Site{ID: unknown, Name: "x"}), analytics.ErrNotFound, "UpdateSite(unknown)")

	bad := analytics.Site{Name: "bad", Timezone: "Mars/Olympus_Mons"}
	e.wantErr(s.CreateSite(ctx, &bad), analytics.ErrInvalid, "CreateSite with an invalid time zone")
	bad.ID = a.ID
	e.wantErr(s.UpdateSite(ctx, bad), analytics.ErrInvalid, "UpdateSite with an invalid time zone")
	all, err = s.Sites(ctx)
	e.must(err, "Sites")
	if len(all) != 3 {
		e.t.Errorf("after rejected writes there are %d sites, want 3", len(all))
	}
}

func testGoals(e *env) {
	ctx, s := e.ctx, e.s
	a, b := e.newSite("a"), e.newSite("b")
	goals, err := s.Goals(ctx, a.ID)
	e.must(err, "Goals of a site without goals")
	if len(goals) != 0 {
		e.t.Errorf("Goals of a new site = %v, want none", goals)
	}
	mk := func(site int, name string, i int) analytics.Goal {
		return analytics.Goal{
			SiteID: site, Name: name, Match: []string{"url", "title", "event_category", "manually"}[i%4],
			Pattern: fmt.Sprintf("/checkout/%d", i), PatternType: []string{"contains", "exact", "regex"}[i%3],
			CaseSensitive: i%2 == 0, AllowMultiple: i%2 == 1, Revenue: float64(i) + 0.25,
		}
	}
	var wantA, wantB []analytics.Goal
	for i := 0; i < 3; i++ {
		g := mk(a.ID, fmt.Sprintf("A goal %d", i), i)
		e.must(s.CreateGoal(ctx, &g), "CreateGoal(a, %d)", i)
		wantA = append(wantA, g)
		if i < 2 {
			h := mk(b.ID, fmt.Sprintf("B goal %d", i), i+5)
			e.must(s.CreateGoal(ctx, &h), "CreateGoal(b, %d)", i)
			wantB = append(wantB, h)
		}
	}
	for i, g := range wantA {
		if g.ID != i+1 {
			e.t.Errorf("goal %d of site a has ID %d, want %d (IDs count per site)", i, g.ID, i+1)
		}
	}
	for i, g := range wantB {
		if g.ID != i+1 {
			e.t.Errorf("goal %d of site b has ID %d, want %d (IDs count per site)", i, g.ID, i+1)
		}
	}
	for _, tc := range []struct {
		site int
		want []analytics.Goal
	}{{a.ID, wantA}, {b.ID, wantB}} {
		got, err := s.Goals(ctx, tc.site)
		e.must(err, "Goals(%d)", tc.site)
		if d := e.diff(tc.want, got); d != "" {
			e.t.Errorf("Goals(%d) (-want +got):\n%s", tc.site, d)
		}
	}
	unknown := b.ID + 1000
	_, err = s.Goals(ctx, unknown)
	e.wantErr(err, analytics.ErrNotFound, "Goals(unknown site)")
	g := mk(unknown, "orphan", 0)
	e.wantErr(s.CreateGoal(ctx, &g), analytics.ErrNotFound, "CreateGoal(unknown site)")
}

// ---------------------------------------------------------------------------
// Writing and reading back
// ---------------------------------------------------------------------------

func testRoundTrip(e *env) {
	site := e.newSite("rt")
	other := e.newSite("other")
	b, want := e.fullBatch("rt:0", site.ID, 3, e.tm(1234567*time.Microsecond))
	// A name of exactly the limit is kept whole.
	long := "https://example.com/" + strings.Repeat("é", (e.f.MaxNameLen-20)/2)
	long += strings.Repeat("x", e.f.MaxNameLen-len(long))
	b.Actions[0].URL = long
	want[0].ActionList[0].URL = long
	// An IPv4-mapped IPv6 address stays one; no IP stays none.
	b.Visits[1].IP = netip.MustParseAddr("::ffff:198.51.100.0")
	want[1].IP = b.Visits[1].IP
	b.Visits[2].IP = netip.Addr{}
	want[2].IP = netip.Addr{}
	// Coordinates only with HasCoords; zero coordinates are valid ones.
	b.Visits[2].Location.Latitude, b.Visits[2].Location.Longitude = 0, 0
	want[2].Location = b.Visits[2].Location
	// Shuffle what goes in: the store orders what comes out.
	slices.Reverse(b.Actions)
	slices.Reverse(b.Conversions)
	to := e.commit(b)
	if got := e.checkpoint("rt:0"); got != to {
		e.t.Errorf("Checkpoint after WriteBatch = %v, want %v", got, to)
	}

	got := e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true})
	if d := e.diff(want, got); d != "" {
		e.t.Fatalf("Visits(WithActions) differ from what was written (-want +got):\n%s", d)
	}
	got = e.visits(analytics.VisitQuery{SiteID: site.ID})
	for i := range want {
		if len(got) != len(want) {
			break
		}
		if d := e.diff(want[i].Visit, got[i].Visit); d != "" {
			e.t.Errorf("Visits without actions: visit %d differs (-want +got):\n%s", i, d)
		}
		if len(got[i].ActionList) != 0 || len(got[i].Conversions) != 0 {
			e.t.Errorf("Visits without WithActions filled %d actions, %d conversions", len(got[i].ActionList), len(got[i].Conversions))
		}
	}
	if len(got) != len(want) {
		e.t.Errorf("Visits without actions returned %d visits, want %d", len(got), len(want))
	}
	for _, w := range want {
		v, err := e.s.LastVisit(e.ctx, analytics.VisitorMatch{SiteID: site.ID, VisitorID: w.VisitorID})
		e.must(err, "LastVisit(%v)", w.VisitorID)
		if d := e.diff(w.Visit, v); d != "" {
			e.t.Errorf("LastVisit differs from what was written (-want +got):\n%s", d)
		}
	}
	if got := e.visits(analytics.VisitQuery{SiteID: other.ID, WithActions: true}); len(got) != 0 {
		e.t.Errorf("Visits of another site returned %d visits", len(got))
	}

	// Checkpoints keep all 64 bits of both halves.
	big := analytics.Position{Hi: 1<<64 - 1, Lo: 1<<63 + 5}
	e.must(e.s.WriteBatch(e.ctx, &analytics.LogBatch{Shard: "rt:big", To: big}), "WriteBatch to %v", big)
	if got := e.checkpoint("rt:big"); got != big {
		e.t.Errorf("Checkpoint = %v, want %v", got, big)
	}
	e.must(e.s.WriteBatch(e.ctx, &analytics.LogBatch{Shard: "rt:big", From: big, To: big}), "WriteBatch from %v", big)
	if got := e.checkpoint("rt:0"); got != to {
		e.t.Errorf("another shard's write changed Checkpoint(rt:0) to %v, want %v", got, to)
	}
}

func testTimePrecision(e *env) {
	site := e.newSite("tp")
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		e.t.Skipf("no time zone database: %v", err)
	}
	// The last instant of a day, and a time in another zone.
	last := time.Date(2024, 3, 10, 23, 59, 59, 999999999, time.UTC)
	v := e.visit(site.ID, e.reserve(analytics.IDVisit, 1), last)
	v.LastActionTime = time.Date(2024, 3, 11, 1, 2, 3, 456789000, paris)
	a := analytics.Action{ID: e.reserve(analytics.IDAction, 1), VisitID: v.ID, SiteID: site.ID, Time: last,
		Type: analytics.ActionPageview, URL: "https://example.com/"}
	e.commit(&analytics.LogBatch{Shard: "tp", Visits: []analytics.Visit{v}, Actions: []analytics.Action{a}})
	got := e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true})
	if len(got) != 1 || len(got[0].ActionList) != 1 {
		e.t.Fatalf("read back %d visits, want 1 with 1 action", len(got))
	}
	p := e.f.TimePrecision
	for _, tc := range []struct {
		name      string
		got, want time.Time
	}{
		{"FirstActionTime", got[0].FirstActionTime, last.Truncate(p)},
		{"LastActionTime", got[0].LastActionTime, v.LastActionTime.Truncate(p)},
		{"Action.Time", got[0].ActionList[0].Time, last.Truncate(p)},
	} {
		if !tc.got.Equal(tc.want) {
			e.t.Errorf("%s = %v, want %v (truncated to %v)", tc.name, tc.got, tc.want, p)
		}
		if tc.got.Location() != time.UTC {
			e.t.Errorf("%s is in %v, want UTC", tc.name, tc.got.Location())
		}
	}

	// Site.Created: CreateSite sets on the site the Created the store
	// keeps, as Site reads it back.
	created := time.Date(2024, 3, 11, 0, 59, 59, 999999999, paris)
	s := analytics.Site{Name: "tp created", Created: created}
	e.must(e.s.CreateSite(e.ctx, &s), "CreateSite with Created %v", created)
	stored, err := e.s.Site(e.ctx, s.ID)
	e.must(err, "Site(%d)", s.ID)
	for _, tc := range []struct {
		name string
		got  time.Time
	}{{"Created set by CreateSite", s.Created}, {"Created read by Site", stored.Created}} {
		if !tc.got.Equal(created.Truncate(p)) || tc.got.Location() != time.UTC {
			e.t.Errorf("%s = %v, want %v in UTC (truncated to %v)", tc.name, tc.got, created.Truncate(p).UTC(), p)
		}
	}
}

func testUpsert(e *env) {
	ctx := e.ctx
	site, siteB := e.newSite("up"), e.newSite("up-b")
	vs := e.reserve(analytics.IDVisit, 3)
	as := e.reserve(analytics.IDAction, 3)
	v := e.visit(site.ID, vs, e.tm(0))
	w := e.visit(site.ID, vs+1, e.tm(time.Hour))
	x := e.visit(siteB.ID, vs+2, e.tm(time.Hour))
	v.Actions, v.Pageviews = 1, 1
	a1 := analytics.Action{ID: as, VisitID: v.ID, SiteID: site.ID, VisitorID: v.VisitorID, Time: e.tm(0),
		Type: analytics.ActionPageview, URL: "https://example.com/a1", Title: "A1"}
	convs := e.conversions(&v, []analytics.Action{a1})
	goal, order, cart := convs[0], convs[3], convs[4]
	e.commit(&analytics.LogBatch{Shard: "up", Visits: []analytics.Visit{v, w}, Actions: []analytics.Action{a1},
		Conversions: []analytics.Conversion{goal, order, cart}})

	// The visit is written again with absolute counters, the action again
	// with other content, the goal again with other revenue; another visit
	// sends the same order id; the cart changes; a new buster converts the
	// goal again; the same order id on another site is another order.
	v2 := v
	v2.Actions, v2.Pageviews, v2.Interactions = 3, 2, 4
	v2.LastActionTime = v.LastActionTime.Add(5 * time.Minute)
	v2.ExitURL, v2.ExitTitle = "https://example.com/a2", "A2"
	v2.GoalBuyer = 1
	v2.Dimensions = []analytics.Dimension{{ID: 9, Value: "new"}}
	v2.IP = netip.Addr{}
	v2.Location.HasCoords, v2.Location.Latitude, v2.Location.Longitude = false, 0, 0
	a1again := a1
	a1again.Title, a1again.URL = "changed", "https://example.com/changed"
	a2 := analytics.Action{ID: as + 1, VisitID: v.ID, SiteID: site.ID, VisitorID: v.VisitorID, Time: e.tm(time.Minute),
		Type: analytics.ActionPageview, URL: "https://example.com/a2", Title: "A2"}
	goalAgain := goal
	goalAgain.Revenue = 999
	goalBuster := goal
	goalBuster.Buster, goalBuster.Time = 7, goal.Time.Add(time.Second)
	orderFromW := order
	orderFromW.VisitID, orderFromW.VisitorID, orderFromW.Revenue = w.ID, w.VisitorID, 1
	orderOnB := order
	orderOnB.VisitID, orderOnB.SiteID, orderOnB.VisitorID = x.ID, siteB.ID, x.VisitorID
	cart2 := cart
	cart2.Time, cart2.Revenue = cart.Time.Add(time.Minute), 20
	cart2.Items = []analytics.Item{{SKU: "SKU-9", Name: "Belt", Price: 20, Quantity: 1}}
	e.commit(&analytics.LogBatch{Shard: "up", Visits: []analytics.Visit{v2, x}, Actions: []analytics.Action{a1again, a2},
		Conversions: []analytics.Conversion{goalAgain, orderFromW, cart2, goalBuster, orderOnB}})

	want := []analytics.VisitDetails{
		details(v2, []analytics.Action{a1, a2}, []analytics.Conversion{goal, goalBuster, order, cart2}),
		details(w, nil, nil),
		details(x, nil, []analytics.Conversion{orderOnB}),
	}
	got := e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true})
	got = append(got, e.visits(analytics.VisitQuery{SiteID: siteB.ID, WithActions: true})...)
	if d := e.diff(want, got); d != "" {
		e.t.Errorf("after the second batch (-want +got):\n%s", d)
	}
	last, err := e.s.LastVisit(ctx, analytics.VisitorMatch{SiteID: site.ID, VisitorID: v.VisitorID})
	e.must(err, "LastVisit")
	if d := e.diff(v2, last); d != "" {
		e.t.Errorf("LastVisit after upsert (-want +got):\n%s", d)
	}

	// A cart replaced twice in one batch keeps the last one.
	cart3, cart4 := cart2, cart2
	cart3.Revenue, cart3.Items = 1, []analytics.Item{{SKU: "A", Quantity: 1}}
	cart4.Revenue, cart4.Items = 2, []analytics.Item{{SKU: "B", Quantity: 2}, {SKU: "C", Quantity: 3}}
	e.commit(&analytics.LogBatch{Shard: "up", Conversions: []analytics.Conversion{cart3, cart4}})
	want[0] = details(v2, []analytics.Action{a1, a2}, []analytics.Conversion{goal, goalBuster, order, cart4})
	got = e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true})
	if len(got) == 0 || e.diff(want[0], got[0]) != "" {
		e.t.Errorf("after replacing the cart twice in one batch (-want +got):\n%s", e.diff(want[:1], got[:min(1, len(got))]))
	}
}

// ---------------------------------------------------------------------------
// Checkpoint fencing and atomicity
// ---------------------------------------------------------------------------

func testFencing(e *env) {
	ctx, s := e.ctx, e.s
	site := e.newSite("fence")
	const shard = "fence:3"
	if p := e.checkpoint(shard); !p.IsZero() {
		e.t.Fatalf("Checkpoint of an unknown shard = %v, want zero", p)
	}
	sites := []int{site.ID}

	// Batch A opens a visit.
	a, _ := e.fullBatch(shard, site.ID, 1, e.tm(0))
	pA := analytics.Position{Hi: 1_710_000_000_000, Lo: 4}
	a.From, a.To = analytics.Position{}, pA
	e.must(s.WriteBatch(ctx, a), "WriteBatch A")
	if got := e.checkpoint(shard); got != pA {
		e.t.Fatalf("Checkpoint after A = %v, want %v", got, pA)
	}

	// Batch B continues it: the visit's counters grow, new actions.
	v := a.Visits[0]
	v.Actions += 2
	v.Pageviews += 2
	v.LastActionTime = v.LastActionTime.Add(time.Minute)
	first := e.reserve(analytics.IDAction, 2)
	bActs := []analytics.Action{
		{ID: first, VisitID: v.ID, SiteID: site.ID, VisitorID: v.VisitorID, Time: v.LastActionTime.Add(-time.Second),
			Type: analytics.ActionPageview, URL: "https://example.com/b1"},
		{ID: first + 1, VisitID: v.ID, SiteID: site.ID, VisitorID: v.VisitorID, Time: v.LastActionTime,
			Type: analytics.ActionPageview, URL: "https://example.com/b2"},
	}
	pB := analytics.Position{Hi: 1_710_000_000_001, Lo: 0}
	b := &analytics.LogBatch{Shard: shard, From: pA, To: pB, Visits: []analytics.Visit{v}, Actions: bActs,
		Invalidated: []analytics.SiteDay{{SiteID: site.ID, Day: "2024-03-09"}}}
	e.must(s.WriteBatch(ctx, b), "WriteBatch B")
	after := e.state(sites, shard)
	if after.Checkpoints[shard] != pB {
		e.t.Fatalf("Checkpoint after B = %v, want %v", after.Checkpoints[shard], pB)
	}

	// The worker dies after the commit and before the ack: the queue
	// redelivers B and the new owner replays it from the old checkpoint.
	// Nothing of it may land twice; the visit counters stay as they are.
	replay := *b
	replay.Visits = slices.Clone(b.Visits)
	replay.Visits[0].Actions += 100 // a stale writer's different idea of the visit
	err := s.WriteBatch(ctx, &replay)
	e.wantErr(err, analytics.ErrConflict, "replaying B from its old From")
	if !analytics.IsRetryable(err) {
		e.t.Errorf("IsRetryable(%v) = false, want true for a conflict", err)
	}
	if d := e.diff(after, e.state(sites, shard)); d != "" {
		e.t.Errorf("a conflicting batch changed the store (-before +after):\n%s", d)
	}

	// A writer that re-read the checkpoint and finds only hits at or
	// before it writes a batch with no rows and the same To: harmless.
	e.must(s.WriteBatch(ctx, &analytics.LogBatch{Shard: shard, From: pB, To: pB}), "empty batch at the checkpoint")
	if d := e.diff(after, e.state(sites, shard)); d != "" {
		e.t.Errorf("an empty batch at the checkpoint changed the store (-before +after):\n%s", d)
	}

	// A From ahead of the checkpoint, or zero once a checkpoint exists,
	// conflicts too.
	for _, from := range []analytics.Position{{Hi: pB.Hi, Lo: pB.Lo + 1}, {}, pA} {
		c, _ := e.fullBatch(shard, site.ID, 1, e.tm(10*time.Hour))
		c.From, c.To = from, analytics.Position{Hi: pB.Hi + 5}
		e.wantErr(s.WriteBatch(ctx, c), analytics.ErrConflict, "WriteBatch from %v with checkpoint %v", from, pB)
	}
	if d := e.diff(after, e.state(sites, shard)); d != "" {
		e.t.Errorf("conflicting batches changed the store (-before +after):\n%s", d)
	}

	// Shards are independent.
	if p := e.checkpoint("fence:4"); !p.IsZero() {
		e.t.Errorf("Checkpoint(fence:4) = %v, want zero", p)
	}
	e.must(s.WriteBatch(ctx, &analytics.LogBatch{Shard: "fence:4", To: pA}), "WriteBatch on another shard")
	if got := e.checkpoint(shard); got != pB {
		e.t.Errorf("writing fence:4 changed Checkpoint(%s) to %v", shard, got)
	}
}

func testInvalidBatch(e *env) {
	ctx, s := e.ctx, e.s
	site := e.newSite("inv")
	const shard = "inv"
	e.commit(&analytics.LogBatch{Shard: shard})
	before := e.state([]int{site.ID}, shard)
	from := before.Checkpoints[shard]
	to := nextPos(from)
	vID := e.reserve(analytics.IDVisit, 1)
	aID := e.reserve(analytics.IDAction, 1)
	good := func() *analytics.LogBatch {
		v := e.visit(site.ID, vID, e.tm(0))
		return &analytics.LogBatch{Shard: shard, From: from, To: to, Visits: []analytics.Visit{v},
			Actions: []analytics.Action{{ID: aID, VisitID: vID, SiteID: site.ID, Time: e.tm(0), Type: analytics.ActionPageview,
				Product: &analytics.ProductView{Categories: []string{"1", "2", "3", "4", "5"}}}},
			Conversions: []analytics.Conversion{{VisitID: vID, SiteID: site.ID, GoalID: 0, OrderID: "O", Time: e.tm(0),
				Items: []analytics.Item{{SKU: "S", Categories: []string{"1", "2", "3", "4", "5"}}}}},
			Invalidated: []analytics.SiteDay{{SiteID: site.ID, Day: "2024-03-01"}},
		}
	}
	tooLong := strings.Repeat("n", e.f.MaxNameLen+1)
	for _, tc := range []struct {
		name   string
		break_ func(b *analytics.LogBatch)
	}{
		{"empty shard", func(b *analytics.LogBatch) { b.Shard = ""; b.From = analytics.Position{} }},
		{"To before From", func(b *analytics.LogBatch) { b.To = analytics.Position{Hi: from.Hi, Lo: from.Lo - 1} }},
		{"visit id 0", func(b *analytics.LogBatch) { b.Visits[0].ID = 0 }},
		{"visit site 0", func(b *analytics.LogBatch) { b.Visits[0].SiteID = 0 }},
		{"action id 0", func(b *analytics.LogBatch) { b.Actions[0].ID = 0 }},
		{"action visit id 0", func(b *analytics.LogBatch) { b.Actions[0].VisitID = 0 }},
		{"action site -1", func(b *analytics.LogBatch) { b.Actions[0].SiteID = -1 }},
		{"action type 0", func(b *analytics.LogBatch) { b.Actions[0].Type = 0 }},
		{"action type 99", func(b *analytics.LogBatch) { b.Actions[0].Type = 99 }},
		{"six product categories", func(b *analytics.LogBatch) {
			b.Actions[0].Product.Categories = append(b.Actions[0].Product.Categories, "6")
		}},
		{"long title", func(b *analytics.LogBatch) { b.Actions[0].Title = tooLong }},
		{"long event name", func(b *analytics.LogBatch) {
			b.Actions[0].Event = &analytics.Event{Category: "c", Action: "a", Name: tooLong}
		}},
		{"long entry url", func(b *analytics.LogBatch) { b.Visits[0].EntryURL = tooLong }},
		{"conversion visit 0", func(b *analytics.LogBatch) { b.Conversions[0].VisitID = 0 }},
		{"conversion goal -2", func(b *analytics.LogBatch) { b.Conversions[0].GoalID = -2 }},
		{"order without id", func(b *analytics.LogBatch) { b.Conversions[0].OrderID = "" }},
		{"six item categories", func(b *analytics.LogBatch) {
			b.Conversions[0].Items[0].Categories = append(b.Conversions[0].Items[0].Categories, "6")
		}},
		{"long item sku", func(b *analytics.LogBatch) { b.Conversions[0].Items[0].SKU = tooLong }},
		{"invalidated day", func(b *analytics.LogBatch) { b.Invalidated[0].Day = "2024-3-1" }},
		{"invalidated site", func(b *analytics.LogBatch) { b.Invalidated[0].SiteID = 0 }},
	} {
		b := good()
		tc.break_(b)
		e.wantErr(s.WriteBatch(ctx, b), analytics.ErrInvalid, "WriteBatch with %s", tc.name)
	}
	if d := e.diff(before, e.state([]int{site.ID}, shard)); d != "" {
		e.t.Errorf("rejected batches changed the store (-before +after):\n%s", d)
	}
	// The good batch itself is fine.
	e.must(s.WriteBatch(ctx, good()), "WriteBatch of the valid batch")
}

// testAtomicInvalidAction fails a batch at its 300th action, after it has
// written visits, 299 actions and new dictionary names.
func testAtomicInvalidAction(e *env) {
	ctx, s := e.ctx, e.s
	site := e.newSite("atom")
	const shard = "atom:1"
	pre, _ := e.fullBatch(shard, site.ID, 2, e.tm(0))
	e.commit(pre)
	before := e.state([]int{site.ID}, shard)

	b := &analytics.LogBatch{Shard: shard, From: before.Checkpoints[shard], To: nextPos(before.Checkpoints[shard]),
		Invalidated: []analytics.SiteDay{{SiteID: site.ID, Day: "2024-03-02"}}}
	vfirst := e.reserve(analytics.IDVisit, 60)
	afirst := e.reserve(analytics.IDAction, 400)
	var want []analytics.VisitDetails
	for i := 0; i < 60; i++ {
		v := e.visit(site.ID, vfirst+int64(i), e.tm(time.Duration(24+i)*time.Hour))
		b.Visits = append(b.Visits, v)
	}
	for i := 0; i < 400; i++ {
		v := &b.Visits[i%60]
		b.Actions = append(b.Actions, analytics.Action{ID: afirst + int64(i), VisitID: v.ID, SiteID: site.ID,
			VisitorID: v.VisitorID, Time: v.FirstActionTime.Add(time.Duration(i) * time.Second), Type: analytics.ActionPageview,
			URL: fmt.Sprintf("https://example.com/atomic/%d", i), Title: fmt.Sprintf("Atomic %d", i)})
	}
	for i := range b.Visits {
		c := e.conversions(&b.Visits[i], nil)[0]
		b.Conversions = append(b.Conversions, c)
	}
	for _, v := range b.Visits {
		want = append(want, details(v, b.Actions, b.Conversions))
	}
	b.Actions[299].URL = strings.Repeat("u", e.f.MaxNameLen+1)
	err := s.WriteBatch(ctx, b)
	e.wantErr(err, analytics.ErrInvalid, "WriteBatch whose action 300 has a name of %d bytes", e.f.MaxNameLen+1)
	if d := e.diff(before, e.state([]int{site.ID}, shard)); d != "" {
		e.t.Fatalf("a batch that failed at action 300 left rows behind (-before +after):\n%s", d)
	}

	// The same batch, fixed, goes through and reads back whole: nothing of
	// the failed attempt (dictionary ids, cached state) leaks into it.
	b.Actions[299].URL = "https://example.com/atomic/299"
	e.must(s.WriteBatch(ctx, b), "WriteBatch of the fixed batch")
	got := e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true})
	wantAll := append(slices.Clone(before.Visits), want...)
	sortVisits(wantAll)
	if d := e.diff(wantAll, got); d != "" {
		e.t.Errorf("after the fixed batch (-want +got):\n%s", d)
	}
}

// countdownCtx is a context that cancels itself after the code under test
// has looked at it (Done or Err) n times: a hook that stops a WriteBatch
// at a different point of its work for each n, whatever the driver.
type countdownCtx struct {
	context.Context
	left  atomic.Int64
	done  chan struct{}
	fired atomic.Bool
}

func newCountdown(n int64) *countdownCtx {
	c := &countdownCtx{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *countdownCtx) tick() {
	if c.left.Add(-1) == 0 {
		c.fired.Store(true)
		close(c.done)
	}
}

func (c *countdownCtx) Done() <-chan struct{} {
	c.tick()
	return c.done
}

func (c *countdownCtx) Err() error {
	c.tick()
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// testAtomicCancel cancels batches at every point: each batch is then
// either entirely written (with its checkpoint) or not at all.
func testAtomicCancel(e *env) {
	ctx, s := e.ctx, e.s
	site := e.newSite("cancel")
	const shard = "cancel:0"
	sites := []int{site.ID}

	// A context cancelled before the call.
	dead, cancel := context.WithCancel(ctx)
	cancel()
	b, _ := e.fullBatch(shard, site.ID, 1, e.tm(0))
	b.To = nextPos(analytics.Position{})
	before := e.state(sites, shard)
	e.wantErr(s.WriteBatch(dead, b), context.Canceled, "WriteBatch with a cancelled context")
	if d := e.diff(before, e.state(sites, shard)); d != "" {
		e.t.Fatalf("WriteBatch with a cancelled context wrote (-before +after):\n%s", d)
	}
	err := s.Visits(dead, analytics.VisitQuery{SiteID: site.ID}, func(*analytics.VisitDetails) error { return nil })
	e.wantErr(err, context.Canceled, "Visits with a cancelled context")

	failed, completed := 0, false
	n := int64(1)
	for i := 0; i < 60 && !completed; i++ {
		before := e.state(sites, shard)
		from := before.Checkpoints[shard]
		b, want := e.fullBatch(shard, site.ID, 2, e.tm(time.Duration(100*(i+1))*time.Hour))
		b.From, b.To = from, nextPos(from)
		b.Invalidated = []analytics.SiteDay{{SiteID: site.ID, Day: time.Date(2023, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)}}
		cctx := newCountdown(n)
		err := s.WriteBatch(cctx, b)
		after := e.state(sites, shard)

		all := before
		all.Visits = append(slices.Clone(before.Visits), want...)
		sortVisits(all.Visits)
		all.Checkpoints = map[string]analytics.Position{shard: b.To}
		if _, ok := s.(InvalidationLister); ok {
			all.Invalidations = append(slices.Clone(before.Invalidations), b.Invalidated...)
			slices.SortFunc(all.Invalidations, func(x, y analytics.SiteDay) int {
				if c := x.SiteID - y.SiteID; c != 0 {
					return c
				}
				return strings.Compare(x.Day, y.Day)
			})
		}
		switch {
		case e.diff(before, after) == "":
			if err == nil {
				e.t.Fatalf("cancel after %d looks: WriteBatch returned nil and wrote nothing", n)
			}
			if errors.Is(err, analytics.ErrInvalid) || errors.Is(err, analytics.ErrConflict) {
				e.t.Errorf("cancel after %d looks: WriteBatch = %v, want a cancellation error", n, err)
			}
			failed++
		case e.diff(all, after) == "":
			if err != nil {
				e.t.Logf("cancel after %d looks: WriteBatch = %v but the batch was committed whole", n, err)
			} else if !cctx.fired.Load() {
				completed = true
			}
		default:
			e.t.Fatalf("cancel after %d looks: WriteBatch = %v and left a partial batch (-all +got):\n%s", n, err, e.diff(all, after))
		}
		n = n*3/2 + 1
	}
	if failed == 0 {
		e.t.Error("no cancelled WriteBatch failed: the store does not honour its context")
	}
	if !completed {
		e.t.Errorf("no WriteBatch completed within %d looks at its context", n)
	}
	e.t.Logf("%d cancelled batches rolled back", failed)
}

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

func testConcurrentWriters(e *env) {
	ctx, s := e.ctx, e.s
	site := e.newSite("conc")
	const writers, batches = 4, 50
	var wg sync.WaitGroup
	tos := make([]analytics.Position, writers)
	ids := make([][]int64, writers) // visit and action IDs written per writer
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shard := fmt.Sprintf("conc:%d", w)
			var from analytics.Position
			for i := 0; i < batches; i++ {
				v0, err := s.ReserveIDs(ctx, analytics.IDVisit, 2)
				if err != nil {
					e.t.Errorf("writer %d: ReserveIDs: %v", w, err)
					return
				}
				a0, err := s.ReserveIDs(ctx, analytics.IDAction, 4)
				if err != nil {
					e.t.Errorf("writer %d: ReserveIDs: %v", w, err)
					return
				}
				at := e.base.Add(time.Duration(w*batches+i) * time.Minute)
				b := &analytics.LogBatch{Shard: shard, From: from, To: analytics.Position{Hi: uint64(w), Lo: uint64(i + 1)}}
				for j := int64(0); j < 2; j++ {
					b.Visits = append(b.Visits, analytics.Visit{ID: v0 + j, SiteID: site.ID, FirstActionTime: at, LastActionTime: at,
						VisitorID: vid(w*1000 + i), Actions: 2})
					for k := int64(0); k < 2; k++ {
						b.Actions = append(b.Actions, analytics.Action{ID: a0 + 2*j + k, VisitID: v0 + j, SiteID: site.ID,
							Time: at, Type: analytics.ActionPageview, URL: fmt.Sprintf("https://example.com/%d/%d", w, k)})
					}
				}
				if err := s.WriteBatch(ctx, b); err != nil {
					e.t.Errorf("writer %d batch %d: %v", w, i, err)
					return
				}
				from = b.To
				ids[w] = append(ids[w], v0, v0+1, -a0, -(a0 + 1), -(a0 + 2), -(a0 + 3))
			}
			tos[w] = from
		}()
	}
	wg.Wait()
	if e.t.Failed() {
		return
	}
	for w := 0; w < writers; w++ {
		shard := fmt.Sprintf("conc:%d", w)
		if got := e.checkpoint(shard); got != tos[w] {
			e.t.Errorf("Checkpoint(%s) = %v, want %v", shard, got, tos[w])
		}
	}
	seen := map[int64]bool{}
	for _, l := range ids {
		for _, id := range l {
			if seen[id] {
				e.t.Fatalf("ReserveIDs handed out %d twice", id)
			}
			seen[id] = true
		}
	}
	got := e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true})
	nActions := 0
	for _, d := range got {
		nActions += len(d.ActionList)
		if len(d.ActionList) != 2 {
			e.t.Errorf("visit %d has %d actions, want 2", d.ID, len(d.ActionList))
		}
	}
	if len(got) != writers*batches*2 || nActions != writers*batches*4 {
		e.t.Errorf("stored %d visits and %d actions, want %d and %d", len(got), nActions, writers*batches*2, writers*batches*4)
	}
}

func testReserveIDs(e *env) {
	ctx, s := e.ctx, e.s
	const goroutines, calls = 8, 40
	type span struct{ first, end int64 }
	var mu sync.Mutex
	spans := map[analytics.IDKind][]span{}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				kind := analytics.IDVisit
				if (g+i)%2 == 0 {
					kind = analytics.IDAction
				}
				n := 1 + (g*7+i*13)%50
				first, err := s.ReserveIDs(ctx, kind, n)
				if err != nil {
					e.t.Errorf("ReserveIDs(%d, %d): %v", kind, n, err)
					return
				}
				mu.Lock()
				spans[kind] = append(spans[kind], span{first, first + int64(n)})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for kind, l := range spans {
		slices.SortFunc(l, func(a, b span) int { return int(a.first - b.first) })
		for i, sp := range l {
			if sp.first <= 0 {
				e.t.Errorf("kind %d: reserved range starts at %d, want > 0", kind, sp.first)
			}
			if i > 0 && sp.first < l[i-1].end {
				e.t.Errorf("kind %d: ranges [%d,%d) and [%d,%d) overlap", kind, l[i-1].first, l[i-1].end, sp.first, sp.end)
			}
		}
	}
	if len(spans[analytics.IDVisit])+len(spans[analytics.IDAction]) != goroutines*calls {
		e.t.Errorf("got %d reservations, want %d", len(spans[analytics.IDVisit])+len(spans[analytics.IDAction]), goroutines*calls)
	}
	for _, tc := range []struct {
		name string
		kind analytics.IDKind
		n    int
	}{{"n = 0", analytics.IDVisit, 0}, {"n < 0", analytics.IDAction, -3}, {"unknown kind", 0, 1}, {"kind 99", 99, 1}} {
		_, err := s.ReserveIDs(ctx, tc.kind, tc.n)
		e.wantErr(err, analytics.ErrInvalid, "ReserveIDs with %s", tc.name)
	}
}

// ---------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------

func testLastVisit(e *env) {
	ctx, s := e.ctx, e.s
	a, b := e.newSite("lv-a"), e.newSite("lv-b")
	X, Y, Z, C := vid(1), vid(2), vid(3), vid(4)
	id := e.reserve(analytics.IDVisit, 10)
	mk := func(i int, site int, visitor, config analytics.VisitorID, first, last time.Duration) analytics.Visit {
		v := e.visit(site, id+int64(i), e.tm(first))
		v.VisitorID, v.ConfigID, v.LastActionTime = visitor, config, e.tm(last)
		return v
	}
	v1 := mk(0, a.ID, X, Y, 0, 10*time.Minute)
	v2 := mk(1, a.ID, X, Y, 2*time.Hour, 3*time.Hour) // X's latest by last action time
	v3 := mk(2, a.ID, X, Y, time.Hour, 90*time.Minute)
	c1 := mk(3, a.ID, Y, C, 3*time.Hour, 4*time.Hour)
	c2 := mk(4, a.ID, Z, C, 5*time.Hour, 6*time.Hour) // C's latest
	c3 := mk(5, a.ID, Y, C, 4*time.Hour, 5*time.Hour)
	bX := mk(6, b.ID, X, C, 10*time.Hour, 11*time.Hour)
	e.commit(&analytics.LogBatch{Shard: "lv", Visits: []analytics.Visit{v1, v3, c2, bX, v2, c1, c3}})

	for _, tc := range []struct {
		name string
		m    analytics.VisitorMatch
		want analytics.Visit
	}{
		{"visitor X on a", analytics.VisitorMatch{SiteID: a.ID, VisitorID: X}, v2},
		{"visitor Y on a", analytics.VisitorMatch{SiteID: a.ID, VisitorID: Y}, c3},
		{"config C on a", analytics.VisitorMatch{SiteID: a.ID, ConfigID: C}, c2},
		{"config Y on a", analytics.VisitorMatch{SiteID: a.ID, ConfigID: Y}, v2},
		{"visitor X on b", analytics.VisitorMatch{SiteID: b.ID, VisitorID: X}, bX},
		{"config C on b", analytics.VisitorMatch{SiteID: b.ID, ConfigID: C}, bX},
	} {
		got, err := s.LastVisit(ctx, tc.m)
		e.must(err, "LastVisit(%s)", tc.name)
		if d := e.diff(tc.want, got); d != "" {
			e.t.Errorf("LastVisit(%s) (-want +got):\n%s", tc.name, d)
		}
	}
	for _, tc := range []struct {
		name string
		m    analytics.VisitorMatch
		want error
	}{
		{"unknown visitor", analytics.VisitorMatch{SiteID: a.ID, VisitorID: vid(99)}, analytics.ErrNotFound},
		{"unknown config", analytics.VisitorMatch{SiteID: a.ID, ConfigID: vid(99)}, analytics.ErrNotFound},
		{"visitor Z on b", analytics.VisitorMatch{SiteID: b.ID, VisitorID: Z}, analytics.ErrNotFound},
		{"unknown site", analytics.VisitorMatch{SiteID: b.ID + 100, VisitorID: X}, analytics.ErrNotFound},
		{"neither id", analytics.VisitorMatch{SiteID: a.ID}, analytics.ErrInvalid},
		{"both ids", analytics.VisitorMatch{SiteID: a.ID, VisitorID: X, ConfigID: C}, analytics.ErrInvalid},
	} {
		_, err := s.LastVisit(ctx, tc.m)
		e.wantErr(err, tc.want, "LastVisit(%s)", tc.name)
	}

	// An upsert that moves v1's last action time past v2 makes it the last.
	v1.LastActionTime = e.tm(7 * time.Hour)
	e.commit(&analytics.LogBatch{Shard: "lv", Visits: []analytics.Visit{v1}})
	got, err := s.LastVisit(ctx, analytics.VisitorMatch{SiteID: a.ID, VisitorID: X})
	e.must(err, "LastVisit after upsert")
	if d := e.diff(v1, got); d != "" {
		e.t.Errorf("LastVisit after v1 moved (-want +got):\n%s", d)
	}
}

// testLastVisits checks BatchVisitFinder.LastVisits against a model of
// the written visits and against LastVisit, match by match: visitors with
// zero to many visits, ties in last action time, config ids shared by
// several visitors, the same ids on another site, matches without a visit,
// duplicates, more matches than one chunk, and invalid matches.
func testLastVisits(e *env) {
	f, ok := e.s.(analytics.BatchVisitFinder)
	if !ok {
		e.t.Skip("the store does not implement analytics.BatchVisitFinder")
	}
	ctx, s := e.ctx, e.s
	a, b := e.newSite("lvs-a"), e.newSite("lvs-b")
	const visitors = 40
	cfg := func(i int) analytics.VisitorID { return vid(5000 + i%13) } // shared by several visitors
	var written []analytics.Visit
	batch := &analytics.LogBatch{Shard: "lvs"}
	add := func(site, i int, last time.Duration) {
		id := e.reserve(analytics.IDVisit, 1)
		v := e.visit(site, id, e.tm(last-time.Minute))
		v.VisitorID, v.ConfigID, v.LastActionTime = vid(1000+i), cfg(i), e.tm(last)
		batch.Visits = append(batch.Visits, v)
		written = append(written, v)
	}
	for i := range visitors {
		n := i % 5 // 0–4 visits; visitors with i%5 == 0 have none on site a
		if i == 7 {
			n = 25 // a visitor with many visits
		}
		for j := range n {
			// Visits out of time order; with i%3 == 0 the last two share
			// their last action time (the higher visit ID wins).
			last := time.Duration((j*7)%n+1) * time.Hour
			if i%3 == 0 && j == n-1 && n > 1 {
				last = time.Duration(n) * time.Hour
			}
			add(a.ID, i, last+time.Duration(i)*time.Second)
		}
		if i%4 == 1 { // the same ids on site b, later than anything on a
			add(b.ID, i, 100*time.Hour)
		}
	}
	e.commit(batch)

	// want is the model: the written visit of the match with the latest
	// last action time, ties by the higher ID.
	want := func(m analytics.VisitorMatch) (analytics.Visit, bool) {
		var best analytics.Visit
		found := false
		for _, v := range written {
			if v.SiteID != m.SiteID || (!m.VisitorID.IsZero() && v.VisitorID != m.VisitorID) ||
				(!m.ConfigID.IsZero() && v.ConfigID != m.ConfigID) {
				continue
			}
			if c := v.LastActionTime.Compare(best.LastActionTime); !found || c > 0 || (c == 0 && v.ID > best.ID) {
				best, found = v, true
			}
		}
		return best, found
	}

	var ms []analytics.VisitorMatch
	for _, site := range []int{a.ID, b.ID, b.ID + 100} {
		for i := range visitors {
			ms = append(ms, analytics.VisitorMatch{SiteID: site, VisitorID: vid(1000 + i)},
				analytics.VisitorMatch{SiteID: site, ConfigID: cfg(i)})
		}
	}
	// Matches without a visit, spread so that the found ones fall into
	// several chunks of a store that chunks by 500, and duplicates.
	for i := range 700 {
		ms = append(ms, analytics.VisitorMatch{SiteID: a.ID, VisitorID: vid(20000 + i)})
		if i%50 == 0 {
			ms = append(ms, ms[i%(2*visitors)])
		}
		if i%100 == 0 {
			ms = append(ms, analytics.VisitorMatch{SiteID: a.ID, ConfigID: vid(30000 + i)})
		}
	}
	for i := range visitors {
		ms = append(ms, analytics.VisitorMatch{SiteID: a.ID, VisitorID: vid(1000 + i)})
	}

	got, err := f.LastVisits(ctx, ms)
	e.must(err, "LastVisits(%d matches)", len(ms))
	distinct := map[analytics.VisitorMatch]bool{}
	nFound := 0
	for _, m := range ms {
		if distinct[m] {
			continue
		}
		distinct[m] = true
		w, ok := want(m)
		one, err := s.LastVisit(ctx, m)
		switch {
		case !ok:
			e.wantErr(err, analytics.ErrNotFound, "LastVisit(%+v) of a match without a visit", m)
			if v, in := got[m]; in {
				e.t.Errorf("LastVisits has visit %d for %+v, which has none", v.ID, m)
			}
			continue
		case err != nil:
			e.t.Fatalf("LastVisit(%+v): %v", m, err)
		}
		nFound++
		if d := e.diff(w, one); d != "" {
			e.t.Errorf("LastVisit(%+v) (-want +got):\n%s", m, d)
		}
		v, in := got[m]
		if !in {
			e.t.Errorf("LastVisits has no visit for %+v, want visit %d", m, w.ID)
			continue
		}
		if d := e.diff(w, v); d != "" {
			e.t.Errorf("LastVisits[%+v] (-want +got):\n%s", m, d)
		}
	}
	if nFound < visitors {
		e.t.Fatalf("the fixture has only %d matches with a visit", nFound)
	}
	if len(got) != nFound {
		e.t.Errorf("LastVisits returned %d visits, want %d", len(got), nFound)
	}

	for _, tc := range []struct {
		name string
		ms   []analytics.VisitorMatch
	}{{"nil", nil}, {"empty", []analytics.VisitorMatch{}}, {"none found", ms[len(ms)-visitors-5 : len(ms)-visitors]}} {
		got, err := f.LastVisits(ctx, tc.ms)
		e.must(err, "LastVisits(%s)", tc.name)
		if len(got) != 0 {
			e.t.Errorf("LastVisits(%s) = %d visits, want none", tc.name, len(got))
		}
	}
	for _, tc := range []struct {
		name string
		bad  analytics.VisitorMatch
	}{
		{"neither id", analytics.VisitorMatch{SiteID: a.ID}},
		{"both ids", analytics.VisitorMatch{SiteID: a.ID, VisitorID: vid(1001), ConfigID: cfg(1)}},
	} {
		l := []analytics.VisitorMatch{ms[0], tc.bad, ms[1]}
		got, err := f.LastVisits(ctx, l)
		e.wantErr(err, analytics.ErrInvalid, "LastVisits with a match with %s", tc.name)
		if got != nil {
			e.t.Errorf("LastVisits with a match with %s returned %d visits", tc.name, len(got))
		}
	}

	// An upsert that moves a visitor's oldest visit past the others makes
	// it the last.
	m := analytics.VisitorMatch{SiteID: a.ID, VisitorID: vid(1007)}
	old, _ := want(m)
	for _, v := range written {
		if v.SiteID == a.ID && v.VisitorID == m.VisitorID && v.LastActionTime.Before(old.LastActionTime) {
			old = v
		}
	}
	old.LastActionTime = e.tm(200 * time.Hour)
	e.commit(&analytics.LogBatch{Shard: "lvs", Visits: []analytics.Visit{old}})
	got, err = f.LastVisits(ctx, []analytics.VisitorMatch{m})
	e.must(err, "LastVisits after upsert")
	if d := e.diff(old, got[m]); d != "" {
		e.t.Errorf("LastVisits after the upsert (-want +got):\n%s", d)
	}
}

func testVisitsQuery(e *env) {
	ctx, s := e.ctx, e.s
	site, other := e.newSite("vq"), e.newSite("vq-other")
	X := vid(42)
	id := e.reserve(analytics.IDVisit, 6)
	mk := func(i int, site int, first, last time.Duration) analytics.Visit {
		v := e.visit(site, id+int64(i), e.tm(first))
		v.LastActionTime = e.tm(last)
		return v
	}
	h := time.Hour
	v1 := mk(0, site.ID, 0, 5*h)
	v2 := mk(1, site.ID, 1*h, 2*h)
	v3 := mk(2, site.ID, 2*h, 3*h)
	v4 := mk(3, site.ID, 3*h, 4*h)
	v5 := mk(4, site.ID, 4*h, 6*h)
	o := mk(5, other.ID, 2*h, 3*h)
	v4.VisitorID, v5.VisitorID = X, X
	// v1's actions: written shuffled, two share a time.
	a := e.reserve(analytics.IDAction, 4)
	act := func(i int64, at time.Duration) analytics.Action {
		return analytics.Action{ID: a + i, VisitID: v1.ID, SiteID: site.ID, VisitorID: v1.VisitorID, Time: e.tm(at),
			Type: analytics.ActionPageview, URL: fmt.Sprintf("https://example.com/%d", i)}
	}
	acts := []analytics.Action{act(3, time.Minute), act(0, 2*time.Minute), act(2, time.Minute), act(1, 0)}
	e.commit(&analytics.LogBatch{Shard: "vq", Visits: []analytics.Visit{v5, o, v3, v1, v4, v2}, Actions: acts})

	ids := func(d []analytics.VisitDetails) []int64 {
		var out []int64
		for _, x := range d {
			out = append(out, x.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    analytics.VisitQuery
		want []analytics.Visit
	}{
		{"all, by first action", analytics.VisitQuery{}, []analytics.Visit{v1, v2, v3, v4, v5}},
		{"newest first", analytics.VisitQuery{NewestFirst: true}, []analytics.Visit{v5, v1, v4, v3, v2}},
		{"From ≤ last < To", analytics.VisitQuery{From: e.tm(2 * h), To: e.tm(5 * h)}, []analytics.Visit{v2, v3, v4}},
		{"From only", analytics.VisitQuery{From: e.tm(5 * h)}, []analytics.Visit{v1, v5}},
		{"To only", analytics.VisitQuery{To: e.tm(3 * h)}, []analytics.Visit{v2}},
		{"newest first, limit 2", analytics.VisitQuery{NewestFirst: true, Limit: 2}, []analytics.Visit{v5, v1}},
		{"limit 3", analytics.VisitQuery{Limit: 3}, []analytics.Visit{v1, v2, v3}},
		{"visitor", analytics.VisitQuery{VisitorID: X}, []analytics.Visit{v4, v5}},
		{"visitor, newest first, bounded", analytics.VisitQuery{VisitorID: X, NewestFirst: true, To: e.tm(6 * h)}, []analytics.Visit{v4}},
		{"empty range", analytics.VisitQuery{From: e.tm(7 * h)}, nil},
	} {
		tc.q.SiteID = site.ID
		got := e.visits(tc.q)
		var want []analytics.VisitDetails
		for _, v := range tc.want {
			want = append(want, analytics.VisitDetails{Visit: v})
		}
		if d := e.diff(want, got); d != "" {
			e.t.Errorf("Visits(%s): got ids %v (-want +got):\n%s", tc.name, ids(got), d)
		}
	}
	got := e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true, Limit: 1})
	want := []analytics.VisitDetails{details(v1, acts, nil)}
	if d := e.diff(want, got); d != "" {
		e.t.Errorf("Visits(WithActions): actions not in time-then-ID order (-want +got):\n%s", d)
	}
	if got := e.visits(analytics.VisitQuery{SiteID: other.ID}); len(got) != 1 || got[0].ID != o.ID {
		e.t.Errorf("Visits(other site) = %v, want [%d]", ids(got), o.ID)
	}
	if got := e.visits(analytics.VisitQuery{SiteID: other.ID + 100}); len(got) != 0 {
		e.t.Errorf("Visits(unknown site) = %v, want none", ids(got))
	}

	stop := errors.New("stop")
	calls := 0
	err := s.Visits(ctx, analytics.VisitQuery{SiteID: site.ID, WithActions: true}, func(*analytics.VisitDetails) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		e.t.Errorf("Visits with a failing callback = %v after %d calls, want the callback's error after 1", err, calls)
	}
	err = s.Visits(ctx, analytics.VisitQuery{SiteID: site.ID, Limit: -1}, func(*analytics.VisitDetails) error { return nil })
	e.wantErr(err, analytics.ErrInvalid, "Visits with a negative limit")
}

// testVisitsMany reads many visits with actions and conversions, enough
// to cross any paging a driver does.
func testVisitsMany(e *env) {
	site := e.newSite("many")
	const n = 700
	vfirst := e.reserve(analytics.IDVisit, n)
	afirst := e.reserve(analytics.IDAction, 3*n)
	b := &analytics.LogBatch{Shard: "many"}
	var want []analytics.VisitDetails
	for i := 0; i < n; i++ {
		at := e.tm(time.Duration(i) * time.Minute)
		v := analytics.Visit{ID: vfirst + int64(i), SiteID: site.ID, VisitorID: vid(i), FirstActionTime: at,
			LastActionTime: at.Add(time.Minute), Actions: i % 4}
		var acts []analytics.Action
		for j := 0; j < i%4; j++ {
			acts = append(acts, analytics.Action{ID: afirst + int64(3*i+j), VisitID: v.ID, SiteID: site.ID,
				Time: at.Add(time.Duration(j) * time.Second), Type: analytics.ActionPageview,
				URL: fmt.Sprintf("https://example.com/p%d", (i+j)%37)})
		}
		var convs []analytics.Conversion
		if i%7 == 0 {
			convs = append(convs, analytics.Conversion{VisitID: v.ID, SiteID: site.ID, Time: at, GoalID: analytics.GoalEcommerceOrder,
				OrderID: fmt.Sprintf("O%d", i), Revenue: float64(i), Items: []analytics.Item{{SKU: fmt.Sprintf("S%d", i%5), Quantity: i}}})
		}
		b.Visits = append(b.Visits, v)
		b.Actions = append(b.Actions, acts...)
		b.Conversions = append(b.Conversions, convs...)
		want = append(want, details(v, acts, convs))
	}
	e.commit(b)
	got := e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true})
	if d := e.diff(want, got); d != "" {
		e.t.Errorf("Visits of %d visits (-want +got):\n%s", n, d)
	}
	slices.Reverse(want)
	got = e.visits(analytics.VisitQuery{SiteID: site.ID, WithActions: true, NewestFirst: true})
	if d := e.diff(want, got); d != "" {
		e.t.Errorf("Visits of %d visits, newest first (-want +got):\n%s", n, d)
	}
}

// ---------------------------------------------------------------------------
// Salts, invalidations, optional capabilities, Close
// ---------------------------------------------------------------------------

func testSalts(e *env) {
	ctx, s := e.ctx, e.s
	salt := func(site int, day string) []byte {
		e.t.Helper()
		b, err := s.DailySalt(ctx, site, day)
		e.must(err, "DailySalt(%d, %s)", site, day)
		if len(b) != 32 {
			e.t.Fatalf("DailySalt(%d, %s) has %d bytes, want 32", site, day, len(b))
		}
		return b
	}
	s1 := salt(1, "2024-01-05")
	if string(s1) == string(make([]byte, 32)) {
		e.t.Fatal("DailySalt returned 32 zero bytes")
	}
	if again := salt(1, "2024-01-05"); string(again) != string(s1) {
		e.t.Error("DailySalt returned a different salt for the same site and day")
	}
	if string(salt(2, "2024-01-05")) == string(s1) || string(salt(1, "2024-01-06")) == string(s1) {
		e.t.Error("DailySalt returned the same salt for another site or day")
	}

	// Concurrent first calls agree.
	const goroutines = 16
	got := make([][]byte, goroutines)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, err := s.DailySalt(ctx, 3, "2024-01-07")
			if err != nil {
				e.t.Errorf("concurrent DailySalt: %v", err)
			}
			got[g] = b
		}()
	}
	close(start)
	wg.Wait()
	for g := 1; g < goroutines; g++ {
		if string(got[g]) != string(got[0]) {
			e.t.Fatalf("concurrent DailySalt calls returned different salts")
		}
	}

	// Days 01..05 of sites 1 and 2 (05, 06 and 07 exist already).
	kept := map[analytics.SiteDay][]byte{}
	for _, site := range []int{1, 2} {
		for d := 1; d <= 5; d++ {
			day := fmt.Sprintf("2024-01-%02d", d)
			b := salt(site, day)
			if d >= 3 {
				kept[analytics.SiteDay{SiteID: site, Day: day}] = b
			}
		}
	}
	old := salt(1, "2024-01-01")
	n, err := s.DeleteSaltsBefore(ctx, "2024-01-03")
	e.must(err, "DeleteSaltsBefore")
	if n != 4 {
		e.t.Errorf("DeleteSaltsBefore(2024-01-03) = %d, want 4", n)
	}
	for k, b := range kept {
		if string(salt(k.SiteID, k.Day)) != string(b) {
			e.t.Errorf("DeleteSaltsBefore changed the salt of site %d, %s", k.SiteID, k.Day)
		}
	}
	if string(salt(1, "2024-01-01")) == string(old) {
		e.t.Error("a deleted salt came back")
	}
	if n, err := s.DeleteSaltsBefore(ctx, "2024-01-01"); err != nil || n != 0 {
		e.t.Errorf("DeleteSaltsBefore(2024-01-01) = %d, %v; want 0, nil", n, err)
	}

	// Site by site (days are local to each site): only the listed sites
	// lose salts. Site 1 holds 01 (made again above), 03, 04, 05, 06;
	// site 2 03, 04, 05; site 3 07.
	s1of03, s2of04 := salt(1, "2024-01-03"), salt(2, "2024-01-04")
	if n, err := s.DeleteSaltsBefore(ctx, "2024-01-05", 1, 3); err != nil || n != 3 {
		e.t.Errorf("DeleteSaltsBefore(2024-01-05, sites 1 and 3) = %d, %v; want 3 (site 1's 01, 03 and 04), nil", n, err)
	}
	if string(salt(2, "2024-01-04")) != string(s2of04) {
		e.t.Error("DeleteSaltsBefore of sites 1 and 3 deleted a salt of site 2")
	}
	if string(salt(1, "2024-01-05")) != string(kept[analytics.SiteDay{SiteID: 1, Day: "2024-01-05"}]) {
		e.t.Error("DeleteSaltsBefore(2024-01-05, …) deleted the salt of 2024-01-05")
	}
	if string(salt(1, "2024-01-03")) == string(s1of03) {
		e.t.Error("a salt deleted site by site came back")
	}
	// Many sites at once (more than fit one statement's list).
	many := make([]int, 1200)
	for i := range many {
		many[i] = 1000 + i
	}
	many[777] = 2
	if n, err := s.DeleteSaltsBefore(ctx, "2024-01-05", many...); err != nil || n != 2 {
		e.t.Errorf("DeleteSaltsBefore(2024-01-05, 1200 sites with site 2) = %d, %v; want 2 (site 2's 03 and 04), nil", n, err)
	}
	for _, day := range []string{"", "2024-1-05", "05/01/2024", "2024-02-30"} {
		_, err := s.DailySalt(ctx, 1, day)
		e.wantErr(err, analytics.ErrInvalid, "DailySalt(%q)", day)
		_, err = s.DeleteSaltsBefore(ctx, day)
		e.wantErr(err, analytics.ErrInvalid, "DeleteSaltsBefore(%q)", day)
		_, err = s.DeleteSaltsBefore(ctx, day, 1)
		e.wantErr(err, analytics.ErrInvalid, "DeleteSaltsBefore(%q, 1)", day)
	}
}

func testInvalidations(e *env) {
	ctx, s := e.ctx, e.s
	a, b := e.newSite("inv-a"), e.newSite("inv-b")
	days := []analytics.SiteDay{{SiteID: b.ID, Day: "2024-02-29"}, {SiteID: a.ID, Day: "2024-03-01"},
		{SiteID: a.ID, Day: "2024-03-01"}, {SiteID: a.ID, Day: "2023-12-31"}}
	e.commit(&analytics.LogBatch{Shard: "inv", Invalidated: days})
	e.commit(&analytics.LogBatch{Shard: "inv", Invalidated: days[:2]})
	l, ok := s.(InvalidationLister)
	if !ok {
		e.t.Log("the store has no Invalidations method: only checked that WriteBatch accepts invalidated days")
		return
	}
	got, err := l.Invalidations(ctx)
	e.must(err, "Invalidations")
	want := []analytics.SiteDay{{SiteID: a.ID, Day: "2023-12-31"}, {SiteID: a.ID, Day: "2024-03-01"}, {SiteID: b.ID, Day: "2024-02-29"}}
	if d := e.diff(want, got); d != "" {
		e.t.Errorf("Invalidations (-want +got):\n%s", d)
	}
}

func testMigrator(e *env) {
	m, ok := e.s.(analytics.Migrator)
	if !ok {
		e.t.Skip("the store does not implement analytics.Migrator")
	}
	site := e.newSite("mig")
	for i := 0; i < 2; i++ {
		e.must(m.Migrate(e.ctx), "Migrate #%d", i+1)
	}
	applied, known, err := m.SchemaVersion(e.ctx)
	e.must(err, "SchemaVersion")
	if known <= 0 || applied != known {
		e.t.Errorf("SchemaVersion = %d, %d; want applied = known > 0", applied, known)
	}
	if _, err := e.s.Site(e.ctx, site.ID); err != nil {
		e.t.Errorf("Site after Migrate: %v", err)
	}
}

func testPinger(e *env) {
	p, ok := e.s.(analytics.Pinger)
	if !ok {
		e.t.Skip("the store does not implement analytics.Pinger")
	}
	e.must(p.Ping(e.ctx), "Ping")
}

func testClose(e *env) {
	ctx, s := e.ctx, e.s
	site := e.newSite("close")
	e.must(s.Close(), "Close")
	if err := s.Close(); err != nil {
		e.t.Errorf("second Close = %v, want nil", err)
	}
	nop := func(*analytics.VisitDetails) error { return nil }
	calls := map[string]error{
		"Sites":      func() error { _, err := s.Sites(ctx); return err }(),
		"Site":       func() error { _, err := s.Site(ctx, site.ID); return err }(),
		"CreateSite": s.CreateSite(ctx, &analytics.Site{Name: "x"}),
		"UpdateSite": s.UpdateSite(ctx, site),
		"Goals":      func() error { _, err := s.Goals(ctx, site.ID); return err }(),
		"CreateGoal": s.CreateGoal(ctx, &analytics.Goal{SiteID: site.ID, Name: "g"}),
		"Checkpoint": func() error { _, err := s.Checkpoint(ctx, "x"); return err }(),
		"WriteBatch": s.WriteBatch(ctx, &analytics.LogBatch{Shard: "x", To: analytics.Position{Lo: 1}}),
		"ReserveIDs": func() error { _, err := s.ReserveIDs(ctx, analytics.IDVisit, 1); return err }(),
		"LastVisit": func() error {
			_, err := s.LastVisit(ctx, analytics.VisitorMatch{SiteID: site.ID, VisitorID: vid(1)})
			return err
		}(),
		"Visits":            s.Visits(ctx, analytics.VisitQuery{SiteID: site.ID}, nop),
		"DailySalt":         func() error { _, err := s.DailySalt(ctx, site.ID, "2024-01-01"); return err }(),
		"DeleteSaltsBefore": func() error { _, err := s.DeleteSaltsBefore(ctx, "2024-01-01"); return err }(),
	}
	if m, ok := s.(analytics.Migrator); ok {
		calls["Migrate"] = m.Migrate(ctx)
		calls["SchemaVersion"] = func() error { _, _, err := m.SchemaVersion(ctx); return err }()
	}
	if p, ok := s.(analytics.Pinger); ok {
		calls["Ping"] = p.Ping(ctx)
	}
	if f, ok := s.(analytics.BatchVisitFinder); ok {
		calls["LastVisits"] = func() error {
			_, err := f.LastVisits(ctx, []analytics.VisitorMatch{{SiteID: site.ID, VisitorID: vid(1)}})
			return err
		}()
	}
	if l, ok := s.(InvalidationLister); ok {
		calls["Invalidations"] = func() error { _, err := l.Invalidations(ctx); return err }()
	}
	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		e.wantErr(calls[name], analytics.ErrClosed, "%s after Close", name)
	}
}

// ---------------------------------------------------------------------------
// Retention and GDPR (optional capabilities)
// ---------------------------------------------------------------------------

// deletedOf counts what deleting the given visits must remove.
func deletedOf(visits []analytics.VisitDetails) analytics.Deleted {
	var d analytics.Deleted
	for _, v := range visits {
		d.Visits++
		d.Actions += int64(len(v.ActionList))
		d.Conversions += int64(len(v.Conversions))
		for _, c := range v.Conversions {
			d.Items += int64(len(c.Items))
		}
	}
	return d
}

// withoutVisits returns st minus the given visits.
func withoutVisits(st state, gone []analytics.VisitDetails) state {
	ids := map[int64]bool{}
	for _, v := range gone {
		ids[v.ID] = true
	}
	out := st
	out.Visits = slices.DeleteFunc(slices.Clone(st.Visits), func(d analytics.VisitDetails) bool { return ids[d.ID] })
	return out
}

func testRetention(e *env) {
	p, ok := e.s.(analytics.Pruner)
	if !ok {
		e.t.Skip("the store does not implement analytics.Pruner")
	}
	ctx := e.ctx
	a, b := e.newSite("ret-a"), e.newSite("ret-b")
	ba, wantA := e.fullBatch("ret:a", a.ID, 8, e.tm(0))
	e.commit(ba)
	bb, _ := e.fullBatch("ret:b", b.ID, 3, e.tm(0))
	bb.Invalidated = []analytics.SiteDay{{SiteID: b.ID, Day: "2024-03-09"}}
	e.commit(bb)
	sites, shards := []int{a.ID, b.ID}, []string{"ret:a", "ret:b"}
	before := e.state(sites, shards...)

	// Visit i starts at i hours and ends 9 min later: a cut-off at the
	// end of visit 4 deletes visits 0–3 (strictly before), in chunks of 3.
	cutoff := wantA[4].LastActionTime
	want := deletedOf(wantA[:4])
	got, err := p.DeleteLogsBefore(ctx, a.ID, cutoff, 3)
	e.must(err, "DeleteLogsBefore")
	if got != want {
		e.t.Errorf("DeleteLogsBefore = %+v, want %+v", got, want)
	}
	after := e.state(sites, shards...)
	if d := e.diff(withoutVisits(before, wantA[:4]), after); d != "" {
		e.t.Errorf("after DeleteLogsBefore (-want +got):\n%s", d)
	}
	got, err = p.DeleteLogsBefore(ctx, a.ID, cutoff, 3)
	if err != nil || got != (analytics.Deleted{}) {
		e.t.Errorf("DeleteLogsBefore again = %+v, %v; want nothing", got, err)
	}

	dead, cancel := context.WithCancel(ctx)
	cancel()
	_, err = p.DeleteLogsBefore(dead, a.ID, e.tm(100*time.Hour), 3)
	e.wantErr(err, context.Canceled, "DeleteLogsBefore with a cancelled context")
	for _, tc := range []struct {
		name   string
		site   int
		before time.Time
		chunk  int
	}{{"site 0", 0, cutoff, 3}, {"chunk 0", a.ID, cutoff, 0}, {"zero time", a.ID, time.Time{}, 3}} {
		_, err := p.DeleteLogsBefore(ctx, tc.site, tc.before, tc.chunk)
		e.wantErr(err, analytics.ErrInvalid, "DeleteLogsBefore with %s", tc.name)
	}
	if d := e.diff(after, e.state(sites, shards...)); d != "" {
		e.t.Errorf("failed DeleteLogsBefore calls changed the store (-before +after):\n%s", d)
	}
}

func testUnusedNames(e *env) {
	p, ok := e.s.(analytics.Pruner)
	if !ok {
		e.t.Skip("the store does not implement analytics.Pruner")
	}
	ctx := e.ctx
	site := e.newSite("names")
	b, want := e.fullBatch("names", site.ID, 6, e.tm(0))
	e.commit(b)
	// Delete the first three visits: their page names (unique to them)
	// become unused.
	if _, err := p.DeleteLogsBefore(ctx, site.ID, want[3].FirstActionTime, 10); err != nil {
		e.t.Fatalf("DeleteLogsBefore: %v", err)
	}
	before := e.state([]int{site.ID}, "names")
	n, err := p.DeleteUnusedNames(ctx, 7)
	e.must(err, "DeleteUnusedNames")
	if n == 0 {
		e.t.Error("DeleteUnusedNames deleted nothing, though the deleted visits' names are unused")
	}
	if d := e.diff(before, e.state([]int{site.ID}, "names")); d != "" {
		e.t.Errorf("DeleteUnusedNames changed stored data (-before +after):\n%s", d)
	}
	if n, err := p.DeleteUnusedNames(ctx, 7); err != nil || n != 0 {
		e.t.Errorf("DeleteUnusedNames again = %d, %v; want 0", n, err)
	}
	// The deleted names are written again (the store must not use ids it
	// cached for them) and read back whole.
	v := want[0].Visit
	v.ID = e.reserve(analytics.IDVisit, 1)
	first := e.reserve(analytics.IDAction, len(want[0].ActionList))
	var acts []analytics.Action
	for i, a := range want[0].ActionList {
		a.ID, a.VisitID = first+int64(i), v.ID
		acts = append(acts, a)
	}
	e.commit(&analytics.LogBatch{Shard: "names", Visits: []analytics.Visit{v}, Actions: acts})
	got := e.visits(analytics.VisitQuery{SiteID: site.ID, VisitorID: v.VisitorID, WithActions: true})
	if d := e.diff([]analytics.VisitDetails{details(v, acts, nil)}, got); d != "" {
		e.t.Errorf("names written again after DeleteUnusedNames (-want +got):\n%s", d)
	}
	_, err = p.DeleteUnusedNames(ctx, 0)
	e.wantErr(err, analytics.ErrInvalid, "DeleteUnusedNames(0)")
}

func testVisitorEraser(e *env) {
	g, ok := e.s.(analytics.VisitorEraser)
	if !ok {
		e.t.Skip("the store does not implement analytics.VisitorEraser")
	}
	ctx := e.ctx
	a, b := e.newSite("gdpr-a"), e.newSite("gdpr-b")
	X := vid(777)
	id := e.reserve(analytics.IDVisit, 5)
	mk := func(i int, site int, visitor analytics.VisitorID, user string) (analytics.Visit, []analytics.Action, []analytics.Conversion) {
		v := e.visit(site, id+int64(i), e.tm(time.Duration(5-i)*time.Hour)) // later visits start earlier
		v.VisitorID, v.UserID = visitor, user
		acts := e.actions(&v, e.reserve(analytics.IDAction, 11))
		return v, acts, e.conversions(&v, acts)
	}
	v1, a1, c1 := mk(0, a.ID, X, "")
	v2, a2, c2 := mk(1, a.ID, X, "alice")
	v3, a3, c3 := mk(2, a.ID, vid(778), "alice")
	v4, a4, c4 := mk(3, a.ID, vid(779), "bob")
	v5, a5, c5 := mk(4, b.ID, X, "")
	e.commit(&analytics.LogBatch{Shard: "gdpr", Visits: []analytics.Visit{v1, v2, v3, v4, v5},
		Actions:     slices.Concat(a1, a2, a3, a4, a5),
		Conversions: slices.Concat(c1, c2, c3, c4, c5)})
	d1, d2, d3 := details(v1, a1, c1), details(v2, a2, c2), details(v3, a3, c3)
	d5 := details(v5, a5, c5)

	for _, tc := range []struct {
		name string
		site int
		f    analytics.VisitorFilter
		want []analytics.VisitDetails // oldest first
	}{
		{"visitor id", a.ID, analytics.VisitorFilter{VisitorID: X}, []analytics.VisitDetails{d2, d1}},
		{"user id", a.ID, analytics.VisitorFilter{UserID: "alice"}, []analytics.VisitDetails{d3, d2}},
		{"either", a.ID, analytics.VisitorFilter{VisitorID: X, UserID: "alice"}, []analytics.VisitDetails{d3, d2, d1}},
		{"other site", b.ID, analytics.VisitorFilter{VisitorID: X}, []analytics.VisitDetails{d5}},
		{"nobody", a.ID, analytics.VisitorFilter{UserID: "carol"}, nil},
	} {
		got, err := g.ExportVisitor(ctx, tc.site, tc.f)
		e.must(err, "ExportVisitor(%s)", tc.name)
		if d := e.diff(tc.want, got); d != "" {
			e.t.Errorf("ExportVisitor(%s) (-want +got):\n%s", tc.name, d)
		}
	}

	sites := []int{a.ID, b.ID}
	before := e.state(sites, "gdpr")
	gone := []analytics.VisitDetails{d1, d2, d3}
	got, err := g.DeleteVisitor(ctx, a.ID, analytics.VisitorFilter{VisitorID: X, UserID: "alice"})
	e.must(err, "DeleteVisitor")
	if want := deletedOf(gone); got != want {
		e.t.Errorf("DeleteVisitor = %+v, want %+v", got, want)
	}
	if d := e.diff(withoutVisits(before, gone), e.state(sites, "gdpr")); d != "" {
		e.t.Errorf("after DeleteVisitor (-want +got):\n%s", d)
	}
	if left, err := g.ExportVisitor(ctx, a.ID, analytics.VisitorFilter{VisitorID: X, UserID: "alice"}); err != nil || len(left) != 0 {
		e.t.Errorf("ExportVisitor after DeleteVisitor = %d visits, %v; want none", len(left), err)
	}
	if got, err := g.DeleteVisitor(ctx, a.ID, analytics.VisitorFilter{VisitorID: X}); err != nil || got != (analytics.Deleted{}) {
		e.t.Errorf("DeleteVisitor again = %+v, %v; want nothing", got, err)
	}
	_, err = g.ExportVisitor(ctx, a.ID, analytics.VisitorFilter{})
	e.wantErr(err, analytics.ErrInvalid, "ExportVisitor with an empty filter")
	_, err = g.DeleteVisitor(ctx, a.ID, analytics.VisitorFilter{})
	e.wantErr(err, analytics.ErrInvalid, "DeleteVisitor with an empty filter")
}
