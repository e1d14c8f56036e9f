package sqlitestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// MaxNameLen is the longest name, in bytes, that the store keeps in its
// action dictionary: page URLs and titles, entry and exit URLs and titles,
// outlink and download targets, event, content, product and search-keyword
// fields, and item SKUs, names and categories. A longer one fails the whole
// batch with ErrInvalid; the processor truncates before it gets here.
// It is Matomo's log_action.name VARCHAR(4096), analytics.MaxNameLen.
const MaxNameLen = analytics.MaxNameLen

// MaxCategories is how many product or item categories the store keeps
// (Matomo's five category columns, analytics.MaxCategories). More fail the
// batch with ErrInvalid.
const MaxCategories = analytics.MaxCategories

// ErrSchema is returned (wrapped) by Open when the database has no schema,
// an older one, or one newer than this build knows, and Options.Migrate is
// false or cannot help.
var ErrSchema = errors.New("sqlitestore: schema version mismatch")

// Options configures a Store.
type Options struct {
	// Path is the database file, created when missing. ":memory:" opens a
	// private in-memory database shared by the Store's connections and gone
	// after Close (for tests). A Path may not contain '?'. Required.
	Path string
	// Logger receives migration and diagnostic messages.
	// Default: hclog.NewNullLogger().
	Logger hclog.Logger
	// BusyTimeout is how long a statement waits for a lock held by another
	// process (another footfall process on the same file) before it fails
	// with ErrUnavailable. Default: 5s.
	BusyTimeout time.Duration
	// CacheSizeKiB is SQLite's page cache per connection in KiB.
	// Default: 16384 (16 MiB).
	CacheSizeKiB int
	// ReadConns is the size of the read connection pool; writes go through
	// one connection (SQLite has one writer). A Visits scan holds one read
	// connection while it calls its callback. Default: 4.
	ReadConns int
	// DictionaryCacheSize bounds the in-process cache of action dictionary
	// ids (name → id), in entries. Default: 100000.
	DictionaryCacheSize int
	// Migrate applies pending schema migrations in Open. When false, Open
	// refuses a database whose schema is not exactly the newest this build
	// knows (run `footfall migrate`). Default: false.
	Migrate bool
	// Now is the clock used for Site.Created and bookkeeping columns.
	// Default: time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.CacheSizeKiB == 0 {
		o.CacheSizeKiB = 16384
	}
	if o.ReadConns == 0 {
		o.ReadConns = 4
	}
	if o.DictionaryCacheSize == 0 {
		o.DictionaryCacheSize = 100000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports whether o is usable once defaults are filled in.
func (o *Options) Validate() error {
	var errs []string
	if o.Path == "" {
		errs = append(errs, "Path is required")
	}
	if strings.ContainsRune(o.Path, '?') {
		errs = append(errs, fmt.Sprintf("Path %q contains '?'", o.Path))
	}
	if o.BusyTimeout < 0 {
		errs = append(errs, "BusyTimeout is negative")
	}
	if o.CacheSizeKiB < 0 {
		errs = append(errs, "CacheSizeKiB is negative")
	}
	if o.ReadConns < 0 {
		errs = append(errs, "ReadConns is negative")
	}
	if o.DictionaryCacheSize < 0 {
		errs = append(errs, "DictionaryCacheSize is negative")
	}
	return storeutil.CheckOptions("sqlitestore", errs)
}

// Store is an analytics.Store on an SQLite database. It is safe for
// concurrent use. Writes (WriteBatch, ReserveIDs, sites, salts) are
// serialized on one connection; reads use a pool.
type Store struct {
	opts Options
	log  hclog.Logger
	now  func() time.Time

	wdb *sql.DB // one connection, BEGIN IMMEDIATE
	rdb *sql.DB // read pool, query_only

	migrations []storeutil.Migration
	dict       *storeutil.NameCache[int64] // (type, name) → id, tagged with the dictionary epoch
	sql        statements
	w          writeStmts
	r          readStmts

	guard storeutil.Guard // closed state, error wrapping
}

// Interface guards.
var (
	_ analytics.Store            = (*Store)(nil)
	_ analytics.BatchVisitFinder = (*Store)(nil)
	_ analytics.Migrator         = (*Store)(nil)
	_ analytics.Pinger           = (*Store)(nil)
	_ analytics.Pruner           = (*Store)(nil)
	_ analytics.VisitorEraser    = (*Store)(nil)
)

// Open opens (creating if needed) the database at opts.Path. With
// opts.Migrate it brings the schema up to date; otherwise the schema must
// already be the newest this build knows (ErrSchema).
func Open(ctx context.Context, opts Options) (*Store, error) {
	migs, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	return open(ctx, opts, migs)
}

// open is Open with a given migration list (tests add migrations).
func open(ctx context.Context, opts Options, migs []storeutil.Migration) (*Store, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	wdsn, rdsn, err := dsns(&opts)
	if err != nil {
		return nil, err
	}
	wdb, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", opts.Path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	rdb, err := sql.Open("sqlite", rdsn)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", opts.Path, err)
	}
	rdb.SetMaxOpenConns(opts.ReadConns)
	rdb.SetMaxIdleConns(opts.ReadConns)
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)

	s := &Store{
		opts:       opts,
		log:        opts.Logger,
		now:        opts.Now,
		wdb:        wdb,
		rdb:        rdb,
		migrations: migs,
		dict:       storeutil.NewNameCache[int64](opts.DictionaryCacheSize, false),
		sql:        buildStatements(),
		guard:      storeutil.Guard{Prefix: "sqlitestore", Sentinels: []error{ErrSchema}, Classify: classify},
	}
	fail := func(err error) (*Store, error) {
		rdb.Close()
		wdb.Close()
		return nil, err
	}
	// The write connection goes first: it creates the file and switches it
	// to WAL before any reader opens it.
	if err := wdb.PingContext(ctx); err != nil {
		return fail(s.wrap(ctx, "open "+opts.Path, err))
	}
	if err := rdb.PingContext(ctx); err != nil {
		return fail(s.wrap(ctx, "open "+opts.Path, err))
	}
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			return fail(err)
		}
	} else {
		applied, known, err := s.SchemaVersion(ctx)
		if err != nil {
			return fail(err)
		}
		switch {
		case applied == 0:
			return fail(fmt.Errorf("sqlitestore: open %s: the database has no schema: run `footfall migrate` (or open with Options.Migrate): %w", opts.Path, ErrSchema))
		case applied < known:
			return fail(fmt.Errorf("sqlitestore: open %s: schema version %d is older than %d: run `footfall migrate` (or open with Options.Migrate): %w", opts.Path, applied, known, ErrSchema))
		case applied > known:
			return fail(fmt.Errorf("sqlitestore: open %s: schema version %d is newer than %d, the newest this build knows: upgrade footfall: %w", opts.Path, applied, known, ErrSchema))
		}
	}
	if err := s.prepare(ctx); err != nil {
		return fail(err)
	}
	return s, nil
}

// dsns returns the DSNs of the write connection and the read pool.
func dsns(o *Options) (w, r string, err error) {
	common := url.Values{}
	common.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10)+")")
	common.Add("_pragma", "cache_size(-"+strconv.Itoa(o.CacheSizeKiB)+")")
	common.Add("_pragma", "temp_store(MEMORY)")
	common.Add("_pragma", "foreign_keys(OFF)")
	base := o.Path
	memory := o.Path == ":memory:"
	if memory {
		// The memdb VFS shares a named in-memory database between the
		// connections of this process; the random name keeps Stores apart.
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", "", fmt.Errorf("sqlitestore: memory database name: %w", err)
		}
		base = "file:/footfall-" + hex.EncodeToString(b[:])
		common.Set("vfs", "memdb")
	}
	wq := url.Values{}
	for k, v := range common {
		wq[k] = append([]string(nil), v...)
	}
	if !memory {
		wq.Add("_pragma", "journal_mode(WAL)")
		wq.Add("_pragma", "synchronous(NORMAL)")
		wq.Add("_pragma", "journal_size_limit(67108864)")
	}
	wq.Set("_txlock", "immediate")
	rq := common
	rq.Add("_pragma", "query_only(1)")
	return base + "?" + wq.Encode(), base + "?" + rq.Encode(), nil
}

// enter fails with ErrClosed once the Store is closed.
func (s *Store) enter(op string) error { return s.guard.Enter(op) }

// Close closes the database. Later calls fail with ErrClosed. Close is
// idempotent; calls in flight may fail with ErrClosed.
func (s *Store) Close() error {
	return s.guard.Close(func() error {
		s.w.close()
		s.r.close()
		err1 := s.rdb.Close()
		err2 := s.wdb.Close()
		return errors.Join(err1, err2)
	})
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.enter("ping"); err != nil {
		return err
	}
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.wrap(ctx, "ping", err)
	}
	return nil
}

// wrap turns an error of database/sql or SQLite into one that wraps the
// analytics sentinel it stands for, keeping the native error reachable
// (storeutil.Guard.Wrap, with classify for SQLite's result codes).
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	return s.guard.Wrap(ctx, op, err)
}

// classify maps an SQLite result code to the sentinel it stands for.
func classify(err error) (sentinel error, hint string) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
			return analytics.ErrInvalid, ""
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT:
			return analytics.ErrUnavailable, ""
		}
	}
	return nil, ""
}
