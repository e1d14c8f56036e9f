package config

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/footfall/analytics"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

func TestPrivacyDefaults(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Privacy)
		want   analytics.Privacy
	}{
		{"defaults", func(*Privacy) {}, analytics.Privacy{
			IPv4MaskBytes: 2, IPv6MaskBits: 80,
			StoreIP: analytics.On, Cookieless: analytics.Off,
			DNT: analytics.DNTCount, GPC: analytics.DNTCount,
			HashUserID: analytics.Off, Consent: analytics.ConsentNone, ScrubPII: analytics.Off,
			RetentionDays: -1,
		}},
		{"everything flipped", func(p *Privacy) {
			p.IPv4MaskBytes, p.IPv6MaskBits = 0, 0
			p.StoreIP, p.Cookieless, p.HashUserID, p.ScrubPII = false, true, true, true
			p.DNT, p.GPC = "exclude", "ignore"
			p.Consent = "tracking"
			p.RetentionDays = 90
		}, analytics.Privacy{
			IPv4MaskBytes: -1, IPv6MaskBits: -1,
			StoreIP: analytics.Off, Cookieless: analytics.On,
			DNT: analytics.DNTExclude, GPC: analytics.DNTIgnore,
			HashUserID: analytics.On, Consent: analytics.ConsentTracking, ScrubPII: analytics.On,
			RetentionDays: 90,
		}},
		{"consent cookies", func(p *Privacy) { p.Consent = "cookies" }, analytics.Privacy{
			IPv4MaskBytes: 2, IPv6MaskBits: 80,
			StoreIP: analytics.On, Cookieless: analytics.Off,
			DNT: analytics.DNTCount, GPC: analytics.DNTCount,
			HashUserID: analytics.Off, Consent: analytics.ConsentCookies, ScrubPII: analytics.Off,
			RetentionDays: -1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c.Privacy)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			got := c.PrivacyDefaults()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Resolved: no field is "use the default".
			if got.IPv4MaskBytes == 0 || got.IPv6MaskBits == 0 || got.RetentionDays == 0 ||
				got.StoreIP == analytics.Default || got.Cookieless == analytics.Default ||
				got.HashUserID == analytics.Default || got.ScrubPII == analytics.Default ||
				got.DNT == analytics.DNTDefault || got.GPC == analytics.DNTDefault || got.Consent == analytics.ConsentDefault {
				t.Errorf("a field is left at \"default\": %+v", got)
			}
		})
	}
}

func TestResolvePrivacy(t *testing.T) {
	c := Default()
	if diff := cmp.Diff(c.PrivacyDefaults(), c.ResolvePrivacy(analytics.Privacy{})); diff != "" {
		t.Errorf("a zero site Privacy should resolve to the instance defaults (-want +got):\n%s", diff)
	}
	site := analytics.Privacy{
		IPv4MaskBytes: 3, IPv6MaskBits: 64, StoreIP: analytics.Off, Cookieless: analytics.On,
		DNT: analytics.DNTExclude, GPC: analytics.DNTIgnore, HashUserID: analytics.On,
		Consent: analytics.ConsentCookies, ScrubPII: analytics.On, RetentionDays: 30,
	}
	if diff := cmp.Diff(site, c.ResolvePrivacy(site)); diff != "" {
		t.Errorf("a fully set site Privacy should win (-want +got):\n%s", diff)
	}
	partial := c.ResolvePrivacy(analytics.Privacy{Cookieless: analytics.On, RetentionDays: -1, Consent: analytics.ConsentTracking})
	want := c.PrivacyDefaults()
	want.Cookieless, want.RetentionDays, want.Consent = analytics.On, -1, analytics.ConsentTracking
	if diff := cmp.Diff(want, partial); diff != "" {
		t.Errorf("partial (-want +got):\n%s", diff)
	}
}

func TestParseIPRange(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = error
	}{
		{"10.1.2.3", "10.1.2.3/32"},
		{"::1", "::1/128"},
		{"::ffff:10.0.0.1", "10.0.0.1/32"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"2001:db8::1/32", "2001:db8::/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"192.168.1.*", "192.168.1.0/24"},
		{"10.*.*.*", "10.0.0.0/8"},
		{"*.*.*.*", "0.0.0.0/0"},
		{"", ""},
		{"10.0.0.0/33", ""},
		{"10.*.1.*", ""},
		{"10.1.*", ""},
		{"256.1.1.*", ""},
		{"01.1.1.*", ""},
		{"fe80::1%eth0", ""},
		{"::ffff:0.0.0.0/8", ""},
		{"host.example", ""},
	}
	for _, tt := range tests {
		got, err := ParseIPRange(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseIPRange(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseIPRange(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestPrefixHelpers(t *testing.T) {
	c := Default()
	c.Ingest.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.7"}
	c.Tracker.ExcludedIPs = []string{"1.2.3.*"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	cmpPrefix := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	if diff := cmp.Diff([]netip.Prefix{p("10.0.0.0/8"), p("192.168.1.7/32")}, c.TrustedProxyPrefixes(), cmpPrefix); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]netip.Prefix{p("1.2.3.0/24")}, c.ExcludedIPPrefixes(), cmpPrefix); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]netip.Prefix{p("127.0.0.0/8"), p("::1/128"), p("10.0.0.0/8"), p("172.16.0.0/12"), p("192.168.0.0/16")}, c.AdminAllowedPrefixes(), cmpPrefix); diff != "" {
		t.Error(diff)
	}
	if got := Default().TrustedProxyPrefixes(); got != nil {
		t.Errorf("no trusted proxies: %v", got)
	}
}

func TestPaths(t *testing.T) {
	c := Default()
	c.DataDir = "/data"
	if got, want := c.SQLitePath(), filepath.Join("/data", "footfall.db"); got != want {
		t.Errorf("SQLitePath = %q, want %q", got, want)
	}
	if got, want := c.SpoolDir(), filepath.Join("/data", "spool"); got != want {
		t.Errorf("SpoolDir = %q, want %q", got, want)
	}
	c.Store.SQLite.Path, c.Queue.Spool.Dir = "/db/x.db", "/spool"
	if c.SQLitePath() != "/db/x.db" || c.SpoolDir() != "/spool" {
		t.Errorf("explicit paths: %q %q", c.SQLitePath(), c.SpoolDir())
	}
}

func TestLogLevel(t *testing.T) {
	for level, want := range map[string]hclog.Level{
		"trace": hclog.Trace, "debug": hclog.Debug, "info": hclog.Info,
		"warn": hclog.Warn, "error": hclog.Error, "off": hclog.Off,
	} {
		c := Default()
		c.Log.Level = level
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", level, err)
		}
		if got := c.LogLevel(); got != want {
			t.Errorf("LogLevel(%q) = %v, want %v", level, got, want)
		}
	}
}
