package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/store/sqlitestore"
)

// The benchmarks feed the processor deliveries of 500 realistic hits:
// about 2000 visitors (a fifth without cookies), page views with a few
// events, downloads, outlinks, site searches and goals, real user agents,
// URLs with tracking parameters and a mix of referrers. Run:
//
//	go test -run x -bench 'Processor|Enrich|StoreOnly' -benchtime 200x ./ingest

var procBenchUAs = []string{
	procChromeUA, procFirefoxUA, procIPhoneUA,
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.64 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/122.0.6261.89 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 OPR/107.0.0.0",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
}

var procBenchRefs = []string{
	"", "", "", "",
	"https://www.google.com/", "https://www.google.co.uk/", "https://www.bing.com/search?q=analytics+privacy",
	"https://duckduckgo.com/", "https://l.facebook.com/l.php?u=x", "https://t.co/abc123",
	"https://news.ycombinator.com/item?id=1", "https://www.reddit.com/r/golang/", "https://blog.partner.example/post/42",
	"https://example.com/blog/", "https://example.com/",
}

type procBenchVisitor struct {
	id analytics.VisitorID
	ip netip.Addr
	ua string
}

// procBenchGen makes the benchmark's hit stream, deterministically.
type procBenchGen struct {
	rng      *rand.Rand
	visitors []procBenchVisitor
	t        time.Time
	shards   int
	pos      []uint64
}

func newProcBenchGen(shards int) *procBenchGen {
	g := &procBenchGen{rng: rand.New(rand.NewPCG(1, 2)), t: procBase, shards: shards, pos: make([]uint64, shards)}
	for i := 0; i < 2000; i++ {
		v := procBenchVisitor{
			ip: netip.AddrFrom4([4]byte{byte(20 + g.rng.IntN(200)), byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(254))}),
			ua: procBenchUAs[g.rng.IntN(len(procBenchUAs))],
		}
		if i%5 != 0 {
			for j := range v.id {
				v.id[j] = byte(g.rng.IntN(256))
			}
		}
		g.visitors = append(g.visitors, v)
	}
	return g
}

func (g *procBenchGen) hit() analytics.Hit {
	r := g.rng
	v := g.visitors[r.IntN(len(g.visitors))]
	g.t = g.t.Add(50 * time.Millisecond)
	h := analytics.Hit{
		SiteID:    1,
		Time:      g.t,
		Kind:      analytics.KindPageview,
		IP:        v.ip,
		UserAgent: v.ua,
		CookieID:  v.id,
		Lang:      "en-GB,en;q=0.9",
		URL:       fmt.Sprintf("https://example.com/section-%d/article-%d", r.IntN(20), r.IntN(300)),
		Title:     fmt.Sprintf("Article %d", r.IntN(300)),
		Referrer:  procBenchRefs[r.IntN(len(procBenchRefs))],
		Device:    analytics.Device{ScreenWidth: 1920, ScreenHeight: 1080, LocalHour: 10, LocalMinute: 3, LocalSecond: 9, Plugins: analytics.PluginCookie | analytics.PluginPDF},
		Timing:    &analytics.PageTiming{Network: 12, Server: 80, Transfer: 5, DOMProcessing: 300, DOMCompletion: 120, OnLoad: 4},
	}
	switch n := r.IntN(100); {
	case n < 8:
		h.URL += "?utm_campaign=spring&utm_source=newsletter&utm_medium=email"
	case n < 14:
		h.URL += "?gclid=EAIaIQobChMI" + fmt.Sprint(r.Uint64())
	case n < 18:
		h.URL = "https://example.com/search?q=" + fmt.Sprint("term", r.IntN(50))
	}
	switch n := r.IntN(100); {
	case n < 15:
		h.Kind, h.Timing = analytics.KindEvent, nil
		h.Event = &analytics.Event{Category: "video", Action: "play", Name: fmt.Sprint("clip-", r.IntN(40))}
	case n < 18:
		h.Kind, h.Timing = analytics.KindDownload, nil
		h.Link = fmt.Sprintf("https://example.com/files/report-%d.pdf", r.IntN(30))
	case n < 21:
		h.Kind, h.Timing = analytics.KindOutlink, nil
		h.Link = fmt.Sprintf("https://partner-%d.example/", r.IntN(30))
	case n < 25:
		h.Kind, h.Timing = analytics.KindPing, nil
	case n < 26:
		h.Kind, h.Timing = analytics.KindGoal, nil
		h.GoalID = 1
	}
	h.ID = analytics.NewHitID(h.Time)
	return h
}

// delivery makes a delivery of n hits for one shard (by ShardKey, as the
// queue would) with increasing positions.
func (g *procBenchGen) delivery(n int) *analytics.Delivery {
	shard := g.rng.IntN(g.shards)
	d := &analytics.Delivery{Shard: fmt.Sprint("bench/", shard), Attempt: 1, Acker: procNopAcker{}}
	for len(d.Hits) < n {
		h := g.hit()
		if int(h.ShardKey()%uint64(g.shards)) != shard {
			continue
		}
		g.pos[shard]++
		h.Pos = analytics.Position{Hi: 1, Lo: g.pos[shard]}
		d.Hits = append(d.Hits, h)
	}
	return d
}

type procNopAcker struct{}

func (procNopAcker) Ack(context.Context, *analytics.Delivery) error         { return nil }
func (procNopAcker) Nack(context.Context, *analytics.Delivery, error) error { return nil }

func procBenchSite() analytics.Site {
	return analytics.Site{Name: "Example", URLs: []string{"https://example.com"}, SiteSearch: true, Timezone: "Europe/Berlin"}
}

func procBenchGoal(site int) analytics.Goal {
	return analytics.Goal{SiteID: site, Name: "newsletter", Match: "manually"}
}

// procBenchDeliveries pre-generates n deliveries of 500 hits so hit
// generation is not timed.
func procBenchDeliveries(n int) []*analytics.Delivery {
	g := newProcBenchGen(4)
	ds := make([]*analytics.Delivery, n)
	for i := range ds {
		ds[i] = g.delivery(500)
	}
	return ds
}

// procProcessAll processes the deliveries in order, failing b on an
// error, and returns how many hits they held.
func procProcessAll(b *testing.B, p *Processor, ds []*analytics.Delivery) int {
	hits := 0
	for _, d := range ds {
		if err := p.Process(b.Context(), d); err != nil {
			b.Fatal(err)
		}
		hits += len(d.Hits)
	}
	return hits
}

func procReportHits(b *testing.B, hits int) {
	b.ReportMetric(float64(hits)/b.Elapsed().Seconds(), "hits/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(hits), "ns/hit")
}

// BenchmarkProcessorSQLite: the whole worker on the embedded store, one
// delivery of 500 hits per op.
func BenchmarkProcessorSQLite(b *testing.B) {
	ctx := b.Context()
	st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(b.TempDir(), "bench.db"), Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	site := procBenchSite()
	if err := st.CreateSite(ctx, &site); err != nil {
		b.Fatal(err)
	}
	g := procBenchGoal(site.ID)
	if err := st.CreateGoal(ctx, &g); err != nil {
		b.Fatal(err)
	}
	ts := &procTimedStore{ProcessorStore: st}
	p, err := NewProcessor(ProcessorOptions{Queue: &procFakeQueue{}, Store: ts, Now: func() time.Time { return procBase }})
	if err != nil {
		b.Fatal(err)
	}
	ds := procBenchDeliveries(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	hits := procProcessAll(b, p, ds)
	procReportHits(b, hits)
	// Where the time goes: store calls per op (delivery).
	n := float64(b.N)
	b.ReportMetric(ts.write.Seconds()*1e3/n, "ms-write/op")
	b.ReportMetric(ts.last.Seconds()*1e3/n, "ms-lastvisit/op")
	b.ReportMetric(float64(ts.lastN)/n, "lastvisits/op")
	b.ReportMetric((ts.salt+ts.ids+ts.cp).Seconds()*1e3/n, "ms-other-store/op")
}

// BenchmarkProcessorSQLiteRun: the deployed shape: hits in a memqueue with
// 16 shards, Run with the default 2 workers (one builds a batch while the
// other writes), until the closed queue is drained. An op is 500 hits.
func BenchmarkProcessorSQLiteRun(b *testing.B) {
	ctx := b.Context()
	st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(b.TempDir(), "bench.db"), Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	site := procBenchSite()
	if err := st.CreateSite(ctx, &site); err != nil {
		b.Fatal(err)
	}
	g := procBenchGoal(site.ID)
	if err := st.CreateGoal(ctx, &g); err != nil {
		b.Fatal(err)
	}
	q, err := memqueue.New(memqueue.Options{Shards: 16, MaxHits: b.N*500 + 1})
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewProcessor(ProcessorOptions{Queue: q, Store: st, Now: func() time.Time { return procBase }})
	if err != nil {
		b.Fatal(err)
	}
	gen := newProcBenchGen(1)
	hits := make([]analytics.Hit, b.N*500)
	for i := range hits {
		hits[i] = gen.hit()
	}
	if err := q.Enqueue(ctx, hits); err != nil {
		b.Fatal(err)
	}
	q.Close()
	b.ReportAllocs()
	b.ResetTimer()
	if err := p.Run(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if s, _ := q.Stats(ctx); s.Depth != 0 {
		b.Fatalf("%d hits left", s.Depth)
	}
	procReportHits(b, len(hits))
}

// BenchmarkProcessorFakeStore: the same work on the in-memory fake store:
// the processor's own cost (enrichment, sessionization, batch building).
func BenchmarkProcessorFakeStore(b *testing.B) {
	st := newProcFakeStore(procBenchSite())
	st.sites[0].ID = 1
	st.goals[1] = []analytics.Goal{procBenchGoal(1)}
	st.goals[1][0].ID = 1
	p, err := NewProcessor(ProcessorOptions{Queue: &procFakeQueue{}, Store: st, Now: func() time.Time { return procBase }})
	if err != nil {
		b.Fatal(err)
	}
	ds := procBenchDeliveries(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	hits := procProcessAll(b, p, ds)
	procReportHits(b, hits)
}

// BenchmarkStoreOnlySQLite is the baseline: the LogBatches the processor
// would write for the same deliveries (built beforehand on the fake
// store), written straight to SQLite.
func BenchmarkStoreOnlySQLite(b *testing.B) {
	ctx := b.Context()
	fake := newProcFakeStore(procBenchSite())
	fake.sites[0].ID = 1
	var batches []analytics.LogBatch
	fake.writeErr = func(lb *analytics.LogBatch) error {
		batches = append(batches, *lb)
		return nil
	}
	p, err := NewProcessor(ProcessorOptions{Queue: &procFakeQueue{}, Store: fake, Now: func() time.Time { return procBase }})
	if err != nil {
		b.Fatal(err)
	}
	ds := procBenchDeliveries(b.N)
	for _, d := range ds {
		if err := p.Process(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(b.TempDir(), "bench.db"), Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	site := procBenchSite()
	if err := st.CreateSite(ctx, &site); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range batches {
		if err := st.WriteBatch(ctx, &batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	procReportHits(b, 500*len(ds))
}

// BenchmarkEnrich: enrichment alone (site, exclusions, user agent,
// referrer, URL cleaning, identity), no sessionization and no store.
func BenchmarkEnrich(b *testing.B) {
	st := newProcFakeStore(procBenchSite())
	st.sites[0].ID = 1
	p, err := NewProcessor(ProcessorOptions{Queue: &procFakeQueue{}, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	g := newProcBenchGen(1)
	hits := make([]analytics.Hit, 20000)
	for i := range hits {
		hits[i] = g.hit()
	}
	var ph procHit
	for i := range hits { // warm the caches as a running worker has them
		p.enrich(b.Context(), &hits[i], &ph)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.enrich(b.Context(), &hits[i%len(hits)], &ph); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseUserAgentUncached shows what the user agent cache saves.
func BenchmarkParseUserAgentUncached(b *testing.B) {
	c := newProcUACache(10)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.parse(procBenchUAs[i%len(procBenchUAs)])
	}
}

// procTimedStore measures the time spent in each store call.
type procTimedStore struct {
	ProcessorStore
	write, last, salt, ids, cp time.Duration
	lastN                      int
}

func (s *procTimedStore) WriteBatch(ctx context.Context, b *analytics.LogBatch) error {
	t := time.Now()
	defer func() { s.write += time.Since(t) }()
	return s.ProcessorStore.WriteBatch(ctx, b)
}

func (s *procTimedStore) LastVisit(ctx context.Context, m analytics.VisitorMatch) (analytics.Visit, error) {
	t := time.Now()
	defer func() { s.last += time.Since(t); s.lastN++ }()
	return s.ProcessorStore.LastVisit(ctx, m)
}

func (s *procTimedStore) DailySalt(ctx context.Context, site int, day string) ([]byte, error) {
	t := time.Now()
	defer func() { s.salt += time.Since(t) }()
	return s.ProcessorStore.DailySalt(ctx, site, day)
}

func (s *procTimedStore) ReserveIDs(ctx context.Context, k analytics.IDKind, n int) (int64, error) {
	t := time.Now()
	defer func() { s.ids += time.Since(t) }()
	return s.ProcessorStore.ReserveIDs(ctx, k, n)
}

func (s *procTimedStore) Checkpoint(ctx context.Context, shard string) (analytics.Position, error) {
	t := time.Now()
	defer func() { s.cp += time.Since(t) }()
	return s.ProcessorStore.Checkpoint(ctx, shard)
}
