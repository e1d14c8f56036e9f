package mysqlstore

import (
	"database/sql"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// text passes a Go string for a VARBINARY column: as a string literal when
// it is valid UTF-8 (the connection's character set), else as bytes, so
// that any string is stored byte for byte.
func text(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return []byte(s)
}

// Times are stored in UTC at millisecond precision, truncated (the driver
// truncates, so 23:59:59.9999 stays in its day). DATETIME spans years
// 1000–9999; the zero time is stored as the zero date.
var (
	minTime = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

func checkTime(t time.Time) error {
	if t.IsZero() || !t.Before(minTime) && t.Before(maxTime) {
		return nil
	}
	return fmt.Errorf("time %v is outside years 1000–9999", t)
}

// timeOf returns a scanned DATETIME in UTC; the zero date is the zero time.
func timeOf(t time.Time) time.Time {
	if t.IsZero() || t.Year() <= 1 {
		return time.Time{}
	}
	return t.UTC()
}

// maxDimensionsLen is the size of the dimensions BLOB columns.
const maxDimensionsLen = 65535

// dimensionsJSON encodes custom dimensions (storeutil.EncodeDimensions)
// for the dimensions BLOB columns, NULL when there are none.
func dimensionsJSON(d []analytics.Dimension) (any, error) {
	b, err := storeutil.EncodeDimensions(d)
	if err != nil || b == nil {
		return nil, err
	}
	if len(b) > maxDimensionsLen {
		return nil, fmt.Errorf("%d bytes of JSON, more than %d", len(b), maxDimensionsLen)
	}
	return b, nil
}

// Byte limits of the VARBINARY text columns (SCHEMA.md). A longer value
// fails the batch with ErrInvalid.
const (
	lenUserID     = 1024
	lenRefName    = 1024
	lenRefURL     = 4096
	lenCampaign   = 1024
	lenClient     = 255
	lenCountry    = 64
	lenRegion     = 64
	lenRegionName = 255
	lenCity       = 255
	lenTimezone   = 64
	lenPageViewID = 255
	lenSearchCat  = 1024
	lenOrderID    = 1024
	lenShard      = 255
)

// lengths checks byte lengths of text fields: pairs of (field, value),
// with the limit before them.
type lengthCheck struct {
	field string
	value string
	max   int
}

func checkLengths(checks ...lengthCheck) error {
	for _, c := range checks {
		if len(c.value) > c.max {
			return storeutil.Invalid("%s: %d bytes, longer than %d", c.field, len(c.value), c.max)
		}
	}
	return nil
}

func referrerChecks(r *analytics.Referrer) []lengthCheck {
	return []lengthCheck{
		{"referrer name", r.Name, lenRefName}, {"referrer keyword", r.Keyword, lenRefName},
		{"referrer url", r.URL, lenRefURL},
		{"campaign source", r.CampaignSource, lenCampaign}, {"campaign medium", r.CampaignMedium, lenCampaign},
		{"campaign content", r.CampaignContent, lenCampaign}, {"campaign id", r.CampaignID, lenCampaign},
	}
}

// categoriesOf turns nullable category names back into a list: it stops
// at the first NULL.
func categoriesOf(cs []sql.NullInt64, names map[uint32]string) []string {
	var out []string
	for _, c := range cs {
		if !c.Valid {
			break
		}
		out = append(out, names[uint32(c.Int64)])
	}
	return out
}
