package config

import (
	"net/netip"
	"path/filepath"

	"github.com/footfall/analytics"
	"github.com/hashicorp/go-hclog"
)

// PrivacyDefaults returns the instance privacy settings as an
// analytics.Privacy with every field resolved (none is "use the default"):
// toggles are On or Off, DNT and GPC are DNTIgnore, DNTExclude or DNTCount,
// Consent is ConsentNone, ConsentCookies or ConsentTracking.
//
// analytics.Privacy reads 0 as "instance default", so the settings whose
// configured value is 0 map to the contract's "none" value: RetentionDays
// 0 (keep forever) becomes -1, as the contract documents; IPv4MaskBytes 0
// and IPv6MaskBits 0 (no masking) become -1 as well, which the contract
// does not document yet (it only allows 1–4 and 1–128).
func (c *Config) PrivacyDefaults() analytics.Privacy {
	p := &c.Privacy
	neg := func(n int) int {
		if n == 0 {
			return -1
		}
		return n
	}
	return analytics.Privacy{
		IPv4MaskBytes: neg(p.IPv4MaskBytes),
		IPv6MaskBits:  neg(p.IPv6MaskBits),
		StoreIP:       toggle(p.StoreIP),
		Cookieless:    toggle(p.Cookieless),
		DNT:           dntMode(p.DNT),
		GPC:           dntMode(p.GPC),
		HashUserID:    toggle(p.HashUserID),
		Consent:       consentMode(p.Consent),
		ScrubPII:      toggle(p.ScrubPII),
		RetentionDays: neg(p.RetentionDays),
	}
}

// ResolvePrivacy returns a site's effective privacy settings: each
// non-zero field of site, else the instance default from PrivacyDefaults.
func (c *Config) ResolvePrivacy(site analytics.Privacy) analytics.Privacy {
	p := c.PrivacyDefaults()
	if site.IPv4MaskBytes != 0 {
		p.IPv4MaskBytes = site.IPv4MaskBytes
	}
	if site.IPv6MaskBits != 0 {
		p.IPv6MaskBits = site.IPv6MaskBits
	}
	if site.StoreIP != analytics.Default {
		p.StoreIP = site.StoreIP
	}
	if site.Cookieless != analytics.Default {
		p.Cookieless = site.Cookieless
	}
	if site.DNT != analytics.DNTDefault {
		p.DNT = site.DNT
	}
	if site.GPC != analytics.DNTDefault {
		p.GPC = site.GPC
	}
	if site.HashUserID != analytics.Default {
		p.HashUserID = site.HashUserID
	}
	if site.Consent != analytics.ConsentDefault {
		p.Consent = site.Consent
	}
	if site.ScrubPII != analytics.Default {
		p.ScrubPII = site.ScrubPII
	}
	if site.RetentionDays != 0 {
		p.RetentionDays = site.RetentionDays
	}
	return p
}

func toggle(b bool) analytics.Toggle {
	if b {
		return analytics.On
	}
	return analytics.Off
}

// dntMode maps a validated DNT/GPC setting; anything else is DNTDefault.
func dntMode(s string) analytics.DNTMode {
	switch s {
	case "ignore":
		return analytics.DNTIgnore
	case "exclude":
		return analytics.DNTExclude
	case "count":
		return analytics.DNTCount
	}
	return analytics.DNTDefault
}

// consentMode maps a validated consent setting; anything else is
// ConsentDefault.
func consentMode(s string) analytics.ConsentMode {
	switch s {
	case "none":
		return analytics.ConsentNone
	case "cookies":
		return analytics.ConsentCookies
	case "tracking":
		return analytics.ConsentTracking
	}
	return analytics.ConsentDefault
}

// prefixes parses a validated list of ranges; invalid entries (possible
// only when Validate was not called) are left out.
func prefixes(list []string) []netip.Prefix {
	if len(list) == 0 {
		return nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, err := ParseIPRange(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// TrustedProxyPrefixes returns Ingest.TrustedProxies parsed (see
// ParseIPRange). Call it after Validate.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix { return prefixes(c.Ingest.TrustedProxies) }

// AdminAllowedPrefixes returns Admin.AllowedCIDRs parsed. Call it after
// Validate.
func (c *Config) AdminAllowedPrefixes() []netip.Prefix { return prefixes(c.Admin.AllowedCIDRs) }

// ExcludedIPPrefixes returns Tracker.ExcludedIPs parsed, wildcards as
// prefixes ("10.1.*.*" is 10.1.0.0/16). Call it after Validate.
func (c *Config) ExcludedIPPrefixes() []netip.Prefix { return prefixes(c.Tracker.ExcludedIPs) }

// SQLitePath returns Store.SQLite.Path, or <DataDir>/footfall.db when it
// is empty.
func (c *Config) SQLitePath() string {
	if c.Store.SQLite.Path != "" {
		return c.Store.SQLite.Path
	}
	return filepath.Join(c.DataDir, "footfall.db")
}

// SpoolDir returns Queue.Spool.Dir, or <DataDir>/spool when it is empty.
func (c *Config) SpoolDir() string {
	if c.Queue.Spool.Dir != "" {
		return c.Queue.Spool.Dir
	}
	return filepath.Join(c.DataDir, "spool")
}

// LogLevel returns Log.Level as an hclog.Level (hclog.NoLevel when it is
// not valid).
func (c *Config) LogLevel() hclog.Level {
	return hclog.LevelFromString(c.Log.Level)
}
