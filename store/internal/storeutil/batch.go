package storeutil

import (
	"fmt"

	"github.com/footfall/analytics"
)

// The rules of this file are those every Store keeps (analytics.Store,
// store/storetest): WriteBatch fails with ErrInvalid, writing nothing, for
// an empty shard, To before From, a row with a non-positive ID, VisitID or
// SiteID, an unknown action type, a goal ID below GoalCart, an order
// without OrderID, more than MaxCategories categories, a name longer than
// MaxNameLen, an invalid invalidated day. A store adds the limits of its
// own columns.

// CheckBatch checks the head of a batch: a shard name, To not before From.
func CheckBatch(b *analytics.LogBatch) error {
	if b.Shard == "" {
		return Invalid("empty shard name")
	}
	if b.To.Less(b.From) {
		return Invalid("To %v is before From %v", b.To, b.From)
	}
	return nil
}

// CheckRows checks every row of b in order — each visit, action and
// conversion with CheckVisit, CheckAction or CheckConversion, then the
// store's own check of it (visit, action, conversion; nil for none) — and
// then b.Invalidated (CheckInvalidated). It stops at the first error,
// prefixed with the row: "visit 3 (id 17): …", "action 0 (id 5): …",
// "conversion 1 (visit 4, goal 2): …".
func CheckRows(b *analytics.LogBatch,
	visit func(i int, v *analytics.Visit) error,
	action func(i int, a *analytics.Action) error,
	conversion func(i int, c *analytics.Conversion) error) error {
	for i := range b.Visits {
		v := &b.Visits[i]
		if err := check(CheckVisit(v), visit, i, v); err != nil {
			return fmt.Errorf("visit %d (id %d): %w", i, v.ID, err)
		}
	}
	for i := range b.Actions {
		a := &b.Actions[i]
		if err := check(CheckAction(a), action, i, a); err != nil {
			return fmt.Errorf("action %d (id %d): %w", i, a.ID, err)
		}
	}
	for i := range b.Conversions {
		c := &b.Conversions[i]
		if err := check(CheckConversion(c), conversion, i, c); err != nil {
			return fmt.Errorf("conversion %d (visit %d, goal %d): %w", i, c.VisitID, c.GoalID, err)
		}
	}
	return CheckInvalidated(b.Invalidated)
}

func check[T any](err error, fn func(int, *T) error, i int, row *T) error {
	if err != nil || fn == nil {
		return err
	}
	return fn(i, row)
}

// CheckVisit checks the ids of a visit.
func CheckVisit(v *analytics.Visit) error {
	if v.ID <= 0 {
		return Invalid("id must be > 0")
	}
	if v.SiteID <= 0 {
		return Invalid("site id %d", v.SiteID)
	}
	return nil
}

// CheckAction checks the ids and the type of an action.
func CheckAction(a *analytics.Action) error {
	if a.ID <= 0 {
		return Invalid("id must be > 0")
	}
	if a.VisitID <= 0 {
		return Invalid("visit id %d", a.VisitID)
	}
	if a.SiteID <= 0 {
		return Invalid("site id %d", a.SiteID)
	}
	if a.Type < analytics.ActionPageview || a.Type > analytics.ActionContentInteraction {
		return Invalid("unknown type %d", a.Type)
	}
	return nil
}

// CheckConversion checks the ids of a conversion and that an order has an
// order id.
func CheckConversion(c *analytics.Conversion) error {
	if c.VisitID <= 0 {
		return Invalid("visit id %d", c.VisitID)
	}
	if c.SiteID <= 0 {
		return Invalid("site id %d", c.SiteID)
	}
	if c.GoalID < analytics.GoalCart {
		return Invalid("goal id %d", c.GoalID)
	}
	if c.GoalID == analytics.GoalEcommerceOrder && c.OrderID == "" {
		return Invalid("an ecommerce order needs an order id")
	}
	return nil
}

// CheckInvalidated checks the site days of LogBatch.Invalidated.
func CheckInvalidated(days []analytics.SiteDay) error {
	for i, d := range days {
		if d.SiteID <= 0 {
			return Invalid("invalidated day %d: site id %d", i, d.SiteID)
		}
		if !ValidDay(d.Day) {
			return Invalid("invalidated day %d: day %q is not YYYY-MM-DD", i, d.Day)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Dictionary names of a row
// ---------------------------------------------------------------------------

// NameFunc receives one dictionary name of a row, already checked against
// MaxNameLen: the slot of the row it fills (VisitEntryURL, ActionTitle,
// ItemSKU, …), its dictionary type and the name, which may be empty.
type NameFunc func(slot int, typ uint8, name string)

// Slots of the names of a visit (VisitNames).
const (
	VisitEntryURL = iota
	VisitEntryTitle
	VisitExitURL
	VisitExitTitle
	VisitSlots // the number of slots
)

// Slots of the names of an action (ActionNames).
const (
	ActionURL = iota
	ActionTitle
	ActionPrevURL
	ActionPrevTitle
	ActionEventCategory
	ActionEventAction
	ActionEventName
	ActionSearch
	ActionContentName
	ActionContentPiece
	ActionContentTarget
	ActionContentInteraction
	ActionSKU
	ActionProductName
	ActionCat1                                         // … ActionCat1 + MaxCategories - 1
	ActionSlots = ActionCat1 + analytics.MaxCategories // the number of slots
)

// Slots of the names of an item of a conversion (ConversionNames).
const (
	ItemSKU = iota
	ItemName
	ItemCat1                                       // … ItemCat1 + MaxCategories - 1
	ItemSlots = ItemCat1 + analytics.MaxCategories // the number of slots
)

// slotName is a name of a row with the field that names it in errors.
type slotName struct {
	slot  int
	field string
	typ   uint8
	name  string
}

// names checks the names of list in order and hands each to add.
func names(add NameFunc, list ...slotName) error {
	for _, n := range list {
		if len(n.name) > analytics.MaxNameLen {
			return fmt.Errorf("%s: %w", n.field, tooLong(n.name))
		}
		add(n.slot, n.typ, n.name)
	}
	return nil
}

func tooLong(name string) error {
	return Invalid("%d bytes, longer than %d", len(name), analytics.MaxNameLen)
}

// categories checks a list of categories and hands them to add with slots
// from first on.
func categories(add NameFunc, first int, list []string) error {
	if len(list) > analytics.MaxCategories {
		return Invalid("%d categories, more than %d", len(list), analytics.MaxCategories)
	}
	for i, c := range list {
		if len(c) > analytics.MaxNameLen {
			return fmt.Errorf("category %d: %w", i, tooLong(c))
		}
		add(first+i, DictCategory, c)
	}
	return nil
}

// VisitNames hands the entry and exit page names of v to add.
func VisitNames(v *analytics.Visit, add NameFunc) error {
	return names(add,
		slotName{VisitEntryURL, "entry url", DictURL, v.EntryURL},
		slotName{VisitEntryTitle, "entry title", DictTitle, v.EntryTitle},
		slotName{VisitExitURL, "exit url", DictURL, v.ExitURL},
		slotName{VisitExitTitle, "exit title", DictTitle, v.ExitTitle})
}

// ActionURLType is the dictionary type of an action's URL: the link of an
// outlink or a download, else a page URL.
func ActionURLType(t analytics.ActionType) uint8 {
	switch t {
	case analytics.ActionOutlink:
		return DictOutlink
	case analytics.ActionDownload:
		return DictDownload
	}
	return DictURL
}

// ActionNames hands the names of a and of its optional parts (event,
// search keyword, content, product and its categories) to add. The slots
// of absent parts and categories are not handed over.
func ActionNames(a *analytics.Action, add NameFunc) error {
	if err := names(add,
		slotName{ActionURL, "url", ActionURLType(a.Type), a.URL},
		slotName{ActionTitle, "title", DictTitle, a.Title},
		slotName{ActionPrevURL, "previous url", DictURL, a.PrevURL},
		slotName{ActionPrevTitle, "previous title", DictTitle, a.PrevTitle}); err != nil {
		return err
	}
	if e := a.Event; e != nil {
		if err := names(add,
			slotName{ActionEventCategory, "event category", DictEventCategory, e.Category},
			slotName{ActionEventAction, "event action", DictEventAction, e.Action},
			slotName{ActionEventName, "event name", DictEventName, e.Name}); err != nil {
			return err
		}
	}
	if sr := a.Search; sr != nil {
		if err := names(add, slotName{ActionSearch, "search keyword", DictSearch, sr.Keyword}); err != nil {
			return err
		}
	}
	if c := a.Content; c != nil {
		if err := names(add,
			slotName{ActionContentName, "content name", DictContentName, c.Name},
			slotName{ActionContentPiece, "content piece", DictContentPiece, c.Piece},
			slotName{ActionContentTarget, "content target", DictContentTarget, c.Target},
			slotName{ActionContentInteraction, "content interaction", DictContentInteraction, c.Interaction}); err != nil {
			return err
		}
	}
	if p := a.Product; p != nil {
		if err := names(add,
			slotName{ActionSKU, "product sku", DictSKU, p.SKU},
			slotName{ActionProductName, "product name", DictProductName, p.Name}); err != nil {
			return err
		}
		if err := categories(add, ActionCat1, p.Categories); err != nil {
			return fmt.Errorf("product: %w", err)
		}
	}
	return nil
}

// ConversionNames hands the names of c to add: its URL with item -1 (and
// slot 0), then those of each item with the item's index: SKU, name and
// categories (ItemSKU, ItemName, ItemCat1 …).
func ConversionNames(c *analytics.Conversion, add func(item, slot int, typ uint8, name string)) error {
	if err := names(func(slot int, typ uint8, name string) { add(-1, slot, typ, name) },
		slotName{0, "url", DictURL, c.URL}); err != nil {
		return err
	}
	for i := range c.Items {
		it := &c.Items[i]
		addItem := func(slot int, typ uint8, name string) { add(i, slot, typ, name) }
		if err := names(addItem,
			slotName{ItemSKU, "sku", DictSKU, it.SKU},
			slotName{ItemName, "name", DictProductName, it.Name}); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		if err := categories(addItem, ItemCat1, it.Categories); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}

// Bits of log_link_visit_action.parts: which optional parts an action
// has, in the order of the parts' column groups.
const (
	PartEvent = 1 << iota
	PartSearch
	PartContent
	PartProduct
	PartTiming
)

// PartsOf returns the parts bits of a.
func PartsOf(a *analytics.Action) int64 {
	var parts int64
	if a.Event != nil {
		parts |= PartEvent
	}
	if a.Search != nil {
		parts |= PartSearch
	}
	if a.Content != nil {
		parts |= PartContent
	}
	if a.Product != nil {
		parts |= PartProduct
	}
	if a.Timing != nil {
		parts |= PartTiming
	}
	return parts
}
