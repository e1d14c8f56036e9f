package sqlitestore

import (
	"database/sql"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// millis stores t as Unix milliseconds, truncated (never rounded, so a
// time stays in its day); the zero time is 0.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// dimensionsJSON encodes custom dimensions (storeutil.EncodeDimensions)
// for the dimensions TEXT columns, NULL when there are none.
func dimensionsJSON(d []analytics.Dimension) (any, error) {
	b, err := storeutil.EncodeDimensions(d)
	if err != nil || b == nil {
		return nil, err
	}
	return string(b), nil
}

// categories turns the five nullable name columns back into a list.
func categories(cs []sql.NullString) []string {
	var out []string
	for _, c := range cs {
		if !c.Valid {
			break
		}
		out = append(out, c.String)
	}
	return out
}
