package maxmindgeo

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	maxminddb "github.com/oschwald/maxminddb-golang/v2"
)

// syntheticNetworks is the size of the realistic-size database the
// benchmarks build: GeoLite2-City and DB-IP City Lite hold a few million
// networks; a million keeps the build under a minute on a small machine
// and the per-network costs (Verify, lookups) scale from it.
const syntheticNetworks = 1_000_000

// syntheticCity returns a City database in the GeoIP2 layout with
// syntheticNetworks networks and 20 000 places, each record shaped like a
// GeoLite2-City record: continent, country and registered country with
// names in 8 languages, one subdivision, city names, location, postal code.
// Building it takes about a minute, so it is kept in the user's cache
// directory (like Go's build and fuzz caches) and reused by later runs.
func syntheticCity(b *testing.B) string {
	b.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "footfall-bench")
	path := filepath.Join(dir, fmt.Sprintf("maxmindgeo-synthetic-city-v1-%d.mmdb", syntheticNetworks))
	if g, err := Open(path, Options{SkipVerify: true}); err == nil {
		g.Close()
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
	if err := writeSynthetic(tmp, syntheticNetworks); err != nil {
		os.Remove(tmp)
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	if fi, err := os.Stat(path); err == nil {
		b.Logf("built %s: %d networks, %.1f MB in %v", path, syntheticNetworks, float64(fi.Size())/1e6, time.Since(start).Round(time.Millisecond))
	}
	return path
}

func writeSynthetic(path string, networks int) error {
	rng := rand.New(rand.NewPCG(42, 42))
	langs := []string{"de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"}
	names := func(base string) mmdbtype.Map {
		m := mmdbtype.Map{}
		for _, l := range langs {
			m[mmdbtype.String(l)] = mmdbtype.String(base + " (" + l + ")")
		}
		return m
	}
	const countries, places = 200, 20_000
	var countryMaps []mmdbtype.Map
	for i := range countries {
		code := string([]byte{byte('A' + i/26), byte('A' + i%26)})
		countryMaps = append(countryMaps, mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1000 + i),
			"iso_code":   mmdbtype.String(code),
			"names":      names("Country " + code),
		})
	}
	continent := mmdbtype.Map{"code": mmdbtype.String("EU"), "geoname_id": mmdbtype.Uint32(6255148), "names": names("Europe")}
	var records []mmdbtype.Map
	for i := range places {
		c := i % countries
		records = append(records, mmdbtype.Map{
			"city":               mmdbtype.Map{"geoname_id": mmdbtype.Uint32(100000 + i), "names": names(fmt.Sprintf("City %d", i))},
			"continent":          continent,
			"country":            countryMaps[c],
			"registered_country": countryMaps[(c+1)%countries],
			"location": mmdbtype.Map{
				"accuracy_radius": mmdbtype.Uint16(20),
				"latitude":        mmdbtype.Float64(rng.Float64()*180 - 90),
				"longitude":       mmdbtype.Float64(rng.Float64()*360 - 180),
				"time_zone":       mmdbtype.String("Europe/Zone" + fmt.Sprint(c)),
			},
			"postal":       mmdbtype.Map{"code": mmdbtype.String(fmt.Sprintf("%05d", i))},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"geoname_id": mmdbtype.Uint32(500000 + i/10), "iso_code": mmdbtype.String(fmt.Sprintf("R%d", i%90)), "names": names(fmt.Sprintf("Region %d", i/10))}},
		})
	}
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "GeoLite2-City",
		RecordSize:   28,
		Languages:    langs,
		Description:  map[string]string{"en": "footfall synthetic City database for benchmarks"},
	})
	if err != nil {
		return err
	}
	// Distinct IPv4 /24s (9 in 10) and IPv6 /48s, in public space.
	for i := range networks {
		rec := records[rng.IntN(places)]
		var n *net.IPNet
		if i%10 != 9 {
			a := byte(1 + rng.IntN(222))
			if a == 10 || a == 100 || a == 127 || a == 169 || a == 172 || a == 192 || a == 198 || a == 203 {
				a = 81
			}
			n = &net.IPNet{IP: net.IPv4(a, byte(rng.Uint32()), byte(rng.Uint32()), 0).To4(), Mask: net.CIDRMask(24, 32)}
		} else {
			ip := make(net.IP, 16)
			ip[0], ip[1] = 0x2a, byte(rng.Uint32())
			ip[2], ip[3], ip[4], ip[5] = byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())
			n = &net.IPNet{IP: ip, Mask: net.CIDRMask(48, 128)}
		}
		if err := w.Insert(n, rec); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchAddrs returns up to n addresses that the database knows, one in each
// of the first networks, shuffled.
func benchAddrs(b *testing.B, path string, n int) []netip.Addr {
	b.Helper()
	r, err := maxminddb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var addrs []netip.Addr
	all := 0
	for res := range r.Networks() {
		all++
		if len(addrs) < n {
			addrs = append(addrs, res.Prefix().Addr())
		} else if j := rand.IntN(all); j < n { // reservoir sample over the whole tree
			addrs[j] = res.Prefix().Addr()
		}
	}
	rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	return addrs
}

// geoip2Record is what a reflection decode of the usual GeoIP2 City model
// looks like (names maps in every language): the baseline we compare with.
type geoip2Record struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  float64 `maxminddb:"latitude"`
		Longitude float64 `maxminddb:"longitude"`
		TimeZone  string  `maxminddb:"time_zone"`
	} `maxminddb:"location"`
	Subdivisions []struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
}

// BenchmarkLookupCity measures lookups per second on a City database, over
// 4096 known addresses: Footfall's Lookup with its record cache
// (maxmindgeo) and without it (maxmindgeo-nocache: every lookup decodes),
// against two baselines measured in the same run, the bare search-tree walk
// of the library (tree-only, the floor) and a reflection decode into the
// usual GeoIP2 model with names maps (reflect).
func BenchmarkLookupCity(b *testing.B) {
	dbs := []struct{ name, path string }{
		{"GeoIP2-City-Test", geoip2City},
		{"synthetic-1M", ""},
	}
	for _, d := range dbs {
		b.Run("db="+d.name, func(b *testing.B) {
			path := d.path
			if path == "" {
				path = syntheticCity(b)
			}
			g, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			// The same database without the record cache: the decoder's cost.
			nc, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			nc.db.Load().cache = nil
			r, err := maxminddb.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			addrs := benchAddrs(b, path, 4096)

			impls := []struct {
				name   string
				lookup func(ip netip.Addr) bool
			}{
				{"maxmindgeo", func(ip netip.Addr) bool {
					l, err := g.Lookup(ip)
					return err == nil && l.CountryCode != ""
				}},
				{"maxmindgeo-nocache", func(ip netip.Addr) bool {
					l, err := nc.Lookup(ip)
					return err == nil && l.CountryCode != ""
				}},
				{"tree-only", func(ip netip.Addr) bool {
					return r.Lookup(ip).Found()
				}},
				{"reflect", func(ip netip.Addr) bool {
					var rec geoip2Record
					return r.Lookup(ip).Decode(&rec) == nil && rec.Country.ISOCode != ""
				}},
			}
			for _, im := range impls {
				b.Run("impl="+im.name, func(b *testing.B) {
					b.Run("serial", func(b *testing.B) {
						b.ReportAllocs()
						hits := 0
						i := 0
						cpu := startCPU()
						b.ResetTimer()
						for b.Loop() {
							if im.lookup(addrs[i%len(addrs)]) {
								hits++
							}
							i++
						}
						b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "lookups/s")
						cpu.report(b, i)
						if hits == 0 {
							b.Fatal("no address resolved")
						}
					})
					b.Run("parallel", func(b *testing.B) {
						b.ReportAllocs()
						cpu := startCPU()
						b.ResetTimer()
						b.RunParallel(func(pb *testing.PB) {
							i := rand.IntN(len(addrs))
							for pb.Next() {
								im.lookup(addrs[i%len(addrs)])
								i++
							}
						})
						perSec := float64(b.N) / b.Elapsed().Seconds()
						b.ReportMetric(perSec, "lookups/s")
						b.ReportMetric(perSec/float64(runtime.GOMAXPROCS(0)), "lookups/s/core")
						cpu.report(b, b.N)
					})
				})
			}
		})
	}
}

// cpuClock measures the CPU time a benchmark used, to report a figure that
// other processes competing for the cores do not inflate: wall-clock
// lookups/s on a shared machine measure the machine's load as much as the
// code. lookups/cpu-s is the number of lookups one fully used core does
// per second (garbage collection included).
type cpuClock struct {
	start time.Duration
	ok    bool
}

// startCPU collects garbage left by earlier benchmarks and setup (opening
// a database allocates several times its size), so that this benchmark's
// CPU time is its own, then starts the clock.
func startCPU() cpuClock {
	runtime.GC()
	d, ok := processCPU()
	return cpuClock{d, ok}
}

func (c cpuClock) report(b *testing.B, n int) {
	end, ok := processCPU()
	if !c.ok || !ok || end <= c.start || n == 0 {
		return
	}
	used := end - c.start
	b.ReportMetric(float64(used.Nanoseconds())/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(n)/used.Seconds(), "lookups/cpu-s")
}

// BenchmarkOpen measures loading a database, with and without the full
// Verify, to price Options.SkipVerify.
func BenchmarkOpen(b *testing.B) {
	for _, d := range []struct{ name, path string }{{"GeoIP2-City-Test", geoip2City}, {"synthetic-1M", ""}} {
		for _, skip := range []bool{false, true} {
			b.Run(fmt.Sprintf("db=%s/verify=%v", d.name, !skip), func(b *testing.B) {
				path := d.path
				if path == "" {
					path = syntheticCity(b)
				}
				b.ReportAllocs()
				for b.Loop() {
					g, err := Open(path, Options{SkipVerify: skip})
					if err != nil {
						b.Fatal(err)
					}
					g.Close()
				}
			})
		}
	}
}
