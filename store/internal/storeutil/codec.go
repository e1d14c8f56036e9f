package storeutil

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/footfall/analytics"
)

// BoolInt is the 0 or 1 a boolean column stores.
func BoolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// NullFloat is the argument of a nullable float column: NULL unless ok.
func NullFloat(v float64, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

// IPBytes is the argument of an address column: 4 or 16 bytes (a 4in6
// address stays 16), NULL when ip is invalid (no IP stored).
func IPBytes(ip netip.Addr) any {
	if !ip.IsValid() {
		return nil
	}
	b, _ := ip.MarshalBinary()
	return b
}

// ParseIP is the inverse of IPBytes: NULL or empty is the zero Addr.
func ParseIP(b []byte) (netip.Addr, error) {
	var ip netip.Addr
	if len(b) == 0 {
		return ip, nil
	}
	if err := ip.UnmarshalBinary(b); err != nil {
		return ip, fmt.Errorf("location_ip: %w", err)
	}
	return ip, nil
}

// VisitorID reads an 8-byte visitor or config id column; a shorter value
// is padded with zeros, a longer one cut.
func VisitorID(b []byte) (v analytics.VisitorID) {
	copy(v[:], b)
	return v
}

// ListJSON encodes a string list of a site as a JSON array ("[]" when
// empty).
func ListJSON(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// ParseList decodes a ListJSON array; an empty one is nil.
func ParseList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

type dimJSON struct {
	ID    int    `json:"id"`
	Value string `json:"v"`
}

// EncodeDimensions encodes custom dimensions as a JSON array of
// {"id":…,"v":…} objects; nil when there are none (a NULL column).
func EncodeDimensions(d []analytics.Dimension) ([]byte, error) {
	if len(d) == 0 {
		return nil, nil
	}
	js := make([]dimJSON, len(d))
	for i, x := range d {
		js[i] = dimJSON{x.ID, x.Value}
	}
	return json.Marshal(js)
}

// ParseDimensions is the inverse of EncodeDimensions: NULL or empty is
// none.
func ParseDimensions(b []byte) ([]analytics.Dimension, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var js []dimJSON
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, fmt.Errorf("dimensions: %w", err)
	}
	d := make([]analytics.Dimension, len(js))
	for i, x := range js {
		d[i] = analytics.Dimension{ID: x.ID, Value: x.Value}
	}
	return d, nil
}

// ValidDay reports whether d is a "2006-01-02" date.
func ValidDay(d string) bool {
	t, err := time.Parse(time.DateOnly, d)
	return err == nil && t.Format(time.DateOnly) == d
}

// CheckDay fails with ErrInvalid unless ValidDay(day).
func CheckDay(day string) error {
	if !ValidDay(day) {
		return Invalid("day is not YYYY-MM-DD")
	}
	return nil
}
