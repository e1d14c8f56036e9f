package maxmindgeo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo"
	"github.com/hashicorp/go-hclog"
	maxminddb "github.com/oschwald/maxminddb-golang/v2"
)

// Options configure a Geo. The zero value is ready to use.
type Options struct {
	// Logger receives reload events from Run. Default: a null logger.
	Logger hclog.Logger

	// Language is the locale of region and city names ("en", "de", "fr",
	// "pt-BR", …, as in the GeoIP2 names maps). A record without a name in
	// Language falls back to its English name. The flat layout has one name
	// per record and ignores it. Default: "en".
	Language string

	// ReloadInterval is how often Run compares the file's size and
	// modification time with those of the loaded database and reloads it
	// when they differ. A negative value turns polling off (Run then only
	// reloads on SIGHUP, if enabled). Default: 30s.
	ReloadInterval time.Duration

	// ReloadOnSIGHUP makes Run reload the database when the process gets
	// SIGHUP. Run installs the handler only while it runs, so library users
	// and tests are not surprised. Default: false.
	ReloadOnSIGHUP bool

	// SkipVerify skips the full integrity check (maxminddb's Reader.Verify)
	// at Open and Reload. Verification walks the whole search tree and every
	// record; it refuses files that open fine but would fail, or answer
	// nonsense, at lookup time. Default: false (verify).
	SkipVerify bool

	// OnReload, if set, is called after every load attempt by Reload or Run
	// (not by Open) with the new database's metadata, or with the error that
	// made the attempt fail while the previous database kept serving. It is
	// called synchronously, under the lock that serializes reloads: it must
	// not block or call Reload or Close. Use it for metrics. Default: nil.
	OnReload func(Metadata, error)
}

// DefaultReloadInterval is the default for Options.ReloadInterval.
const DefaultReloadInterval = 30 * time.Second

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Language == "" {
		o.Language = "en"
	}
	if o.ReloadInterval == 0 {
		o.ReloadInterval = DefaultReloadInterval
	}
}

// Validate reports whether the options (after defaults) are usable.
func (o *Options) Validate() error {
	if len(o.Language) > 16 {
		return fmt.Errorf("maxmindgeo: language %q: too long: %w", o.Language, analytics.ErrInvalid)
	}
	if o.ReloadInterval > 0 && o.ReloadInterval < time.Millisecond {
		return fmt.Errorf("maxmindgeo: reload interval %v: below 1ms: %w", o.ReloadInterval, analytics.ErrInvalid)
	}
	return nil
}

// Metadata describes the loaded database.
type Metadata struct {
	Path string
	// DatabaseType is the file's own name for its schema ("GeoIP2-City",
	// "GeoLite2-Country", "DBIP-City-Lite", …).
	DatabaseType string
	// Layout is the record schema detected from the records themselves.
	Layout Layout
	// Cities is true when the sampled records carry data below country
	// level (region, city, coordinates or time zone): a City database.
	// Country databases fill only Location.CountryCode.
	Cities      bool
	BuildTime   time.Time
	IPVersion   int // 4: IPv4 only (IPv6 lookups are unknown); 6: both
	NodeCount   int
	RecordSize  int
	Languages   []string
	Description string // the English description, if any
	Verified    bool   // the full integrity check ran and passed
	Size        int64  // file size in bytes
	ModTime     time.Time
	LoadedAt    time.Time
	LoadTime    time.Duration // read + open + verify + detect
}

// database is one loaded file. It is immutable once published, so lookups
// read it without locks.
type database struct {
	r      *maxminddb.Reader
	layout Layout
	lang   string
	ipv4   bool // IPv4-only file
	meta   Metadata

	// cache holds decoded records by their offset in the data section:
	// many addresses share a record (every network of a city), and one
	// visitor's hits repeat an address. Two-way set-associative and
	// lock-free: an entry is immutable once published; a new record takes
	// an empty way of its set, else replaces one. It lives and dies with
	// this database, so a reload cannot serve a stale entry. nil disables
	// it (benchmarks of the decoder).
	cache []atomic.Pointer[cached]
}

// cacheBits sets the record cache to 2^13 sets of 2 ways: 16384 records per
// database, 128 KiB of slots and about 2.5 MiB of records when full.
const cacheBits = 13

// cached is a decoded record and its offset.
type cached struct {
	off uintptr
	rec record
}

// fileStamp identifies a version of the file for the change watch.
type fileStamp struct {
	size int64
	mod  int64 // modification time, Unix nanoseconds
}

// Geo resolves addresses with a MaxMind DB file. It is safe for concurrent
// use; lookups never wait for a reload.
//
// The file is read into memory (not memory-mapped): a reload publishes the
// new database with an atomic pointer swap, and lookups still running on the
// old one keep a reference to it, so its memory stays valid until the last
// of them returns and the garbage collector frees it. There is no unmap and
// so no use-after-close, and a file rewritten in place cannot change (or
// crash, with SIGBUS) a database that is serving. The cost is the file's
// size in heap memory (twice that briefly during a reload); the bytes hold
// no pointers, so the garbage collector does not scan them.
type Geo struct {
	path string
	opts Options
	log  hclog.Logger

	db atomic.Pointer[database] // nil once closed

	mu     sync.Mutex // serializes loads and Close
	seen   fileStamp  // the file version last attempted (loaded or refused)
	closed bool
	done   chan struct{} // closed by Close, stops Run
}

var _ analytics.Geo = (*Geo)(nil)

// Open loads the database at path. A missing or unreadable file is an
// error wrapping analytics.ErrUnavailable; a corrupt file, or one whose
// records are in no known layout (an ASN database, say), an error wrapping
// analytics.ErrInvalid.
func Open(path string, opts Options) (*Geo, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	g := &Geo{
		path: path,
		opts: opts,
		log:  opts.Logger.Named("geo").With("path", path),
		done: make(chan struct{}),
	}
	db, stamp, err := load(path, &g.opts)
	if err != nil {
		return nil, err
	}
	g.seen = stamp
	g.db.Store(db)
	return g, nil
}

// Lookup returns the location of ip. A private, reserved or unknown address
// (see geo.Public), the invalid address, and an IPv6 address in an
// IPv4-only database give the zero Location and a nil error. An error
// wrapping analytics.ErrInvalid means the record for ip is corrupt; after
// Close, Lookup fails with analytics.ErrClosed.
//
// Lookup reads memory only. Decoded records are cached by their place in
// the file (up to 16384 per database), so repeated addresses, and addresses
// of the same network or place, skip the decoding and do not allocate.
func (g *Geo) Lookup(ip netip.Addr) (analytics.Location, error) {
	db := g.db.Load()
	if db == nil {
		return analytics.Location{}, fmt.Errorf("maxmindgeo: lookup: %w", analytics.ErrClosed)
	}
	ip = ip.Unmap()
	if !geo.Public(ip) {
		return analytics.Location{}, nil
	}
	return db.lookup(ip)
}

// lookup finds the record of ip, without the Public filter.
func (db *database) lookup(ip netip.Addr) (analytics.Location, error) {
	if db.ipv4 && !ip.Is4() {
		return analytics.Location{}, nil
	}
	res := db.r.Lookup(ip)
	if err := res.Err(); err != nil {
		return analytics.Location{}, fmt.Errorf("maxmindgeo: lookup: %w: %w", err, analytics.ErrInvalid)
	}
	if !res.Found() {
		return analytics.Location{}, nil
	}
	off := res.Offset()
	var set []atomic.Pointer[cached]
	var w0, w1 *cached
	if db.cache != nil {
		h := uint64(off) * 0x9e3779b97f4a7c15 >> (64 - cacheBits) // Fibonacci hashing
		set = db.cache[2*h : 2*h+2]
		if w0 = set[0].Load(); w0 != nil && w0.off == off {
			return w0.rec.loc, nil
		}
		if w1 = set[1].Load(); w1 != nil && w1.off == off {
			return w1.rec.loc, nil
		}
	}
	e := &cached{off: off, rec: record{layout: db.layout, lang: db.lang}}
	if err := res.Decode(&e.rec); err != nil {
		return analytics.Location{}, fmt.Errorf("maxmindgeo: lookup: %w: %w", err, analytics.ErrInvalid)
	}
	if set != nil {
		// An empty way first; when both are taken, a random victim, so no
		// pair of records can keep evicting each other from one way.
		switch {
		case w0 == nil:
			set[0].Store(e)
		case w1 == nil:
			set[1].Store(e)
		default:
			set[rand.Uint32()&1].Store(e)
		}
	}
	return e.rec.loc, nil
}

// Metadata describes the database now serving. After Close it returns the
// zero Metadata.
func (g *Geo) Metadata() Metadata {
	db := g.db.Load()
	if db == nil {
		return Metadata{}
	}
	return db.Metadata()
}

// Reload reads the file again and, if it is a valid database, swaps it in
// atomically; lookups in flight finish on the old one. If the file is
// missing or corrupt, Reload returns the error (wrapping
// analytics.ErrUnavailable or analytics.ErrInvalid) and the previous
// database keeps serving. Reload always reads the file, changed or not.
func (g *Geo) Reload() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reloadLocked()
}

func (g *Geo) reloadLocked() error {
	if g.closed {
		return fmt.Errorf("maxmindgeo: reload: %w", analytics.ErrClosed)
	}
	db, stamp, err := load(g.path, &g.opts)
	if stamp != (fileStamp{}) {
		g.seen = stamp
	}
	if err != nil {
		if g.opts.OnReload != nil {
			g.opts.OnReload(Metadata{}, err)
		}
		return err
	}
	g.db.Store(db)
	if g.opts.OnReload != nil {
		g.opts.OnReload(db.Metadata(), nil)
	}
	return nil
}

// Metadata returns a copy of the database's metadata.
func (db *database) Metadata() Metadata {
	m := db.meta
	m.Languages = slices.Clone(m.Languages)
	return m
}

// Run watches the file until ctx is done or g is closed, then returns nil.
// Every Options.ReloadInterval it compares the file's size and
// modification time with those of the last version it tried, and reloads on
// a difference; with Options.ReloadOnSIGHUP it also reloads on SIGHUP.
// A failed reload is logged and the previous database keeps serving; a
// corrupt file is tried once per change, not at every tick.
//
// Updaters should replace the file atomically (write a temporary file,
// then rename it over the old one), as geoipupdate does; a file caught
// half-written is refused and read again once it changes.
func (g *Geo) Run(ctx context.Context) error {
	var hup chan os.Signal
	if g.opts.ReloadOnSIGHUP {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	var tick <-chan time.Time
	if g.opts.ReloadInterval > 0 {
		t := time.NewTicker(g.opts.ReloadInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.done:
			return nil
		case <-hup:
			g.log.Info("reloading geo database on SIGHUP")
			g.reportReload(g.Reload())
		case <-tick:
			g.reloadIfChanged()
		}
	}
}

// reloadIfChanged reloads when the file's stamp differs from the last
// attempted one.
func (g *Geo) reloadIfChanged() {
	fi, err := os.Stat(g.path)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if err != nil {
		// Keep serving; say so once per disappearance.
		if g.seen != (fileStamp{}) {
			g.log.Warn("geo database file unavailable, keeping the loaded one", "error", err)
			g.seen = fileStamp{}
		}
		return
	}
	if stampOf(fi) == g.seen {
		return
	}
	g.reportReload(g.reloadLocked())
}

func (g *Geo) reportReload(err error) {
	if err != nil {
		if !errors.Is(err, analytics.ErrClosed) {
			g.log.Error("geo database reload failed, keeping the previous one", "error", err)
		}
		return
	}
	if db := g.db.Load(); db != nil {
		m := db.meta
		g.log.Info("geo database loaded", "type", m.DatabaseType, "layout", m.Layout,
			"build", m.BuildTime.Format(time.RFC3339), "size", m.Size, "took", m.LoadTime)
	}
}

// Close stops Run and makes further lookups fail with analytics.ErrClosed.
// Lookups already running finish normally. Close is idempotent.
func (g *Geo) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	close(g.done)
	// The reader is not closed: with an in-memory database, Reader.Close
	// only drops references, and a lookup that loaded the pointer just
	// before Store(nil) may still be using it. The garbage collector frees
	// it after the last such lookup.
	g.db.Store(nil)
	return nil
}

func stampOf(fi fs.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mod: fi.ModTime().UnixNano()}
}

// load reads, opens, verifies and inspects the file at path. stamp is the
// version of the file that was read (zero if it could not be stat'ed).
func load(path string, opts *Options) (db *database, stamp fileStamp, err error) {
	start := time.Now()
	defer func() {
		// The decoder is meant to report, not panic, on any input; this is
		// the last line of defence for a hostile file.
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("maxmindgeo: %s: decoder panic: %v: %w", path, p, analytics.ErrInvalid)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, stamp, fmt.Errorf("maxmindgeo: %w: %w", err, analytics.ErrUnavailable)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, stamp, fmt.Errorf("maxmindgeo: %w: %w", err, analytics.ErrUnavailable)
	}
	stamp = stampOf(fi)
	if !fi.Mode().IsRegular() {
		return nil, stamp, fmt.Errorf("maxmindgeo: %s: not a regular file: %w", path, analytics.ErrInvalid)
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, stamp, fmt.Errorf("maxmindgeo: read %s: %w: %w", path, err, analytics.ErrUnavailable)
	}
	data := buf.Bytes()

	invalid := func(what string, err error) error {
		return fmt.Errorf("maxmindgeo: %s: %s: %w: %w", path, what, err, analytics.ErrInvalid)
	}
	if len(data) == 0 {
		return nil, stamp, invalid("open", errors.New("empty file"))
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, stamp, invalid("open", err)
	}
	if !opts.SkipVerify {
		if err := r.Verify(); err != nil {
			return nil, stamp, invalid("verify", err)
		}
	}
	layout, cities, err := detect(r)
	if err != nil {
		return nil, stamp, invalid(fmt.Sprintf("database type %q", r.Metadata.DatabaseType), err)
	}
	md := r.Metadata
	db = &database{
		r:      r,
		layout: layout,
		lang:   opts.Language,
		ipv4:   md.IPVersion == 4,
		cache:  make([]atomic.Pointer[cached], 2<<cacheBits),
		meta: Metadata{
			Path:         path,
			DatabaseType: md.DatabaseType,
			Layout:       layout,
			Cities:       cities,
			BuildTime:    md.BuildTime().UTC(),
			IPVersion:    int(md.IPVersion),
			NodeCount:    int(md.NodeCount),
			RecordSize:   int(md.RecordSize),
			Languages:    slices.Clone(md.Languages),
			Description:  md.Description["en"],
			Verified:     !opts.SkipVerify,
			Size:         int64(len(data)),
			ModTime:      fi.ModTime(),
			LoadedAt:     time.Now(),
			LoadTime:     time.Since(start),
		},
	}
	return db, stamp, nil
}
