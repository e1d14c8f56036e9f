package config

import (
	"time"
)

// Config is the configuration of every role of the footfall binary. A
// field's HCL key is in its hcl tag, its environment variable is derived
// from the key's path (see the package doc) and its comment ends with its
// default. A zero Config is not valid: start from Default (Load and Parse
// do).
//
// Fields tagged `secret` are never printed by String or Redacted. Each
// secret x has a sibling x_file naming a file to read the secret from
// (Load reads it; the file's trailing newline is trimmed).
type Config struct {
	// DataDir is where the embedded defaults keep their files (the SQLite
	// database, the ingest spool) unless their own paths are set.
	// Default: "./footfall-data"
	DataDir string `hcl:"data_dir"`

	Log     Log     `hcl:"log"`
	Ingest  Ingest  `hcl:"ingest"`
	Admin   Admin   `hcl:"admin"`
	Queue   Queue   `hcl:"queue"`
	Store   Store   `hcl:"store"`
	Geo     Geo     `hcl:"geo"`
	Worker  Worker  `hcl:"worker"`
	Tracker Tracker `hcl:"tracker"`
	Privacy Privacy `hcl:"privacy"`
	Archive Archive `hcl:"archive"`
}

// Log is the log block: how the binary logs (through hclog).
type Log struct {
	// Level is the lowest level logged: "trace", "debug", "info", "warn",
	// "error" or "off". Default: "info"
	Level string `hcl:"level"`
	// Format is "text" (human-readable lines) or "json" (one JSON object a
	// line). Default: "text"
	Format string `hcl:"format"`
}

// Ingest is the ingest block: the public tracking endpoint.
type Ingest struct {
	// Listen is the host:port the tracking endpoint listens on.
	// Default: ":8080"
	Listen string `hcl:"listen"`
	// Prefix is the URL path prefix the tracking endpoint (matomo.php,
	// piwik.php, the tracker JS) is mounted at; it starts with "/".
	// Default: "/"
	Prefix string `hcl:"prefix"`
	// TrustedProxies are the peers (CIDR prefixes or single addresses)
	// whose ClientIPHeaders are believed. Default: []
	TrustedProxies []string `hcl:"trusted_proxies"`
	// ClientIPHeaders are the request headers that carry the client
	// address ("X-Forwarded-For", "CF-Connecting-IP"), tried in order. They
	// are read only when the peer is one of TrustedProxies (Matomo's
	// proxy_client_headers). Default: []
	ClientIPHeaders []string `hcl:"client_ip_headers"`
	// ProxyIPReadLast takes the last address of a comma list in a client IP
	// header that is not itself a trusted proxy; false takes the first
	// (Matomo 5's proxy_ip_read_last_in_list). Default: true
	ProxyIPReadLast bool `hcl:"proxy_ip_read_last"`
	// MaxBodyBytes caps the body of one tracking request, bulk requests
	// included (1KiB–1GiB); a larger body is answered 413. Default: "1MiB"
	MaxBodyBytes Size `hcl:"max_body_bytes"`
	// MaxBulkItems caps the requests of one bulk request (1–1000000); more
	// are answered 400. Default: 1000
	MaxBulkItems int `hcl:"max_bulk_items"`
	// MaxURLLength caps URL values (url, urlref, link, download, _ref;
	// 64–1048576): a longer value is truncated to this many bytes (at a UTF-8 boundary),
	// never rejected, as Matomo truncates the stored column. Default: 2048
	MaxURLLength int `hcl:"max_url_length"`
	// MaxFieldLength caps every other free-text value (action_name, event
	// and content fields, search keywords, custom dimensions…; 16–1048576):
	// longer values are truncated like Matomo's stored columns.
	// Default: 1024
	MaxFieldLength int `hcl:"max_field_length"`
	// RecordStatistics false stops tracking: the endpoint answers 503 and
	// queues nothing (Matomo's record_statistics=0). Default: true
	RecordStatistics bool `hcl:"record_statistics"`
	// SiteRefresh is how often the cached site list is reloaded from the
	// store; the old list is kept while the store is away. Default: "30s"
	SiteRefresh time.Duration `hcl:"site_refresh"`
	// CustomTimestampRequiresAuthAfter: a custom timestamp (cdt) older
	// than this needs a valid token_auth; 0 = every cdt in the past needs
	// one. Default: "24h"
	CustomTimestampRequiresAuthAfter time.Duration `hcl:"custom_timestamp_requires_auth_after"`
	// BulkRequiresAuth requires a valid token_auth on every bulk request
	// (Matomo's bulk_requests_require_authentication). Default: false
	BulkRequiresAuth bool `hcl:"bulk_requires_auth"`
	// TrackingTokens are the token_auth values that authenticate tracking
	// requests (cip, cdt, country/region/city/lat/long overrides). Secret;
	// tracking_tokens_file names a file with one token a line.
	// Default: []
	TrackingTokens []string `hcl:"tracking_tokens" secret:""`
	// TrackingTokensFile is a file holding TrackingTokens, one a line.
	// Default: ""
	TrackingTokensFile string `hcl:"tracking_tokens_file"`
}

// Admin is the admin block: dashboard, Reporting API and management.
type Admin struct {
	// Listen is the host:port of the admin server. Default: "127.0.0.1:8081"
	Listen string `hcl:"listen"`
	// AllowedCIDRs are the peers (CIDR prefixes or single addresses)
	// allowed to reach the admin server; others get 403.
	// Default: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
	AllowedCIDRs []string `hcl:"allowed_cidrs"`
	// ForceSSL redirects plain-HTTP admin requests to https (Matomo's
	// force_ssl). Default: false
	ForceSSL bool `hcl:"force_ssl"`
	// Maintenance answers the UI and the Reporting API with 503; tracking
	// continues (Matomo's maintenance_mode). Default: false
	Maintenance bool `hcl:"maintenance"`
	// BrowserArchiving lets a report request archive missing periods on
	// the fly; false serves only what the archive role built (Matomo's
	// browser_archiving_disabled_enforce=1). Default: false
	BrowserArchiving bool `hcl:"browser_archiving"`
}

// Queue is the queue block: what carries hits from ingest to workers.
type Queue struct {
	// Driver is "memory" (in-process; the all role only) or "redis".
	// Default: "memory"
	Driver string `hcl:"driver"`
	// Shards is the number of queue shards (1–4096). One visitor's hits go
	// to one shard and a shard is processed by one worker at a time; every
	// node must agree on it. Default: 16
	Shards int `hcl:"shards"`
	// AckTimeout is how long a delivery may stay unacknowledged before it
	// is handed to another worker. Default: "1m"
	AckTimeout time.Duration `hcl:"ack_timeout"`

	Redis Redis `hcl:"redis"`
	Spool Spool `hcl:"spool"`
}

// Redis is the queue.redis block.
type Redis struct {
	// URL is the Redis server, "redis://[user:password@]host:port/db",
	// "rediss://…" for TLS or "unix:///path.sock". Secret (it may hold a
	// password). Default: "redis://127.0.0.1:6379/0"
	URL string `hcl:"url" secret:"url"`
	// URLFile is a file holding URL. Default: ""
	URLFile string `hcl:"url_file"`
	// Prefix starts every Redis key, so that several instances can share a
	// server. Default: "footfall"
	Prefix string `hcl:"prefix"`
	// LeaseTTL is how long a worker's lease on a shard lasts without being
	// renewed. Default: "15s"
	LeaseTTL time.Duration `hcl:"lease_ttl"`
	// MaxMemory is a high-water mark on Redis used_memory: above it ingest
	// writes to its local spool instead of Redis; "0" = no mark.
	// Default: "0"
	MaxMemory Size `hcl:"max_memory"`
	// DeadLetterAfter moves a hit to the dead-letter stream after this
	// many failed deliveries (1–1000). Default: 5
	DeadLetterAfter int `hcl:"dead_letter_after"`
}

// Spool is the queue.spool block: the ingest node's local disk buffer for
// when the queue is away or full.
type Spool struct {
	// Dir is the spool directory; "" = <data_dir>/spool. Default: ""
	Dir string `hcl:"dir"`
	// MaxBytes caps the spool on disk (at least 1MiB); when it is full
	// ingest answers 503. Default: "1GiB"
	MaxBytes Size `hcl:"max_bytes"`
}

// Store is the store block: where log data, sites and reports live.
type Store struct {
	// Driver is "sqlite" (embedded, one process) or "mysql" (MySQL or
	// MariaDB). Default: "sqlite"
	Driver string `hcl:"driver"`

	SQLite SQLite `hcl:"sqlite"`
	MySQL  MySQL  `hcl:"mysql"`
}

// SQLite is the store.sqlite block.
type SQLite struct {
	// Path is the database file; "" = <data_dir>/footfall.db. Default: ""
	Path string `hcl:"path"`
}

// MySQL is the store.mysql block.
type MySQL struct {
	// DSN is the go-sql-driver DSN, "user:password@tcp(host:3306)/db".
	// Required when store.driver is "mysql". Secret. Default: ""
	DSN string `hcl:"dsn" secret:"dsn"`
	// DSNFile is a file holding DSN. Default: ""
	DSNFile string `hcl:"dsn_file"`
	// MaxOpenConns caps open connections per process (1–10000).
	// Default: 16
	MaxOpenConns int `hcl:"max_open_conns"`
	// MaxIdleConns caps idle connections kept per process (at most
	// MaxOpenConns). Default: 8
	MaxIdleConns int `hcl:"max_idle_conns"`
	// ConnMaxLifetime closes connections older than this; "0s" = never.
	// Default: "5m"
	ConnMaxLifetime time.Duration `hcl:"conn_max_lifetime"`
	// TLS is the connection's TLS mode: "" (as the DSN says), "true"
	// (verify), "skip-verify" or "preferred". Default: ""
	TLS string `hcl:"tls"`
}

// Geo is the geo block: geolocation.
type Geo struct {
	// Database is a MaxMind-format .mmdb file (GeoIP2, GeoLite2, DB-IP);
	// "" = no geolocation. Default: ""
	Database string `hcl:"database"`
}

// Worker is the worker block: the processes that drain the queue.
type Worker struct {
	// Processors is the number of shards one worker process handles at
	// once (1–4096). Default: 2
	Processors int `hcl:"processors"`
	// BatchSize caps the hits of one delivery, which is one store
	// transaction (1–100000). Default: 500
	BatchSize int `hcl:"batch_size"`
}

// Tracker is the tracker block: how hits become visits (Matomo's
// [Tracker] section).
type Tracker struct {
	// VisitLength is the idle time after which the next hit opens a new
	// visit (Matomo's visit_standard_length). Default: "30m"
	VisitLength time.Duration `hcl:"visit_length"`
	// NewVisitAtMidnight opens a new visit at midnight in the site's time
	// zone. Default: true
	NewVisitAtMidnight bool `hcl:"new_visit_at_midnight"`
	// NewVisitOnCampaignChange opens a new visit when the campaign
	// changes. Default: true
	NewVisitOnCampaignChange bool `hcl:"new_visit_on_campaign_change"`
	// NewVisitOnReferrerChange opens a new visit when the website
	// referrer changes. Default: false
	NewVisitOnReferrerChange bool `hcl:"new_visit_on_referrer_change"`
	// MaxActionsPerVisit opens a new visit after this many actions
	// (1–1000000). Default: 10000
	MaxActionsPerVisit int `hcl:"max_actions_per_visit"`
	// ExcludedQueryParams are stripped from every URL, in addition to
	// Matomo's defaults (gclid, fbclid, …) and the site's own list.
	// Default: []
	ExcludedQueryParams []string `hcl:"excluded_query_params"`
	// ExcludedIPs are never tracked on any site: addresses, CIDR prefixes
	// or IPv4 wildcards ("192.168.1.*"). Default: []
	ExcludedIPs []string `hcl:"excluded_ips"`
	// ExcludedUserAgents: hits whose user agent contains one of these
	// (case-insensitive) are not tracked on any site. Default: []
	ExcludedUserAgents []string `hcl:"excluded_user_agents"`
	// TrackBots tracks hits from bots and crawlers instead of dropping
	// them (a request can still ask with bots=1). Default: false
	TrackBots bool `hcl:"track_bots"`
}

// Privacy is the privacy block: the instance defaults that a site's
// analytics.Privacy falls back to (see PrivacyDefaults).
type Privacy struct {
	// IPv4MaskBytes is how many trailing bytes of an IPv4 address are
	// zeroed before storage (0–4; 0 = none). Default: 2
	IPv4MaskBytes int `hcl:"ipv4_mask_bytes"`
	// IPv6MaskBits is how many trailing bits of an IPv6 address are zeroed
	// (0–128; 0 = none). Default: 80
	IPv6MaskBits int `hcl:"ipv6_mask_bits"`
	// StoreIP false stores no IP address at all, not even masked.
	// Default: true
	StoreIP bool `hcl:"store_ip"`
	// Cookieless ignores visitor ids sent by trackers and identifies every
	// visitor by a daily-salted hash. Default: false
	Cookieless bool `hcl:"cookieless"`
	// DNT is what a "DNT: 1" header does: "ignore" (track as usual),
	// "exclude" (drop the hit, Matomo's behaviour) or "count" (keep it for
	// aggregates, store no identifier). Default: "count"
	DNT string `hcl:"dnt"`
	// GPC is what a "Sec-GPC: 1" header does, with DNT's values.
	// Default: "count"
	GPC string `hcl:"gpc"`
	// HashUserID stores user ids hashed (Matomo's anonymizeUserId).
	// Default: false
	HashUserID bool `hcl:"hash_user_id"`
	// Consent is what a site's consent banner requires, enforced on the
	// server: "none" (no consent needed), "cookies" (Matomo's
	// requireCookieConsent: a hit without consent=1 is cookieless, its
	// visitor ids and user id ignored) or "tracking" (requireConsent: a
	// hit without consent=1 is dropped). Default: "none"
	Consent string `hcl:"consent"`
	// ScrubPII removes e-mail addresses, long digit runs and secret-like
	// query parameters from URLs, titles, referrers and event fields.
	// Default: false
	ScrubPII bool `hcl:"scrub_pii"`
	// RetentionDays deletes raw log data older than this many days
	// (0–100000); 0 = keep forever. Default: 0
	RetentionDays int `hcl:"retention_days"`
	// SaltGrace is how long a daily cookieless salt is kept after its day
	// is over in its site's time zone, so that late hits of the day still
	// match; "0s" deletes it as soon as the day is over. Default: "24h"
	SaltGrace time.Duration `hcl:"salt_grace"`
	// Salt is the instance salt mixed into every hash (at least 16
	// bytes); "" = generated once and kept in the store. Secret.
	// Default: ""
	Salt string `hcl:"salt" secret:""`
	// SaltFile is a file holding Salt. Default: ""
	SaltFile string `hcl:"salt_file"`
}

// Archive is the archive block: building reports.
type Archive struct {
	// Interval is how often the archive role (when looping) and the all
	// role archive what is due. Default: "1h"
	Interval time.Duration `hcl:"interval"`
	// TodayTTL is how old an archive of a period that includes today may
	// get before it is built again. Default: "15m"
	TodayTTL time.Duration `hcl:"today_ttl"`
}

// Default returns the default configuration: embedded in-memory queue and
// SQLite store under ./footfall-data, every setting as documented.
func Default() *Config {
	return &Config{
		DataDir: "./footfall-data",
		Log:     Log{Level: "info", Format: "text"},
		Ingest: Ingest{
			Listen:                           ":8080",
			Prefix:                           "/",
			ProxyIPReadLast:                  true,
			MaxBodyBytes:                     1 * MiB,
			MaxBulkItems:                     1000,
			MaxURLLength:                     2048,
			MaxFieldLength:                   1024,
			RecordStatistics:                 true,
			SiteRefresh:                      30 * time.Second,
			CustomTimestampRequiresAuthAfter: 24 * time.Hour,
		},
		Admin: Admin{
			Listen:       "127.0.0.1:8081",
			AllowedCIDRs: []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"},
		},
		Queue: Queue{
			Driver:     "memory",
			Shards:     16,
			AckTimeout: time.Minute,
			Redis: Redis{
				URL:             "redis://127.0.0.1:6379/0",
				Prefix:          "footfall",
				LeaseTTL:        15 * time.Second,
				DeadLetterAfter: 5,
			},
			Spool: Spool{MaxBytes: 1 * GiB},
		},
		Store: Store{
			Driver: "sqlite",
			MySQL: MySQL{
				MaxOpenConns:    16,
				MaxIdleConns:    8,
				ConnMaxLifetime: 5 * time.Minute,
			},
		},
		Worker: Worker{Processors: 2, BatchSize: 500},
		Tracker: Tracker{
			VisitLength:              30 * time.Minute,
			NewVisitAtMidnight:       true,
			NewVisitOnCampaignChange: true,
			MaxActionsPerVisit:       10000,
		},
		Privacy: Privacy{
			IPv4MaskBytes: 2,
			IPv6MaskBits:  80,
			StoreIP:       true,
			DNT:           "count",
			GPC:           "count",
			Consent:       "none",
			SaltGrace:     24 * time.Hour,
		},
		Archive: Archive{Interval: time.Hour, TodayTTL: 15 * time.Minute},
	}
}
