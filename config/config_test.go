package config

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// noFiles is a readFile for tests that must not touch the file system.
func noFiles(name string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// mustParse parses src with env and fails the test on error.
func mustParse(t *testing.T, src string, env ...string) *Config {
	t.Helper()
	c, err := parse([]byte(src), "f.hcl", env, noFiles)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

// problems returns the lines of err's message, checking that it is an
// Errors wrapping analytics.ErrInvalid.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("error does not wrap analytics.ErrInvalid: %v", err)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, not Errors: %v", err, err)
	}
	return strings.Split(err.Error(), "\n")
}

var equateEmpty = cmpopts.EquateEmpty()

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), c, equateEmpty); diff != "" {
		t.Errorf("Load(\"\", nil) differs from Default() (-want +got):\n%s", diff)
	}
}

// docExample returns the example file of doc.go.
func docExample(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	text := f.Doc.Text()
	_, after, ok := strings.Cut(text, "# Example file\n")
	if !ok {
		t.Fatal("doc.go has no \"# Example file\" section")
	}
	var b strings.Builder
	for line := range strings.Lines(after) {
		switch {
		case strings.HasPrefix(line, "\t"):
			b.WriteString(line[1:])
		case strings.TrimSpace(line) == "":
			b.WriteString("\n")
		case b.Len() > 0 && !strings.HasPrefix(line, "\t"):
			if strings.Contains(b.String(), "=") {
				return b.String()
			}
		}
	}
	return b.String()
}

// TestDocExample checks that the example file of doc.go names every
// setting and that its values are exactly Default().
func TestDocExample(t *testing.T) {
	src := docExample(t)
	if formatted := string(hclwrite.Format([]byte(src))); formatted != src {
		t.Errorf("the doc.go example is not formatted as hclwrite.Format would:\n%s", cmp.Diff(src, formatted))
	}
	c, err := parse([]byte(src), "doc.go example", nil, noFiles)
	if err != nil {
		t.Fatalf("the doc.go example does not parse:\n%v", err)
	}
	if diff := cmp.Diff(Default(), c, equateEmpty); diff != "" {
		t.Errorf("the doc.go example is not Default() (-Default +example):\n%s", diff)
	}
	f, diags := hclsyntax.ParseConfig([]byte(src), "example", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var keys []string
	var walk func(prefix string, b *hclsyntax.Body)
	walk = func(prefix string, b *hclsyntax.Body) {
		for name := range b.Attributes {
			keys = append(keys, prefix+name)
		}
		for _, blk := range b.Blocks {
			walk(prefix+blk.Type+".", blk.Body)
		}
	}
	walk("", f.Body.(*hclsyntax.Body))
	var want []string
	for _, s := range Settings() {
		want = append(want, s.Key)
	}
	slices.Sort(keys)
	slices.Sort(want)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("the doc.go example does not list every setting (-settings +example):\n%s", diff)
	}
}

// TestFieldCommentsDocumentDefaults checks that every setting's field
// comment ends with "Default: <the value of Default() in HCL>".
func TestFieldCommentsDocumentDefaults(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{} // "Type.Field" → comment
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fl := range st.Fields.List {
			for _, name := range fl.Names {
				docs[ts.Name.Name+"."+name.Name] = strings.Join(strings.Fields(fl.Doc.Text()), " ")
			}
		}
		return false
	})
	s := newSchema()
	def := Default()
	w := &writer{cfg: def, def: def}
	for _, fd := range s.fields {
		typ := reflect.TypeFor[Config]()
		for _, i := range fd.index[:len(fd.index)-1] {
			typ = typ.Field(i).Type
		}
		goName := typ.Name() + "." + typ.Field(fd.index[len(fd.index)-1]).Name
		val, ok := w.cty(fd, fd.value(def))
		if !ok {
			t.Fatalf("%s: cannot write its default", fd.path)
		}
		lit := strings.TrimSpace(string(hclwrite.TokensForValue(val).Bytes()))
		doc := docs[goName]
		if !strings.HasSuffix(doc, "Default: "+lit) {
			t.Errorf("%s (%s): comment should end with %q, is %q", goName, fd.path, "Default: "+lit, doc)
		}
	}
}

func TestSettings(t *testing.T) {
	settings := Settings()
	envs := map[string]bool{}
	byKey := map[string]Setting{}
	for _, s := range settings {
		if envs[s.Env] {
			t.Errorf("duplicate variable %s", s.Env)
		}
		envs[s.Env] = true
		byKey[s.Key] = s
		if want := "FOOTFALL_" + strings.ToUpper(strings.ReplaceAll(s.Key, ".", "_")); s.Env != want {
			t.Errorf("%s: env %s, want %s", s.Key, s.Env, want)
		}
		if envAllowed(s.Env) {
			t.Errorf("%s: variable %s is in the allow-list and would be ignored", s.Key, s.Env)
		}
	}
	for key, want := range map[string]Setting{
		"data_dir":                {Key: "data_dir", Env: "FOOTFALL_DATA_DIR", Type: "string"},
		"queue.driver":            {Key: "queue.driver", Env: "FOOTFALL_QUEUE_DRIVER", Type: "string"},
		"ingest.listen":           {Key: "ingest.listen", Env: "FOOTFALL_INGEST_LISTEN", Type: "string"},
		"store.mysql.dsn":         {Key: "store.mysql.dsn", Env: "FOOTFALL_STORE_MYSQL_DSN", Type: "string", Secret: true, FileKey: "store.mysql.dsn_file"},
		"queue.redis.url":         {Key: "queue.redis.url", Env: "FOOTFALL_QUEUE_REDIS_URL", Type: "string", Secret: true, FileKey: "queue.redis.url_file"},
		"ingest.tracking_tokens":  {Key: "ingest.tracking_tokens", Env: "FOOTFALL_INGEST_TRACKING_TOKENS", Type: "list", Secret: true, FileKey: "ingest.tracking_tokens_file"},
		"privacy.salt":            {Key: "privacy.salt", Env: "FOOTFALL_PRIVACY_SALT", Type: "string", Secret: true, FileKey: "privacy.salt_file"},
		"ingest.max_body_bytes":   {Key: "ingest.max_body_bytes", Env: "FOOTFALL_INGEST_MAX_BODY_BYTES", Type: "size"},
		"tracker.visit_length":    {Key: "tracker.visit_length", Env: "FOOTFALL_TRACKER_VISIT_LENGTH", Type: "duration"},
		"admin.force_ssl":         {Key: "admin.force_ssl", Env: "FOOTFALL_ADMIN_FORCE_SSL", Type: "bool"},
		"privacy.ipv4_mask_bytes": {Key: "privacy.ipv4_mask_bytes", Env: "FOOTFALL_PRIVACY_IPV4_MASK_BYTES", Type: "int"},
	} {
		if diff := cmp.Diff(want, byKey[key]); diff != "" {
			t.Errorf("setting %s (-want +got):\n%s", key, diff)
		}
	}
	var secrets []string
	for _, s := range settings {
		if s.Secret {
			secrets = append(secrets, s.Key)
		}
	}
	if diff := cmp.Diff([]string{"ingest.tracking_tokens", "queue.redis.url", "store.mysql.dsn", "privacy.salt"}, secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown attribute in block",
			src:  "queue {\n  shardz = 4\n}\n",
			want: []string{`config: f.hcl:2,3: unknown attribute "shardz" in block "queue" (did you mean "shards"?)`},
		},
		{
			name: "unknown attribute at top level",
			src:  "data_dirr = \"x\"\n",
			want: []string{`config: f.hcl:1,1: unknown attribute "data_dirr" (did you mean "data_dir"?)`},
		},
		{
			name: "unknown attribute without suggestion",
			src:  "store {\n  mysql {\n    completely_wrong = 1\n  }\n}\n",
			want: []string{`config: f.hcl:3,5: unknown attribute "completely_wrong" in block "store.mysql"`},
		},
		{
			name: "unknown block",
			src:  "\nqueu {\n}\n",
			want: []string{`config: f.hcl:2,1: unknown block "queu" (did you mean "queue"?)`},
		},
		{
			name: "unknown nested block",
			src:  "queue {\n  reddis {}\n}\n",
			want: []string{`config: f.hcl:2,3: unknown block "reddis" in block "queue" (did you mean "redis"?)`},
		},
		{
			name: "block written as attribute",
			src:  "queue = 1\n",
			want: []string{`config: f.hcl:1,1: "queue" is a block, not an attribute: write queue { … }`},
		},
		{
			name: "attribute written as block",
			src:  "data_dir {}\n",
			want: []string{`config: f.hcl:1,1: "data_dir" is an attribute, not a block: write data_dir = …`},
		},
		{
			name: "block with label",
			src:  "queue \"main\" {}\n",
			want: []string{`config: f.hcl:1,7: block "queue" takes no labels`},
		},
		{
			name: "duplicate block",
			src:  "log {}\nlog {}\n",
			want: []string{`config: f.hcl:2,1: duplicate block "log" (first at line 1)`},
		},
		{
			name: "string for int",
			src:  "queue {\n  shards = \"16\"\n}\n",
			want: []string{`config: f.hcl:2,12: queue.shards: must be a whole number, got string`},
		},
		{
			name: "fraction for int",
			src:  "queue { shards = 1.5 }\n",
			want: []string{`config: f.hcl:1,18: queue.shards: must be a whole number, got 1.5`},
		},
		{
			name: "huge int",
			src:  "worker { batch_size = 1e30 }\n",
			want: []string{`config: f.hcl:1,23: worker.batch_size: must be a whole number, got 1e+30`},
		},
		{
			name: "number for string",
			src:  "ingest { listen = 8080 }\n",
			want: []string{`config: f.hcl:1,19: ingest.listen: must be a string, got number`},
		},
		{
			name: "string for bool",
			src:  "admin {\n\tforce_ssl = \"yes\"\n}\n",
			want: []string{`config: f.hcl:2,14: admin.force_ssl: must be true or false, got string`},
		},
		{
			name: "bad duration",
			src:  "queue {\n  redis {\n    lease_ttl = \"15\"\n  }\n}\n",
			want: []string{`config: f.hcl:3,17: queue.redis.lease_ttl: invalid duration "15" (use a number and a unit: "10s", "30m", "24h")`},
		},
		{
			name: "number for duration",
			src:  "tracker { visit_length = 1800 }\n",
			want: []string{`config: f.hcl:1,26: tracker.visit_length: must be a duration string like "30s", "5m" or "24h", got number`},
		},
		{
			name: "bad size unit",
			src:  "ingest { max_body_bytes = \"1XB\" }\n",
			want: []string{`config: f.hcl:1,27: ingest.max_body_bytes: size "1XB": unknown unit "XB" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		},
		{
			name: "size without number",
			src:  "ingest { max_body_bytes = \"MiB\" }\n",
			want: []string{`config: f.hcl:1,27: ingest.max_body_bytes: size "MiB": need a whole number of bytes and an optional unit ("512", "64KB", "1MiB")`},
		},
		{
			name: "negative size number",
			src:  "ingest { max_body_bytes = -1 }\n",
			want: []string{`config: f.hcl:1,27: ingest.max_body_bytes: must be a whole number of bytes or a size string like "64KB", "1MiB"`},
		},
		{
			name: "bool for list",
			src:  "ingest { trusted_proxies = true }\n",
			want: []string{`config: f.hcl:1,28: ingest.trusted_proxies: must be a list of strings, got bool`},
		},
		{
			name: "number in list",
			src:  "ingest {\n  trusted_proxies = [\"10.0.0.0/8\", 3]\n}\n",
			want: []string{`config: f.hcl:2,36: ingest.trusted_proxies[1]: must be a string, got number`},
		},
		{
			name: "null",
			src:  "log { level = null }\n",
			want: []string{`config: f.hcl:1,15: log.level: must be a string value, not null`},
		},
		{
			name: "variable reference",
			src:  "data_dir = home\n",
			want: []string{`config: f.hcl:1,12: Variables not allowed: Variables may not be used here`},
		},
		{
			name: "function call",
			src:  "data_dir = upper(\"x\")\n",
			want: []string{`config: f.hcl:1,12: Function calls not allowed: Functions may not be called here`},
		},
		{
			name: "syntax error",
			src:  "queue {\n  shards = \n}\n",
			want: []string{`config: f.hcl:2,12: Invalid expression: Expected the start of an expression, but found an invalid expression token`},
		},
		{
			name: "attribute redefined",
			src:  "data_dir = \"a\"\ndata_dir = \"b\"\n",
			want: []string{`config: f.hcl:2,1: Attribute redefined: The argument "data_dir" was already set at f.hcl:1,1-9. Each argument may be set only once`},
		},
		{
			name: "secret and its file both set",
			src:  "store {\n  mysql {\n    dsn      = \"u:p@tcp(h:3306)/db\"\n    dsn_file = \"/run/secrets/dsn\"\n  }\n}\n",
			want: []string{`config: f.hcl:4,5: store.mysql.dsn and store.mysql.dsn_file are both set; set only one`},
		},
		{
			name: "several problems in file order",
			src:  "worker {\n  batch_size = \"x\"\n}\nqueue {\n  shards = true\n  nope = 1\n}\nwat {}\n",
			want: []string{
				`config: f.hcl:2,16: worker.batch_size: must be a whole number, got string`,
				`config: f.hcl:5,12: queue.shards: must be a whole number, got bool`,
				`config: f.hcl:6,3: unknown attribute "nope" in block "queue"`,
				`config: f.hcl:8,1: unknown block "wat"`,
			},
		},
		{
			name: "validation error points at the value",
			src:  "queue {\n  shards = 0\n}\n",
			want: []string{`config: f.hcl:2,12: queue.shards: must be between 1 and 4096, got 0`},
		},
		{
			name: "validation error points at the list entry",
			src:  "ingest {\n  trusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n}\n",
			want: []string{`config: f.hcl:2,36: ingest.trusted_proxies[1]: "10.0.0.0/33" is not an address, CIDR prefix or a.b.c.* wildcard`},
		},
		{
			name: "validation errors of file and defaults",
			src:  "store {\n  driver = \"mysql\"\n}\nprivacy {\n  dnt = \"yes\"\n}\n",
			want: []string{
				`config: store.mysql.dsn: required when store.driver is "mysql"`,
				`config: f.hcl:5,9: privacy.dnt: must be one of "ignore", "exclude", "count", got "yes"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse([]byte(tt.src), "f.hcl", nil, noFiles)
			if c != nil {
				t.Errorf("got a Config with an error")
			}
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileValues(t *testing.T) {
	c := mustParse(t, `
data_dir = "/var/lib/footfall"
ingest {
  listen            = "0.0.0.0:9000"
  trusted_proxies   = ["10.0.0.0/8", "192.168.1.1"]
  client_ip_headers = ["X-Forwarded-For", "CF-Connecting-IP"]
  max_body_bytes    = 65536
  site_refresh      = "1m30s"
}
queue {
  driver = "redis"
  shards = 2 * 32
  redis {
    max_memory = "512MB"
  }
}
privacy {
  store_ip = false
}
`)
	want := Default()
	want.DataDir = "/var/lib/footfall"
	want.Ingest.Listen = "0.0.0.0:9000"
	want.Ingest.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1"}
	want.Ingest.ClientIPHeaders = []string{"X-Forwarded-For", "CF-Connecting-IP"}
	want.Ingest.MaxBodyBytes = 64 * KiB
	want.Ingest.SiteRefresh = 90 * time.Second
	want.Queue.Driver = "redis"
	want.Queue.Shards = 64
	want.Queue.Redis.MaxMemory = 512_000_000
	want.Privacy.StoreIP = false
	if diff := cmp.Diff(want, c, equateEmpty); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"data dir", func(c *Config) { c.DataDir = " " }, []string{"data_dir: must not be empty"}},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, []string{`log.level: must be one of "trace", "debug", "info", "warn", "error", "off", got "verbose"`}},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, []string{`log.format: must be one of "text", "json", got "xml"`}},
		{"listen without port", func(c *Config) { c.Ingest.Listen = "localhost" }, []string{`ingest.listen: must be host:port (":8080", "127.0.0.1:8081"), got "localhost"`}},
		{"listen bad port", func(c *Config) { c.Admin.Listen = "127.0.0.1:http2" }, []string{`admin.listen: port must be a number from 0 to 65535, got "http2"`}},
		{"listen port too big", func(c *Config) { c.Admin.Listen = ":70000" }, []string{`admin.listen: port must be a number from 0 to 65535, got "70000"`}},
		{"prefix relative", func(c *Config) { c.Ingest.Prefix = "matomo" }, []string{`ingest.prefix: must be a clean URL path starting with "/" ("/", "/matomo/"), got "matomo"`}},
		{"prefix with query", func(c *Config) { c.Ingest.Prefix = "/m?x" }, []string{`ingest.prefix: must be a clean URL path starting with "/" ("/", "/matomo/"), got "/m?x"`}},
		{"prefix unclean", func(c *Config) { c.Ingest.Prefix = "/a/../b" }, []string{`ingest.prefix: must be a clean URL path starting with "/" ("/", "/matomo/"), got "/a/../b"`}},
		{"trusted proxy", func(c *Config) { c.Ingest.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"} }, []string{`ingest.trusted_proxies[1]: "proxy.local" is not an address, CIDR prefix or a.b.c.* wildcard`}},
		{"header name", func(c *Config) {
			c.Ingest.TrustedProxies = []string{"10.0.0.1"}
			c.Ingest.ClientIPHeaders = []string{"X-Forwarded-For", "Bad Header"}
		}, []string{`ingest.client_ip_headers[1]: "Bad Header" is not an HTTP header name`}},
		{"headers without proxies", func(c *Config) { c.Ingest.ClientIPHeaders = []string{"X-Forwarded-For"} }, []string{`ingest.client_ip_headers: set, but ingest.trusted_proxies is empty, so they would never be read`}},
		{"body limit", func(c *Config) { c.Ingest.MaxBodyBytes = 100 }, []string{`ingest.max_body_bytes: must be between 1KiB and 1GiB, got 100`}},
		{"bulk items", func(c *Config) { c.Ingest.MaxBulkItems = 0 }, []string{`ingest.max_bulk_items: must be between 1 and 1000000, got 0`}},
		{"url length", func(c *Config) { c.Ingest.MaxURLLength = 10 }, []string{`ingest.max_url_length: must be between 64 and 1048576, got 10`}},
		{"field length", func(c *Config) { c.Ingest.MaxFieldLength = -1 }, []string{`ingest.max_field_length: must be between 16 and 1048576, got -1`}},
		{"site refresh", func(c *Config) { c.Ingest.SiteRefresh = 0 }, []string{`ingest.site_refresh: must be positive, got 0s`}},
		{"cdt auth", func(c *Config) { c.Ingest.CustomTimestampRequiresAuthAfter = -time.Hour }, []string{`ingest.custom_timestamp_requires_auth_after: must not be negative, got -1h`}},
		{"token with comma, not quoted", func(c *Config) { c.Ingest.TrackingTokens = []string{"good-token", "sec,ret"} }, []string{`ingest.tracking_tokens[1]: must be non-empty, without spaces or commas`}},
		{"admin cidr", func(c *Config) { c.Admin.AllowedCIDRs = []string{"10.0.0.0/8", "10.0.0.0/"} }, []string{`admin.allowed_cidrs[1]: "10.0.0.0/" is not an address, CIDR prefix or a.b.c.* wildcard`}},
		{"queue driver", func(c *Config) { c.Queue.Driver = "kafka" }, []string{`queue.driver: must be one of "memory", "redis", got "kafka"`}},
		{"shards", func(c *Config) { c.Queue.Shards = 5000 }, []string{`queue.shards: must be between 1 and 4096, got 5000`}},
		{"ack timeout", func(c *Config) { c.Queue.AckTimeout = -time.Second }, []string{`queue.ack_timeout: must be positive, got -1s`}},
		{"redis url required", func(c *Config) { c.Queue.Driver = "redis"; c.Queue.Redis.URL = "" }, []string{`queue.redis.url: required when queue.driver is "redis"`}},
		{"redis url scheme, password not quoted", func(c *Config) { c.Queue.Redis.URL = "http://:hunter2@h:6379" }, []string{`queue.redis.url: scheme must be redis, rediss or unix, got "http"`}},
		{"redis url unparsable, not quoted", func(c *Config) { c.Queue.Redis.URL = "redis://:hunter2@h:port/0" }, []string{`queue.redis.url: not a valid URL`}},
		{"redis url no host", func(c *Config) { c.Queue.Redis.URL = "redis:///0" }, []string{`queue.redis.url: has no host`}},
		{"redis unix no path", func(c *Config) { c.Queue.Redis.URL = "unix://" }, []string{`queue.redis.url: has no socket path`}},
		{"redis prefix", func(c *Config) { c.Queue.Redis.Prefix = "a b" }, []string{`queue.redis.prefix: must be non-empty, without spaces or braces, got "a b"`}},
		{"lease ttl", func(c *Config) { c.Queue.Redis.LeaseTTL = 0 }, []string{`queue.redis.lease_ttl: must be positive, got 0s`}},
		{"max memory", func(c *Config) { c.Queue.Redis.MaxMemory = -1 }, []string{`queue.redis.max_memory: must not be negative`}},
		{"dead letter", func(c *Config) { c.Queue.Redis.DeadLetterAfter = 0 }, []string{`queue.redis.dead_letter_after: must be between 1 and 1000, got 0`}},
		{"spool size", func(c *Config) { c.Queue.Spool.MaxBytes = 64 * KiB }, []string{`queue.spool.max_bytes: must be at least 1MiB, got 64KiB`}},
		{"store driver", func(c *Config) { c.Store.Driver = "postgres" }, []string{`store.driver: must be one of "sqlite", "mysql", got "postgres"`}},
		{"dsn required", func(c *Config) { c.Store.Driver = "mysql" }, []string{`store.mysql.dsn: required when store.driver is "mysql"`}},
		{"dsn invalid, password not quoted", func(c *Config) { c.Store.MySQL.DSN = "root:hunter2@tcp(db:3306)" }, []string{`store.mysql.dsn: not a valid DSN (user:password@tcp(host:3306)/db): missing the slash separating the database name`}},
		{"open conns", func(c *Config) { c.Store.MySQL.MaxOpenConns = 0 }, []string{`store.mysql.max_open_conns: must be between 1 and 10000, got 0`, `store.mysql.max_idle_conns: must be between 0 and 0, got 8`}},
		{"idle conns", func(c *Config) { c.Store.MySQL.MaxIdleConns = 17 }, []string{`store.mysql.max_idle_conns: must be between 0 and 16, got 17`}},
		{"conn lifetime", func(c *Config) { c.Store.MySQL.ConnMaxLifetime = -time.Minute }, []string{`store.mysql.conn_max_lifetime: must not be negative, got -1m`}},
		{"mysql tls", func(c *Config) { c.Store.MySQL.TLS = "yes" }, []string{`store.mysql.tls: must be one of "", "true", "skip-verify", "preferred", got "yes"`}},
		{"processors", func(c *Config) { c.Worker.Processors = 0 }, []string{`worker.processors: must be between 1 and 4096, got 0`}},
		{"batch size", func(c *Config) { c.Worker.BatchSize = 200_000 }, []string{`worker.batch_size: must be between 1 and 100000, got 200000`}},
		{"visit length", func(c *Config) { c.Tracker.VisitLength = 0 }, []string{`tracker.visit_length: must be positive, got 0s`}},
		{"max actions", func(c *Config) { c.Tracker.MaxActionsPerVisit = 0 }, []string{`tracker.max_actions_per_visit: must be between 1 and 1000000, got 0`}},
		{"excluded param", func(c *Config) { c.Tracker.ExcludedQueryParams = []string{"x", ""} }, []string{`tracker.excluded_query_params[1]: must not be empty`}},
		{"excluded ip wildcard", func(c *Config) { c.Tracker.ExcludedIPs = []string{"1.2.*.4"} }, []string{`tracker.excluded_ips[0]: "1.2.*.4" is not an address, CIDR prefix or a.b.c.* wildcard`}},
		{"excluded ua", func(c *Config) { c.Tracker.ExcludedUserAgents = []string{" "} }, []string{`tracker.excluded_user_agents[0]: must not be empty`}},
		{"ipv4 mask", func(c *Config) { c.Privacy.IPv4MaskBytes = 5 }, []string{`privacy.ipv4_mask_bytes: must be between 0 and 4, got 5`}},
		{"ipv6 mask", func(c *Config) { c.Privacy.IPv6MaskBits = 129 }, []string{`privacy.ipv6_mask_bits: must be between 0 and 128, got 129`}},
		{"dnt", func(c *Config) { c.Privacy.DNT = "honour" }, []string{`privacy.dnt: must be one of "ignore", "exclude", "count", got "honour"`}},
		{"gpc", func(c *Config) { c.Privacy.GPC = "" }, []string{`privacy.gpc: must be one of "ignore", "exclude", "count", got ""`}},
		{"consent", func(c *Config) { c.Privacy.Consent = "banner" }, []string{`privacy.consent: must be one of "none", "cookies", "tracking", got "banner"`}},
		{"retention", func(c *Config) { c.Privacy.RetentionDays = -1 }, []string{`privacy.retention_days: must be between 0 and 100000, got -1`}},
		{"salt grace", func(c *Config) { c.Privacy.SaltGrace = -time.Second }, []string{`privacy.salt_grace: must not be negative, got -1s`}},
		{"salt short, not quoted", func(c *Config) { c.Privacy.Salt = "hunter2" }, []string{`privacy.salt: must be at least 16 bytes long (or empty to generate one)`}},
		{"archive interval", func(c *Config) { c.Archive.Interval = 0 }, []string{`archive.interval: must be positive, got 0s`}},
		{"today ttl", func(c *Config) { c.Archive.TodayTTL = 0 }, []string{`archive.today_ttl: must be positive, got 0s`}},
		{"several", func(c *Config) { c.Queue.Shards = 0; c.Worker.BatchSize = 0 }, []string{
			`queue.shards: must be between 1 and 4096, got 0`,
			`worker.batch_size: must be between 1 and 100000, got 0`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(c)
			got := problems(t, c.Validate())
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = "config: " + w
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if strings.Contains(strings.Join(got, "\n"), "hunter2") {
				t.Errorf("an error message quotes a secret: %q", got)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	c := Default()
	c.Ingest.Prefix = "/matomo/"
	c.Ingest.TrustedProxies = []string{"10.0.0.0/8", "2001:db8::/32", "192.168.1.10", "::ffff:10.0.0.1"}
	c.Ingest.ClientIPHeaders = []string{"X-Forwarded-For", "CF-Connecting-IP"}
	c.Queue.Driver = "redis"
	c.Queue.Redis.URL = "rediss://user:pass@redis.internal:6380/2"
	c.Store.Driver = "mysql"
	c.Store.MySQL.DSN = "footfall:p@ss/w0rd@tcp(db:3306)/footfall?parseTime=true"
	c.Store.MySQL.TLS = "skip-verify"
	c.Tracker.ExcludedIPs = []string{"1.2.3.*", "10.*.*.*", "::1"}
	c.Privacy.IPv4MaskBytes = 0
	c.Privacy.IPv6MaskBits = 0
	c.Privacy.Salt = "0123456789abcdef"
	c.Privacy.DNT = "exclude"
	c.Privacy.GPC = "ignore"
	for _, listen := range []string{":0", "[::1]:8080", "localhost:8080"} {
		c.Admin.Listen = listen
		if err := c.Validate(); err != nil {
			t.Errorf("listen %q: %v", listen, err)
		}
	}
	c.Queue.Redis.URL = "unix:///run/redis.sock"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestEnv(t *testing.T) {
	file := `
queue {
  driver = "memory"
  shards = 8
}
ingest {
  trusted_proxies = ["10.0.0.0/8"]
}
`
	tests := []struct {
		name  string
		env   []string
		check func(t *testing.T, c *Config)
	}{
		{"string", []string{"FOOTFALL_QUEUE_DRIVER=redis"}, func(t *testing.T, c *Config) {
			if c.Queue.Driver != "redis" {
				t.Errorf("driver %q", c.Queue.Driver)
			}
		}},
		{"int wins over file", []string{"FOOTFALL_QUEUE_SHARDS= 32 "}, func(t *testing.T, c *Config) {
			if c.Queue.Shards != 32 {
				t.Errorf("shards %d", c.Queue.Shards)
			}
		}},
		{"bools", []string{"FOOTFALL_ADMIN_FORCE_SSL=1", "FOOTFALL_INGEST_RECORD_STATISTICS=false", "FOOTFALL_PRIVACY_COOKIELESS=TRUE"}, func(t *testing.T, c *Config) {
			if !c.Admin.ForceSSL || c.Ingest.RecordStatistics || !c.Privacy.Cookieless {
				t.Errorf("force_ssl %v record_statistics %v cookieless %v", c.Admin.ForceSSL, c.Ingest.RecordStatistics, c.Privacy.Cookieless)
			}
		}},
		{"consent", []string{"FOOTFALL_PRIVACY_CONSENT=cookies"}, func(t *testing.T, c *Config) {
			if c.Privacy.Consent != "cookies" || c.PrivacyDefaults().Consent != analytics.ConsentCookies {
				t.Errorf("consent %q", c.Privacy.Consent)
			}
		}},
		{"list replaces the file's", []string{"FOOTFALL_INGEST_TRUSTED_PROXIES=192.168.0.0/16, 172.16.0.0/12,,", "FOOTFALL_INGEST_CLIENT_IP_HEADERS=X-Real-IP"}, func(t *testing.T, c *Config) {
			if diff := cmp.Diff([]string{"192.168.0.0/16", "172.16.0.0/12"}, c.Ingest.TrustedProxies); diff != "" {
				t.Error(diff)
			}
			if diff := cmp.Diff([]string{"X-Real-IP"}, c.Ingest.ClientIPHeaders); diff != "" {
				t.Error(diff)
			}
		}},
		{"duration and size", []string{"FOOTFALL_TRACKER_VISIT_LENGTH=45m", "FOOTFALL_INGEST_MAX_BODY_BYTES=64KB", "FOOTFALL_QUEUE_REDIS_MAX_MEMORY=2GiB"}, func(t *testing.T, c *Config) {
			if c.Tracker.VisitLength != 45*time.Minute || c.Ingest.MaxBodyBytes != 64000 || c.Queue.Redis.MaxMemory != 2*GiB {
				t.Errorf("visit_length %v max_body_bytes %d max_memory %d", c.Tracker.VisitLength, c.Ingest.MaxBodyBytes, c.Queue.Redis.MaxMemory)
			}
		}},
		{"nested names", []string{"FOOTFALL_STORE_MYSQL_DSN=u:p@tcp(db:3306)/ff", "FOOTFALL_STORE_DRIVER=mysql", "FOOTFALL_INGEST_LISTEN=:9000", "FOOTFALL_DATA_DIR=/data"}, func(t *testing.T, c *Config) {
			if c.Store.MySQL.DSN != "u:p@tcp(db:3306)/ff" || c.Store.Driver != "mysql" || c.Ingest.Listen != ":9000" || c.DataDir != "/data" {
				t.Errorf("dsn %q driver %q listen %q data_dir %q", c.Store.MySQL.DSN, c.Store.Driver, c.Ingest.Listen, c.DataDir)
			}
		}},
		{"empty value is unset", []string{"FOOTFALL_QUEUE_SHARDS=", "FOOTFALL_INGEST_TRUSTED_PROXIES="}, func(t *testing.T, c *Config) {
			if c.Queue.Shards != 8 || len(c.Ingest.TrustedProxies) != 1 {
				t.Errorf("shards %d trusted_proxies %q", c.Queue.Shards, c.Ingest.TrustedProxies)
			}
		}},
		{"last duplicate wins", []string{"FOOTFALL_QUEUE_SHARDS=2", "FOOTFALL_QUEUE_SHARDS=4"}, func(t *testing.T, c *Config) {
			if c.Queue.Shards != 4 {
				t.Errorf("shards %d", c.Queue.Shards)
			}
		}},
		{"allowed and foreign variables", []string{"FOOTFALL_TEST_MYSQL_DSN=x", "FOOTFALL_REQUIRE_SERVICES=1", "FOOTFALL_CONFIG=/etc/footfall.hcl", "HOME=/root", "FOOTFALL", "PATH"}, func(t *testing.T, c *Config) {
			if c.Queue.Shards != 8 {
				t.Errorf("shards %d", c.Queue.Shards)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, file, tt.env...))
		})
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"unknown variable", []string{"FOOTFALL_QUEUE_SHARDZ=3"}, []string{`config: FOOTFALL_QUEUE_SHARDZ: unknown variable (did you mean "FOOTFALL_QUEUE_SHARDS"?)`}},
		{"unknown variable, lower case", []string{"FOOTFALL_queue_driver=redis"}, []string{`config: FOOTFALL_queue_driver: unknown variable (did you mean "FOOTFALL_QUEUE_DRIVER"?)`}},
		{"unknown variable, far", []string{"FOOTFALL_ROLE=ingest"}, []string{`config: FOOTFALL_ROLE: unknown variable`}},
		{"unknown even when empty", []string{"FOOTFALL_QUEUE_DRIVERS="}, []string{`config: FOOTFALL_QUEUE_DRIVERS: unknown variable (did you mean "FOOTFALL_QUEUE_DRIVER"?)`}},
		{"bad int", []string{"FOOTFALL_QUEUE_SHARDS=many"}, []string{`config: FOOTFALL_QUEUE_SHARDS: queue.shards: must be a whole number, got "many"`}},
		{"bad bool", []string{"FOOTFALL_ADMIN_FORCE_SSL=yes"}, []string{`config: FOOTFALL_ADMIN_FORCE_SSL: admin.force_ssl: must be true or false (or 1, 0), got "yes"`}},
		{"bad duration", []string{"FOOTFALL_ARCHIVE_INTERVAL=1 hour"}, []string{`config: FOOTFALL_ARCHIVE_INTERVAL: archive.interval: invalid duration "1 hour" (use a number and a unit: "10s", "30m", "24h")`}},
		{"bad size", []string{"FOOTFALL_QUEUE_SPOOL_MAX_BYTES=1.5GiB"}, []string{`config: FOOTFALL_QUEUE_SPOOL_MAX_BYTES: queue.spool.max_bytes: size "1.5GiB": unknown unit ".5GiB" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`}},
		{"validation names the variable", []string{"FOOTFALL_PRIVACY_DNT=yes"}, []string{`config: FOOTFALL_PRIVACY_DNT: privacy.dnt: must be one of "ignore", "exclude", "count", got "yes"`}},
		{"consent from the environment is validated", []string{"FOOTFALL_PRIVACY_CONSENT=always"}, []string{`config: FOOTFALL_PRIVACY_CONSENT: privacy.consent: must be one of "none", "cookies", "tracking", got "always"`}},
		{"validation of a list entry from env", []string{"FOOTFALL_INGEST_TRUSTED_PROXIES=10.0.0.0/8,nope"}, []string{`config: FOOTFALL_INGEST_TRUSTED_PROXIES: ingest.trusted_proxies[1]: "nope" is not an address, CIDR prefix or a.b.c.* wildcard`}},
		{"secret and file both set", []string{"FOOTFALL_PRIVACY_SALT=0123456789abcdef0", "FOOTFALL_PRIVACY_SALT_FILE=/run/salt"}, []string{`config: FOOTFALL_PRIVACY_SALT_FILE: FOOTFALL_PRIVACY_SALT and FOOTFALL_PRIVACY_SALT_FILE are both set; set only one`}},
		{"all problems, sorted", []string{"FOOTFALL_WORKER_BATCH_SIZE=x", "FOOTFALL_ADMIN_LISTEN_ADDR=y", "FOOTFALL_LOG_LEVEL=info"}, []string{
			`config: FOOTFALL_ADMIN_LISTEN_ADDR: unknown variable`,
			`config: FOOTFALL_WORKER_BATCH_SIZE: worker.batch_size: must be a whole number, got "x"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(nil, "f.hcl", tt.env, noFiles)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvSecretValueNotInErrors(t *testing.T) {
	// A secret cannot have a parse error (it is a string), but validation
	// of a bad one must not quote it.
	_, err := parse(nil, "f.hcl", []string{"FOOTFALL_QUEUE_REDIS_URL=http://:hunter2@x"}, noFiles)
	got := problems(t, err)
	want := []string{`config: FOOTFALL_QUEUE_REDIS_URL: queue.redis.url: scheme must be redis, rediss or unix, got "http"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// writeFile writes a file under t.TempDir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretFiles(t *testing.T) {
	dsn := writeFile(t, "dsn", "footfall:s3cret@tcp(db:3306)/footfall\n")
	dsnCRLF := writeFile(t, "dsn-crlf", "footfall:crlf@tcp(db:3306)/footfall\r\n")
	tokens := writeFile(t, "tokens", "tok-one\n\n  tok-two  \ntok-three\n")
	salt := writeFile(t, "salt", "0123456789abcdef0123\n")
	url := writeFile(t, "url", "redis://:pw@redis:6379/1")

	t.Run("from file", func(t *testing.T) {
		src := `
ingest { tracking_tokens_file = "` + tokens + `" }
queue {
  redis { url_file = "` + url + `" }
}
store {
  driver = "mysql"
  mysql { dsn_file = "` + dsn + `" }
}
privacy { salt_file = "` + salt + `" }
`
		c, err := Parse([]byte(src), "f.hcl", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Store.MySQL.DSN != "footfall:s3cret@tcp(db:3306)/footfall" {
			t.Errorf("dsn %q", c.Store.MySQL.DSN)
		}
		if c.Store.MySQL.DSNFile != dsn {
			t.Errorf("dsn_file %q", c.Store.MySQL.DSNFile)
		}
		if diff := cmp.Diff([]string{"tok-one", "tok-two", "tok-three"}, c.Ingest.TrackingTokens); diff != "" {
			t.Error(diff)
		}
		if c.Privacy.Salt != "0123456789abcdef0123" || c.Queue.Redis.URL != "redis://:pw@redis:6379/1" {
			t.Errorf("salt %q url %q", c.Privacy.Salt, c.Queue.Redis.URL)
		}
	})
	t.Run("crlf trimmed", func(t *testing.T) {
		c, err := Parse(nil, "", []string{"FOOTFALL_STORE_MYSQL_DSN_FILE=" + dsnCRLF})
		if err != nil {
			t.Fatal(err)
		}
		if c.Store.MySQL.DSN != "footfall:crlf@tcp(db:3306)/footfall" {
			t.Errorf("dsn %q", c.Store.MySQL.DSN)
		}
	})
	t.Run("env file replaces file value", func(t *testing.T) {
		src := "store {\n  mysql {\n    dsn = \"a:b@tcp(x:1)/y\"\n  }\n}\n"
		c, err := Parse([]byte(src), "f.hcl", []string{"FOOTFALL_STORE_MYSQL_DSN_FILE=" + dsn})
		if err != nil {
			t.Fatal(err)
		}
		if c.Store.MySQL.DSN != "footfall:s3cret@tcp(db:3306)/footfall" {
			t.Errorf("dsn %q", c.Store.MySQL.DSN)
		}
	})
	t.Run("env value replaces file's x_file", func(t *testing.T) {
		src := "store {\n  mysql {\n    dsn_file = \"/does/not/exist\"\n  }\n}\n"
		c, err := Parse([]byte(src), "f.hcl", []string{"FOOTFALL_STORE_MYSQL_DSN=e:f@tcp(x:1)/y"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Store.MySQL.DSN != "e:f@tcp(x:1)/y" || c.Store.MySQL.DSNFile != "" {
			t.Errorf("dsn %q dsn_file %q", c.Store.MySQL.DSN, c.Store.MySQL.DSNFile)
		}
	})
	t.Run("empty x beside x_file is not a conflict", func(t *testing.T) {
		src := "privacy {\n  salt = \"\"\n  salt_file = \"" + salt + "\"\n}\n"
		c, err := Parse([]byte(src), "f.hcl", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Privacy.Salt != "0123456789abcdef0123" {
			t.Errorf("salt %q", c.Privacy.Salt)
		}
	})

	dir := t.TempDir()
	big := writeFile(t, "big", strings.Repeat("x", maxSecretFile+1))
	errTests := []struct {
		name string
		src  string
		env  []string
		want string
	}{
		{"missing file", "privacy {\n  salt_file = \"/does/not/exist\"\n}\n", nil,
			`config: f.hcl:2,15: privacy.salt_file: cannot read the secret: open /does/not/exist: no such file or directory`},
		{"missing file from env", "", []string{"FOOTFALL_PRIVACY_SALT_FILE=/does/not/exist"},
			`config: FOOTFALL_PRIVACY_SALT_FILE: privacy.salt_file: cannot read the secret: open /does/not/exist: no such file or directory`},
		{"directory", "privacy {\n  salt_file = \"" + dir + "\"\n}\n", nil,
			`config: f.hcl:2,15: privacy.salt_file: cannot read the secret: ` + dir + `: not a regular file`},
		{"too large", "privacy {\n  salt_file = \"" + big + "\"\n}\n", nil,
			`config: f.hcl:2,15: privacy.salt_file: cannot read the secret: ` + big + `: larger than 64KiB`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "f.hcl", tt.env)
			if diff := cmp.Diff([]string{tt.want}, problems(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("validation of a file secret names x_file's place", func(t *testing.T) {
		short := writeFile(t, "short", "hunter2\n")
		_, err := Parse([]byte("privacy {\n  salt_file = \""+short+"\"\n}\n"), "f.hcl", nil)
		want := []string{`config: f.hcl:2,15: privacy.salt: must be at least 16 bytes long (or empty to generate one)`}
		if diff := cmp.Diff(want, problems(t, err)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestLoad(t *testing.T) {
	p := writeFile(t, "footfall.hcl", "queue {\n  shards = 4\n}\n")
	c, err := Load(p, []string{"FOOTFALL_WORKER_PROCESSORS=3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue.Shards != 4 || c.Worker.Processors != 3 {
		t.Errorf("shards %d processors %d", c.Queue.Shards, c.Worker.Processors)
	}

	bad := writeFile(t, "footfall.hcl", "queue {\n  shardz = 4\n}\n")
	_, err = Load(bad, nil)
	want := []string{`config: ` + bad + `:2,3: unknown attribute "shardz" in block "queue" (did you mean "shards"?)`}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	_, err = Load(filepath.Join(t.TempDir(), "missing.hcl"), nil)
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}
}
