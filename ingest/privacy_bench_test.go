package ingest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	maxminddb "github.com/oschwald/maxminddb-golang/v2"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/geo/maxmindgeo"
	"github.com/footfall/analytics/store/sqlitestore"
)

// BenchmarkProcessorPrivacy measures what geolocation (a MaxMind City
// database through maxmindgeo) and PII scrubbing cost the processor: the
// same deliveries of 500 realistic hits (procBenchGen's, their addresses
// taken from the database so that lookups find a city; 3% of the page
// URLs carry an e-mail address and a token, 1% of the titles a card
// number) processed with both off ("off": no Geo, ScrubPII off) and both
// on ("on"). "ratio" processes each delivery with both processors in turn
// and reports both rates and the slowdown measured side by side (total,
// and the median of the per-delivery ratios), which a machine shared with
// other work distorts much less than two separate runs. Geolocation runs
// once per visit (a visit keeps its first hit's location): lookups/hit
// says how often. The fake store isolates the processor's own cost; SQLite is the
// embedded deployment.
//
// The databases: geo/maxmindgeo's GeoIP2-City-Test.mmdb (small), and the
// synthetic 1M-network City database that geo/maxmindgeo's benchmarks
// build into the user cache directory, when it is there
// (go test -run x -bench LookupCity ./geo/maxmindgeo builds it).
//
//	go test -run x -bench ProcessorPrivacy -benchtime 200x ./ingest
func BenchmarkProcessorPrivacy(b *testing.B) {
	dbs := []struct{ name, path string }{{"city-test", filepath.Join("..", "geo", "maxmindgeo", "testdata", "GeoIP2-City-Test.mmdb")}}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "footfall-bench", "maxmindgeo-synthetic-city-v1-1000000.mmdb")
		if _, err := os.Stat(p); err == nil {
			dbs = append(dbs, struct{ name, path string }{"synthetic-1M", p})
		}
	}
	for _, db := range dbs {
		geo, err := maxmindgeo.Open(db.path, maxmindgeo.Options{SkipVerify: true})
		if err != nil {
			b.Fatal(err)
		}
		addrs := procBenchGeoAddrs(b, db.path, 4096)
		for _, storeName := range []string{"fake", "sqlite"} {
			b.Run("db="+db.name+"/store="+storeName, func(b *testing.B) {
				var lookups atomic.Int64
				newProc := func(b *testing.B, on bool) *Processor {
					site := procBenchSite()
					o := ProcessorOptions{Queue: &procFakeQueue{}, Now: func() time.Time { return procBase }, SaltPruneInterval: -1}
					if on {
						o.Geo = &procCountingGeo{Geo: geo, n: &lookups}
						site.Privacy.ScrubPII = analytics.On
					}
					if storeName == "fake" {
						site.ID = 1
						o.Store = newProcFakeStore(site)
					} else {
						st, err := sqlitestore.Open(b.Context(), sqlitestore.Options{Path: filepath.Join(b.TempDir(), "bench.db"), Migrate: true})
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(func() { st.Close() })
						if err := st.CreateSite(b.Context(), &site); err != nil {
							b.Fatal(err)
						}
						o.Store = st
					}
					p, err := NewProcessor(o)
					if err != nil {
						b.Fatal(err)
					}
					return p
				}
				for _, mode := range []string{"off", "on"} {
					b.Run("mode="+mode, func(b *testing.B) {
						p := newProc(b, mode == "on")
						ds := procPrivacyDeliveries(b.N, addrs)
						lookups.Store(0)
						b.ReportAllocs()
						b.ResetTimer()
						hits := procProcessAll(b, p, ds)
						procReportHits(b, hits)
						b.ReportMetric(float64(lookups.Load())/float64(hits), "lookups/hit")
					})
				}
				b.Run("mode=ratio", func(b *testing.B) {
					off, on := newProc(b, false), newProc(b, true)
					ds := procPrivacyDeliveries(b.N, addrs)
					lookups.Store(0)
					b.ReportAllocs()
					b.ResetTimer()
					var tOff, tOn time.Duration
					ratios := make([]float64, 0, len(ds))
					hits := 0
					for i, d := range ds {
						// Alternate which goes first, so that neither always
						// finds the caches the other warmed.
						first, second := off, on
						if i%2 == 1 {
							first, second = on, off
						}
						start := time.Now()
						if err := first.Process(b.Context(), d); err != nil {
							b.Fatal(err)
						}
						mid := time.Now()
						if err := second.Process(b.Context(), d); err != nil {
							b.Fatal(err)
						}
						d1, d2 := mid.Sub(start), time.Since(mid)
						if i%2 == 1 {
							d1, d2 = d2, d1
						}
						tOff += d1
						tOn += d2
						ratios = append(ratios, d2.Seconds()/d1.Seconds())
						hits += len(d.Hits)
					}
					b.StopTimer()
					slices.Sort(ratios)
					b.ReportMetric(float64(hits)/tOff.Seconds(), "off-hits/s")
					b.ReportMetric(float64(hits)/tOn.Seconds(), "on-hits/s")
					b.ReportMetric((tOn.Seconds()/tOff.Seconds()-1)*100, "slowdown-%")
					// The median of the per-delivery ratios: a delivery
					// slowed by another process on the machine moves it
					// little.
					b.ReportMetric((ratios[len(ratios)/2]-1)*100, "median-slowdown-%")
					b.ReportMetric(float64(lookups.Load())/float64(hits), "lookups/hit")
				})
			})
		}
		geo.Close()
	}
}

// procBenchGeoAddrs returns up to n addresses of networks the database
// knows, shuffled.
func procBenchGeoAddrs(b *testing.B, path string, n int) []netip.Addr {
	b.Helper()
	r, err := maxminddb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	var addrs []netip.Addr
	all := 0
	for res := range r.Networks() {
		if res.Err() != nil || !res.Found() {
			continue
		}
		a := res.Prefix().Addr().Unmap()
		if !a.IsGlobalUnicast() || a.IsPrivate() {
			continue
		}
		all++
		if len(addrs) < n {
			addrs = append(addrs, a)
		} else if j := rng.IntN(all); j < n { // reservoir sample
			addrs[j] = a
		}
	}
	if len(addrs) == 0 {
		b.Fatalf("%s: no public network", path)
	}
	rng.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	return addrs
}

// procPrivacyDeliveries is procBenchDeliveries with the visitors'
// addresses from addrs and some personal data in URLs and titles.
func procPrivacyDeliveries(n int, addrs []netip.Addr) []*analytics.Delivery {
	g := newProcBenchGen(4)
	for i := range g.visitors {
		g.visitors[i].ip = addrs[i%len(addrs)]
	}
	rng := rand.New(rand.NewPCG(5, 6))
	ds := make([]*analytics.Delivery, n)
	for i := range ds {
		d := g.delivery(500)
		for j := range d.Hits {
			h := &d.Hits[j]
			switch x := rng.IntN(100); {
			case x < 3:
				h.URL += fmt.Sprintf("?email=user%d%%40mail.example&token=%x", rng.IntN(1000), rng.Uint64())
			case x < 4:
				h.Title = "Order for card 4111 1111 1111 " + fmt.Sprintf("%04d", rng.IntN(10000))
			}
		}
		ds[i] = d
	}
	return ds
}

// procCountingGeo counts lookups.
type procCountingGeo struct {
	analytics.Geo
	n *atomic.Int64
}

func (g *procCountingGeo) Lookup(ip netip.Addr) (analytics.Location, error) {
	g.n.Add(1)
	return g.Geo.Lookup(ip)
}
