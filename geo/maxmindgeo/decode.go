package maxmindgeo

import (
	"fmt"
	"strconv"

	"github.com/footfall/analytics"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// Layout is the shape of the records in a database.
type Layout uint8

const (
	// LayoutUnknown: no record with a known location field was found.
	LayoutUnknown Layout = iota
	// LayoutGeoIP2 is MaxMind's GeoIP2 schema, used by GeoIP2/GeoLite2 City
	// and Country and by DB-IP's official MaxMind-format Lite downloads:
	// country.iso_code, subdivisions[].iso_code and names, city.names,
	// location.latitude, longitude and time_zone.
	LayoutGeoIP2
	// LayoutFlat is the flat schema of republished files such as the
	// ip-location-db project's: top-level country_code, state1, state2, city,
	// postcode, latitude, longitude, timezone.
	LayoutFlat
)

// String returns "geoip2", "flat" or "unknown".
func (l Layout) String() string {
	switch l {
	case LayoutGeoIP2:
		return "geoip2"
	case LayoutFlat:
		return "flat"
	}
	return "unknown"
}

// maxEntries bounds the maps and arrays a record decoder walks. Real
// records have a dozen keys and a few dozen names; a verified database
// cannot point outside itself, so this only cuts short absurd records.
const maxEntries = 4096

// record decodes one database record straight into an analytics.Location
// through the library's cursor API: no reflection, no maps, only the fields
// a Location needs. Names in languages other than lang (and "en", the
// fallback) are skipped without being read.
//
// layout and lang are set before decoding; loc is the result.
type record struct {
	layout Layout
	lang   string
	loc    analytics.Location
}

var _ mmdbdata.CursorUnmarshaler = (*record)(nil)

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (r *record) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	if r.layout == LayoutFlat {
		return r.flat(c)
	}
	return r.geoip2(c)
}

// geoip2 reads the nested GeoIP2 schema.
func (r *record) geoip2(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
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
		switch string(key) {
		case "country":
			next, err = r.country(v)
		case "subdivisions":
			next, err = r.subdivisions(v)
		case "city":
			next, err = readName(v, r.lang, &r.loc.City)
		case "location":
			next, err = r.location(v)
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fieldError(key, err)
		}
	}
	return m.End()
}

// country reads country.iso_code.
func (r *record) country(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
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
		if string(key) == "iso_code" {
			var code string
			code, next, err = v.ReadString()
			r.loc.CountryCode = lowerCountry(code)
		} else {
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fieldError(key, err)
		}
	}
	return m.End()
}

// subdivisions reads the iso_code and name of the first (largest)
// subdivision and skips the others.
func (r *record) subdivisions(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	s, err := c.SliceMaxSize(maxEntries)
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		i, v, ok := s.Next(next)
		if !ok {
			break
		}
		if i == 0 {
			next, err = r.subdivision(v)
		} else {
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fmt.Errorf("%d: %w", i, err)
		}
	}
	return s.End()
}

func (r *record) subdivision(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
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
		switch string(key) {
		case "iso_code":
			r.loc.RegionCode, next, err = v.ReadString()
		case "names":
			next, err = readNames(v, r.lang, &r.loc.RegionName)
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fieldError(key, err)
		}
	}
	return m.End()
}

// location reads latitude, longitude and time_zone.
func (r *record) location(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	m, err := openMap(c)
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var (
		next           mmdbdata.Cursor
		lat, lon       float64
		hasLat, hasLon bool
	)
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "latitude":
			lat, hasLat, next, err = readCoord(v)
		case "longitude":
			lon, hasLon, next, err = readCoord(v)
		case "time_zone":
			r.loc.TimeZone, next, err = v.ReadString()
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fieldError(key, err)
		}
	}
	r.setCoords(lat, lon, hasLat && hasLon)
	return m.End()
}

// flat reads the flat schema. state2 and postcode have no place in a
// Location and are skipped with everything else.
func (r *record) flat(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	m, err := openMap(c)
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var (
		next           mmdbdata.Cursor
		lat, lon       float64
		hasLat, hasLon bool
	)
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "country_code":
			var code string
			code, next, err = v.ReadString()
			r.loc.CountryCode = lowerCountry(code)
		case "state1":
			r.loc.RegionName, next, err = v.ReadString()
		case "city":
			r.loc.City, next, err = v.ReadString()
		case "latitude":
			lat, hasLat, next, err = readCoord(v)
		case "longitude":
			lon, hasLon, next, err = readCoord(v)
		case "timezone":
			r.loc.TimeZone, next, err = v.ReadString()
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fieldError(key, err)
		}
	}
	r.setCoords(lat, lon, hasLat && hasLon)
	return m.End()
}

// setCoords keeps coordinates only when both are present and in range.
func (r *record) setCoords(lat, lon float64, ok bool) {
	// The negated comparisons also reject NaN.
	if !ok || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) {
		return
	}
	r.loc.Latitude, r.loc.Longitude, r.loc.HasCoords = lat, lon, true
}

// readNames reads a GeoIP2 names map ({"en": "London", "de": …}) and
// stores the name in lang, or the English one when lang is missing.
func readNames(c mmdbdata.Cursor, lang string, dst *string) (mmdbdata.Cursor, error) {
	m, err := openMap(c)
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var (
		next      mmdbdata.Cursor
		en        string
		found     bool
		enKnown   = lang == "en"
		candidate string
	)
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		switch {
		case string(key) == lang:
			candidate, next, err = v.ReadString()
			found = true
		case !enKnown && string(key) == "en":
			en, next, err = v.ReadString()
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fieldError(key, err)
		}
	}
	if found {
		*dst = candidate
	} else {
		*dst = en
	}
	return m.End()
}

// readName reads a GeoIP2 object that has a names map (city).
func readName(c mmdbdata.Cursor, lang string, dst *string) (mmdbdata.Cursor, error) {
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
		if string(key) == "names" {
			next, err = readNames(v, lang, dst)
		} else {
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, fieldError(key, err)
		}
	}
	return m.End()
}

// readCoord reads a coordinate stored as a double or float, or as a
// decimal string (some converters write CSV fields verbatim). ok is false
// for a string that is not a number (or is empty): a missing coordinate,
// not a broken database.
func readCoord(c mmdbdata.Cursor) (f float64, ok bool, next mmdbdata.Cursor, err error) {
	k, err := c.Kind()
	if err != nil {
		return 0, false, mmdbdata.Cursor{}, err
	}
	if k == mmdbdata.KindString {
		s, next, err := c.ReadStringMaxSize(64)
		if err != nil {
			return 0, false, mmdbdata.Cursor{}, err
		}
		f, perr := strconv.ParseFloat(s, 64)
		return f, perr == nil, next, nil
	}
	f, next, err = c.ReadFloat()
	return f, err == nil, next, err
}

// fieldError says in which field err happened; nested calls build a path
// ("location: latitude: …"). Only the error path allocates.
func fieldError(key []byte, err error) error {
	return fmt.Errorf("%s: %w", key, err)
}

// openMap opens a map and bounds its size.
func openMap(c mmdbdata.Cursor) (mmdbdata.MapCursor, error) {
	m, err := c.Map()
	if err != nil {
		return m, err
	}
	if m.Size() > maxEntries {
		return m, mmdbdata.NewInvalidDatabaseError("map of %d entries exceeds %d", m.Size(), maxEntries)
	}
	return m, nil
}

// lowerCountry lower-cases an ISO 3166-1 alpha-2 code without allocating.
// Anything that is not two ASCII letters is not a country code and yields
// "", and so does "ZZ", the code some databases (DB-IP) use for "unknown".
func lowerCountry(code string) string {
	if len(code) != 2 {
		return ""
	}
	a, b := code[0]|0x20, code[1]|0x20
	if a < 'a' || a > 'z' || b < 'a' || b > 'z' || (a == 'z' && b == 'z') {
		return ""
	}
	return countryCodes[int(a-'a')*26+int(b-'a')]
}

// countryCodes holds every two-letter lower-case code, so that lowerCountry
// returns shared strings. It is filled once and never written again.
var countryCodes = func() (t [26 * 26]string) {
	for i := range t {
		t[i] = string([]byte{byte('a' + i/26), byte('a' + i%26)})
	}
	return t
}()
