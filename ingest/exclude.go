package ingest

import (
	"fmt"
	"net/netip"
	"strings"

	analytics "github.com/footfall/analytics"
)

// procIPMatcher matches addresses against excluded IP patterns.
type procIPMatcher struct {
	prefixes []netip.Prefix
}

// parseProcIPPattern parses one excluded-IP pattern: a single address
// ("192.0.2.7", "2001:db8::1"), a wildcard ("192.0.2.*", "10.*.*.*"), or a
// CIDR prefix ("192.0.2.0/24", "2001:db8::/32").
func parseProcIPPattern(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("ingest: empty ip pattern: %w", analytics.ErrInvalid)
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("ingest: ip pattern %q: %v: %w", s, err, analytics.ErrInvalid)
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				bits = 0
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), nil
	}
	if strings.Contains(s, "*") {
		parts := strings.Split(s, ".")
		if len(parts) != 4 {
			return netip.Prefix{}, fmt.Errorf("ingest: ip pattern %q: wildcards need four IPv4 parts: %w", s, analytics.ErrInvalid)
		}
		bits := 32
		for i := 3; i >= 0 && parts[i] == "*"; i-- {
			parts[i] = "0"
			bits -= 8
		}
		for _, p := range parts {
			if p == "*" {
				return netip.Prefix{}, fmt.Errorf("ingest: ip pattern %q: wildcards only at the end: %w", s, analytics.ErrInvalid)
			}
		}
		a, err := netip.ParseAddr(strings.Join(parts, "."))
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("ingest: ip pattern %q: %v: %w", s, err, analytics.ErrInvalid)
		}
		return netip.PrefixFrom(a, bits).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("ingest: ip pattern %q: %v: %w", s, err, analytics.ErrInvalid)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// newProcIPMatcher builds a matcher from patterns; invalid patterns are
// returned as errors (and skipped) so the caller can log them.
func newProcIPMatcher(lists ...[]string) (procIPMatcher, []error) {
	var m procIPMatcher
	var errs []error
	for _, l := range lists {
		for _, s := range l {
			p, err := parseProcIPPattern(s)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			m.prefixes = append(m.prefixes, p)
		}
	}
	return m, errs
}

func (m procIPMatcher) match(ip netip.Addr) bool {
	if len(m.prefixes) == 0 || !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range m.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// procUAExcluded reports whether ua contains (case-insensitively) one of
// subs, which are lower case.
func procUAExcluded(ua string, subs []string) bool {
	if len(subs) == 0 {
		return false
	}
	l := strings.ToLower(ua)
	for _, s := range subs {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// procAnonymizeIP zeroes the trailing v4Bytes bytes of an IPv4 address or
// the trailing v6Bits bits of an IPv6 address (an IPv4-mapped IPv6
// address counts as IPv4). Zero or negative counts mask nothing.
func procAnonymizeIP(ip netip.Addr, v4Bytes, v6Bits int) netip.Addr {
	if !ip.IsValid() {
		return netip.Addr{}
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		v4Bytes = min(max(v4Bytes, 0), 4)
		p, _ := ip.Prefix(32 - 8*v4Bytes)
		return p.Addr()
	}
	v6Bits = min(max(v6Bits, 0), 128)
	p, _ := ip.Prefix(128 - v6Bits)
	return p.Addr()
}

// procDNTExempt: Matomo ignores DNT from Internet Explorer 10/11, which
// sent it by default.
func procDNTExempt(ua string) bool {
	return strings.Contains(ua, "MSIE") || strings.Contains(ua, "Trident/")
}
