package storeutil

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/analytics"
)

// goodBatch is a valid batch with every kind of row and name.
func goodBatch() *analytics.LogBatch {
	return &analytics.LogBatch{
		Shard: "s", From: analytics.Position{Lo: 1}, To: analytics.Position{Lo: 2},
		Visits: []analytics.Visit{{ID: 1, SiteID: 1, EntryURL: "https://e.example/", EntryTitle: "E",
			ExitURL: "https://x.example/", ExitTitle: "X"}},
		Actions: []analytics.Action{{ID: 2, VisitID: 1, SiteID: 1, Type: analytics.ActionDownload, URL: "https://d.example/f.zip",
			Title: "T", PrevURL: "https://p.example/", PrevTitle: "P",
			Event:   &analytics.Event{Category: "ec", Action: "ea", Name: "en"},
			Search:  &analytics.Search{Keyword: "kw"},
			Content: &analytics.Content{Name: "cn", Piece: "cp", Target: "ct", Interaction: "ci"},
			Product: &analytics.ProductView{SKU: "sku", Name: "pn", Categories: []string{"1", "2", "3", "4", "5"}},
			Timing:  &analytics.PageTiming{Network: 1}}},
		Conversions: []analytics.Conversion{{VisitID: 1, SiteID: 1, GoalID: analytics.GoalEcommerceOrder, OrderID: "O",
			URL: "https://o.example/", Items: []analytics.Item{{SKU: "i1", Name: "n1", Categories: []string{"c"}}, {SKU: "i2"}}}},
		Invalidated: []analytics.SiteDay{{SiteID: 1, Day: "2024-03-01"}},
	}
}

func TestCheckBatch(t *testing.T) {
	tooLong := strings.Repeat("n", analytics.MaxNameLen+1)
	for _, tc := range []struct {
		name   string
		break_ func(b *analytics.LogBatch)
		want   string // the error message; "" = valid
	}{
		{"valid", func(*analytics.LogBatch) {}, ""},
		{"name of MaxNameLen", func(b *analytics.LogBatch) { b.Actions[0].Title = tooLong[1:] }, ""},
		{"empty shard", func(b *analytics.LogBatch) { b.Shard = "" }, "empty shard name"},
		{"To before From", func(b *analytics.LogBatch) { b.To = analytics.Position{} }, "To 0-0 is before From 0-1"},
		{"visit id 0", func(b *analytics.LogBatch) { b.Visits[0].ID = 0 }, "visit 0 (id 0): id must be > 0"},
		{"visit site 0", func(b *analytics.LogBatch) { b.Visits[0].SiteID = 0 }, "visit 0 (id 1): site id 0"},
		{"action id 0", func(b *analytics.LogBatch) { b.Actions[0].ID = 0 }, "action 0 (id 0): id must be > 0"},
		{"action visit id 0", func(b *analytics.LogBatch) { b.Actions[0].VisitID = 0 }, "action 0 (id 2): visit id 0"},
		{"action site -1", func(b *analytics.LogBatch) { b.Actions[0].SiteID = -1 }, "action 0 (id 2): site id -1"},
		{"action type 0", func(b *analytics.LogBatch) { b.Actions[0].Type = 0 }, "action 0 (id 2): unknown type 0"},
		{"action type 99", func(b *analytics.LogBatch) { b.Actions[0].Type = 99 }, "action 0 (id 2): unknown type 99"},
		{"conversion visit 0", func(b *analytics.LogBatch) { b.Conversions[0].VisitID = 0 }, "conversion 0 (visit 0, goal 0): visit id 0"},
		{"conversion site 0", func(b *analytics.LogBatch) { b.Conversions[0].SiteID = 0 }, "conversion 0 (visit 1, goal 0): site id 0"},
		{"conversion goal -2", func(b *analytics.LogBatch) { b.Conversions[0].GoalID = -2 }, "conversion 0 (visit 1, goal -2): goal id -2"},
		{"order without id", func(b *analytics.LogBatch) { b.Conversions[0].OrderID = "" },
			"conversion 0 (visit 1, goal 0): an ecommerce order needs an order id"},
		{"invalidated day", func(b *analytics.LogBatch) { b.Invalidated[0].Day = "2024-3-1" },
			`invalidated day 0: day "2024-3-1" is not YYYY-MM-DD`},
		{"invalidated site", func(b *analytics.LogBatch) { b.Invalidated[0].SiteID = 0 }, "invalidated day 0: site id 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := goodBatch()
			tc.break_(b)
			err := CheckBatch(b)
			if err == nil {
				err = CheckRows(b, nil, nil, nil)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("a valid batch fails: %v", err)
				}
				return
			}
			if !errors.Is(err, analytics.ErrInvalid) || err.Error() != tc.want+": analytics: invalid" {
				t.Errorf("error = %v, want %q wrapping ErrInvalid", err, tc.want)
			}
		})
	}
}

// TestCheckRowsOrder checks that the store's checks run per row, after
// the shared ones, in order, and that their errors get the row's prefix.
func TestCheckRowsOrder(t *testing.T) {
	b := goodBatch()
	b.Visits = append(b.Visits, analytics.Visit{ID: 3, SiteID: 1})
	var seen []string
	errStore := errors.New("store says no")
	err := CheckRows(b,
		func(i int, v *analytics.Visit) error {
			seen = append(seen, "visit")
			if v != &b.Visits[i] {
				t.Errorf("visit %d is not the batch's", i)
			}
			return nil
		},
		func(i int, a *analytics.Action) error { seen = append(seen, "action"); return nil },
		func(i int, c *analytics.Conversion) error { seen = append(seen, "conversion"); return errStore })
	if !errors.Is(err, errStore) || err.Error() != "conversion 0 (visit 1, goal 0): store says no" {
		t.Errorf("CheckRows = %v", err)
	}
	if d := cmp.Diff([]string{"visit", "visit", "action", "conversion"}, seen); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	// A row the shared rules refuse never reaches the store's check.
	b.Actions[0].Type = 0
	called := false
	err = CheckRows(b, nil, func(int, *analytics.Action) error { called = true; return nil }, nil)
	if !errors.Is(err, analytics.ErrInvalid) || called {
		t.Errorf("CheckRows = %v, store check called: %v", err, called)
	}
}

type gotName struct {
	item, slot int
	typ        uint8
	name       string
}

func TestNames(t *testing.T) {
	b := goodBatch()
	var got []gotName
	add := func(slot int, typ uint8, name string) { got = append(got, gotName{0, slot, typ, name}) }

	if err := VisitNames(&b.Visits[0], add); err != nil {
		t.Fatal(err)
	}
	want := []gotName{{0, VisitEntryURL, DictURL, "https://e.example/"}, {0, VisitEntryTitle, DictTitle, "E"},
		{0, VisitExitURL, DictURL, "https://x.example/"}, {0, VisitExitTitle, DictTitle, "X"}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(gotName{})); d != "" {
		t.Errorf("VisitNames (-want +got):\n%s", d)
	}

	got = nil
	if err := ActionNames(&b.Actions[0], add); err != nil {
		t.Fatal(err)
	}
	want = []gotName{{0, ActionURL, DictDownload, "https://d.example/f.zip"}, {0, ActionTitle, DictTitle, "T"},
		{0, ActionPrevURL, DictURL, "https://p.example/"}, {0, ActionPrevTitle, DictTitle, "P"},
		{0, ActionEventCategory, DictEventCategory, "ec"}, {0, ActionEventAction, DictEventAction, "ea"},
		{0, ActionEventName, DictEventName, "en"}, {0, ActionSearch, DictSearch, "kw"},
		{0, ActionContentName, DictContentName, "cn"}, {0, ActionContentPiece, DictContentPiece, "cp"},
		{0, ActionContentTarget, DictContentTarget, "ct"}, {0, ActionContentInteraction, DictContentInteraction, "ci"},
		{0, ActionSKU, DictSKU, "sku"}, {0, ActionProductName, DictProductName, "pn"},
		{0, ActionCat1, DictCategory, "1"}, {0, ActionCat1 + 1, DictCategory, "2"}, {0, ActionCat1 + 2, DictCategory, "3"},
		{0, ActionCat1 + 3, DictCategory, "4"}, {0, ActionCat1 + 4, DictCategory, "5"}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(gotName{})); d != "" {
		t.Errorf("ActionNames (-want +got):\n%s", d)
	}
	if len(want) != ActionSlots {
		t.Errorf("ActionSlots = %d, a full action has %d names", ActionSlots, len(want))
	}

	// An action without optional parts hands over its four page names only.
	got = nil
	if err := ActionNames(&analytics.Action{Type: analytics.ActionPageview}, add); err != nil {
		t.Fatal(err)
	}
	want = []gotName{{0, ActionURL, DictURL, ""}, {0, ActionTitle, DictTitle, ""},
		{0, ActionPrevURL, DictURL, ""}, {0, ActionPrevTitle, DictTitle, ""}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(gotName{})); d != "" {
		t.Errorf("ActionNames of a bare page view (-want +got):\n%s", d)
	}

	got = nil
	err := ConversionNames(&b.Conversions[0], func(item, slot int, typ uint8, name string) {
		got = append(got, gotName{item, slot, typ, name})
	})
	if err != nil {
		t.Fatal(err)
	}
	want = []gotName{{-1, 0, DictURL, "https://o.example/"},
		{0, ItemSKU, DictSKU, "i1"}, {0, ItemName, DictProductName, "n1"}, {0, ItemCat1, DictCategory, "c"},
		{1, ItemSKU, DictSKU, "i2"}, {1, ItemName, DictProductName, ""}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(gotName{})); d != "" {
		t.Errorf("ConversionNames (-want +got):\n%s", d)
	}
}

func TestNamesInvalid(t *testing.T) {
	tooLong := strings.Repeat("n", analytics.MaxNameLen+1)
	six := []string{"1", "2", "3", "4", "5", "6"}
	nop := func(int, uint8, string) {}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"entry url", func() error { return VisitNames(&analytics.Visit{EntryURL: tooLong}, nop) }, "entry url: 4097 bytes, longer than 4096"},
		{"exit title", func() error { return VisitNames(&analytics.Visit{ExitTitle: tooLong}, nop) }, "exit title: 4097 bytes, longer than 4096"},
		{"title", func() error { return ActionNames(&analytics.Action{Title: tooLong}, nop) }, "title: 4097 bytes, longer than 4096"},
		{"event name", func() error {
			return ActionNames(&analytics.Action{Event: &analytics.Event{Name: tooLong}}, nop)
		}, "event name: 4097 bytes, longer than 4096"},
		{"search keyword", func() error {
			return ActionNames(&analytics.Action{Search: &analytics.Search{Keyword: tooLong}}, nop)
		}, "search keyword: 4097 bytes, longer than 4096"},
		{"content target", func() error {
			return ActionNames(&analytics.Action{Content: &analytics.Content{Target: tooLong}}, nop)
		}, "content target: 4097 bytes, longer than 4096"},
		{"product name", func() error {
			return ActionNames(&analytics.Action{Product: &analytics.ProductView{Name: tooLong}}, nop)
		}, "product name: 4097 bytes, longer than 4096"},
		{"six product categories", func() error {
			return ActionNames(&analytics.Action{Product: &analytics.ProductView{Categories: six}}, nop)
		}, "product: 6 categories, more than 5"},
		{"long product category", func() error {
			return ActionNames(&analytics.Action{Product: &analytics.ProductView{Categories: []string{"a", tooLong}}}, nop)
		}, "product: category 1: 4097 bytes, longer than 4096"},
		{"conversion url", func() error {
			return ConversionNames(&analytics.Conversion{URL: tooLong}, func(int, int, uint8, string) {})
		}, "url: 4097 bytes, longer than 4096"},
		{"item sku", func() error {
			return ConversionNames(&analytics.Conversion{Items: []analytics.Item{{}, {SKU: tooLong}}}, func(int, int, uint8, string) {})
		}, "item 1: sku: 4097 bytes, longer than 4096"},
		{"six item categories", func() error {
			return ConversionNames(&analytics.Conversion{Items: []analytics.Item{{Categories: six}}}, func(int, int, uint8, string) {})
		}, "item 0: 6 categories, more than 5"},
		{"long item category", func() error {
			return ConversionNames(&analytics.Conversion{Items: []analytics.Item{{Categories: []string{tooLong}}}}, func(int, int, uint8, string) {})
		}, "item 0: category 0: 4097 bytes, longer than 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, analytics.ErrInvalid) || err.Error() != tc.want+": analytics: invalid" {
				t.Errorf("error = %v, want %q wrapping ErrInvalid", err, tc.want)
			}
		})
	}
}

func TestPartsOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    analytics.Action
		want int64
	}{
		{"none", analytics.Action{}, 0},
		{"event", analytics.Action{Event: &analytics.Event{}}, PartEvent},
		{"search and timing", analytics.Action{Search: &analytics.Search{}, Timing: &analytics.PageTiming{}}, PartSearch | PartTiming},
		{"all", goodBatch().Actions[0], PartEvent | PartSearch | PartContent | PartProduct | PartTiming},
	} {
		if got := PartsOf(&tc.a); got != tc.want {
			t.Errorf("%s: PartsOf = %05b, want %05b", tc.name, got, tc.want)
		}
	}
	if PartEvent != 1 || PartTiming != 16 {
		t.Errorf("the parts bits moved: event %d, timing %d (they are stored)", PartEvent, PartTiming)
	}
}

func TestActionURLType(t *testing.T) {
	for typ, want := range map[analytics.ActionType]uint8{
		analytics.ActionPageview: DictURL, analytics.ActionOutlink: DictOutlink, analytics.ActionDownload: DictDownload,
		analytics.ActionEvent: DictURL, analytics.ActionSiteSearch: DictURL,
	} {
		if got := ActionURLType(typ); got != want {
			t.Errorf("ActionURLType(%v) = %d, want %d", typ, got, want)
		}
	}
}

func BenchmarkActionNames(b *testing.B) {
	a := goodBatch().Actions[0]
	n := 0
	add := func(int, uint8, string) { n++ }
	b.ReportAllocs()
	for b.Loop() {
		if err := ActionNames(&a, add); err != nil {
			b.Fatal(err)
		}
	}
}
