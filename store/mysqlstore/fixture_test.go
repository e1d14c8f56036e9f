package mysqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

// traffic generates realistic batches: visits of a few actions each, most
// of them page views of a site's few thousand pages (names the store
// has cached), some events, searches, outlinks and orders, and a share of
// new names (pages with query strings) in every batch. About half of a
// batch's visits continue visits of the previous batch.
type traffic struct {
	t      testing.TB
	s      *Store
	site   int
	shard  string
	rng    *rand.Rand
	clock  time.Time
	pos    analytics.Position
	open   []analytics.Visit // visits that may continue
	serial int
}

func newTraffic(t testing.TB, s *Store, site int, shard string, seed uint64) *traffic {
	return &traffic{t: t, s: s, site: site, shard: shard, rng: rand.New(rand.NewPCG(seed, 7)),
		clock: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
}

func (g *traffic) reserve(kind analytics.IDKind, n int) int64 {
	id, err := g.s.ReserveIDs(context.Background(), kind, n)
	if err != nil {
		g.t.Fatalf("ReserveIDs: %v", err)
	}
	return id
}

func (g *traffic) page() (url, title string) {
	n := g.rng.IntN(3000)
	if g.rng.IntN(100) < 4 {
		g.serial++
		return fmt.Sprintf("https://shop.example.com/search?q=item+%d&page=%d", g.serial, n%7), fmt.Sprintf("Search results %d", g.serial)
	}
	return fmt.Sprintf("https://shop.example.com/catalog/%d/product-%d.html", n/100, n), fmt.Sprintf("Product %d – Shop", n)
}

// batch returns a batch of about actions actions over visits of 1–9
// actions, with its From and To set for the generator's shard.
func (g *traffic) batch(actions int) *analytics.LogBatch {
	b := &analytics.LogBatch{Shard: g.shard, From: g.pos}
	g.pos = analytics.Position{Hi: uint64(g.clock.UnixMilli()), Lo: g.pos.Lo + uint64(actions)}
	b.To = g.pos
	var visits []analytics.Visit
	n := 0
	// Continue about half of the open visits.
	for _, v := range g.open {
		if n >= actions/2 {
			break
		}
		if g.rng.IntN(2) == 0 {
			continue
		}
		visits = append(visits, v)
		n += 1 + g.rng.IntN(5)
	}
	newVisits := 0
	for k := n; k < actions; k += 4 {
		newVisits++
	}
	vfirst := g.reserve(analytics.IDVisit, max(newVisits, 1))
	for i := 0; i < newVisits; i++ {
		visits = append(visits, g.visit(vfirst+int64(i)))
	}
	afirst := g.reserve(analytics.IDAction, actions)
	g.open = g.open[:0]
	for i := 0; len(b.Actions) < actions; i = (i + 1) % len(visits) {
		v := &visits[i]
		k := 1 + g.rng.IntN(4)
		for j := 0; j < k && len(b.Actions) < actions; j++ {
			g.clock = g.clock.Add(time.Duration(g.rng.IntN(900)) * time.Millisecond)
			b.Actions = append(b.Actions, g.action(v, afirst+int64(len(b.Actions))))
		}
	}
	for i := range visits {
		v := &visits[i]
		if v.Actions == 0 {
			continue
		}
		if g.rng.IntN(40) == 0 {
			g.serial++
			b.Conversions = append(b.Conversions, analytics.Conversion{VisitID: v.ID, SiteID: v.SiteID, VisitorID: v.VisitorID,
				Time: v.LastActionTime, GoalID: analytics.GoalEcommerceOrder, OrderID: fmt.Sprintf("O-%d-%d", v.ID, g.serial),
				URL: v.ExitURL, Revenue: 42.5, Subtotal: 40, Tax: 2.5, PageviewsBefore: v.Pageviews, VisitCount: v.VisitCount,
				Referrer: v.Referrer, CountryCode: v.Location.CountryCode,
				Items: []analytics.Item{{SKU: fmt.Sprintf("SKU-%d", g.rng.IntN(500)), Name: "Thing", Categories: []string{"Things"}, Price: 20, Quantity: 2}}})
		}
		b.Visits = append(b.Visits, *v)
		g.open = append(g.open, *v)
	}
	return b
}

func (g *traffic) visit(id int64) analytics.Visit {
	g.serial++
	var vid analytics.VisitorID
	for i := range vid {
		vid[i] = byte(g.rng.Uint32())
	}
	cfg := vid
	cfg[0] ^= 0xff
	url, title := g.page()
	return analytics.Visit{
		ID: id, SiteID: g.site, VisitorID: vid, ConfigID: cfg, Profilable: true,
		FirstActionTime: g.clock, LastActionTime: g.clock, LocalTime: 3600 * 10,
		VisitCount: 1 + g.rng.IntN(3), SecondsSinceOrder: -1,
		EntryURL: url, EntryTitle: title,
		Referrer: analytics.Referrer{Type: analytics.ReferrerSearch, Name: "Google", Keyword: "shoes",
			URL: "https://www.google.com/search?q=shoes"},
		Client: analytics.Client{BrowserName: "Chrome", BrowserVersion: "124.0", BrowserEngine: "Blink", OSName: "Windows",
			OSVersion: "11", DeviceType: analytics.DeviceDesktop, Resolution: "1920x1080",
			Plugins: analytics.PluginPDF | analytics.PluginCookie, Lang: "en-us"},
		Location: analytics.Location{CountryCode: "de", RegionCode: "BE", RegionName: "Berlin", City: "Berlin",
			Latitude: 52.52, Longitude: 13.405, HasCoords: true, TimeZone: "Europe/Berlin"},
		IP: netip.AddrFrom4([4]byte{203, 0, 113, 0}),
	}
}

func (g *traffic) action(v *analytics.Visit, id int64) analytics.Action {
	a := analytics.Action{ID: id, HitID: analytics.NewHitID(g.clock), VisitID: v.ID, SiteID: v.SiteID, VisitorID: v.VisitorID,
		Time: g.clock, Type: analytics.ActionPageview, PageViewID: fmt.Sprintf("%06x", g.rng.IntN(1<<24)),
		PrevURL: v.ExitURL, PrevTitle: v.ExitTitle, Position: v.Pageviews + 1}
	switch r := g.rng.IntN(100); {
	case r < 8:
		a.Type = analytics.ActionEvent
		a.Event = &analytics.Event{Category: "video", Action: []string{"play", "pause", "end"}[r%3], Name: fmt.Sprintf("clip-%d", r), Value: float64(r), HasValue: true}
		a.URL, a.Title = v.ExitURL, v.ExitTitle
		v.Events++
	case r < 11:
		a.Type = analytics.ActionSiteSearch
		a.Search = &analytics.Search{Keyword: fmt.Sprintf("shoes %d", g.rng.IntN(200)), Count: g.rng.IntN(50)}
		a.URL, a.Title = g.page()
		v.Searches++
	case r < 13:
		a.Type = analytics.ActionOutlink
		a.URL = fmt.Sprintf("https://partner%d.example.net/", r)
	default:
		a.URL, a.Title = g.page()
		a.Timing = &analytics.PageTiming{Network: 12, Server: 80, Transfer: 5, DOMProcessing: 300, DOMCompletion: 120, OnLoad: 9}
		v.Pageviews++
		v.ExitURL, v.ExitTitle = a.URL, a.Title
	}
	if !v.LastActionTime.IsZero() {
		a.TimeSpentRef = int(g.clock.Sub(v.LastActionTime) / time.Second)
	}
	v.Actions++
	v.Interactions++
	v.LastActionTime = g.clock
	v.TotalTime = int(v.LastActionTime.Sub(v.FirstActionTime)/time.Second) + 1
	v.LastActionID = id
	return a
}

// write writes b and fails the test on error.
func (g *traffic) write(b *analytics.LogBatch) {
	if err := g.s.WriteBatch(context.Background(), b); err != nil {
		g.t.Fatalf("WriteBatch: %v", err)
	}
}
