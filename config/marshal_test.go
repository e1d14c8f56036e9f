package config

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// everything returns a valid Config in which every setting differs from
// its default.
func everything() *Config {
	return &Config{
		DataDir: "/var/lib/footfall",
		Log:     Log{Level: "debug", Format: "json"},
		Ingest: Ingest{
			Listen:                           "0.0.0.0:9000",
			Prefix:                           "/matomo/",
			TrustedProxies:                   []string{"10.0.0.0/8", "2001:db8::/32"},
			ClientIPHeaders:                  []string{"X-Forwarded-For", "CF-Connecting-IP"},
			ProxyIPReadLast:                  false,
			MaxBodyBytes:                     64000,
			MaxBulkItems:                     50,
			MaxURLLength:                     4096,
			MaxFieldLength:                   512,
			RecordStatistics:                 false,
			SiteRefresh:                      90 * time.Second,
			CustomTimestampRequiresAuthAfter: 1500 * time.Millisecond,
			BulkRequiresAuth:                 true,
			TrackingTokens:                   []string{"0123456789abcdef", "fedcba9876543210"},
			TrackingTokensFile:               "",
		},
		Admin: Admin{
			Listen:           "10.1.2.3:8081",
			AllowedCIDRs:     nil, // default is non-empty
			ForceSSL:         true,
			Maintenance:      true,
			BrowserArchiving: true,
		},
		Queue: Queue{
			Driver:     "redis",
			Shards:     256,
			AckTimeout: 2*time.Minute + 30*time.Second,
			Redis: Redis{
				URL:             "rediss://footfall:p%40ss%22w0rd@redis.internal:6380/3",
				Prefix:          "ff-prod",
				LeaseTTL:        20 * time.Second,
				MaxMemory:       3*GiB + 1,
				DeadLetterAfter: 10,
			},
			Spool: Spool{Dir: "/spool/${NOMAD_ALLOC_ID}", MaxBytes: 10 * GiB},
		},
		Store: Store{
			Driver: "mysql",
			SQLite: SQLite{Path: "/tmp/x.db"},
			MySQL: MySQL{
				DSN:             "footfall:%{p}@tcp(db:3306)/footfall?parseTime=true",
				MaxOpenConns:    32,
				MaxIdleConns:    4,
				ConnMaxLifetime: 0,
				TLS:             "preferred",
			},
		},
		Geo:    Geo{Database: "/usr/share/GeoIP/GeoLite2-City.mmdb"},
		Worker: Worker{Processors: 8, BatchSize: 1000},
		Tracker: Tracker{
			VisitLength:              time.Hour,
			NewVisitAtMidnight:       false,
			NewVisitOnCampaignChange: false,
			NewVisitOnReferrerChange: true,
			MaxActionsPerVisit:       500,
			ExcludedQueryParams:      []string{"session", "token"},
			ExcludedIPs:              []string{"192.168.1.*", "::1"},
			ExcludedUserAgents:       []string{"HeadlessChrome", "Ünïcödé\tbot\n"},
			TrackBots:                true,
		},
		Privacy: Privacy{
			IPv4MaskBytes: 0,
			IPv6MaskBits:  128,
			StoreIP:       false,
			Cookieless:    true,
			DNT:           "exclude",
			GPC:           "ignore",
			HashUserID:    true,
			Consent:       "tracking",
			ScrubPII:      true,
			RetentionDays: 180,
			SaltGrace:     0,
			Salt:          "a salt of 16+ bytes, with \\ and \"",
		},
		Archive: Archive{Interval: 6 * time.Hour, TodayTTL: 5 * time.Minute},
	}
}

func TestEverythingChangesEverything(t *testing.T) {
	c, def := everything(), Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range newSchema().fields {
		if f.fileOf != nil {
			continue // x_file: tested with real files below
		}
		if isDefault(f, f.value(c), f.value(def)) {
			t.Errorf("everything() leaves %s at its default, so the round trip does not test it", f.path)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dsnFile := writeFile(t, "dsn", "u:p@tcp(db:3306)/x\n")
	tokFile := writeFile(t, "tokens", "t1\nt2\n")
	withFiles := everything()
	withFiles.Store.MySQL.DSNFile = dsnFile
	withFiles.Store.MySQL.DSN = "u:p@tcp(db:3306)/x"
	withFiles.Ingest.TrackingTokensFile = tokFile
	withFiles.Ingest.TrackingTokens = []string{"t1", "t2"}

	emptyLists := Default()
	emptyLists.Admin.AllowedCIDRs = []string{}
	emptyLists.Ingest.TrustedProxies = []string{}

	tests := []struct {
		name string
		cfg  *Config
	}{
		{"default", Default()},
		{"everything", everything()},
		{"secret files", withFiles},
		{"empty lists", emptyLists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.cfg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			again, err := tt.cfg.Marshal()
			if err != nil || !bytes.Equal(out, again) {
				t.Fatalf("Marshal is not deterministic: %v", err)
			}
			got, err := Parse(out, "marshal.hcl", nil)
			if err != nil {
				t.Fatalf("Parse(Marshal()): %v\n%s", err, out)
			}
			if diff := cmp.Diff(tt.cfg, got, equateEmpty); diff != "" {
				t.Errorf("round trip differs (-want +got):\n%s\n%s", diff, out)
			}
		})
	}
}

func TestMarshalDefaultIsEmpty(t *testing.T) {
	out, err := Default().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Errorf("Marshal(Default()) = %q, want nothing", out)
	}
}

func TestMarshalSecretFileOnly(t *testing.T) {
	c := Default()
	c.Store.MySQL.DSN = "u:hunter2@tcp(db:3306)/x"
	c.Store.MySQL.DSNFile = "/secrets/dsn"
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "store {\n  mysql {\n    dsn_file = \"/secrets/dsn\"\n  }\n}\n"
	if string(out) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", out, want)
	}
}

func TestMarshalGolden(t *testing.T) {
	out, err := everything().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "everything.hcl")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(out)); diff != "" {
		t.Errorf("Marshal differs from %s (-want +got; run go test -update if intended):\n%s", golden, diff)
	}
}

func TestMarshalUnrepresentable(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"invalid utf-8", func(c *Config) { c.DataDir = "a\xffb" }, "config: data_dir: not valid UTF-8, cannot be written as HCL"},
		{"not NFC", func(c *Config) { c.Tracker.ExcludedUserAgents = []string{"ok", "e\u0301"} }, "config: tracker.excluded_user_agents[1]: not in Unicode normal form C, would not read back equal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(c)
			_, err := c.Marshal()
			if diff := cmp.Diff([]string{tt.want}, problems(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	c := Default()
	c.Queue.Redis.URL = "redis://user:hunter2-redis@redis:6379/0"
	c.Store.MySQL.DSN = "footfall:hunter2-mysql@tcp(db:3306)/footfall"
	c.Ingest.TrackingTokens = []string{"hunter2-token-a", "hunter2-token-b"}
	c.Privacy.Salt = "hunter2-salt-0123456789"

	outputs := map[string]string{
		"Redacted":          c.Redacted(),
		"String":            c.String(),
		"%v pointer":        fmt.Sprintf("%v", c),
		"%+v value":         fmt.Sprintf("%+v", *c),
		"%#v value":         fmt.Sprintf("%#v", *c),
		"%#v pointer":       fmt.Sprintf("%#v", c),
		"%v queue":          fmt.Sprintf("%v", c.Queue),
		"%+v store":         fmt.Sprintf("%+v", c.Store),
		"%#v store":         fmt.Sprintf("%#v", c.Store),
		"%v ingest":         fmt.Sprintf("%v", c.Ingest),
		"%v privacy":        fmt.Sprintf("%v", c.Privacy),
		"%#v mysql":         fmt.Sprintf("%#v", c.Store.MySQL),
		"%#v queue":         fmt.Sprintf("%#v", c.Queue),
		"%#v ingest":        fmt.Sprintf("%#v", c.Ingest),
		"%#v privacy":       fmt.Sprintf("%#v", c.Privacy),
		"%v redis pointer":  fmt.Sprintf("%v", &c.Queue.Redis),
		"%+v mysql pointer": fmt.Sprintf("%+v", &c.Store.MySQL),
	}
	for name, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s shows a secret:\n%s", name, out)
		}
	}
	r := c.Redacted()
	for _, want := range []string{
		`url = "redis://user:xxxxx@redis:6379/0"`,
		`dsn = "footfall:xxxxx@tcp(db:3306)/footfall"`,
		`tracking_tokens = ["(redacted)", "(redacted)"]`,
		`salt = "(redacted)"`,
		`shards = 16`, // defaults are shown too
	} {
		if !strings.Contains(strings.Join(strings.Fields(r), " "), want) {
			t.Errorf("Redacted lacks %q:\n%s", want, r)
		}
	}
	// Every setting is listed.
	for _, s := range Settings() {
		key := s.Key[strings.LastIndex(s.Key, ".")+1:]
		if !strings.Contains(r, key+" ") {
			t.Errorf("Redacted lacks %s", s.Key)
		}
	}
}

func TestRedactSecret(t *testing.T) {
	tests := []struct{ how, in, want string }{
		{"url", "redis://:pw@h:6379/0", "redis://:xxxxx@h:6379/0"},
		{"url", "redis://h:6379/0", "redis://h:6379/0"},
		{"url", "redis://h:6379/0?password=pw", redactedText},
		{"url", "::bad", redactedText},
		{"dsn", "u:pw@tcp(h:3306)/db", "u:xxxxx@tcp(h:3306)/db"},
		{"dsn", "u:pw@tcp(h:3306)", redactedText},
		{"", "anything", redactedText},
	}
	for _, tt := range tests {
		if got := redactSecret(tt.how, tt.in); got != tt.want {
			t.Errorf("redactSecret(%q, %q) = %q, want %q", tt.how, tt.in, got, tt.want)
		}
	}
}

func TestDurationFormat(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{30 * time.Minute, "30m"},
		{24 * time.Hour, "24h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h1s"},
		{1500 * time.Millisecond, "1.5s"},
		{250 * time.Millisecond, "250ms"},
		{3 * time.Microsecond, "3µs"},
		{-90 * time.Second, "-1m30s"},
		{time.Duration(-1 << 63), "-2562047h47m16.854775808s"},
	}
	for _, tt := range tests {
		got := formatDuration(tt.d)
		if got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		back, err := time.ParseDuration(got)
		if err != nil || back != tt.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, tt.d)
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		str  string
	}{
		{"0", 0, "0"},
		{"512", 512, "512"},
		{"512B", 512, "512"},
		{"64KB", 64000, "64KB"},
		{"64kb", 64000, "64KB"},
		{"1KiB", 1024, "1KiB"},
		{"1MiB", MiB, "1MiB"},
		{"1 MiB", MiB, "1MiB"},
		{"1024KiB", MiB, "1MiB"},
		{"3GB", 3e9, "3GB"},
		{"2TiB", 2 * TiB, "2TiB"},
		{"1000001", 1000001, "1000001"},
		{"1000MB", 1e9, "1GB"},
		{"8388607TiB", 8388607 * TiB, "8388607TiB"},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Size(%d).String() = %q, want %q", got, s, tt.str)
		}
		if back, err := ParseSize(got.String()); err != nil || back != got {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", got.String(), back, err, got)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1.5MiB", "1XB", "1 M iB", "8388608TiB", "99999999999999999999"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
}

func TestFieldsAreSettable(t *testing.T) {
	// Every setting can be set through the environment to its default's
	// text form and yields the default again: setText and the writer
	// agree on every kind.
	def := Default()
	w := &writer{cfg: def, def: def}
	for _, f := range newSchema().fields {
		v := f.value(def)
		var text string
		switch f.kind {
		case kList:
			text = strings.Join(v.Interface().([]string), ",")
		default:
			val, _ := w.cty(f, v)
			if val.Type().FriendlyName() == "string" {
				text = val.AsString()
			} else {
				text = fmt.Sprint(v.Interface())
			}
		}
		c := Default()
		if msg := setText(f.value(c), f, text); msg != "" {
			t.Errorf("%s: setText(%q): %s", f.path, text, msg)
			continue
		}
		if !reflect.DeepEqual(f.value(c).Interface(), v.Interface()) && !(f.kind == kList && v.Len() == 0) {
			t.Errorf("%s: setText(%q) = %v, want %v", f.path, text, f.value(c), v)
		}
	}
}
