package report

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/analytics"
)

// LiveVisit is one visit in the shape of Matomo's Live.getLastVisitsDetails,
// so that Reporting API clients and the `footfall live --json` output read
// the same field names as Matomo's.
type LiveVisit struct {
	IDSite               int          `json:"idSite"`
	IDVisit              int64        `json:"idVisit"`
	VisitIP              string       `json:"visitIp"`
	VisitorID            string       `json:"visitorId"`
	Fingerprint          string       `json:"fingerprint"`
	UserID               *string      `json:"userId"`
	ActionDetails        []LiveAction `json:"actionDetails"`
	ServerDate           string       `json:"serverDate"`
	ServerTimestamp      int64        `json:"serverTimestamp"`
	FirstActionTimestamp int64        `json:"firstActionTimestamp"`
	LastActionTimestamp  int64        `json:"lastActionTimestamp"`
	LastActionDateTime   string       `json:"lastActionDateTime"`
	VisitorType          string       `json:"visitorType"`
	VisitConverted       int          `json:"visitConverted"`
	VisitCount           int          `json:"visitCount"`
	VisitEcommerceStatus string       `json:"visitEcommerceStatus"`
	DaysSinceFirstVisit  int64        `json:"daysSinceFirstVisit"`
	SecondsSinceFirst    int64        `json:"secondsSinceFirstVisit"`
	DaysSinceLastVisit   int64        `json:"daysSinceLastVisit"`
	SecondsSinceLast     int64        `json:"secondsSinceLastVisit"`
	VisitDuration        int          `json:"visitDuration"`
	VisitDurationPretty  string       `json:"visitDurationPretty"`
	Actions              int          `json:"actions"`
	Interactions         int          `json:"interactions"`
	Searches             int          `json:"searches"`
	Events               int          `json:"events"`
	ReferrerType         string       `json:"referrerType"`
	ReferrerTypeName     string       `json:"referrerTypeName"`
	ReferrerName         string       `json:"referrerName"`
	ReferrerKeyword      string       `json:"referrerKeyword"`
	ReferrerURL          string       `json:"referrerUrl"`
	CampaignName         string       `json:"campaignName"`
	CampaignKeyword      string       `json:"campaignKeyword"`
	CampaignSource       string       `json:"campaignSource"`
	CampaignMedium       string       `json:"campaignMedium"`
	CampaignContent      string       `json:"campaignContent"`
	CampaignID           string       `json:"campaignId"`
	LanguageCode         string       `json:"languageCode"`
	DeviceType           string       `json:"deviceType"`
	DeviceBrand          string       `json:"deviceBrand"`
	DeviceModel          string       `json:"deviceModel"`
	OperatingSystem      string       `json:"operatingSystem"`
	OperatingSystemName  string       `json:"operatingSystemName"`
	OperatingSystemVer   string       `json:"operatingSystemVersion"`
	Browser              string       `json:"browser"`
	BrowserName          string       `json:"browserName"`
	BrowserVersion       string       `json:"browserVersion"`
	BrowserEngine        string       `json:"browserFamily"`
	Resolution           string       `json:"resolution"`
	Plugins              string       `json:"plugins"`
	Country              string       `json:"country"`
	CountryCode          string       `json:"countryCode"`
	Region               string       `json:"region"`
	RegionCode           string       `json:"regionCode"`
	City                 string       `json:"city"`
	Latitude             *float64     `json:"latitude"`
	Longitude            *float64     `json:"longitude"`
	VisitLocalTime       string       `json:"visitLocalTime"`
	VisitLocalHour       string       `json:"visitLocalHour"`
	// Dimensions are the visit's custom dimensions, written as top-level
	// "dimensionN" keys like Matomo's.
	Dimensions []analytics.Dimension `json:"-"`
}

// MarshalJSON writes the visit with its dimensions as "dimensionN" keys.
func (v LiveVisit) MarshalJSON() ([]byte, error) {
	type plain LiveVisit
	b, err := json.Marshal(plain(v))
	if err != nil || len(v.Dimensions) == 0 {
		return b, err
	}
	b = b[:len(b)-1]
	for _, d := range v.Dimensions {
		val, err := json.Marshal(d.Value)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"dimension`...)
		b = strconv.AppendInt(b, int64(d.ID), 10)
		b = append(b, `":`...)
		b = append(b, val...)
	}
	return append(b, '}'), nil
}

// LiveAction is one entry of a visit's actionDetails.
type LiveAction struct {
	Type             string   `json:"type"`
	URL              string   `json:"url,omitempty"`
	PageTitle        string   `json:"pageTitle,omitempty"`
	IDPageview       string   `json:"idpageview,omitempty"`
	PageviewPosition int      `json:"pageviewPosition,omitempty"`
	Timestamp        int64    `json:"timestamp"`
	ServerTimePretty string   `json:"serverTimePretty"`
	TimeSpent        *int     `json:"timeSpent,omitempty"`
	TimeSpentPretty  string   `json:"timeSpentPretty,omitempty"`
	EventCategory    string   `json:"eventCategory,omitempty"`
	EventAction      string   `json:"eventAction,omitempty"`
	EventName        string   `json:"eventName,omitempty"`
	EventValue       *float64 `json:"eventValue,omitempty"`
	SearchKeyword    string   `json:"siteSearchKeyword,omitempty"`
	SearchCategory   string   `json:"siteSearchCategory,omitempty"`
	SearchCount      *int     `json:"siteSearchCount,omitempty"`
	ContentName      string   `json:"contentName,omitempty"`
	ContentPiece     string   `json:"contentPiece,omitempty"`
	ContentTarget    string   `json:"contentTarget,omitempty"`
	ContentInteract  string   `json:"contentInteraction,omitempty"`
	GoalID           *int     `json:"goalId,omitempty"`
	GoalName         string   `json:"goalName,omitempty"`
	Revenue          *float64 `json:"revenue,omitempty"`
	OrderID          string   `json:"orderId,omitempty"`
	RevenueSubTotal  *float64 `json:"revenueSubTotal,omitempty"`
	RevenueTax       *float64 `json:"revenueTax,omitempty"`
	RevenueShipping  *float64 `json:"revenueShipping,omitempty"`
	RevenueDiscount  *float64 `json:"revenueDiscount,omitempty"`
	Items            *int     `json:"items,omitempty"`
	ItemDetails      []Item   `json:"itemDetails,omitempty"`
	PageLoadTime     *int32   `json:"pageLoadTime,omitempty"`
}

// Item is an ecommerce item of a LiveAction.
type Item struct {
	SKU      string  `json:"itemSKU"`
	Name     string  `json:"itemName"`
	Category string  `json:"itemCategory"`
	Price    float64 `json:"price"`
	Quantity int     `json:"quantity"`
}

// LiveOptions tunes NewLiveVisit.
type LiveOptions struct {
	// Location is the site's time zone for the pretty dates; nil = UTC.
	Location *time.Location
	// Goals names goals by ID; missing names print as "Goal <id>".
	Goals map[int]string
}

var referrerTypeNames = map[analytics.ReferrerType]string{
	analytics.ReferrerDirect:   "Direct Entry",
	analytics.ReferrerSearch:   "Search Engines",
	analytics.ReferrerWebsite:  "Websites",
	analytics.ReferrerCampaign: "Campaigns",
	analytics.ReferrerSocial:   "Social Networks",
}

// NewLiveVisit renders a stored visit as Matomo's Live API does.
func NewLiveVisit(v *analytics.VisitDetails, o LiveOptions) LiveVisit {
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	first := v.FirstActionTime.In(loc)
	last := v.LastActionTime.In(loc)
	lv := LiveVisit{
		IDSite:               v.SiteID,
		IDVisit:              v.ID,
		VisitorID:            v.VisitorID.String(),
		Fingerprint:          v.ConfigID.String(),
		ServerDate:           first.Format("2006-01-02"),
		ServerTimestamp:      v.LastActionTime.Unix(),
		FirstActionTimestamp: v.FirstActionTime.Unix(),
		LastActionTimestamp:  v.LastActionTime.Unix(),
		LastActionDateTime:   last.Format("2006-01-02 15:04:05"),
		VisitCount:           v.VisitCount,
		SecondsSinceFirst:    v.SecondsSinceFirst,
		DaysSinceFirstVisit:  v.SecondsSinceFirst / 86400,
		SecondsSinceLast:     v.SecondsSinceLast,
		DaysSinceLastVisit:   v.SecondsSinceLast / 86400,
		VisitDuration:        v.TotalTime,
		VisitDurationPretty:  prettyDuration(v.TotalTime),
		Actions:              v.Actions,
		Interactions:         v.Interactions,
		Searches:             v.Searches,
		Events:               v.Events,
		ReferrerType:         v.Referrer.Type.String(),
		ReferrerTypeName:     referrerTypeNames[v.Referrer.Type],
		ReferrerName:         v.Referrer.Name,
		ReferrerKeyword:      v.Referrer.Keyword,
		ReferrerURL:          v.Referrer.URL,
		CampaignSource:       v.Referrer.CampaignSource,
		CampaignMedium:       v.Referrer.CampaignMedium,
		CampaignContent:      v.Referrer.CampaignContent,
		CampaignID:           v.Referrer.CampaignID,
		LanguageCode:         strings.ToLower(v.Client.Lang),
		DeviceType:           v.Client.DeviceType.String(),
		DeviceBrand:          v.Client.DeviceBrand,
		DeviceModel:          v.Client.DeviceModel,
		OperatingSystem:      strings.TrimSpace(v.Client.OSName + " " + v.Client.OSVersion),
		OperatingSystemName:  v.Client.OSName,
		OperatingSystemVer:   v.Client.OSVersion,
		Browser:              strings.TrimSpace(v.Client.BrowserName + " " + v.Client.BrowserVersion),
		BrowserName:          v.Client.BrowserName,
		BrowserVersion:       v.Client.BrowserVersion,
		BrowserEngine:        v.Client.BrowserEngine,
		Resolution:           v.Client.Resolution,
		Plugins:              pluginList(v.Client.Plugins),
		CountryCode:          v.Location.CountryCode,
		Country:              strings.ToUpper(v.Location.CountryCode),
		Region:               v.Location.RegionName,
		RegionCode:           v.Location.RegionCode,
		City:                 v.Location.City,
		ActionDetails:        []LiveAction{},
		Dimensions:           v.Dimensions,
	}
	if v.Referrer.Type == analytics.ReferrerCampaign {
		lv.CampaignName = v.Referrer.Name
		lv.CampaignKeyword = v.Referrer.Keyword
	}
	if v.IP.IsValid() {
		lv.VisitIP = v.IP.String()
	}
	if v.UserID != "" {
		uid := v.UserID
		lv.UserID = &uid
	}
	switch v.Returning {
	case 0:
		lv.VisitorType = "new"
	case 2:
		lv.VisitorType = "returningCustomer"
	default:
		lv.VisitorType = "returning"
	}
	if v.GoalConverted {
		lv.VisitConverted = 1
	}
	switch v.GoalBuyer {
	case 1:
		lv.VisitEcommerceStatus = "ordered"
	case 2:
		lv.VisitEcommerceStatus = "abandonedCart"
	case 3:
		lv.VisitEcommerceStatus = "orderedThenAbandonedCart"
	default:
		lv.VisitEcommerceStatus = "none"
	}
	if v.Location.HasCoords {
		lat, lon := v.Location.Latitude, v.Location.Longitude
		lv.Latitude, lv.Longitude = &lat, &lon
	}
	if v.LocalTime >= 0 {
		h, m, s := v.LocalTime/3600, v.LocalTime/60%60, v.LocalTime%60
		lv.VisitLocalTime = twoDigits(h) + ":" + twoDigits(m) + ":" + twoDigits(s)
		lv.VisitLocalHour = strconv.Itoa(h)
	}

	type timed struct {
		t   time.Time
		seq int
		a   LiveAction
	}
	var entries []timed
	for i := range v.ActionList {
		a := &v.ActionList[i]
		la := liveAction(a, loc)
		// Matomo shows the time spent on a page: the gap to the next action.
		if i+1 < len(v.ActionList) && a.Type == analytics.ActionPageview {
			ts := v.ActionList[i+1].TimeSpentRef
			la.TimeSpent = &ts
			la.TimeSpentPretty = prettyDuration(ts)
		}
		entries = append(entries, timed{a.Time, len(entries), la})
	}
	for i := range v.Conversions {
		c := &v.Conversions[i]
		if c.GoalID == analytics.GoalCart {
			continue
		}
		entries = append(entries, timed{c.Time, len(entries), liveConversion(c, o.Goals, loc)})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if !entries[i].t.Equal(entries[j].t) {
			return entries[i].t.Before(entries[j].t)
		}
		return entries[i].seq < entries[j].seq
	})
	for _, e := range entries {
		lv.ActionDetails = append(lv.ActionDetails, e.a)
	}
	return lv
}

func liveAction(a *analytics.Action, loc *time.Location) LiveAction {
	la := LiveAction{
		Type:             a.Type.String(),
		URL:              a.URL,
		PageTitle:        a.Title,
		IDPageview:       a.PageViewID,
		Timestamp:        a.Time.Unix(),
		ServerTimePretty: a.Time.In(loc).Format("Jan 2, 2006 15:04:05"),
	}
	if a.Type == analytics.ActionPageview {
		la.PageviewPosition = a.Position
	}
	if e := a.Event; e != nil {
		la.EventCategory, la.EventAction, la.EventName = e.Category, e.Action, e.Name
		if e.HasValue {
			v := e.Value
			la.EventValue = &v
		}
	}
	if s := a.Search; s != nil {
		la.SearchKeyword, la.SearchCategory = s.Keyword, s.Category
		if s.Count >= 0 {
			n := s.Count
			la.SearchCount = &n
		}
	}
	if c := a.Content; c != nil {
		la.ContentName, la.ContentPiece, la.ContentTarget, la.ContentInteract = c.Name, c.Piece, c.Target, c.Interaction
	}
	if t := a.Timing; t != nil {
		var sum int32
		for _, x := range []int32{t.Network, t.Server, t.Transfer, t.DOMProcessing, t.DOMCompletion, t.OnLoad} {
			if x > 0 {
				sum += x
			}
		}
		la.PageLoadTime = &sum
	}
	return la
}

func liveConversion(c *analytics.Conversion, goals map[int]string, loc *time.Location) LiveAction {
	la := LiveAction{
		URL:              c.URL,
		Timestamp:        c.Time.Unix(),
		ServerTimePretty: c.Time.In(loc).Format("Jan 2, 2006 15:04:05"),
	}
	rev := c.Revenue
	la.Revenue = &rev
	if c.GoalID == analytics.GoalEcommerceOrder {
		la.Type = "ecommerceOrder"
		la.OrderID = c.OrderID
		sub, tax, ship, disc := c.Subtotal, c.Tax, c.Shipping, c.Discount
		la.RevenueSubTotal, la.RevenueTax, la.RevenueShipping, la.RevenueDiscount = &sub, &tax, &ship, &disc
		n := 0
		for _, it := range c.Items {
			if it.Deleted {
				continue
			}
			n += it.Quantity
			la.ItemDetails = append(la.ItemDetails, Item{
				SKU: it.SKU, Name: it.Name, Category: strings.Join(it.Categories, ", "),
				Price: it.Price, Quantity: it.Quantity,
			})
		}
		la.Items = &n
		return la
	}
	la.Type = "goal"
	id := c.GoalID
	la.GoalID = &id
	la.GoalName = goals[c.GoalID]
	if la.GoalName == "" {
		la.GoalName = "Goal " + strconv.Itoa(c.GoalID)
	}
	return la
}

func pluginList(bits uint16) string {
	names := []struct {
		bit  uint16
		name string
	}{
		{analytics.PluginCookie, "cookie"}, {analytics.PluginFlash, "flash"}, {analytics.PluginJava, "java"},
		{analytics.PluginPDF, "pdf"}, {analytics.PluginQuickTime, "quicktime"}, {analytics.PluginRealPlayer, "realplayer"},
		{analytics.PluginSilverlight, "silverlight"}, {analytics.PluginWindowsMedia, "windowsmedia"},
	}
	var out []string
	for _, n := range names {
		if bits&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ", ")
}

// prettyDuration formats seconds as Matomo does ("0s", "5 min 3s", "1 hours 2 min").
func prettyDuration(sec int) string {
	if sec < 60 {
		return strconv.Itoa(sec) + "s"
	}
	if sec < 3600 {
		return strconv.Itoa(sec/60) + " min " + strconv.Itoa(sec%60) + "s"
	}
	return strconv.Itoa(sec/3600) + " hours " + strconv.Itoa(sec/60%60) + " min"
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
