package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/analytics"
)

// Size is a number of bytes. In the file and the environment it is written
// as a whole number with an optional unit: "512" (bytes), "64KB" (×1000),
// "1MiB" (×1024²); units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, in any case.
type Size int64

// Byte sizes.
const (
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
	TiB Size = 1 << 40
)

var sizeUnits = []struct {
	name string
	n    Size
}{
	{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
	{"B", 1},
}

// ParseSize parses a size such as "512", "64KB" or "1MiB". It fails with
// analytics.ErrInvalid on anything else, negative numbers and overflow.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("config: size %q: need a whole number of bytes and an optional unit (\"512\", \"64KB\", \"1MiB\"): %w", s, analytics.ErrInvalid)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("config: size %q: too large: %w", s, analytics.ErrInvalid)
	}
	unit := strings.TrimSpace(t[i:])
	mult := Size(1)
	if unit != "" {
		found := false
		for _, u := range sizeUnits {
			if strings.EqualFold(unit, u.name) {
				mult, found = u.n, true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("config: size %q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB): %w", s, unit, analytics.ErrInvalid)
		}
	}
	if n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("config: size %q: too large: %w", s, analytics.ErrInvalid)
	}
	return Size(n) * mult, nil
}

// String formats s in its canonical form, the one ParseSize reads back:
// the largest unit that divides it exactly ("1MiB", "64KB"), else plain
// bytes ("1000001").
func (s Size) String() string {
	if s == 0 {
		return "0"
	}
	if s > 0 {
		for _, u := range sizeUnits {
			if u.n > 1 && s%u.n == 0 {
				return strconv.FormatInt(int64(s/u.n), 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// formatDuration writes d compactly in a form time.ParseDuration reads
// back: "30m", "1h30m", "1.5s", "0s".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = -u
	}
	h := u / uint64(time.Hour)
	u -= h * uint64(time.Hour)
	m := u / uint64(time.Minute)
	u -= m * uint64(time.Minute)
	if h > 0 {
		b.WriteString(strconv.FormatUint(h, 10) + "h")
	}
	if m > 0 {
		b.WriteString(strconv.FormatUint(m, 10) + "m")
	}
	if u > 0 {
		// Seconds and below: time.Duration's own formatting is exact and
		// compact ("1.5s", "250ms", "3µs"); "µ" is accepted back.
		b.WriteString(time.Duration(u).String())
	}
	return b.String()
}

// parseDuration is time.ParseDuration with a message that says what to
// write instead.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use a number and a unit: \"10s\", \"30m\", \"24h\")", s)
	}
	return d, nil
}

// ParseIPRange parses an address range as the configuration and Matomo's
// exclusion lists write them: a single address ("10.1.2.3", "::1"), a CIDR
// prefix ("10.0.0.0/8", "2001:db8::/32") or an IPv4 address with trailing
// wildcard bytes ("192.168.1.*", "10.*.*.*"). A single address becomes a
// full-length prefix; a prefix is masked ("10.1.2.3/8" is 10.0.0.0/8).
// IPv4-mapped IPv6 addresses are unmapped.
func ParseIPRange(s string) (netip.Prefix, error) {
	bad := func() (netip.Prefix, error) {
		return netip.Prefix{}, fmt.Errorf("config: %q is not an address, CIDR prefix or a.b.c.* wildcard: %w", s, analytics.ErrInvalid)
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return bad()
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return bad()
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Addr().Zone() != "" {
			return bad()
		}
		return p.Masked(), nil
	}
	if strings.Contains(s, "*") {
		parts := strings.Split(s, ".")
		if len(parts) != 4 {
			return bad()
		}
		var b [4]byte
		bits := 0
		wild := false
		for i, p := range parts {
			if p == "*" {
				wild = true
				continue
			}
			if wild || p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
				return bad()
			}
			v, err := strconv.Atoi(p)
			if err != nil || v > 255 {
				return bad()
			}
			b[i] = byte(v)
			bits += 8
		}
		if bits == 0 {
			// "*.*.*.*" is every IPv4 address.
			return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), bits), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return bad()
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// errString returns the message of err without the "config: " prefix and
// the sentinel suffix, for embedding in a longer message.
func errString(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "config: ")
	if errors.Is(err, analytics.ErrInvalid) {
		msg = strings.TrimSuffix(msg, ": "+analytics.ErrInvalid.Error())
	}
	return msg
}
