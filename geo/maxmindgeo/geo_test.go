package maxmindgeo

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo/geotest"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

func open(t testing.TB, path string, opts Options) *Geo {
	t.Helper()
	g, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func toGeotest(cs []caseT) []geotest.Case {
	var out []geotest.Case
	for _, c := range cs {
		out = append(out, geotest.Case{Name: c.name, Addr: c.addr, Want: c.want})
	}
	return out
}

func TestConformance(t *testing.T) {
	flatDir := t.TempDir()
	flat := flatFixture(t, flatDir)
	tests := []struct {
		name  string
		path  string
		cases []caseT
	}{
		{"GeoIP2-City", geoip2City, cityCases(false)},
		{"GeoLite2-City", geolite2City, cityCases(true)},
		{"GeoIP2-Country", geoip2Country, countryCases()},
		{"GeoLite2-Country", geolite2Ctry, countryCases()},
		{"flat-city", flat, flatCases()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			geotest.Run(t, func(t *testing.T) analytics.Geo { return open(t, tt.path, Options{}) }, toGeotest(tt.cases))
		})
	}
}

func TestMetadata(t *testing.T) {
	dir := t.TempDir()
	flat := flatFixture(t, dir)
	flatCountry := buildDB(t, dir, "flat-country.mmdb", "dbip-country", 4, []entry{
		{"81.2.69.0/24", mmdbtype.Map{"country_code": mmdbtype.String("GB")}},
	})
	tests := []struct {
		path      string
		dbType    string
		layout    Layout
		cities    bool
		ipVersion int
	}{
		{geoip2City, "GeoIP2-City", LayoutGeoIP2, true, 6},
		{geolite2City, "GeoLite2-City", LayoutGeoIP2, true, 6},
		{geoip2Country, "GeoIP2-Country", LayoutGeoIP2, false, 6},
		{geolite2Ctry, "GeoLite2-Country", LayoutGeoIP2, false, 6},
		{flat, "DBIP-City-Lite", LayoutFlat, true, 6},
		{flatCountry, "dbip-country", LayoutFlat, false, 4},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			g := open(t, tt.path, Options{})
			m := g.Metadata()
			fi, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Path != tt.path || m.DatabaseType != tt.dbType || m.Layout != tt.layout || m.Cities != tt.cities ||
				m.IPVersion != tt.ipVersion || !m.Verified || m.Size != fi.Size() || !m.ModTime.Equal(fi.ModTime()) {
				t.Errorf("Metadata = %+v; want type %q layout %v cities %v ip %d verified, size %d",
					m, tt.dbType, tt.layout, tt.cities, tt.ipVersion, fi.Size())
			}
			if m.BuildTime.IsZero() || m.BuildTime.Year() < 2000 || m.NodeCount == 0 || len(m.Languages) == 0 || m.LoadedAt.IsZero() {
				t.Errorf("Metadata = %+v: build time, node count, languages and load time must be set", m)
			}
			m.Languages[0] = "changed"
			if g.Metadata().Languages[0] == "changed" {
				t.Error("Metadata shares its Languages slice with the Geo")
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		lang, addr       string
		regionName, city string
	}{
		{"en", "81.2.69.142", "England", "London"},
		{"fr", "81.2.69.142", "Angleterre", "Londres"},
		{"pt-BR", "81.2.69.142", "Inglaterra", "Londres"},
		{"ja", "81.2.69.142", "England", "ロンドン"},                // no Japanese region name: English
		{"fr", "216.160.83.56", "État de Washington", "Milton"}, // no French city name: English
		{"xx", "216.160.83.56", "Washington", "Milton"},         // unknown language: English
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.addr, func(t *testing.T) {
			g := open(t, geoip2City, Options{Language: tt.lang})
			got, err := g.Lookup(netip.MustParseAddr(tt.addr))
			if err != nil {
				t.Fatal(err)
			}
			if got.RegionName != tt.regionName || got.City != tt.city {
				t.Errorf("Lookup(%s) in %q = region %q, city %q; want %q, %q", tt.addr, tt.lang, got.RegionName, got.City, tt.regionName, tt.city)
			}
		})
	}
}

// TestRecordShapes covers record details the test databases lack: the
// first of several subdivisions, the unknown-country code, coordinates
// that are missing, out of range or unparsable, unknown keys of every kind.
func TestRecordShapes(t *testing.T) {
	dir := t.TempDir()
	names := func(kv ...string) mmdbtype.Map {
		m := mmdbtype.Map{}
		for i := 0; i < len(kv); i += 2 {
			m[mmdbtype.String(kv[i])] = mmdbtype.String(kv[i+1])
		}
		return m
	}
	geoip2 := buildDB(t, dir, "shapes-geoip2.mmdb", "GeoIP2-City", 6, []entry{
		{"2.0.0.0/24", mmdbtype.Map{
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String("ES"), "names": names("en", "Spain"), "is_in_european_union": mmdbtype.Bool(true)},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("CT"), "names": names("en", "Catalonia", "es", "Cataluña")}, mmdbtype.Map{"iso_code": mmdbtype.String("B"), "names": names("en", "Barcelona")}},
			"city":         mmdbtype.Map{"names": names("en", "Barcelona"), "geoname_id": mmdbtype.Uint32(3128760)},
			"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(41.3888), "longitude": mmdbtype.Float64(2.159), "accuracy_radius": mmdbtype.Uint16(5), "time_zone": mmdbtype.String("Europe/Madrid")},
			"traits":       mmdbtype.Map{"is_anycast": mmdbtype.Bool(false), "list": mmdbtype.Slice{mmdbtype.Uint64(1), mmdbtype.Int32(-1), mmdbtype.Bytes{1, 2}}},
		}},
		{"2.0.1.0/24", mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String("ZZ")},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(91), "longitude": mmdbtype.Float64(10), "time_zone": mmdbtype.String("Etc/UTC")},
		}},
		{"2.0.2.0/24", mmdbtype.Map{
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String("de")},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(52.5)}, // no longitude
		}},
		{"2.0.3.0/24", mmdbtype.Map{"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}}}, // nothing we use
	})
	flat := buildDB(t, dir, "shapes-flat.mmdb", "custom", 6, []entry{
		{"2.0.0.0/24", flatCity("FR", "Île-de-France", "Paris", "Paris", "75001", mmdbtype.String(""), mmdbtype.String("2.35"), "Europe/Paris")},
		{"2.0.1.0/24", flatCity("fr", "", "", "", "", mmdbtype.Float32(48.85), mmdbtype.Float32(-181), "")},
		{"2.0.2.0/24", flatCity("F", "", "", "", "", nil, nil, "")},
		{"2.0.3.0/24", mmdbtype.Map{"country_code": mmdbtype.String("IT"), "extra": mmdbtype.Slice{mmdbtype.Map{"a": mmdbtype.Bool(true)}}}},
	})
	tests := []struct {
		name, path, addr string
		want             analytics.Location
	}{
		{"first subdivision, unknown keys skipped", geoip2, "2.0.0.1", loc("es", "CT", "Catalonia", "Barcelona", 41.3888, 2.159, "Europe/Madrid")},
		{"ZZ is unknown, latitude out of range", geoip2, "2.0.1.1", analytics.Location{TimeZone: "Etc/UTC"}},
		{"lower-case code kept, half a coordinate", geoip2, "2.0.2.1", analytics.Location{CountryCode: "de"}},
		{"nothing usable", geoip2, "2.0.3.1", analytics.Location{}},
		{"flat: empty string coordinate", flat, "2.0.0.1", analytics.Location{CountryCode: "fr", RegionName: "Île-de-France", City: "Paris", TimeZone: "Europe/Paris"}},
		{"flat: longitude out of range", flat, "2.0.1.1", analytics.Location{CountryCode: "fr"}},
		{"flat: one-letter code", flat, "2.0.2.1", analytics.Location{}},
		{"flat: unknown keys skipped", flat, "2.0.3.1", analytics.Location{CountryCode: "it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := open(t, tt.path, Options{})
			got, err := g.Lookup(netip.MustParseAddr(tt.addr))
			if err != nil || !geotest.Equal(got, tt.want) {
				t.Errorf("Lookup(%s) = %+v, %v; want %+v", tt.addr, got, err, tt.want)
			}
		})
	}
}

// TestWrongTypeIsAnError: a record that is structurally valid (Verify
// passes) but holds the wrong type in a field we read fails the lookup
// with ErrInvalid rather than giving a half-read location.
func TestWrongTypeIsAnError(t *testing.T) {
	dir := t.TempDir()
	path := buildDB(t, dir, "wrong-type.mmdb", "GeoIP2-City", 6, []entry{
		{"2.0.0.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("ES")}}},
		{"2.0.1.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.Uint32(724)}}},
		{"2.0.2.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("ES")}, "city": mmdbtype.Map{"names": mmdbtype.Slice{mmdbtype.String("x")}}}},
		{"2.0.3.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("ES")}, "subdivisions": mmdbtype.Map{}}},
	})
	g := open(t, path, Options{})
	if got, err := g.Lookup(netip.MustParseAddr("2.0.0.1")); err != nil || got.CountryCode != "es" {
		t.Fatalf("good record: %+v, %v", got, err)
	}
	for _, addr := range []string{"2.0.1.1", "2.0.2.1", "2.0.3.1"} {
		got, err := g.Lookup(netip.MustParseAddr(addr))
		if !errors.Is(err, analytics.ErrInvalid) || !got.IsZero() {
			t.Errorf("Lookup(%s) = %+v, %v; want zero and an error wrapping ErrInvalid", addr, got, err)
		}
	}
}

func TestIPv4OnlyDatabase(t *testing.T) {
	dir := t.TempDir()
	path := buildDB(t, dir, "v4.mmdb", "dbip-city-ipv4", 4, []entry{
		{"81.2.69.0/24", flatCity("GB", "England", "", "London", "", mmdbtype.Float64(51.5), mmdbtype.Float64(-0.1), "Europe/London")},
	})
	g := open(t, path, Options{})
	for addr, wantCC := range map[string]string{"81.2.69.142": "gb", "::ffff:81.2.69.142": "gb", "2001:218::1": "", "::214.0.1.1": ""} {
		got, err := g.Lookup(netip.MustParseAddr(addr))
		if err != nil || got.CountryCode != wantCC {
			t.Errorf("Lookup(%s) = %+v, %v; want country %q, no error", addr, got, err, wantCC)
		}
	}
}

// TestRefused: corrupt files and files that are not location databases are
// refused at Open with a clear error, never a panic.
func TestRefused(t *testing.T) {
	dir := t.TempDir()
	notMMDB := filepath.Join(dir, "text.mmdb")
	if err := os.WriteFile(notMMDB, []byte("not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(geoip2City)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mmdb")
	if err := os.WriteFile(truncated, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	asn := buildDB(t, dir, "asn.mmdb", "GeoLite2-ASN", 6, []entry{
		{"1.0.0.0/24", mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(13335), "autonomous_system_organization": mmdbtype.String("Example")}},
	})
	noRecords := buildDB(t, dir, "none.mmdb", "GeoIP2-City", 6, nil)
	mixed := buildDB(t, dir, "mixed.mmdb", "GeoIP2-City", 6, []entry{
		{"1.0.0.0/24", mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("AU")}}},
		{"1.0.1.0/24", mmdbtype.Map{"country_code": mmdbtype.String("CN")}},
	})

	tests := []struct {
		name, path string
		want       error
		msg        string // part of the message
	}{
		{"broken double format", "testdata/GeoIP2-City-Test-Broken-Double-Format.mmdb", analytics.ErrInvalid, "verify"},
		{"invalid node count", "testdata/GeoIP2-City-Test-Invalid-Node-Count.mmdb", analytics.ErrInvalid, "open"},
		{"broken pointers", "testdata/MaxMind-DB-test-broken-pointers-24.mmdb", analytics.ErrInvalid, "verify"},
		{"broken search tree", "testdata/MaxMind-DB-test-broken-search-tree-24.mmdb", analytics.ErrInvalid, "verify"},
		{"not a database", notMMDB, analytics.ErrInvalid, "open"},
		{"empty file", empty, analytics.ErrInvalid, "empty file"},
		{"truncated", truncated, analytics.ErrInvalid, "open"},
		{"ASN database", asn, analytics.ErrInvalid, `database type "GeoLite2-ASN": no record has a known location field`},
		{"no records", noRecords, analytics.ErrInvalid, "no records"},
		{"mixed layouts", mixed, analytics.ErrInvalid, "both"},
		{"directory", dir, analytics.ErrInvalid, "not a regular file"},
		{"missing", filepath.Join(dir, "missing.mmdb"), analytics.ErrUnavailable, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Open(tt.path, Options{})
			if err == nil {
				g.Close()
				t.Fatalf("Open(%s) succeeded", tt.path)
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "maxmindgeo: ") {
				t.Errorf("Open(%s) = %v; want an error wrapping %v mentioning %q", tt.path, err, tt.want, tt.msg)
			}
		})
	}
}

// TestSkipVerify: without the full check, the broken search trees are
// still refused (their records match no known layout), and the database
// with a malformed latitude opens but its broken records fail the lookup
// with an error instead of panicking, while intact records still resolve.
func TestSkipVerify(t *testing.T) {
	for _, path := range []string{"testdata/MaxMind-DB-test-broken-pointers-24.mmdb", "testdata/MaxMind-DB-test-broken-search-tree-24.mmdb"} {
		if _, err := Open(path, Options{SkipVerify: true}); !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("Open(%s, SkipVerify) = %v; want ErrInvalid", path, err)
		}
	}
	g := open(t, "testdata/GeoIP2-City-Test-Broken-Double-Format.mmdb", Options{SkipVerify: true})
	if g.Metadata().Verified {
		t.Error("Metadata.Verified with SkipVerify")
	}
	got, err := g.Lookup(netip.MustParseAddr("81.2.69.142"))
	if !errors.Is(err, analytics.ErrInvalid) || !got.IsZero() || !strings.Contains(err.Error(), "latitude") {
		t.Errorf("Lookup of a broken record = %+v, %v; want zero and an ErrInvalid error about the latitude", got, err)
	}
	got, err = g.Lookup(netip.MustParseAddr("::214.0.1.1"))
	if err != nil || got.City != "Melbourne" {
		t.Errorf("Lookup of an intact record = %+v, %v; want Melbourne", got, err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{
		{Language: strings.Repeat("x", 17)},
		{ReloadInterval: time.Microsecond},
	} {
		if _, err := Open(geoip2City, o); !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("Open with %+v = %v; want ErrInvalid", o, err)
		}
	}
}

func TestClose(t *testing.T) {
	g, err := Open(geoip2City, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := g.Lookup(netip.MustParseAddr("81.2.69.142")); !errors.Is(err, analytics.ErrClosed) {
		t.Errorf("Lookup after Close: %v; want ErrClosed", err)
	}
	if err := g.Reload(); !errors.Is(err, analytics.ErrClosed) {
		t.Errorf("Reload after Close: %v; want ErrClosed", err)
	}
	if m := g.Metadata(); m.DatabaseType != "" {
		t.Errorf("Metadata after Close = %+v; want zero", m)
	}
	if err := g.Run(t.Context()); err != nil {
		t.Errorf("Run after Close = %v; want nil at once", err)
	}
}

func lookupLoc(t *testing.T, g *Geo, addr string) analytics.Location {
	t.Helper()
	got, err := g.Lookup(netip.MustParseAddr(addr))
	if err != nil {
		t.Fatalf("Lookup(%s): %v", addr, err)
	}
	return got
}

// TestReload: Reload swaps databases, refuses corrupt or missing files and
// keeps the previous database serving when it does.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	copyFile(t, geoip2City, path)
	other := otherFlatFixture(t, dir)

	var reloads []error
	g := open(t, path, Options{OnReload: func(m Metadata, err error) {
		if err == nil && m.DatabaseType == "" {
			t.Errorf("OnReload without error got empty metadata")
		}
		reloads = append(reloads, err)
	}})
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "London" {
		t.Fatalf("before reload: %+v", got)
	}

	copyFile(t, other, path)
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "Paris" || g.Metadata().Layout != LayoutFlat {
		t.Fatalf("after reload: %+v, layout %v", got, g.Metadata().Layout)
	}

	for _, bad := range []string{
		"testdata/GeoIP2-City-Test-Broken-Double-Format.mmdb",
		"testdata/GeoIP2-City-Test-Invalid-Node-Count.mmdb",
		"testdata/MaxMind-DB-test-broken-pointers-24.mmdb",
		"testdata/MaxMind-DB-test-broken-search-tree-24.mmdb",
	} {
		copyFile(t, bad, path)
		if err := g.Reload(); !errors.Is(err, analytics.ErrInvalid) {
			t.Errorf("Reload of %s = %v; want ErrInvalid", bad, err)
		}
		if got := lookupLoc(t, g, "81.2.69.142"); got.City != "Paris" {
			t.Errorf("after refusing %s: %+v; the previous database must keep serving", bad, got)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := g.Reload(); !errors.Is(err, analytics.ErrUnavailable) {
		t.Errorf("Reload of a missing file = %v; want ErrUnavailable", err)
	}
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "Paris" {
		t.Errorf("after a missing file: %+v", got)
	}
	copyFile(t, geoip2City, path)
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "London" {
		t.Errorf("after restoring: %+v", got)
	}
	if len(reloads) != 7 || reloads[0] != nil || reloads[6] != nil || reloads[1] == nil || reloads[5] == nil {
		t.Errorf("OnReload calls = %v; want ok, 5 errors, ok", reloads)
	}
}

// TestReloadUnderLoad: 8 goroutines look up addresses in a loop while the
// file is swapped between two databases with different answers 100 times.
// Every answer must come from one of the two databases, and none may fail.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	copyFile(t, geoip2City, path)
	a, b := geoip2City, otherFlatFixture(t, dir)
	// Verification is tested elsewhere; here it would only slow the swaps.
	g := open(t, path, Options{SkipVerify: true})

	wantA, wantB := map[netip.Addr]analytics.Location{}, map[netip.Addr]analytics.Location{}
	for _, c := range cityCases(false) {
		wantA[netip.MustParseAddr(c.addr)] = c.want
	}
	for _, c := range otherFlatCases() {
		wantB[netip.MustParseAddr(c.addr)] = c.want
	}
	var addrs []netip.Addr
	for ip := range wantB {
		addrs = append(addrs, ip)
	}

	var (
		stop         atomic.Bool
		lookups      atomic.Int64
		fromA, fromB atomic.Int64
		wg           sync.WaitGroup
		errs         = make(chan error, 8)
	)
	for w := range 8 {
		wg.Go(func() {
			for i := w; !stop.Load(); i++ {
				if i%64 == 0 {
					runtime.Gosched() // leave the reloader its turn on a busy machine
				}
				ip := addrs[i%len(addrs)]
				got, err := g.Lookup(ip)
				lookups.Add(1)
				if err != nil {
					errs <- err
					return
				}
				switch {
				case geotest.Equal(got, wantA[ip]) && geotest.Equal(got, wantB[ip]):
				case geotest.Equal(got, wantA[ip]):
					fromA.Add(1)
				case geotest.Equal(got, wantB[ip]):
					fromB.Add(1)
				default:
					errs <- errors.New("Lookup(" + ip.String() + ") gave an answer from neither database")
					return
				}
			}
		})
	}
	for i := range 100 {
		src := b
		if i%2 == 1 {
			src = a
		}
		copyFile(t, src, path)
		if err := g.Reload(); err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if fromA.Load() == 0 || fromB.Load() == 0 {
		t.Errorf("answers from A: %d, from B: %d; want both databases seen", fromA.Load(), fromB.Load())
	}
	t.Logf("%d lookups during 100 reloads (%d from A, %d from B)", lookups.Load(), fromA.Load(), fromB.Load())
}

// waitReload waits for the next OnReload report.
func waitReload(t *testing.T, ch <-chan reloadEvent) reloadEvent {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10s")
	}
	return reloadEvent{}
}

type reloadEvent struct {
	meta Metadata
	err  error
}

// TestRunWatchesFile: Run reloads when the file changes, tries a corrupt
// file once (not at every tick), keeps serving while the file is missing,
// and returns nil when its context ends.
func TestRunWatchesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	copyFile(t, geoip2City, path)
	other := otherFlatFixture(t, dir)
	events := make(chan reloadEvent, 16)
	g := open(t, path, Options{
		ReloadInterval: 5 * time.Millisecond,
		OnReload:       func(m Metadata, err error) { events <- reloadEvent{m, err} },
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	copyFile(t, other, path)
	if ev := waitReload(t, events); ev.err != nil || ev.meta.Layout != LayoutFlat {
		t.Fatalf("reload after change: %+v", ev)
	}
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "Paris" {
		t.Fatalf("after watched reload: %+v", got)
	}

	copyFile(t, "testdata/MaxMind-DB-test-broken-search-tree-24.mmdb", path)
	if ev := waitReload(t, events); !errors.Is(ev.err, analytics.ErrInvalid) {
		t.Fatalf("reload of a corrupt file: %+v; want ErrInvalid", ev)
	}
	// The corrupt file is not retried while unchanged; the old database serves.
	select {
	case ev := <-events:
		t.Fatalf("unexpected reload of an unchanged corrupt file: %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "Paris" {
		t.Fatalf("after a corrupt file: %+v", got)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	copyFile(t, geoip2City, path)
	if ev := waitReload(t, events); ev.err != nil || ev.meta.DatabaseType != "GeoIP2-City" {
		t.Fatalf("reload after the file came back: %+v", ev)
	}
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "London" {
		t.Fatalf("after the file came back: %+v", got)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v; want nil after cancel", err)
	}
}

func TestRunStopsOnClose(t *testing.T) {
	g, err := Open(geoip2City, Options{ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(t.Context()) }()
	g.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

// TestRecordCache: with many more records than cache slots, every lookup,
// first or repeated, in any order and from several goroutines, gives the
// record of its own network, never a colliding one.
func TestRecordCache(t *testing.T) {
	const n = 3 << cacheBits // three records per two-way set on average
	var entries []entry
	for i := range n {
		entries = append(entries, entry{
			network: netip.PrefixFrom(netip.AddrFrom4([4]byte{2, byte(i >> 8), byte(i), 0}), 24).String(),
			record:  mmdbtype.Map{"country_code": mmdbtype.String("FR"), "city": mmdbtype.String("c" + strconv.Itoa(i))},
		})
	}
	path := buildDB(t, t.TempDir(), "many.mmdb", "test", 4, entries)
	g := open(t, path, Options{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for round := range 2 {
				for k := range n {
					i := (k*7919 + w*101 + round) % n // a different order per goroutine and round
					ip := netip.AddrFrom4([4]byte{2, byte(i >> 8), byte(i), byte(k)})
					got, err := g.Lookup(ip)
					if err != nil || got.City != "c"+strconv.Itoa(i) {
						t.Errorf("Lookup(%s) = %+v, %v; want city c%d", ip, got, err, i)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestLookupErrorHasNoAddress: an error names no client address, so that a
// caller logging it cannot leak the full IP the worker keeps in memory.
func TestLookupErrorHasNoAddress(t *testing.T) {
	g, err := Open("testdata/GeoIP2-City-Test-Broken-Double-Format.mmdb", Options{SkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	_, err = g.Lookup(netip.MustParseAddr("81.2.69.142"))
	if err == nil {
		t.Fatal("want an error for a broken record")
	}
	if strings.Contains(err.Error(), "81.2") {
		t.Fatalf("error names the address: %v", err)
	}
}
