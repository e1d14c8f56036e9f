package storeutil

import (
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/analytics"
)

// VisitQuerySQL returns the tail of a SELECT … FROM log_visit v that
// selects q's visits — " WHERE … ORDER BY …" and " LIMIT n" when q has a
// limit — and its arguments. Visits are ordered by first action time, or
// by last action time descending with NewestFirst, ties by visit ID.
// timeArg converts From and To for the visit_last_action_time column.
func VisitQuerySQL(q analytics.VisitQuery, timeArg func(time.Time) any) (tail string, args []any) {
	where := []string{"v.idsite = ?"}
	args = []any{int64(q.SiteID)}
	if !q.From.IsZero() {
		where = append(where, "v.visit_last_action_time >= ?")
		args = append(args, timeArg(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "v.visit_last_action_time < ?")
		args = append(args, timeArg(q.To))
	}
	if !q.VisitorID.IsZero() {
		where = append(where, "v.idvisitor = ?")
		args = append(args, q.VisitorID[:])
	}
	order := "v.visit_first_action_time, v.idvisit"
	if q.NewestFirst {
		order = "v.visit_last_action_time DESC, v.idvisit DESC"
	}
	tail = " WHERE " + strings.Join(where, " AND ") + " ORDER BY " + order
	if q.Limit > 0 {
		tail += " LIMIT " + strconv.Itoa(q.Limit)
	}
	return tail, args
}

// VisitRow decodes a log_visit row whose columns come in the order both
// schemas list them: idvisit idsite idvisitor config_id user_id profilable
// visit_first_action_time visit_last_action_time … location_timezone
// dimensions, with the names of the entry and exit pages in place of
// their ids. The four columns whose type is the store's own (two times,
// two booleans) are scanned into the store's destinations; the store
// converts them.
type VisitRow struct {
	visitor, config, ip, dims []byte
	refType, devType, plugins int64
	lat, lon                  sql.NullFloat64
}

// Dest returns the scan destinations of a row into v and r: profilable,
// first, last and converted are those of the columns profilable,
// visit_first_action_time, visit_last_action_time and
// visit_goal_converted.
func (r *VisitRow) Dest(v *analytics.Visit, profilable, first, last, converted any) []any {
	rf, c, l := &v.Referrer, &v.Client, &v.Location
	return []any{
		&v.ID, &v.SiteID, &r.visitor, &r.config, &v.UserID, profilable,
		first, last, &v.TotalTime, &v.LocalTime,
		&v.Actions, &v.Interactions, &v.Searches, &v.Events, &v.Pageviews,
		&v.VisitCount, &v.Returning, &v.SecondsSinceFirst, &v.SecondsSinceLast, &v.SecondsSinceOrder,
		converted, &v.GoalBuyer,
		&v.EntryURL, &v.EntryTitle, &v.ExitURL, &v.ExitTitle, &v.LastActionID,
		&r.refType, &rf.Name, &rf.Keyword, &rf.URL, &rf.CampaignSource, &rf.CampaignMedium, &rf.CampaignContent, &rf.CampaignID,
		&c.BrowserName, &c.BrowserVersion, &c.BrowserEngine, &c.OSName, &c.OSVersion, &r.devType,
		&c.DeviceBrand, &c.DeviceModel, &c.Resolution, &r.plugins, &c.Lang,
		&r.ip, &l.CountryCode, &l.RegionCode, &l.RegionName, &l.City, &r.lat, &r.lon,
		&l.TimeZone, &r.dims,
	}
}

// Decode sets the fields of v that the scan left in r: the visitor and
// config ids, referrer and device types, plugins, coordinates (only when
// both are there), the IP address and the custom dimensions.
func (r *VisitRow) Decode(v *analytics.Visit) error {
	v.VisitorID, v.ConfigID = VisitorID(r.visitor), VisitorID(r.config)
	v.Referrer.Type = analytics.ReferrerType(r.refType)
	v.Client.DeviceType = analytics.DeviceType(r.devType)
	v.Client.Plugins = uint16(r.plugins)
	if l := &v.Location; r.lat.Valid && r.lon.Valid {
		l.Latitude, l.Longitude, l.HasCoords = r.lat.Float64, r.lon.Float64, true
	}
	var err error
	if v.IP, err = ParseIP(r.ip); err != nil {
		return err
	}
	v.Dimensions, err = ParseDimensions(r.dims)
	return err
}

// ActionParts are the optional parts of an action as read from its row:
// the parts bits, the names (resolved by the store) and the values of the
// part columns, which both stores scan alike.
type ActionParts struct {
	Parts int64 // log_link_visit_action.parts (PartEvent …)

	EventCategory, EventAction, EventName                        string
	SearchKeyword                                                string
	ContentName, ContentPiece, ContentTarget, ContentInteraction string
	SKU, ProductName                                             string
	Categories                                                   []string

	EventValue     sql.NullFloat64 // custom_float
	SearchCategory sql.NullString  // search_cat
	SearchCount    sql.NullInt64   // search_count
	Price          sql.NullFloat64 // product_price
	// Timing is time_network, time_server, time_transfer,
	// time_dom_processing, time_dom_completion and time_on_load.
	Timing [6]sql.NullInt64
}

// Apply sets the optional parts of a that p.Parts names, and only those.
func (p *ActionParts) Apply(a *analytics.Action) {
	if p.Parts&PartEvent != 0 {
		a.Event = &analytics.Event{Category: p.EventCategory, Action: p.EventAction, Name: p.EventName,
			Value: p.EventValue.Float64, HasValue: p.EventValue.Valid}
	}
	if p.Parts&PartSearch != 0 {
		a.Search = &analytics.Search{Keyword: p.SearchKeyword, Category: p.SearchCategory.String, Count: int(p.SearchCount.Int64)}
	}
	if p.Parts&PartContent != 0 {
		a.Content = &analytics.Content{Name: p.ContentName, Piece: p.ContentPiece, Target: p.ContentTarget,
			Interaction: p.ContentInteraction}
	}
	if p.Parts&PartProduct != 0 {
		a.Product = &analytics.ProductView{SKU: p.SKU, Name: p.ProductName, Categories: p.Categories, Price: p.Price.Float64}
	}
	if p.Parts&PartTiming != 0 {
		t := &p.Timing
		a.Timing = &analytics.PageTiming{
			Network: int32(t[0].Int64), Server: int32(t[1].Int64), Transfer: int32(t[2].Int64),
			DOMProcessing: int32(t[3].Int64), DOMCompletion: int32(t[4].Int64), OnLoad: int32(t[5].Int64),
		}
	}
}
