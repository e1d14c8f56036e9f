package config

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/footfall/analytics"
	"github.com/google/go-cmp/cmp"
)

// fuzzFile stands in for every secret file while fuzzing.
func fuzzFile(string) ([]byte, error) { return []byte("fuzz-secret-0123456789\n"), nil }

// FuzzParse checks that Parse never panics, that every failure is an
// Errors wrapping analytics.ErrInvalid, and that whatever parses survives
// Marshal and Parse again unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(""), "")
	f.Add([]byte("queue {\n  shardz = 4\n}\n"), "")
	f.Add([]byte("queue { shards = 1.5 }"), "FOOTFALL_QUEUE_DRIVER=redis")
	f.Add([]byte("store { mysql { dsn = \"a:b@tcp(h:1)/d\"\n dsn_file = \"x\" } }"), "")
	f.Add([]byte("privacy { salt_file = \"s\" }"), "FOOTFALL_INGEST_TRACKING_TOKENS_FILE=t")
	f.Add([]byte("ingest { trusted_proxies = [\"10.0.0.0/8\", 3] }"), "FOOTFALL_INGEST_CLIENT_IP_HEADERS=X-Forwarded-For")
	f.Add([]byte("data_dir = \"$${x} %%{y} \\u00e9\""), "FOOTFALL_TRACKER_EXCLUDED_IPS=1.2.3.*,::1")
	f.Add([]byte("log \"x\" {}\nlog {}\nlog {}"), "FOOTFALL_NOPE=1\nFOOTFALL_QUEUE_SHARDS=x")
	f.Add([]byte("queue { redis { lease_ttl = \"1h1m1.5s\"\n max_memory = 1024 } }"), "FOOTFALL_QUEUE_SPOOL_MAX_BYTES=2GiB")
	f.Add([]byte("a = b.c[0]\nx = { for k, v in y : k => v }\n"), "")
	if src, err := os.ReadFile("testdata/everything.hcl"); err == nil {
		f.Add(src, "")
	}
	f.Fuzz(func(t *testing.T, src []byte, envText string) {
		env := strings.Split(envText, "\n")
		c, err := parse(src, "fuzz.hcl", env, fuzzFile)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 || !errors.Is(err, analytics.ErrInvalid) {
				t.Fatalf("error is not a non-empty Errors wrapping ErrInvalid: %#v", err)
			}
			return
		}
		out, err := c.Marshal()
		if err != nil {
			if !errors.Is(err, analytics.ErrInvalid) {
				t.Fatalf("Marshal: %v", err)
			}
			return // a string from the environment HCL cannot carry
		}
		again, err := parse(out, "marshal.hcl", nil, fuzzFile)
		if err != nil {
			t.Fatalf("Parse(Marshal()) failed: %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, again, equateEmpty); diff != "" {
			t.Fatalf("round trip differs (-first +second):\n%s\n%s", diff, out)
		}
		_ = c.Redacted()
	})
}
