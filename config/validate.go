package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Validate checks every setting and reports all problems at once, as
// Errors naming each key ("queue.shards: must be between 1 and 4096"),
// wrapping analytics.ErrInvalid. Load and Parse call it; call it again
// after changing a Config in code.
func (c *Config) Validate() error {
	return c.validate().err()
}

type validator struct{ errs Errors }

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) intRange(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(key, "must be between %d and %d, got %d", lo, hi, n)
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "must be positive, got %s", formatDuration(d))
	}
}

func (v *validator) nonNegative(key string, d time.Duration) {
	if d < 0 {
		v.add(key, "must not be negative, got %s", formatDuration(d))
	}
}

func (v *validator) oneOf(key, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		q := make([]string, len(allowed))
		for i, a := range allowed {
			q[i] = strconv.Quote(a)
		}
		v.add(key, "must be one of %s, got %q", strings.Join(q, ", "), s)
	}
}

func (v *validator) listen(key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(key, "must be host:port (\":8080\", \"127.0.0.1:8081\"), got %q", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "port must be a number from 0 to 65535, got %q", port)
	}
	if strings.ContainsAny(host, " \t/") {
		v.add(key, "invalid host %q", host)
	}
}

func (v *validator) ranges(key string, list []string) {
	for i, s := range list {
		if _, err := ParseIPRange(s); err != nil {
			v.add(fmt.Sprintf("%s[%d]", key, i), "%q is not an address, CIDR prefix or a.b.c.* wildcard", s)
		}
	}
}

func (v *validator) nonEmpty(key string, list []string) {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.add(fmt.Sprintf("%s[%d]", key, i), "must not be empty")
		}
	}
}

// isToken reports whether s is an HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

func (c *Config) validate() Errors {
	v := &validator{}

	if strings.TrimSpace(c.DataDir) == "" {
		v.add("data_dir", "must not be empty")
	}
	v.oneOf("log.level", c.Log.Level, "trace", "debug", "info", "warn", "error", "off")
	v.oneOf("log.format", c.Log.Format, "text", "json")

	// ingest
	in := &c.Ingest
	v.listen("ingest.listen", in.Listen)
	if p := in.Prefix; !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# \t\\") || path.Clean(p) != strings.TrimSuffix(p, "/") && p != "/" {
		v.add("ingest.prefix", "must be a clean URL path starting with \"/\" (\"/\", \"/matomo/\"), got %q", p)
	}
	v.ranges("ingest.trusted_proxies", in.TrustedProxies)
	for i, h := range in.ClientIPHeaders {
		if !isToken(h) {
			v.add(fmt.Sprintf("ingest.client_ip_headers[%d]", i), "%q is not an HTTP header name", h)
		}
	}
	if len(in.ClientIPHeaders) > 0 && len(in.TrustedProxies) == 0 {
		v.add("ingest.client_ip_headers", "set, but ingest.trusted_proxies is empty, so they would never be read")
	}
	if in.MaxBodyBytes < 1*KiB || in.MaxBodyBytes > 1*GiB {
		v.add("ingest.max_body_bytes", "must be between 1KiB and 1GiB, got %s", in.MaxBodyBytes)
	}
	v.intRange("ingest.max_bulk_items", in.MaxBulkItems, 1, 1_000_000)
	v.intRange("ingest.max_url_length", in.MaxURLLength, 64, 1<<20)
	v.intRange("ingest.max_field_length", in.MaxFieldLength, 16, 1<<20)
	v.positive("ingest.site_refresh", in.SiteRefresh)
	v.nonNegative("ingest.custom_timestamp_requires_auth_after", in.CustomTimestampRequiresAuthAfter)
	for i, t := range in.TrackingTokens {
		if t == "" || strings.ContainsAny(t, " \t\r\n,") {
			v.add(fmt.Sprintf("ingest.tracking_tokens[%d]", i), "must be non-empty, without spaces or commas")
		}
	}

	// admin
	v.listen("admin.listen", c.Admin.Listen)
	v.ranges("admin.allowed_cidrs", c.Admin.AllowedCIDRs)

	// queue
	q := &c.Queue
	v.oneOf("queue.driver", q.Driver, "memory", "redis")
	v.intRange("queue.shards", q.Shards, 1, 4096)
	v.positive("queue.ack_timeout", q.AckTimeout)
	if q.Driver == "redis" || q.Redis.URL != "" {
		// Never quote the URL: it may hold a password.
		u, err := url.Parse(q.Redis.URL)
		switch {
		case q.Redis.URL == "":
			v.add("queue.redis.url", "required when queue.driver is \"redis\"")
		case err != nil:
			v.add("queue.redis.url", "not a valid URL")
		case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
			v.add("queue.redis.url", "scheme must be redis, rediss or unix, got %q", u.Scheme)
		case u.Scheme != "unix" && u.Host == "":
			v.add("queue.redis.url", "has no host")
		case u.Scheme == "unix" && u.Path == "":
			v.add("queue.redis.url", "has no socket path")
		}
	}
	if q.Redis.Prefix == "" || strings.ContainsAny(q.Redis.Prefix, " \t\r\n{}") {
		v.add("queue.redis.prefix", "must be non-empty, without spaces or braces, got %q", q.Redis.Prefix)
	}
	v.positive("queue.redis.lease_ttl", q.Redis.LeaseTTL)
	if q.Redis.MaxMemory < 0 {
		v.add("queue.redis.max_memory", "must not be negative")
	}
	v.intRange("queue.redis.dead_letter_after", q.Redis.DeadLetterAfter, 1, 1000)
	if q.Spool.MaxBytes < 1*MiB {
		v.add("queue.spool.max_bytes", "must be at least 1MiB, got %s", q.Spool.MaxBytes)
	}

	// store
	s := &c.Store
	v.oneOf("store.driver", s.Driver, "sqlite", "mysql")
	if s.Driver == "mysql" && s.MySQL.DSN == "" {
		v.add("store.mysql.dsn", "required when store.driver is \"mysql\"")
	}
	if s.MySQL.DSN != "" {
		// The driver's messages name the part that is wrong, never the
		// password.
		if _, err := mysql.ParseDSN(s.MySQL.DSN); err != nil {
			v.add("store.mysql.dsn", "not a valid DSN (user:password@tcp(host:3306)/db): %s", strings.TrimPrefix(err.Error(), "invalid DSN: "))
		}
	}
	v.intRange("store.mysql.max_open_conns", s.MySQL.MaxOpenConns, 1, 10_000)
	v.intRange("store.mysql.max_idle_conns", s.MySQL.MaxIdleConns, 0, max(s.MySQL.MaxOpenConns, 0))
	v.nonNegative("store.mysql.conn_max_lifetime", s.MySQL.ConnMaxLifetime)
	v.oneOf("store.mysql.tls", s.MySQL.TLS, "", "true", "skip-verify", "preferred")

	// worker
	v.intRange("worker.processors", c.Worker.Processors, 1, 4096)
	v.intRange("worker.batch_size", c.Worker.BatchSize, 1, 100_000)

	// tracker
	t := &c.Tracker
	v.positive("tracker.visit_length", t.VisitLength)
	v.intRange("tracker.max_actions_per_visit", t.MaxActionsPerVisit, 1, 1_000_000)
	v.nonEmpty("tracker.excluded_query_params", t.ExcludedQueryParams)
	v.ranges("tracker.excluded_ips", t.ExcludedIPs)
	v.nonEmpty("tracker.excluded_user_agents", t.ExcludedUserAgents)

	// privacy
	p := &c.Privacy
	v.intRange("privacy.ipv4_mask_bytes", p.IPv4MaskBytes, 0, 4)
	v.intRange("privacy.ipv6_mask_bits", p.IPv6MaskBits, 0, 128)
	v.oneOf("privacy.dnt", p.DNT, "ignore", "exclude", "count")
	v.oneOf("privacy.gpc", p.GPC, "ignore", "exclude", "count")
	v.oneOf("privacy.consent", p.Consent, "none", "cookies", "tracking")
	v.intRange("privacy.retention_days", p.RetentionDays, 0, 100_000)
	v.nonNegative("privacy.salt_grace", p.SaltGrace)
	if p.Salt != "" && len(p.Salt) < 16 {
		v.add("privacy.salt", "must be at least 16 bytes long (or empty to generate one)")
	}

	// archive
	v.positive("archive.interval", c.Archive.Interval)
	v.positive("archive.today_ttl", c.Archive.TodayTTL)

	return v.errs
}
