// Command drain measures how fast the worker drains the Redis queue into
// the store, beside two baselines measured in the same run on the same
// machine:
//
//   - redis: the same hits drained from the same streams with plain
//     XREADGROUP + XACK (go-redis, no queue logic, no processing) — the
//     ceiling the queue itself puts on the worker;
//   - insert: a plain multi-row INSERT of as many equally wide rows into
//     the same backend, in transactions of BatchSize rows by as many
//     writers as the processor has (one for SQLite: it has one writer) —
//     the ceiling the database puts on it.
//
// The processor run pre-fills a fresh queue (own Redis key prefix) with
// realistic hits (visitors with several page views, events, downloads and
// outlinks; varied URLs, titles, referrers, user agents, languages and
// screens), then runs ingest.Processor in-process with Workers = 2 and 4
// on a fresh store each time and reports hits/s. For each phase it also
// reports the CPU time of this process and, when they can be found in
// /proc, of the database server and of redis-server.
//
//	go run ./bench/drain -store mysql -hits 200000
//	go run ./bench/drain -store sqlite,mysql -hits 200000 -workers 2,4
//	go run ./bench/drain -store mysql -cpuprofile mysql.prof   # profiles the Workers=4 processor run
//	go run ./bench/drain -store mysql -servers private          # private mariadbd and redis-server
//	go run ./bench/drain -store mysql -workers 4 -memprofile mem.prof   # go tool pprof -sample_index=alloc_space
//
// The CPU time of the servers is that of every process named mariadbd,
// mysqld or redis-server on the machine: on a machine shared with other
// work that uses them it counts that work too. -servers private starts a
// private mariadbd (fresh data directory, the machine's settings that
// matter: 128 MiB buffer pool, 96 MiB redo log, O_DIRECT, flush at every
// commit, no binary log) and a private redis-server (no persistence) on
// free loopback ports, and counts the CPU time of those two processes
// only; they are stopped and their files removed at the end. With it, a
// MySQL processor run also reports per batch the server's counters
// (statements, bytes received, Handler_read_* …): a plan that scans shows
// there (Handler_read_prev, Handler_read_rnd_next).
//
// Everything it creates (Redis keys, the MariaDB database ff_drain…, the
// SQLite directory) is removed at the end.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/queue/redisqueue"
	"github.com/footfall/analytics/store/mysqlstore"
	"github.com/footfall/analytics/store/sqlitestore"
)

const shards = 16

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "drain:", err)
		os.Exit(1)
	}
}

func run() error {
	stores := flag.String("store", "sqlite,mysql", "stores to drain into: sqlite, mysql or both (comma-separated)")
	nhits := flag.Int("hits", 200000, "hits per run")
	workerList := flag.String("workers", "2,4", "processor Workers values to run (comma-separated)")
	batch := flag.Int("batch", 500, "processor BatchSize and rows per INSERT transaction")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis URL")
	mysqlDSN := flag.String("mysql", "root@tcp(127.0.0.1:3306)/test", "MariaDB/MySQL DSN of a user that may create databases")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the first processor run with -profile-workers to `file`")
	profWorkers := flag.Int("profile-workers", 4, "Workers of the processor run that -cpuprofile profiles")
	memprofile := flag.String("memprofile", "", "write an allocation profile (alloc_space: everything the process allocated, hit generation and fills included) to `file` at the end")
	servers := flag.String("servers", "machine", "machine: the MariaDB and Redis at -mysql and -redis; private: a private mariadbd and redis-server started for the run (-mysql and -redis ignored)")
	flag.Parse()

	var workers []int
	for _, w := range strings.Split(*workerList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return fmt.Errorf("-workers %q: want positive numbers", *workerList)
		}
		workers = append(workers, n)
	}
	b := &bench{hits: *nhits, batch: *batch, redisURL: *redisURL, mysqlDSN: *mysqlDSN, profWorkers: *profWorkers}
	switch *servers {
	case "machine":
	case "private":
		p, err := startPrivate(strings.Contains(*stores, "mysql"))
		if err != nil {
			return err
		}
		defer p.stop()
		// Stop them on an interrupt too: they are not children that die with us.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-sig
			p.stop()
			os.Exit(1)
		}()
		b.redisURL, b.mysqlDSN, b.pids = p.redisURL, p.mysqlDSN, p.pids
		fmt.Printf("private servers: %s (pid %d), %s (pid %d)\n", p.redisURL, p.pids["redis-server"], p.mysqlDSN, p.pids["mariadbd"])
	default:
		return fmt.Errorf("-servers %q: want machine or private", *servers)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		b.profile = f
	}
	ctx := context.Background()
	hits := makeHits(*nhits)
	fmt.Printf("drain: %d hits (%d visitors), %d shards, batch %d\n", len(hits), visitorsOf(hits), shards, *batch)
	if err := b.redisBaseline(ctx, hits); err != nil {
		return err
	}
	for _, s := range strings.Split(*stores, ",") {
		s = strings.TrimSpace(s)
		if s != "sqlite" && s != "mysql" {
			return fmt.Errorf("-store %q: want sqlite or mysql", s)
		}
		for _, w := range workers {
			writers := w
			if s == "sqlite" {
				writers = 1
			}
			if err := b.insertBaseline(ctx, s, writers); err != nil {
				return err
			}
			if err := b.processorRun(ctx, s, w, hits); err != nil {
				return err
			}
		}
	}
	if b.profile != nil {
		fmt.Printf("CPU profile of the first processor run with Workers %d in %s\n", b.profWorkers, b.profile.Name())
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
		fmt.Printf("allocation profile in %s\n", *memprofile)
	}
	return nil
}

type bench struct {
	hits, batch        int
	redisURL, mysqlDSN string
	profile            *os.File
	profWorkers        int
	profiled           bool
	pids               map[string]int // private servers by name; nil: every process of the name
}

// ---------------------------------------------------------------------------
// Hits
// ---------------------------------------------------------------------------

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 12; moto g(60)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/105.0.0.0",
	"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
}

var (
	sections  = []string{"blog", "docs", "products", "pricing", "about", "careers", "support", "shop/category", "news", "guides"}
	langs     = []string{"en-US,en;q=0.9", "en-GB,en;q=0.8", "de-DE,de;q=0.9,en;q=0.5", "fr-FR,fr;q=0.9", "es-ES,es;q=0.9", "ja-JP,ja;q=0.9", "pt-BR,pt;q=0.9"}
	screens   = [][2]uint16{{1920, 1080}, {1366, 768}, {1536, 864}, {2560, 1440}, {390, 844}, {414, 896}, {360, 800}, {820, 1180}}
	referrers = []string{"", "", "", "https://www.google.com/", "https://www.google.de/search?q=analytics+self+hosted", "https://duckduckgo.com/",
		"https://www.bing.com/search?q=privacy+analytics", "https://news.ycombinator.com/item?id=38000000", "https://t.co/abc123",
		"https://www.reddit.com/r/selfhosted/comments/xyz/", "https://partner.example.org/links"}
	campaigns = []string{"", "", "", "", "", "?utm_source=newsletter&utm_medium=email&utm_campaign=winter", "?mtm_campaign=launch&mtm_keyword=go"}
)

// makeHits builds n hits of visitors with 1–15 hits each (8 on average),
// interleaved as they would arrive: a visitor's hits are in order, spaced
// 5–90 s apart, and visitors overlap.
func makeHits(n int) []analytics.Hit {
	r := mrand.New(mrand.NewPCG(1, 2))
	base := time.Now().Add(-2 * time.Hour)
	type visitor struct {
		id      analytics.VisitorID
		ip      netip.Addr
		ua      string
		lang    string
		screen  [2]uint16
		left, i int
		next    time.Time
		ref     string
		camp    string
	}
	var active []*visitor
	hits := make([]analytics.Hit, 0, n)
	for len(hits) < n {
		for len(active) < 2000 {
			v := &visitor{ua: userAgents[r.IntN(len(userAgents))], lang: langs[r.IntN(len(langs))],
				screen: screens[r.IntN(len(screens))], left: 1 + r.IntN(15), ref: referrers[r.IntN(len(referrers))],
				camp: campaigns[r.IntN(len(campaigns))], next: base.Add(time.Duration(len(hits)) * 20 * time.Millisecond)}
			binary64(v.id[:], r.Uint64())
			v.ip = netip.AddrFrom4([4]byte{byte(2 + r.IntN(220)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
			active = append(active, v)
		}
		k := r.IntN(len(active))
		v := active[k]
		sec := sections[r.IntN(len(sections))]
		page := r.IntN(400)
		url := fmt.Sprintf("https://www.shop.example/%s/%s-%d", sec, words[page%len(words)], page)
		if v.i == 0 {
			url += v.camp
		}
		h := analytics.Hit{
			ID: analytics.NewHitID(v.next), SiteID: 1, Time: v.next, Kind: analytics.KindPageview,
			IP: v.ip, UserAgent: v.ua, Lang: v.lang, CookieID: v.id, URL: url,
			Title:      fmt.Sprintf("%s %d – %s | Shop Example", strings.ToUpper(words[page%len(words)][:1])+words[page%len(words)][1:], page, sec),
			PageViewID: randHex(r, 3),
			Device: analytics.Device{ScreenWidth: v.screen[0], ScreenHeight: v.screen[1], LocalHour: int8(r.IntN(24)),
				LocalMinute: int8(r.IntN(60)), LocalSecond: int8(r.IntN(60)), Plugins: analytics.PluginPDF | analytics.PluginCookie},
			Timing: &analytics.PageTiming{Network: int32(r.IntN(50)), Server: int32(20 + r.IntN(200)), Transfer: int32(r.IntN(40)),
				DOMProcessing: int32(100 + r.IntN(400)), DOMCompletion: int32(r.IntN(300)), OnLoad: int32(r.IntN(20))},
		}
		if v.i == 0 {
			h.Referrer = v.ref
		}
		switch x := r.IntN(100); {
		case x < 10 && v.i > 0:
			h.Kind = analytics.KindEvent
			h.Event = &analytics.Event{Category: "Video", Action: []string{"play", "pause", "complete"}[r.IntN(3)],
				Name: fmt.Sprintf("intro-%d", r.IntN(30)), Value: float64(r.IntN(300)), HasValue: true}
			h.Timing = nil
		case x < 13 && v.i > 0:
			h.Kind = analytics.KindDownload
			h.Link = fmt.Sprintf("https://www.shop.example/files/brochure-%d.pdf", r.IntN(50))
			h.Timing = nil
		case x < 16 && v.i > 0:
			h.Kind = analytics.KindOutlink
			h.Link = fmt.Sprintf("https://partner%d.example.net/landing", r.IntN(40))
			h.Timing = nil
		}
		hits = append(hits, h)
		v.i++
		v.next = v.next.Add(time.Duration(5+r.IntN(85)) * time.Second)
		if v.left--; v.left == 0 {
			active[k] = active[len(active)-1]
			active = active[:len(active)-1]
		}
	}
	return hits
}

var words = []string{"getting-started", "release-notes", "winter-sale", "privacy", "dashboards", "goals", "ecommerce",
	"funnels", "heatmaps", "segments", "api", "tracking-code", "tag-manager", "import", "export", "retention"}

func binary64(b []byte, x uint64) {
	for i := range b {
		b[i] = byte(x >> (8 * i))
	}
}

func randHex(r *mrand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return hex.EncodeToString(b)
}

func visitorsOf(hits []analytics.Hit) int {
	m := make(map[analytics.VisitorID]bool)
	for i := range hits {
		m[hits[i].CookieID] = true
	}
	return len(m)
}

// ---------------------------------------------------------------------------
// Queue
// ---------------------------------------------------------------------------

func newPrefix() string {
	var b [5]byte
	rand.Read(b[:])
	return "ff_drain" + hex.EncodeToString(b[:])
}

// fill opens a queue under a fresh prefix and enqueues hits; drop deletes
// the prefix's keys.
func (b *bench) fill(ctx context.Context, hits []analytics.Hit) (q *redisqueue.Queue, rdb *redis.Client, prefix string, drop func(), err error) {
	o, err := redis.ParseURL(b.redisURL)
	if err != nil {
		return nil, nil, "", nil, err
	}
	rdb = redis.NewClient(o)
	prefix = newPrefix()
	drop = func() {
		iter := rdb.Scan(context.Background(), 0, prefix+":*", 1000).Iterator()
		var keys []string
		for iter.Next(context.Background()) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
		rdb.Close()
	}
	q, err = redisqueue.New(rdb, redisqueue.Options{Prefix: prefix, Shards: shards, DrainTimeout: -1})
	if err != nil {
		drop()
		return nil, nil, "", nil, err
	}
	t0 := time.Now()
	for rest := hits; len(rest) > 0; {
		n := min(1000, len(rest))
		if err := q.Enqueue(ctx, rest[:n]); err != nil {
			q.Close()
			drop()
			return nil, nil, "", nil, err
		}
		rest = rest[n:]
	}
	st, _ := q.Stats(ctx)
	fmt.Printf("  filled %s with %d hits in %v (%.0f hits/s), %d bytes in Redis (%.0f B/hit)\n", prefix, len(hits),
		time.Since(t0).Round(time.Millisecond), float64(len(hits))/time.Since(t0).Seconds(), st.Bytes, float64(st.Bytes)/float64(len(hits)))
	return q, rdb, prefix, drop, nil
}

// redisBaseline drains the filled streams with XREADGROUP + XACK/XDEL
// and nothing else, two readers as the smallest processor.
func (b *bench) redisBaseline(ctx context.Context, hits []analytics.Hit) error {
	fmt.Println("redis baseline: XREADGROUP COUNT", b.batch, "+ XACK + XDEL, no processing")
	q, rdb, prefix, drop, err := b.fill(ctx, hits)
	if err != nil {
		return err
	}
	defer drop()
	q.Close()
	m := startMeter(b.pids)
	var done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, shards)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; n < shards; n += 2 {
				stream := fmt.Sprintf("%s:s:%d", prefix, n)
				for {
					res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "footfall", Consumer: "bench",
						Streams: []string{stream, ">"}, Count: int64(b.batch), Block: -1}).Result()
					if errors.Is(err, redis.Nil) || (err == nil && len(res[0].Messages) == 0) {
						break
					}
					if err != nil {
						errc <- err
						return
					}
					ids := make([]string, len(res[0].Messages))
					for i, m := range res[0].Messages {
						ids[i] = m.ID
					}
					pipe := rdb.Pipeline()
					pipe.XAck(ctx, stream, "footfall", ids...)
					pipe.XDel(ctx, stream, ids...)
					if _, err := pipe.Exec(ctx); err != nil {
						errc <- err
						return
					}
					done.Add(int64(len(ids)))
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	m.report("redis baseline", int(done.Load()))
	if int(done.Load()) != len(hits) {
		return fmt.Errorf("redis baseline drained %d of %d", done.Load(), len(hits))
	}
	return nil
}

// ---------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------

// freshStore opens a migrated, empty store with site 1.
func (b *bench) freshStore(ctx context.Context, kind string) (analytics.Store, func(), error) {
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "drain")
		if err != nil {
			return nil, nil, err
		}
		st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(dir, "footfall.db"), Migrate: true})
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return st, func() { st.Close(); os.RemoveAll(dir) }, siteOne(ctx, st)
	default:
		dsn, drop, err := b.freshDatabase()
		if err != nil {
			return nil, nil, err
		}
		st, err := mysqlstore.Open(ctx, mysqlstore.Options{DSN: dsn, Migrate: true})
		if err != nil {
			drop()
			return nil, nil, err
		}
		return st, func() { st.Close(); drop() }, siteOne(ctx, st)
	}
}

func siteOne(ctx context.Context, st analytics.Store) error {
	s := analytics.Site{Name: "Shop", URLs: []string{"https://www.shop.example"}, Timezone: "UTC"}
	return st.CreateSite(ctx, &s)
}

// freshDatabase creates a database ff_drain… and returns its DSN.
func (b *bench) freshDatabase() (string, func(), error) {
	admin, err := sql.Open("mysql", b.mysqlDSN)
	if err != nil {
		return "", nil, err
	}
	name := newPrefix()
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		return "", nil, err
	}
	cfg, err := mysql.ParseDSN(b.mysqlDSN)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	cfg.DBName = name
	return cfg.FormatDSN(), func() { admin.Exec("DROP DATABASE IF EXISTS " + name); admin.Close() }, nil
}

// insertBaseline writes b.hits rows as wide as an action row plus its
// share of a visit row with multi-row INSERTs of b.batch rows, one
// transaction each, from writers goroutines.
func (b *bench) insertBaseline(ctx context.Context, kind string, writers int) error {
	var db *sql.DB
	var cleanup func()
	const cols = "hitid, idvisit, idsite, idvisitor, server_time, type, url, title, prev_url, position, time_spent, " +
		"pageview_id, browser, os, device, resolution, location_ip, lang, referer_url, perf"
	ddlCols := `(id INTEGER PRIMARY KEY AUTOINCREMENT, hitid BLOB, idvisit INTEGER, idsite INTEGER, idvisitor BLOB, server_time INTEGER,
		type INTEGER, url TEXT, title TEXT, prev_url TEXT, position INTEGER, time_spent INTEGER, pageview_id TEXT,
		browser TEXT, os TEXT, device INTEGER, resolution TEXT, location_ip BLOB, lang TEXT, referer_url TEXT, perf INTEGER)`
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "drain")
		if err != nil {
			return err
		}
		db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "rows.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)")
		if err != nil {
			return err
		}
		db.SetMaxOpenConns(1)
		cleanup = func() { db.Close(); os.RemoveAll(dir) }
	default:
		dsn, drop, err := b.freshDatabase()
		if err != nil {
			return err
		}
		db, err = sql.Open("mysql", dsn)
		if err != nil {
			drop()
			return err
		}
		cleanup = func() { db.Close(); drop() }
		ddlCols = `(id BIGINT AUTO_INCREMENT PRIMARY KEY, hitid BINARY(16), idvisit BIGINT, idsite INT, idvisitor BINARY(8),
			server_time DATETIME(3), type TINYINT, url VARCHAR(1024), title VARCHAR(1024), prev_url VARCHAR(1024), position INT,
			time_spent INT, pageview_id CHAR(6), browser VARCHAR(64), os VARCHAR(64), device TINYINT, resolution VARCHAR(16),
			location_ip VARBINARY(16), lang VARCHAR(20), referer_url VARCHAR(1024), perf INT, KEY (idvisit, server_time)) ENGINE=InnoDB`
	}
	defer cleanup()
	if _, err := db.ExecContext(ctx, "CREATE TABLE bench_rows "+ddlCols); err != nil {
		return err
	}
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", 20), ",") + ")"
	stmt := "INSERT INTO bench_rows (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(ph+",", b.batch), ",")
	fmt.Printf("insert baseline %s: %d rows × 20 columns, %d rows per INSERT and transaction, %d writer(s)\n", kind, b.hits, b.batch, writers)
	m := startMeter(b.pids)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	now := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := make([]any, 0, 20*b.batch)
			for {
				first := next.Add(int64(b.batch)) - int64(b.batch)
				if first >= int64(b.hits) {
					return
				}
				args = args[:0]
				for i := first; i < first+int64(b.batch); i++ {
					var hid [16]byte
					binary64(hid[:8], uint64(i))
					var ts any = now.UnixMilli() + i
					if kind == "mysql" {
						ts = now.Add(time.Duration(i) * time.Millisecond).UTC()
					}
					args = append(args, hid[:], i/8, 1, hid[:8], ts, 1,
						fmt.Sprintf("https://www.shop.example/%s/%s-%d", sections[i%10], words[i%16], i%400),
						fmt.Sprintf("%s %d | Shop Example", words[i%16], i%400),
						fmt.Sprintf("https://www.shop.example/%s/%s-%d", sections[(i+1)%10], words[(i+3)%16], (i+7)%400),
						int(i%8)+1, int(i%90), "a1b2c3", "Chrome", "Windows", 1, "1920x1080", []byte{81, 2, 0, 0}, "en-us",
						referrers[i%int64(len(referrers))], int(i%500))
				}
				tx, err := db.BeginTx(ctx, nil)
				if err == nil {
					_, err = tx.ExecContext(ctx, stmt, args...)
					if err == nil {
						err = tx.Commit()
					} else {
						tx.Rollback()
					}
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	m.report("insert baseline "+kind, b.hits)
	return nil
}

// processorRun drains a freshly filled queue into a fresh store with an
// in-process Processor of the given Workers.
func (b *bench) processorRun(ctx context.Context, kind string, workers int, hits []analytics.Hit) error {
	fmt.Printf("processor %s: Workers %d, BatchSize %d\n", kind, workers, b.batch)
	st, closeStore, err := b.freshStore(ctx, kind)
	if err != nil {
		return err
	}
	defer closeStore()
	q, _, _, drop, err := b.fill(ctx, hits)
	if err != nil {
		return err
	}
	defer func() {
		// Let the consumer leave before its client goes.
		q.Close()
		select {
		case <-q.Done():
		case <-time.After(10 * time.Second):
		}
		drop()
	}()
	var done, actions, visits, batches atomic.Int64
	finished := make(chan struct{})
	var once sync.Once
	p, err := ingest.NewProcessor(ingest.ProcessorOptions{Queue: q, Store: st, Workers: workers, BatchSize: b.batch,
		OnBatch: func(bi ingest.BatchInfo) {
			batches.Add(1)
			actions.Add(int64(bi.Actions))
			visits.Add(int64(bi.Visits))
			if done.Add(int64(bi.Hits)) >= int64(len(hits)) {
				once.Do(func() { close(finished) })
			}
		}})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if b.profile != nil && !b.profiled && workers == b.profWorkers {
		if err := pprof.StartCPUProfile(b.profile); err != nil {
			return err
		}
		b.profiled = true
		defer pprof.StopCPUProfile()
	}
	var before map[string]int64
	if kind == "mysql" && b.pids != nil {
		before = b.serverStatus()
	}
	m := startMeter(b.pids)
	errc := make(chan error, 1)
	go func() { errc <- p.Run(runCtx) }()
	select {
	case <-finished:
	case err := <-errc:
		return fmt.Errorf("processor stopped: %v", err)
	case <-time.After(30 * time.Minute):
		return fmt.Errorf("processor: %d of %d hits after 30m", done.Load(), len(hits))
	}
	m.report(fmt.Sprintf("processor %s workers=%d", kind, workers), len(hits))
	cancel()
	<-errc
	fmt.Printf("  %d batches, %d actions, %d visit writes\n", batches.Load(), actions.Load(), visits.Load())
	if before != nil {
		after := b.serverStatus()
		n := float64(batches.Load())
		fmt.Printf("  per batch on the private server:")
		for _, k := range statusCounters {
			fmt.Printf(" %s %.1f", strings.ToLower(strings.TrimPrefix(k, "Com_")), float64(after[k]-before[k])/n)
		}
		fmt.Println()
	}
	return nil
}

// statusCounters are the server's counters that processorRun reports per
// batch with -servers private (where nothing else uses the server).
var statusCounters = []string{"Questions", "Com_select", "Com_insert", "Com_update", "Com_commit", "Bytes_received",
	"Bytes_sent", "Handler_read_key", "Handler_read_next", "Handler_read_prev", "Handler_read_rnd_next", "Handler_write",
	"Handler_update", "Select_scan", "Select_full_join", "Created_tmp_tables", "Sort_rows", "Innodb_row_lock_waits",
	"Innodb_deadlocks"}

// serverStatus reads SHOW GLOBAL STATUS of the MariaDB at b.mysqlDSN;
// nil on error.
func (b *bench) serverStatus() map[string]int64 {
	db, err := sql.Open("mysql", b.mysqlDSN)
	if err != nil {
		return nil
	}
	defer db.Close()
	rows, err := db.Query("SHOW GLOBAL STATUS")
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k, v string
		if rows.Scan(&k, &v) == nil {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[k] = n
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

// meter measures wall time and CPU time of this process and of the
// database and Redis servers.
type meter struct {
	t0     time.Time
	self   time.Duration
	others map[string]time.Duration
	pids   map[string]int
}

var serverNames = []string{"mariadbd", "mysqld", "redis-server"}

func startMeter(pids map[string]int) *meter {
	return &meter{t0: time.Now(), self: selfCPU(), others: serverCPU(pids), pids: pids}
}

func (m *meter) report(what string, n int) {
	wall := time.Since(m.t0)
	fmt.Printf("  %-34s %8d hits in %8v = %8.0f hits/s   cpu: this process %v", what, n, wall.Round(time.Millisecond),
		float64(n)/wall.Seconds(), (selfCPU() - m.self).Round(10*time.Millisecond))
	now := serverCPU(m.pids)
	for _, name := range serverNames {
		if c, ok := now[name]; ok {
			fmt.Printf(", %s %v", name, (c - m.others[name]).Round(10*time.Millisecond))
		}
	}
	fmt.Println()
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU sums the CPU time (user + system) of running processes named
// like the database and Redis servers, from /proc (Linux only; empty
// elsewhere); with pids, of those processes only.
func serverCPU(pids map[string]int) map[string]time.Duration {
	out := make(map[string]time.Duration)
	if pids != nil {
		for name, pid := range pids {
			if c, ok := procCPU(strconv.Itoa(pid)); ok {
				out[name] = c
			}
		}
		return out
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		known := false
		for _, n := range serverNames {
			known = known || n == name
		}
		if !known {
			continue
		}
		if c, ok := procCPU(e.Name()); ok {
			out[name] += c
		}
	}
	return out
}

// procCPU is the CPU time (user + system) of process pid from /proc.
func procCPU(pid string) (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100), true // USER_HZ is 100 on Linux
}

// ---------------------------------------------------------------------------
// Private servers
// ---------------------------------------------------------------------------

type private struct {
	redisURL, mysqlDSN string
	pids               map[string]int
	cmds               []*exec.Cmd
	dir                string
}

// startPrivate starts a redis-server and, with mysql, a mariadbd on free
// loopback ports, with their files in a temporary directory.
func startPrivate(mysql bool) (*private, error) {
	dir, err := os.MkdirTemp("", "drain-servers")
	if err != nil {
		return nil, err
	}
	p := &private{pids: map[string]int{}, dir: dir}
	rport, err := freePort()
	if err != nil {
		p.stop()
		return nil, err
	}
	rcmd := exec.Command("redis-server", "--port", rport, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--logfile", "", "--dir", dir)
	if err := p.start("redis-server", rcmd); err != nil {
		return nil, err
	}
	p.redisURL = "redis://127.0.0.1:" + rport + "/0"
	o, _ := redis.ParseURL(p.redisURL)
	rdb := redis.NewClient(o)
	defer rdb.Close()
	if err := wait("redis-server", func() error { return rdb.Ping(context.Background()).Err() }); err != nil {
		p.stop()
		return nil, err
	}
	if !mysql {
		return p, nil
	}
	data := filepath.Join(dir, "mysql")
	install := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		p.stop()
		return nil, fmt.Errorf("mariadb-install-db: %v: %s", err, out)
	}
	mport, err := freePort()
	if err != nil {
		p.stop()
		return nil, err
	}
	mcmd := exec.Command("mariadbd", "--no-defaults", "--datadir="+data, "--user=root", "--port="+mport,
		"--bind-address=127.0.0.1", "--socket="+filepath.Join(dir, "mysql.sock"), "--pid-file="+filepath.Join(dir, "mysql.pid"),
		"--log-error="+filepath.Join(dir, "mysql.err"), "--skip-log-bin", "--innodb-buffer-pool-size=128M",
		"--innodb-log-file-size=96M", "--innodb-flush-method=O_DIRECT", "--innodb-flush-log-at-trx-commit=1",
		"--character-set-server=utf8mb4")
	if err := p.start("mariadbd", mcmd); err != nil {
		return nil, err
	}
	p.mysqlDSN = "root@tcp(127.0.0.1:" + mport + ")/mysql"
	db, err := sql.Open("mysql", p.mysqlDSN)
	if err != nil {
		p.stop()
		return nil, err
	}
	defer db.Close()
	if err := wait("mariadbd", func() error { return db.Ping() }); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "mysql.err"))
		p.stop()
		return nil, fmt.Errorf("%w: %s", err, log)
	}
	return p, nil
}

func (p *private) start(name string, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		p.stop()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p.cmds = append(p.cmds, cmd)
	p.pids[name] = cmd.Process.Pid
	return nil
}

// stop stops the servers (SIGTERM, then SIGKILL after 30 s) and removes
// their files.
func (p *private) stop() {
	for _, c := range p.cmds {
		c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			c.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(p.dir)
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// wait calls ping until it succeeds, for up to 30 s.
func wait(name string, ping func() error) error {
	var err error
	for range 300 {
		if err = ping(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("private %s does not answer: %w", name, err)
}
