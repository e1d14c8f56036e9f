package privacytest

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo/staticgeo"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/internal/testenv"
	"github.com/footfall/analytics/queue/memqueue"
	"github.com/footfall/analytics/store/mysqlstore"
	"github.com/footfall/analytics/store/sqlitestore"
)

// The test clients. The addresses are public (geolocation ignores
// documentation ranges), the user agents are real browsers (bots are
// excluded).
var (
	ipA = netip.MustParseAddr("81.2.69.142")
	ipB = netip.MustParseAddr("2a02:1234:5678:9abc:def0:1122:3344:5566")
	ipC = netip.MustParseAddr("2.125.160.216")

	uaA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaB = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	uaC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"

	cookieA = "a1b2c3d4e5f60718"
	cookieB = "0badc0ffee123456"
	uidB    = "bob.customer.7731"
)

// geoTable places the test clients.
func geoTable(t *testing.T) analytics.Geo {
	t.Helper()
	g, err := staticgeo.New(map[string]analytics.Location{
		"81.2.69.0/24":   {CountryCode: "gb", RegionName: "England", City: "London"},
		"2.125.160.0/24": {CountryCode: "gb", RegionName: "England", City: "Boxford"},
		"2a02:1234::/32": {CountryCode: "de", RegionName: "Berlin", City: "Berlin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// syncBuffer is the log sink shared by every component.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// clock is an injected clock (of ingest, or of the processor).
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// storeKind opens a fresh store of one kind, and a direct read-only
// database/sql handle on the same data.
type storeKind struct {
	name    string
	dialect Dialect
	open    func(t *testing.T, log hclog.Logger) (analytics.Store, *sql.DB)
}

var storeKinds = []storeKind{
	{"sqlite", SQLite, openSQLite},
	{"mysql", MySQL, openMySQL},
}

func openSQLite(t *testing.T, log hclog.Logger) (analytics.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "footfall.db")
	st, err := sqlitestore.Open(t.Context(), sqlitestore.Options{Path: path, Migrate: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return st, db
}

func openMySQL(t *testing.T, log hclog.Logger) (analytics.Store, *sql.DB) {
	t.Helper()
	dsn := testenv.MySQLDatabase(t, "priv")
	st, err := mysqlstore.Open(t.Context(), mysqlstore.Options{DSN: dsn, Migrate: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return st, db
}

// pipeline is Footfall's tracking path with everything real: Handler
// behind an HTTP server and a trusted proxy header, memqueue, Processor
// with geolocation, a store.
type pipeline struct {
	t       *testing.T
	kind    storeKind
	store   analytics.Store
	db      *sql.DB
	logs    *syncBuffer
	queue   *memqueue.Queue
	handler *ingest.Handler
	proc    *ingest.Processor
	srv     *httptest.Server
	clock   *clock // ingest's clock: hit times
	pclock  *clock // the processor's clock
	site    analytics.Site

	mu     sync.Mutex
	info   ingest.BatchInfo // summed over batches
	sent   int
	shards map[netip.Addr]map[string]bool // by process: the shards each client's hits went to
}

// newPipeline builds a pipeline for one site on a fresh store; tweak, when
// given, changes the processor's options last.
func newPipeline(t *testing.T, kind storeKind, inst analytics.Privacy, site analytics.Site, start time.Time, tweak ...func(*ingest.ProcessorOptions)) *pipeline {
	t.Helper()
	p := &pipeline{t: t, kind: kind, logs: &syncBuffer{}, clock: newClock(start), pclock: newClock(start)}
	log := hclog.New(&hclog.LoggerOptions{Name: "privacytest", Output: p.logs, Level: hclog.Trace})
	p.store, p.db = kind.open(t, log.Named("store"))
	if site.URLs == nil {
		site.URLs = []string{"https://shop.example"}
	}
	if site.Name == "" {
		site.Name = "Shop"
	}
	if err := p.store.CreateSite(t.Context(), &site); err != nil {
		t.Fatal(err)
	}
	p.site = site
	q, err := memqueue.New(memqueue.Options{Logger: log.Named("queue"), Now: p.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	p.queue = q
	t.Cleanup(func() { q.Close() })
	p.handler, err = ingest.NewHandler(ingest.HandlerOptions{
		Queue: q, Sites: p.store, Logger: log.Named("handler"), Now: p.clock.now,
		TrustedProxies:  []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		ClientIPHeaders: []string{"X-Forwarded-For"},
		Privacy:         inst,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.handler.LoadSites(t.Context()); err != nil {
		t.Fatal(err)
	}
	po := ingest.ProcessorOptions{
		Queue: q, Store: p.store, Geo: geoTable(t), Logger: log.Named("worker"),
		Privacy: inst, Now: p.pclock.now, Workers: 2, BatchSize: 50,
		OnBatch: func(bi ingest.BatchInfo) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.info.Hits += bi.Hits
			p.info.Skipped += bi.Skipped
			p.info.Excluded += bi.Excluded
			p.info.Discarded += bi.Discarded
			p.info.Failed += bi.Failed
			p.info.Visits += bi.Visits
			p.info.Actions += bi.Actions
		},
	}
	for _, f := range tweak {
		f(&po)
	}
	p.proc, err = ingest.NewProcessor(po)
	if err != nil {
		t.Fatal(err)
	}
	p.srv = httptest.NewServer(p.handler)
	t.Cleanup(p.srv.Close)
	return p
}

// req is one tracking request of a client.
type req struct {
	ip     netip.Addr
	ua     string
	params url.Values
	hdr    map[string]string
}

// send sends r as the JavaScript tracker would (GET matomo.php, the
// client address in X-Forwarded-For from the proxy), then moves the
// ingest clock 10 seconds on.
func (p *pipeline) send(r req) {
	p.t.Helper()
	q := url.Values{"idsite": {fmt.Sprint(p.site.ID)}, "rec": {"1"}, "apiv": {"1"}, "r": {"123456"}, "send_image": {"0"}}
	for k, v := range r.params {
		q[k] = v
	}
	hr, err := http.NewRequestWithContext(p.t.Context(), http.MethodGet, p.srv.URL+"/matomo.php?"+q.Encode(), nil)
	if err != nil {
		p.t.Fatal(err)
	}
	hr.Header.Set("User-Agent", r.ua)
	hr.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	hr.Header.Set("X-Forwarded-For", r.ip.String())
	for k, v := range r.hdr {
		hr.Header.Set(k, v)
	}
	resp, err := p.srv.Client().Do(hr)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		p.t.Fatalf("tracking request answered %d", resp.StatusCode)
	}
	p.sent++
	p.clock.add(10 * time.Second)
}

// drain closes the queue and runs the processor until it has applied
// every hit.
func (p *pipeline) drain() {
	p.t.Helper()
	p.queue.Close()
	if err := p.proc.Run(p.t.Context()); err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.info.Hits != p.sent || p.info.Failed != 0 {
		p.t.Fatalf("processed %+v, sent %d", p.info, p.sent)
	}
}

// process applies what is queued now, delivery by delivery, without
// closing the queue (for tests that go on sending).
func (p *pipeline) process() {
	p.t.Helper()
	ctx := p.t.Context()
	for {
		st, err := p.queue.Stats(ctx)
		if err != nil {
			p.t.Fatal(err)
		}
		if st.Depth == 0 {
			return
		}
		d, err := p.queue.Receive(ctx, 100)
		if err != nil {
			p.t.Fatal(err)
		}
		p.mu.Lock()
		for _, h := range d.Hits {
			if p.shards == nil {
				p.shards = map[netip.Addr]map[string]bool{}
			}
			if p.shards[h.IP] == nil {
				p.shards[h.IP] = map[string]bool{}
			}
			p.shards[h.IP][d.Shard] = true
		}
		p.mu.Unlock()
		if err := p.proc.Process(ctx, d); err != nil {
			p.t.Fatal(err)
		}
	}
}

// visits returns the site's stored visits with their actions, oldest
// first.
func (p *pipeline) visits() []analytics.VisitDetails {
	p.t.Helper()
	var out []analytics.VisitDetails
	err := p.store.Visits(p.t.Context(), analytics.VisitQuery{SiteID: p.site.ID, WithActions: true}, func(v *analytics.VisitDetails) error {
		out = append(out, *v)
		return nil
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// salt is one row of the salt table.
type salt struct {
	site  int
	day   string
	value []byte
}

// salts reads the salt table directly.
func (p *pipeline) salts() []salt {
	p.t.Helper()
	q := "SELECT idsite, day, value FROM salt ORDER BY idsite, day"
	if p.kind.dialect == MySQL {
		q = "SELECT idsite, DATE_FORMAT(day, '%Y-%m-%d'), value FROM salt ORDER BY idsite, day"
	}
	rows, err := p.db.QueryContext(p.t.Context(), q)
	if err != nil {
		p.t.Fatal(err)
	}
	defer rows.Close()
	var out []salt
	for rows.Next() {
		var s salt
		if err := rows.Scan(&s.site, &s.day, &s.value); err != nil {
			p.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		p.t.Fatal(err)
	}
	return out
}

// saltNeedles are the salts in the store, as needles.
func (p *pipeline) saltNeedles() []Needle {
	var ns []Needle
	for _, s := range p.salts() {
		ns = append(ns, Bytes(fmt.Sprintf("salt of site %d %s", s.site, s.day), s.value))
	}
	return ns
}

// scan reads every column of every table and every log line and fails
// the test for each needle found. The salt table's value column is the
// one place a salt may be; it is scanned for the other needles.
func (p *pipeline) scan(dbNeedles, logNeedles []Needle) Report {
	p.t.Helper()
	salts := p.saltNeedles()
	skipSaltValue := func(table, col string) bool { return table == "salt" && col == "value" }
	r, err := ScanDB(p.t.Context(), p.db, p.kind.dialect, skipSaltValue, append(append([]Needle(nil), dbNeedles...), salts...))
	if err != nil {
		p.t.Fatal(err)
	}
	// The salt value column, for everything but the salts.
	r2, err := ScanDB(p.t.Context(), p.db, p.kind.dialect, func(table, col string) bool { return !skipSaltValue(table, col) }, dbNeedles)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, f := range append(r.Findings, r2.Findings...) {
		p.t.Errorf("stored: %v", f)
	}
	if r.Tables < 5 || r.Rows == 0 {
		p.t.Errorf("scan read %d tables, %d rows: not the store's database?", r.Tables, r.Rows)
	}
	for _, f := range ScanText("log", p.logs.Bytes(), append(append([]Needle(nil), logNeedles...), salts...)) {
		p.t.Errorf("logged: %v", f)
	}
	return r
}

// found reports whether a needle is somewhere in the database (a
// positive control: the scan does see stored values).
func (p *pipeline) found(n Needle) bool {
	p.t.Helper()
	r, err := ScanDB(p.t.Context(), p.db, p.kind.dialect, nil, []Needle{n})
	if err != nil {
		p.t.Fatal(err)
	}
	return len(r.Findings) > 0
}
