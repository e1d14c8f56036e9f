package sqlitestore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/footfall/analytics"
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

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ipBytes stores an address as 4 or 16 bytes (4in6 stays 16), NULL when
// invalid (no IP stored).
func ipBytes(ip netip.Addr) any {
	if !ip.IsValid() {
		return nil
	}
	b, _ := ip.MarshalBinary()
	return b
}

func parseIP(b []byte) (netip.Addr, error) {
	var ip netip.Addr
	if len(b) == 0 {
		return ip, nil
	}
	if err := ip.UnmarshalBinary(b); err != nil {
		return ip, fmt.Errorf("location_ip: %w", err)
	}
	return ip, nil
}

func visitorID(b []byte) (v analytics.VisitorID) {
	copy(v[:], b)
	return v
}

type dimJSON struct {
	ID    int    `json:"id"`
	Value string `json:"v"`
}

// dimensionsJSON encodes custom dimensions, NULL when there are none.
func dimensionsJSON(d []analytics.Dimension) (any, error) {
	if len(d) == 0 {
		return nil, nil
	}
	js := make([]dimJSON, len(d))
	for i, x := range d {
		js[i] = dimJSON{x.ID, x.Value}
	}
	b, err := json.Marshal(js)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func parseDimensions(s sql.NullString) ([]analytics.Dimension, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var js []dimJSON
	if err := json.Unmarshal([]byte(s.String), &js); err != nil {
		return nil, fmt.Errorf("dimensions: %w", err)
	}
	d := make([]analytics.Dimension, len(js))
	for i, x := range js {
		d[i] = analytics.Dimension{ID: x.ID, Value: x.Value}
	}
	return d, nil
}

// listJSON encodes a string list of a site ('[]' when empty).
func listJSON(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func parseList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// nullInt returns NULL for an absent value.
func nullInt(v int64, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func nullFloat(v float64, ok bool) any {
	if !ok {
		return nil
	}
	return v
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
