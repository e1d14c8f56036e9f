package mysqlstore

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// maxCategories is the contract's limit, which the schema is sized for:
// products and items have five category columns (and log_action.name is
// VARBINARY(4096), analytics.MaxNameLen, which storeutil checks).
const maxCategories = analytics.MaxCategories

// ErrSchema is returned (wrapped) when the database has no schema, or one
// newer than this build knows, or a migration cannot proceed.
var ErrSchema = errors.New("mysqlstore: schema version mismatch")

// Options configures a Store. Exactly one of DSN and Config is required;
// the rest have defaults.
type Options struct {
	// DSN is a go-sql-driver/mysql data source name naming the database,
	// e.g. "footfall:secret@tcp(db:3306)/footfall?tls=custom".
	DSN string
	// Config is the driver configuration, as an alternative to DSN. Open
	// works on a copy.
	Config *mysql.Config

	// Whatever DSN or Config say, Open sets these driver settings, which
	// the store relies on: parseTime=true, loc=UTC, interpolateParams=true
	// (no server-side prepares), clientFoundRows=true (UPDATE reports
	// matched rows), multiStatements=true (WriteBatch sends a transaction
	// in one round trip), the utf8mb4 connection character set, times
	// truncated to milliseconds, and the session variables sql_mode
	// ('STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'), time_zone ('+00:00'),
	// the READ COMMITTED isolation level and innodb_lock_wait_timeout
	// (LockWaitTimeout).

	// TLS, when set, encrypts connections with this configuration
	// (overriding the DSN's tls parameter). Default: the DSN's setting.
	TLS *tls.Config
	// DialTimeout bounds establishing a connection. Default: 10s.
	DialTimeout time.Duration
	// ReadTimeout and WriteTimeout are the driver's I/O timeouts per
	// packet; zero leaves them off (context deadlines still apply).
	// Default: the DSN's setting (off).
	ReadTimeout, WriteTimeout time.Duration

	// MaxOpenConns bounds the connection pool. Default: 16.
	MaxOpenConns int
	// MaxIdleConns is how many idle connections the pool keeps.
	// Default: MaxOpenConns.
	MaxIdleConns int
	// ConnMaxLifetime closes connections older than this (so they follow
	// a fail-over or a proxy's rebalancing). Default: 30m; negative = never.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes connections idle for longer. Default: 5m;
	// negative = never.
	ConnMaxIdleTime time.Duration

	// LockWaitTimeout is the session's innodb_lock_wait_timeout: how long
	// a statement waits for a row lock before failing (error 1205, which
	// WriteBatch retries). Whole seconds, at least 1. Default: 10s.
	LockWaitTimeout time.Duration
	// MaxRetries is how many times WriteBatch retries a transaction that
	// hit a deadlock (1213) or a lock-wait timeout (1205), with jittered
	// exponential backoff from 5ms. Default: 5; negative = no retries.
	MaxRetries int

	// Migrate applies pending schema migrations in Open (the all-in-one
	// role; otherwise `footfall migrate` does it). Without it, Open
	// refuses a database with no schema or with one newer than this build
	// knows, and logs a warning for an older one. Default: false.
	Migrate bool
	// MigrateLockTimeout is how long Migrate waits for another migrate
	// run (GET_LOCK) before failing with ErrUnavailable. Default: 5m.
	MigrateLockTimeout time.Duration

	// Logger receives migration messages, warnings and the driver's
	// diagnostics (at debug level). Default: hclog.NewNullLogger().
	Logger hclog.Logger
	// DictionaryCacheSize bounds the in-process caches of action
	// dictionary ids (name → id for writes, id → name for reads), in
	// entries each. Default: 100000.
	DictionaryCacheSize int
	// Now is the clock for Site.Created and bookkeeping columns.
	// Default: time.Now.
	Now func() time.Time

	// maxVersion, when > 0, limits the migrations this Store knows (tests
	// use it to build a database at an earlier schema version).
	maxVersion int
}

func (o *Options) setDefaults() {
	if o.DialTimeout == 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = 16
	}
	if o.MaxIdleConns == 0 {
		o.MaxIdleConns = o.MaxOpenConns
	}
	if o.ConnMaxLifetime == 0 {
		o.ConnMaxLifetime = 30 * time.Minute
	}
	if o.ConnMaxIdleTime == 0 {
		o.ConnMaxIdleTime = 5 * time.Minute
	}
	if o.LockWaitTimeout == 0 {
		o.LockWaitTimeout = 10 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 5
	}
	if o.MigrateLockTimeout == 0 {
		o.MigrateLockTimeout = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
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
	switch {
	case o.DSN == "" && o.Config == nil:
		errs = append(errs, "one of DSN and Config is required")
	case o.DSN != "" && o.Config != nil:
		errs = append(errs, "DSN and Config are both set")
	}
	if o.DSN != "" {
		if _, err := mysql.ParseDSN(o.DSN); err != nil {
			errs = append(errs, "DSN: "+err.Error())
		}
	}
	if o.DialTimeout < 0 || o.ReadTimeout < 0 || o.WriteTimeout < 0 {
		errs = append(errs, "DialTimeout, ReadTimeout and WriteTimeout must not be negative")
	}
	if o.MaxOpenConns < 1 {
		errs = append(errs, "MaxOpenConns must be positive")
	}
	if o.MaxIdleConns < 0 || o.MaxIdleConns > o.MaxOpenConns {
		errs = append(errs, "MaxIdleConns must be between 0 and MaxOpenConns")
	}
	if o.LockWaitTimeout < time.Second {
		errs = append(errs, "LockWaitTimeout must be at least 1s")
	}
	if o.MigrateLockTimeout < time.Second {
		errs = append(errs, "MigrateLockTimeout must be at least 1s")
	}
	if o.DictionaryCacheSize < 0 {
		errs = append(errs, "DictionaryCacheSize is negative")
	}
	return storeutil.CheckOptions("mysqlstore", errs)
}

// Store is an analytics.Store on a MySQL 8 or MariaDB 10.6+ database. It
// is safe for concurrent use; writers of different shards run in
// parallel, each batch in its own transaction.
type Store struct {
	opts Options
	log  hclog.Logger
	now  func() time.Time
	db   *sql.DB
	// dbName is the database the DSN names (the migrate lock is per
	// database).
	dbName  string
	mariadb bool
	version string

	migrations []migration
	known      int // newest migration this build knows
	applied    int // schema version found at Open (after Migrate)
	site       siteSQL

	shards sync.Map // shard → true: its checkpoint row exists

	names *storeutil.NameCache[uint32] // (type, name) → id, tagged with the dictionary epoch
	ids   *idCache                     // id → name

	// hook, when set by tests, runs between the statements of a
	// WriteBatch transaction; an error aborts the batch.
	hook func(ctx context.Context, stage string, tx *sql.Tx) error
	// fastPause, when set by tests, is a statement run just before the
	// COMMIT of the fast path (e.g. "DO SLEEP(5)").
	fastPause string

	guard storeutil.Guard // closed state, error wrapping

	bufs sync.Pool // *[]byte: statement buffers of WriteBatch (rowWriter)
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

// Open connects to the database named by opts and checks its schema. With
// opts.Migrate it first applies pending migrations. Without it, it fails
// (ErrSchema) when the database has no schema or a newer one than this
// build knows ("schema version 7 is newer than this build (5): upgrade
// footfall"), and logs a warning when the schema is older (run `footfall
// migrate`; migrations are written so that both versions work meanwhile).
// An unreachable server fails with ErrUnavailable.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	migs, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	if opts.maxVersion > 0 && opts.maxVersion < len(migs) {
		migs = migs[:opts.maxVersion]
	}
	cfg, err := driverConfig(&opts)
	if err != nil {
		return nil, err
	}
	s := &Store{
		opts:       opts,
		log:        opts.Logger,
		now:        opts.Now,
		dbName:     cfg.DBName,
		migrations: migs,
		known:      len(migs),
		names:      newNameCache(opts.DictionaryCacheSize),
		ids:        newIDCache(opts.DictionaryCacheSize),
		guard:      storeutil.Guard{Prefix: "mysqlstore", Sentinels: []error{ErrSchema}, Classify: classify},
	}
	// A first connection tells MariaDB from MySQL, whose names for the
	// isolation-level variable differ (tx_isolation, transaction_isolation).
	if err := s.probe(ctx, cfg); err != nil {
		return nil, err
	}
	if s.mariadb {
		cfg.Params["tx_isolation"] = "'READ-COMMITTED'"
	} else {
		cfg.Params["transaction_isolation"] = "'READ-COMMITTED'"
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: open: %w: %w", analytics.ErrInvalid, err)
	}
	s.db = sql.OpenDB(conn)
	s.db.SetMaxOpenConns(opts.MaxOpenConns)
	s.db.SetMaxIdleConns(opts.MaxIdleConns)
	s.db.SetConnMaxLifetime(max(opts.ConnMaxLifetime, 0))
	s.db.SetConnMaxIdleTime(max(opts.ConnMaxIdleTime, 0))
	fail := func(err error) (*Store, error) {
		s.db.Close()
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fail(s.wrap(ctx, "open", err))
	}
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			return fail(err)
		}
	}
	applied, known, err := s.SchemaVersion(ctx)
	if err != nil {
		return fail(err)
	}
	switch {
	case applied == 0:
		return fail(fmt.Errorf("mysqlstore: open %s: the database has no schema: run `footfall migrate` (or open with Options.Migrate): %w", s.dbName, ErrSchema))
	case applied > known:
		return fail(fmt.Errorf("mysqlstore: open %s: schema version %d is newer than this build (%d): upgrade footfall: %w", s.dbName, applied, known, ErrSchema))
	case applied < known:
		s.log.Warn("database schema is older than this build: run `footfall migrate`", "database", s.dbName, "schema_version", applied, "known_version", known)
	}
	s.applied = applied
	s.site = newSiteSQL(applied)
	epoch, err := s.readEpoch(ctx, s.db)
	if err != nil {
		return fail(s.wrap(ctx, "open", err))
	}
	s.names.Reset(epoch)
	return s, nil
}

// driverConfig builds the driver configuration from opts, forcing the
// settings the store relies on.
func driverConfig(o *Options) (*mysql.Config, error) {
	var cfg *mysql.Config
	if o.Config != nil {
		cfg = o.Config.Clone()
	} else {
		var err error
		if cfg, err = mysql.ParseDSN(o.DSN); err != nil {
			return nil, fmt.Errorf("mysqlstore: DSN: %w: %w", analytics.ErrInvalid, err)
		}
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("mysqlstore: the DSN names no database: %w", analytics.ErrInvalid)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.InterpolateParams = true
	cfg.ClientFoundRows = true
	// The fast write path sends a batch's transaction as one
	// multi-statement; every statement is built here and every value is
	// escaped by the driver or written as a literal (appendLiteral).
	cfg.MultiStatements = true
	cfg.Collation = "utf8mb4_general_ci"
	if o.TLS != nil {
		cfg.TLS = o.TLS
	}
	cfg.Timeout = o.DialTimeout
	if o.ReadTimeout > 0 {
		cfg.ReadTimeout = o.ReadTimeout
	}
	if o.WriteTimeout > 0 {
		cfg.WriteTimeout = o.WriteTimeout
	}
	cfg.Logger = driverLogger{o.Logger.Named("mysql")}
	if err := cfg.Apply(mysql.TimeTruncate(time.Millisecond), mysql.Charset("utf8mb4", "utf8mb4_general_ci")); err != nil {
		return nil, fmt.Errorf("mysqlstore: driver config: %w: %w", analytics.ErrInvalid, err)
	}
	params := make(map[string]string, len(cfg.Params)+4)
	for k, v := range cfg.Params {
		params[k] = v
	}
	params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
	params["time_zone"] = "'+00:00'"
	params["innodb_lock_wait_timeout"] = strconv.Itoa(int(o.LockWaitTimeout / time.Second))
	cfg.Params = params
	return cfg, nil
}

// probe connects once to learn the server flavour and version.
func (s *Store) probe(ctx context.Context, cfg *mysql.Config) error {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("mysqlstore: open: %w: %w", analytics.ErrInvalid, err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.version); err != nil {
		return s.wrap(ctx, "open "+cfg.Addr, err)
	}
	s.mariadb = strings.Contains(strings.ToLower(s.version), "mariadb")
	major, minor := serverVersion(s.version)
	if s.mariadb && (major < 10 || major == 10 && minor < 6) || !s.mariadb && major < 8 {
		s.log.Warn("unsupported server version: footfall needs MySQL 8.0+ or MariaDB 10.6+", "version", s.version)
	}
	return nil
}

// serverVersion parses "10.11.6-MariaDB-…" or "8.0.36".
func serverVersion(v string) (major, minor int) {
	f := strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '-' })
	if len(f) >= 2 {
		major, _ = strconv.Atoi(f[0])
		minor, _ = strconv.Atoi(f[1])
	}
	return major, minor
}

// driverLogger sends the driver's diagnostics to hclog at debug level.
type driverLogger struct{ l hclog.Logger }

func (d driverLogger) Print(v ...any) { d.l.Debug(strings.TrimSpace(fmt.Sprint(v...))) }

// DB returns the store's connection pool (for diagnostics and tools such
// as `footfall doctor`; do not write to the log tables through it).
func (s *Store) DB() *sql.DB { return s.db }

// ServerVersion reports the server's VERSION() string.
func (s *Store) ServerVersion() string { return s.version }

// enter fails with ErrClosed once the Store is closed.
func (s *Store) enter(op string) error { return s.guard.Enter(op) }

// Close closes the connection pool. Later calls fail with ErrClosed.
// Close is idempotent; calls in flight may fail with ErrClosed.
func (s *Store) Close() error { return s.guard.Close(s.db.Close) }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.enter("ping"); err != nil {
		return err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return s.wrap(ctx, "ping", err)
	}
	return nil
}

// MySQL and MariaDB error numbers the store treats specially.
const (
	errDupEntry          = 1062
	errLockWaitTimeout   = 1205
	errDeadlock          = 1213
	errTooManyConns      = 1040
	errServerShutdown    = 1053
	errQueryInterrupted  = 1317
	errConnectionKilled  = 1927 // MariaDB ER_CONNECTION_KILLED
	errStatementTimeout  = 1969 // MariaDB max_statement_time
	errQueryTimeout      = 3024 // MySQL max_execution_time
	errReadOnly          = 1290 // --read-only, e.g. a demoted primary
	errReadOnlyMode      = 1836
	errTableFull         = 1114
	errDiskFull          = 1021
	errOutOfMemory       = 1037
	errOutOfSortMemory   = 1038
	errDataTooLong       = 1406
	errOutOfRange        = 1264
	errIncorrectValue    = 1366
	errTruncatedValue    = 1292
	errBadNull           = 1048
	errWrongValueCount   = 1136
	errNoSuchTable       = 1146
	errBadField          = 1054
	errLockFailed        = 1689 // MariaDB ER_LOCK_ABORTED
	errCantLock          = 1015
	errLockDeadlockOther = 1614 // XA deadlock
)

// mysqlErr returns the server error number of err, 0 if it is none.
func mysqlErr(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// isRetryableTx reports whether err is a deadlock or lock-wait timeout
// that WriteBatch retries.
func isRetryableTx(err error) bool {
	switch mysqlErr(err) {
	case errDeadlock, errLockWaitTimeout, errLockDeadlockOther:
		return true
	}
	return false
}

// wrap turns an error of database/sql or the driver into one that wraps
// the analytics sentinel it stands for, keeping the native error
// reachable (storeutil.Guard.Wrap, with classify for server errors).
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	return s.guard.Wrap(ctx, op, err)
}

// classify maps a server error number, or a lost connection, to the
// sentinel it stands for.
func classify(err error) (sentinel error, hint string) {
	switch mysqlErr(err) {
	case 0:
		if isConnError(err) {
			return analytics.ErrUnavailable, ""
		}
	case errLockWaitTimeout, errDeadlock, errLockDeadlockOther, errTooManyConns, errServerShutdown,
		errQueryInterrupted, errConnectionKilled, errStatementTimeout, errQueryTimeout, errReadOnly,
		errReadOnlyMode, errTableFull, errDiskFull, errOutOfMemory, errOutOfSortMemory, errLockFailed, errCantLock:
		return analytics.ErrUnavailable, ""
	case errDataTooLong, errOutOfRange, errIncorrectValue, errTruncatedValue, errBadNull, errWrongValueCount:
		return analytics.ErrInvalid, ""
	case errNoSuchTable, errBadField:
		return ErrSchema, " (is the schema migrated? run `footfall migrate`)"
	}
	return nil, ""
}

// isConnError reports whether err means the connection or the server is
// gone: the transaction, if any, was rolled back by the server.
func isConnError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, mysql.ErrMalformPkt), errors.Is(err, mysql.ErrPktSync), errors.Is(err, mysql.ErrPktSyncMul),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne), errors.As(err, &oe):
		return true
	}
	return false
}
