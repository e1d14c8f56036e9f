package maxmindgeo

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/footfall/analytics"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Databases shipped in testdata/ (see testdata/README.md).
const (
	geoip2City    = "testdata/GeoIP2-City-Test.mmdb"
	geolite2City  = "testdata/GeoLite2-City-Test.mmdb"
	geoip2Country = "testdata/GeoIP2-Country-Test.mmdb"
	geolite2Ctry  = "testdata/GeoLite2-Country-Test.mmdb"
)

// entry is one network of a database built by a test.
type entry struct {
	network string // CIDR
	record  mmdbtype.Map
}

// buildDB writes a MaxMind DB with the given records to dir/name and
// returns its path. ipVersion is 4 or 6.
func buildDB(t testing.TB, dir, name, dbType string, ipVersion int, entries []entry) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: dbType,
		IPVersion:    ipVersion,
		RecordSize:   28,
		Languages:    []string{"en"},
		Description:  map[string]string{"en": "footfall test database"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		_, n, err := net.ParseCIDR(e.network)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, e.record); err != nil {
			t.Fatalf("insert %s: %v", e.network, err)
		}
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// flatCity is a record in the flat layout of the ip-location-db files.
// Coordinates are given as mmdbtype values so tests can vary their encoding.
func flatCity(cc, state1, state2, city, postcode string, lat, lon mmdbtype.DataType, tz string) mmdbtype.Map {
	m := mmdbtype.Map{
		"country_code": mmdbtype.String(cc),
		"state1":       mmdbtype.String(state1),
		"state2":       mmdbtype.String(state2),
		"city":         mmdbtype.String(city),
		"postcode":     mmdbtype.String(postcode),
		"timezone":     mmdbtype.String(tz),
	}
	if lat != nil {
		m["latitude"] = lat
	}
	if lon != nil {
		m["longitude"] = lon
	}
	return m
}

// flatFixture is a City database in the flat layout, with the same five
// places as the MaxMind test databases, its coordinates stored as double,
// float and string to cover the encodings seen in the wild. Its database
// type is the one DB-IP's official (GeoIP2-layout) download uses too, so
// only the records can tell the layouts apart.
func flatFixture(t testing.TB, dir string) string {
	return buildDB(t, dir, "flat-city.mmdb", "DBIP-City-Lite", 6, []entry{
		{"81.2.69.142/31", flatCity("GB", "England", "", "London", "EC2V", mmdbtype.Float64(51.5142), mmdbtype.Float64(-0.0931), "Europe/London")},
		{"216.160.83.56/29", flatCity("US", "Washington", "Pierce County", "Milton", "98354", mmdbtype.Float32(47.2513), mmdbtype.Float32(-122.3149), "America/Los_Angeles")},
		{"89.160.20.112/28", flatCity("SE", "Östergötland County", "", "Linköping", "", mmdbtype.String("58.4167"), mmdbtype.String("15.6167"), "Europe/Stockholm")},
		{"2001:218::/32", mmdbtype.Map{"country_code": mmdbtype.String("JP"), "latitude": mmdbtype.Float64(35.68536), "longitude": mmdbtype.Float64(139.75309), "timezone": mmdbtype.String("Asia/Tokyo")}},
		{"214.0.1.0/24", flatCity("AU", "Victoria", "", "Melbourne", "3000", mmdbtype.Float64(-37.8159), mmdbtype.Float64(144.9669), "Australia/Melbourne")},
	})
}

// flatCases are the answers flatFixture gives. The flat layout has no
// region code, only its name.
func flatCases() []caseT {
	return []caseT{
		{"london", "81.2.69.142", loc("gb", "", "England", "London", 51.5142, -0.0931, "Europe/London")},
		{"milton", "216.160.83.56", loc("us", "", "Washington", "Milton", 47.2513, -122.3149, "America/Los_Angeles")},
		{"linkoping", "89.160.20.112", loc("se", "", "Östergötland County", "Linköping", 58.4167, 15.6167, "Europe/Stockholm")},
		{"japan", "2001:218::1", loc("jp", "", "", "", 35.68536, 139.75309, "Asia/Tokyo")},
		{"melbourne", "::214.0.1.1", loc("au", "", "Victoria", "Melbourne", -37.8159, 144.9669, "Australia/Melbourne")},
		{"melbourne ipv4", "214.0.1.1", loc("au", "", "Victoria", "Melbourne", -37.8159, 144.9669, "Australia/Melbourne")},
		{"unknown", "1.1.1.1", analytics.Location{}},
	}
}

// otherFlatFixture gives different answers for the same addresses, for the
// reload tests.
func otherFlatFixture(t testing.TB, dir string) string {
	return buildDB(t, dir, "other-flat-city.mmdb", "DBIP-City-Lite", 6, []entry{
		{"81.2.69.0/24", flatCity("FR", "Île-de-France", "Paris", "Paris", "75001", mmdbtype.Float64(48.8566), mmdbtype.Float64(2.3522), "Europe/Paris")},
		{"216.160.83.0/24", flatCity("CA", "Ontario", "", "Toronto", "", mmdbtype.Float64(43.6532), mmdbtype.Float64(-79.3832), "America/Toronto")},
		{"89.160.20.0/24", flatCity("NO", "Oslo", "", "Oslo", "", mmdbtype.Float64(59.9139), mmdbtype.Float64(10.7522), "Europe/Oslo")},
		{"2001:218::/32", flatCity("KR", "Seoul", "", "Seoul", "", mmdbtype.Float64(37.5665), mmdbtype.Float64(126.978), "Asia/Seoul")},
		{"214.0.1.0/24", flatCity("NZ", "Auckland", "", "Auckland", "", mmdbtype.Float64(-36.8485), mmdbtype.Float64(174.7633), "Pacific/Auckland")},
	})
}

func otherFlatCases() []caseT {
	return []caseT{
		{"london", "81.2.69.142", loc("fr", "", "Île-de-France", "Paris", 48.8566, 2.3522, "Europe/Paris")},
		{"milton", "216.160.83.56", loc("ca", "", "Ontario", "Toronto", 43.6532, -79.3832, "America/Toronto")},
		{"linkoping", "89.160.20.112", loc("no", "", "Oslo", "Oslo", 59.9139, 10.7522, "Europe/Oslo")},
		{"japan", "2001:218::1", loc("kr", "", "Seoul", "Seoul", 37.5665, 126.978, "Asia/Seoul")},
		{"melbourne", "::214.0.1.1", loc("nz", "", "Auckland", "Auckland", -36.8485, 174.7633, "Pacific/Auckland")},
		{"unknown", "1.1.1.1", analytics.Location{}},
	}
}

// caseT mirrors geotest.Case without importing it here.
type caseT struct {
	name, addr string
	want       analytics.Location
}

func loc(cc, regionCode, regionName, city string, lat, lon float64, tz string) analytics.Location {
	return analytics.Location{CountryCode: cc, RegionCode: regionCode, RegionName: regionName, City: city,
		Latitude: lat, Longitude: lon, HasCoords: true, TimeZone: tz}
}

// cityCases are the answers of GeoIP2-City-Test.mmdb (testdata/README.md).
// GeoLite2-City-Test.mmdb gives the same, except that it does not hold
// ::214.0.1.1 (Melbourne).
func cityCases(lite bool) []caseT {
	cs := []caseT{
		{"london", "81.2.69.142", loc("gb", "ENG", "England", "London", 51.5142, -0.0931, "Europe/London")},
		{"milton", "216.160.83.56", loc("us", "WA", "Washington", "Milton", 47.2513, -122.3149, "America/Los_Angeles")},
		{"linkoping", "89.160.20.112", loc("se", "E", "Östergötland County", "Linköping", 58.4167, 15.6167, "Europe/Stockholm")},
		{"japan, country only", "2001:218::1", loc("jp", "", "", "", 35.68536, 139.75309, "Asia/Tokyo")},
		{"not in the database", "1.1.1.1", analytics.Location{}},
	}
	melbourne := loc("au", "VIC", "Victoria", "Melbourne", -37.8159, 144.9669, "Australia/Melbourne")
	if lite {
		melbourne = analytics.Location{}
	}
	// An IPv4 lookup walks the same ::/96 subtree as the IPv4-compatible form.
	return append(cs, caseT{"melbourne", "::214.0.1.1", melbourne}, caseT{"melbourne ipv4", "214.0.1.1", melbourne})
}

// countryCases are the answers of the Country test databases.
func countryCases() []caseT {
	return []caseT{
		{"gb", "81.2.69.142", analytics.Location{CountryCode: "gb"}},
		{"us", "216.160.83.56", analytics.Location{CountryCode: "us"}},
		{"se", "89.160.20.112", analytics.Location{CountryCode: "se"}},
		{"jp", "2001:218::1", analytics.Location{CountryCode: "jp"}},
		{"no", "2a02:cf40::1", analytics.Location{CountryCode: "no"}},
		{"not in the database", "1.1.1.1", analytics.Location{}},
	}
}

// copyFile copies src to dst through a temporary file and a rename, the way
// updaters replace a database.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}
