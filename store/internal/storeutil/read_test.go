package storeutil

import (
	"database/sql"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/analytics"
)

func TestVisitQuerySQL(t *testing.T) {
	from := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	x := analytics.VisitorID{1, 2}
	ms := func(t time.Time) any { return t.UnixMilli() }
	for _, tc := range []struct {
		name string
		q    analytics.VisitQuery
		tail string
		args []any
	}{
		{"site", analytics.VisitQuery{SiteID: 3},
			" WHERE v.idsite = ? ORDER BY v.visit_first_action_time, v.idvisit", []any{int64(3)}},
		{"everything", analytics.VisitQuery{SiteID: 3, From: from, To: to, VisitorID: x, NewestFirst: true, Limit: 10},
			" WHERE v.idsite = ? AND v.visit_last_action_time >= ? AND v.visit_last_action_time < ? AND v.idvisitor = ?" +
				" ORDER BY v.visit_last_action_time DESC, v.idvisit DESC LIMIT 10",
			[]any{int64(3), from.UnixMilli(), to.UnixMilli(), x[:]}},
		{"to only", analytics.VisitQuery{SiteID: 1, To: to},
			" WHERE v.idsite = ? AND v.visit_last_action_time < ? ORDER BY v.visit_first_action_time, v.idvisit",
			[]any{int64(1), to.UnixMilli()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tail, args := VisitQuerySQL(tc.q, ms)
			if tail != tc.tail {
				t.Errorf("tail:\n got %q\nwant %q", tail, tc.tail)
			}
			if d := cmp.Diff(tc.args, args); d != "" {
				t.Errorf("args (-want +got):\n%s", d)
			}
		})
	}
}

// row is a fake Scanner: it assigns its values to the destinations, as
// database/sql would for values of the destinations' types (or through
// sql.Scanner).
type row []any

func (r row) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("%d destinations for %d columns", len(dest), len(r))
	}
	for i, d := range dest {
		if s, ok := d.(sql.Scanner); ok {
			if err := s.Scan(r[i]); err != nil {
				return fmt.Errorf("column %d: %w", i, err)
			}
			continue
		}
		dv := reflect.ValueOf(d).Elem()
		if r[i] == nil {
			dv.SetZero()
			continue
		}
		sv := reflect.ValueOf(r[i])
		if !sv.Type().ConvertibleTo(dv.Type()) {
			return fmt.Errorf("column %d: %T into %T", i, r[i], d)
		}
		dv.Set(sv.Convert(dv.Type()))
	}
	return nil
}

func TestVisitRow(t *testing.T) {
	first := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	want := analytics.Visit{
		ID: 7, SiteID: 2, VisitorID: analytics.VisitorID{1, 2, 3, 4, 5, 6, 7, 8}, ConfigID: analytics.VisitorID{9},
		UserID: "u", Profilable: true, FirstActionTime: first, LastActionTime: first.Add(time.Minute),
		TotalTime: 61, LocalTime: 3600, Actions: 3, Interactions: 2, Searches: 1, Events: 1, Pageviews: 2,
		VisitCount: 4, Returning: 1, SecondsSinceFirst: 100, SecondsSinceLast: 50, SecondsSinceOrder: -1,
		GoalConverted: true, GoalBuyer: 2,
		EntryURL: "https://e.example/", EntryTitle: "E", ExitURL: "https://x.example/", ExitTitle: "X", LastActionID: 11,
		Referrer: analytics.Referrer{Type: analytics.ReferrerType(3), Name: "n", Keyword: "k", URL: "https://r.example/",
			CampaignSource: "cs", CampaignMedium: "cm", CampaignContent: "cc", CampaignID: "ci"},
		Client: analytics.Client{BrowserName: "B", BrowserVersion: "1", BrowserEngine: "E", OSName: "O", OSVersion: "2",
			DeviceType: analytics.DeviceTablet, DeviceBrand: "DB", DeviceModel: "DM", Resolution: "1x1", Plugins: 5, Lang: "fr"},
		Location: analytics.Location{CountryCode: "fr", RegionCode: "R", RegionName: "RN", City: "C",
			Latitude: 1.5, Longitude: -2.5, HasCoords: true, TimeZone: "Europe/Paris"},
		IP:         netip.MustParseAddr("192.0.2.0"),
		Dimensions: []analytics.Dimension{{ID: 1, Value: "d"}},
	}
	v := want
	dims, _ := EncodeDimensions(v.Dimensions)
	r, c, l := &v.Referrer, &v.Client, &v.Location
	cols := row{
		v.ID, v.SiteID, v.VisitorID[:], v.ConfigID[:], v.UserID, int64(1),
		first.UnixMilli(), first.Add(time.Minute).UnixMilli(), v.TotalTime, v.LocalTime,
		v.Actions, v.Interactions, v.Searches, v.Events, v.Pageviews,
		v.VisitCount, v.Returning, v.SecondsSinceFirst, v.SecondsSinceLast, v.SecondsSinceOrder,
		int64(1), v.GoalBuyer,
		v.EntryURL, v.EntryTitle, v.ExitURL, v.ExitTitle, v.LastActionID,
		int64(r.Type), r.Name, r.Keyword, r.URL, r.CampaignSource, r.CampaignMedium, r.CampaignContent, r.CampaignID,
		c.BrowserName, c.BrowserVersion, c.BrowserEngine, c.OSName, c.OSVersion, int64(c.DeviceType),
		c.DeviceBrand, c.DeviceModel, c.Resolution, int64(c.Plugins), c.Lang,
		IPBytes(v.IP), l.CountryCode, l.RegionCode, l.RegionName, l.City, l.Latitude, l.Longitude,
		l.TimeZone, dims,
	}
	var got analytics.Visit
	var vr VisitRow
	var profilable, f, last, converted int64
	if err := cols.Scan(vr.Dest(&got, &profilable, &f, &last, &converted)...); err != nil {
		t.Fatal(err)
	}
	got.Profilable, got.GoalConverted = profilable != 0, converted != 0
	got.FirstActionTime, got.LastActionTime = time.UnixMilli(f).UTC(), time.UnixMilli(last).UTC()
	if err := vr.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("visit (-want +got):\n%s", d)
	}

	// One coordinate alone is no coordinates; no IP, no dimensions.
	cols[len(cols)-3], cols[len(cols)-9], cols[len(cols)-1] = nil, nil, nil
	vr, got = VisitRow{}, analytics.Visit{}
	if err := cols.Scan(vr.Dest(&got, &profilable, &f, &last, &converted)...); err != nil {
		t.Fatal(err)
	}
	if err := vr.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Location.HasCoords || got.Location.Latitude != 0 || got.IP.IsValid() || got.Dimensions != nil {
		t.Errorf("decoded %+v, %v, %v from a row without coordinates, IP or dimensions", got.Location, got.IP, got.Dimensions)
	}

	// A bad IP or bad dimensions fail.
	for _, bad := range []struct {
		col int
		val any
	}{{len(cols) - 9, []byte{1, 2, 3}}, {len(cols) - 1, []byte("[")}} {
		cols := append(row(nil), cols...)
		cols[bad.col] = bad.val
		vr, got = VisitRow{}, analytics.Visit{}
		if err := cols.Scan(vr.Dest(&got, &profilable, &f, &last, &converted)...); err != nil {
			t.Fatal(err)
		}
		if err := vr.Decode(&got); err == nil {
			t.Errorf("Decode of column %d = %v succeeded", bad.col, bad.val)
		}
	}
}

func TestActionPartsApply(t *testing.T) {
	full := ActionParts{
		EventCategory: "ec", EventAction: "ea", EventName: "en", SearchKeyword: "kw",
		ContentName: "cn", ContentPiece: "cp", ContentTarget: "ct", ContentInteraction: "ci",
		SKU: "sku", ProductName: "pn", Categories: []string{"a", "b"},
		EventValue: sql.NullFloat64{Float64: 1.5, Valid: true}, SearchCategory: sql.NullString{String: "sc", Valid: true},
		SearchCount: sql.NullInt64{Int64: 3, Valid: true}, Price: sql.NullFloat64{Float64: 9.99, Valid: true},
		Timing: [6]sql.NullInt64{{Int64: 1, Valid: true}, {Int64: 2, Valid: true}, {Int64: 3, Valid: true},
			{Int64: 4, Valid: true}, {Int64: 5, Valid: true}, {Int64: 6, Valid: true}},
	}
	for _, tc := range []struct {
		name  string
		parts int64
		p     ActionParts
		want  analytics.Action
	}{
		{"none", 0, full, analytics.Action{}},
		{"all", PartEvent | PartSearch | PartContent | PartProduct | PartTiming, full, analytics.Action{
			Event:   &analytics.Event{Category: "ec", Action: "ea", Name: "en", Value: 1.5, HasValue: true},
			Search:  &analytics.Search{Keyword: "kw", Category: "sc", Count: 3},
			Content: &analytics.Content{Name: "cn", Piece: "cp", Target: "ct", Interaction: "ci"},
			Product: &analytics.ProductView{SKU: "sku", Name: "pn", Categories: []string{"a", "b"}, Price: 9.99},
			Timing:  &analytics.PageTiming{Network: 1, Server: 2, Transfer: 3, DOMProcessing: 4, DOMCompletion: 5, OnLoad: 6},
		}},
		{"event without value, empty search", PartEvent | PartSearch, ActionParts{EventName: "n"}, analytics.Action{
			Event:  &analytics.Event{Name: "n"},
			Search: &analytics.Search{},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			p.Parts = tc.parts
			var got analytics.Action
			p.Apply(&got)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Apply (-want +got):\n%s", d)
			}
		})
	}
}
