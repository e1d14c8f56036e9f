package maxmindgeo

import (
	"errors"

	maxminddb "github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// sampleRecords is how many records detect reads at most.
const sampleRecords = 256

// probe notes which top-level keys a record has, and their kinds.
type probe struct {
	geoip2, flat bool // a key only that layout has
	cities       bool // a key below country level
}

var _ mmdbdata.CursorUnmarshaler = (*probe)(nil)

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (p *probe) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	k, err := c.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if k != mmdbdata.KindMap {
		// Not a map: neither layout (a test database of bare values, say).
		return c.Skip()
	}
	m, err := openMap(c)
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		vk, err := v.Kind()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		switch string(key) {
		case "country", "registered_country", "represented_country", "continent":
			p.geoip2 = p.geoip2 || vk == mmdbdata.KindMap
		case "subdivisions":
			p.geoip2 = p.geoip2 || vk == mmdbdata.KindSlice
			p.cities = true
		case "location":
			p.geoip2 = p.geoip2 || vk == mmdbdata.KindMap
			p.cities = true
		case "city":
			// A map in GeoIP2, a string in the flat layout.
			p.geoip2 = p.geoip2 || vk == mmdbdata.KindMap
			p.flat = p.flat || vk == mmdbdata.KindString
			p.cities = true
		case "country_code":
			p.flat = p.flat || vk == mmdbdata.KindString
		case "state1", "latitude", "longitude", "timezone":
			p.cities = true
		}
		if next, err = v.Skip(); err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

var (
	errNoRecords     = errors.New("no records")
	errMixedLayout   = errors.New("records in both the GeoIP2 and the flat layout")
	errUnknownLayout = errors.New("no record has a known location field (country, country_code, city, location)")
)

// detect decides the layout by decoding the first records of the database
// (up to sampleRecords), never from the file name. The database type in the
// metadata is not enough: DB-IP's official downloads and the flat
// republished files both call themselves some variant of "DBIP-City-Lite".
// It also reports whether the records carry data below country level.
func detect(r *maxminddb.Reader) (layout Layout, cities bool, err error) {
	var seen int
	var all probe
	for res := range r.Networks() {
		var p probe
		if err := res.Decode(&p); err != nil {
			return LayoutUnknown, false, err
		}
		all.geoip2 = all.geoip2 || p.geoip2
		all.flat = all.flat || p.flat
		all.cities = all.cities || p.cities
		if seen++; seen >= sampleRecords {
			break
		}
	}
	switch {
	case seen == 0:
		return LayoutUnknown, false, errNoRecords
	case all.geoip2 && all.flat:
		return LayoutUnknown, false, errMixedLayout
	case all.geoip2:
		return LayoutGeoIP2, all.cities, nil
	case all.flat:
		return LayoutFlat, all.cities, nil
	}
	return LayoutUnknown, false, errUnknownLayout
}
