package geo

import "net/netip"

// Public reports whether ip is a globally routable unicast address, the only
// kind a geolocation database can place. It is false for the invalid
// address, unspecified, loopback, private (RFC 1918, unique local fc00::/7),
// shared (100.64.0.0/10), link-local, multicast, broadcast, documentation,
// benchmarking and other special-purpose blocks of the IANA registries, and
// for IPv6 outside the global unicast space 2000::/3.
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address
// they carry, and so are the IPv4-compatible (::a.b.c.d), NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) forms. A zone is ignored.
func Public(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	if ip.Is4In6() || ip.Is4() {
		return public4(ip.Unmap().As4())
	}
	return public6(ip.As16())
}

// public4 follows the IANA IPv4 Special-Purpose Address Registry (entries
// that are not globally reachable) plus multicast and class E.
func public4(a [4]byte) bool {
	switch a[0] {
	case 0, 10, 127: // "this network", private, loopback
		return false
	case 100: // 100.64.0.0/10 shared address space (carrier-grade NAT)
		return a[1]&0xc0 != 64
	case 169: // 169.254.0.0/16 link-local
		return a[1] != 254
	case 172: // 172.16.0.0/12 private
		return a[1]&0xf0 != 16
	case 192:
		switch {
		case a[1] == 168: // 192.168.0.0/16 private
			return false
		case a[1] == 0 && (a[2] == 0 || a[2] == 2): // IETF protocol assignments, TEST-NET-1
			return false
		case a[1] == 88 && a[2] == 99: // deprecated 6to4 relay anycast
			return false
		}
	case 198:
		if a[1]&0xfe == 18 { // 198.18.0.0/15 benchmarking
			return false
		}
		if a[1] == 51 && a[2] == 100 { // TEST-NET-2
			return false
		}
	case 203:
		if a[1] == 0 && a[2] == 113 { // TEST-NET-3
			return false
		}
	}
	return a[0] < 224 // multicast 224/4, reserved 240/4, broadcast
}

func public6(a [16]byte) bool {
	// ::/96: the unspecified address, loopback and IPv4-compatible
	// addresses (deprecated, but MaxMind databases still map them).
	if zero(a[:12]) {
		return public4([4]byte(a[12:]))
	}
	// 64:ff9b::/96 NAT64 well-known prefix: the IPv4 address it carries.
	if a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && zero(a[4:12]) {
		return public4([4]byte(a[12:]))
	}
	if a[0]&0xe0 != 0x20 { // outside 2000::/3 global unicast
		return false
	}
	switch {
	case a[0] == 0x20 && a[1] == 0x02: // 2002::/16 6to4
		return public4([4]byte(a[2:6]))
	case a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8: // 2001:db8::/32 documentation
		return false
	case a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x02 && a[4] == 0 && a[5] == 0: // 2001:2::/48 benchmarking
		return false
	case a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3]&0xf0 == 0x10: // 2001:10::/28 deprecated ORCHID
		return false
	case a[0] == 0x3f && a[1] == 0xff && a[2]&0xf0 == 0x00: // 3fff::/20 documentation
		return false
	}
	return true
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
