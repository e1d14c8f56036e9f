// Package testenv finds the services and tools that integration tests need.
//
// Tests call MySQLDSN, RedisURL or Tool. When the service or tool is not
// there, the test is skipped with a message — unless the environment sets
// FOOTFALL_REQUIRE_SERVICES=1 (as .ci/run does), in which case it fails: in
// CI every integration test must run.
//
// Addresses come from FOOTFALL_TEST_MYSQL_DSN and FOOTFALL_TEST_REDIS_URL,
// else the machine defaults (root@tcp(127.0.0.1:3306)/test and
// redis://127.0.0.1:6379/0).
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// DefaultMySQLDSN and DefaultRedisURL are the services of the development
// machine and of CI.
const (
	DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/test"
	DefaultRedisURL = "redis://127.0.0.1:6379/0"
)

// Required reports whether missing services must fail tests instead of
// skipping them (FOOTFALL_REQUIRE_SERVICES=1).
func Required() bool {
	v := os.Getenv("FOOTFALL_REQUIRE_SERVICES")
	return v == "1" || strings.EqualFold(v, "true")
}

// Unavailable skips t, or fails it when services are required.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("FOOTFALL_REQUIRE_SERVICES=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// MySQLDSN returns the DSN of a reachable MySQL/MariaDB server (in
// go-sql-driver form), or skips/fails t.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("FOOTFALL_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = DefaultMySQLDSN
	}
	addr := "127.0.0.1:3306"
	if i := strings.Index(dsn, "tcp("); i >= 0 {
		if j := strings.Index(dsn[i:], ")"); j > 0 {
			addr = dsn[i+4 : i+j]
		}
	}
	if !reachable(addr) {
		Unavailable(t, "MySQL/MariaDB not reachable at %s (set FOOTFALL_TEST_MYSQL_DSN)", addr)
	}
	return dsn
}

// RedisURL returns the URL of a reachable Redis server, or skips/fails t.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FOOTFALL_TEST_REDIS_URL")
	if u == "" {
		u = DefaultRedisURL
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("testenv: FOOTFALL_TEST_REDIS_URL %q: %v", u, err)
	}
	host := pu.Host
	if pu.Port() == "" {
		host = net.JoinHostPort(pu.Hostname(), "6379")
	}
	if !reachable(host) {
		Unavailable(t, "Redis not reachable at %s (set FOOTFALL_TEST_REDIS_URL)", host)
	}
	return u
}

// Tool returns the path of an executable (haproxy, chromium), or skips/fails t.
func Tool(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Unavailable(t, "none of %v found in PATH", names)
	return ""
}

// Name returns a short random name with the given prefix, for a test's own
// database, key prefix or directory: "ff_" + prefix + 12 hex digits.
func Name(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return "ff_" + prefix + hex.EncodeToString(b[:])
}

func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
