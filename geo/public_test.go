package geo_test

import (
	"net/netip"
	"testing"

	"github.com/footfall/analytics/geo"
)

func TestPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		// Public IPv4 and its IPv6 spellings.
		{"81.2.69.142", true},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"223.255.255.255", true},
		{"::ffff:81.2.69.142", true},
		{"::214.0.1.1", true},
		{"64:ff9b::81.2.69.142", true},
		{"2002:5102:458e::1", true}, // 6to4 of 81.2.69.142
		// Public IPv6.
		{"2001:218::1", true},
		{"2a02:cf40::1", true},
		{"2001:4860:4860::8888", true},
		{"2001:20::1", true},
		{"3fff:1000::1", true},
		// Not globally routable IPv4.
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.0.0.1", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"127.0.0.1", false},
		{"169.254.1.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.8", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		// Neighbours of those blocks stay public.
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		{"172.15.255.255", true},
		{"172.32.0.0", true},
		{"192.0.1.1", true},
		{"198.17.255.255", true},
		{"198.20.0.0", true},
		{"169.253.1.1", true},
		// Not globally routable IPv6.
		{"::", false},
		{"::1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::10.0.0.1", false},
		{"64:ff9b::10.0.0.1", false},
		{"64:ff9b:1::1", false},
		{"100::1", false},
		{"2001:db8::1", false},
		{"2001:2::1", false},
		{"2001:10::1", false},
		{"2002:0a00:0001::1", false}, // 6to4 of 10.0.0.1
		{"3fff::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fec0::1", false},
		{"ff02::1", false},
		{"4000::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			if got := geo.Public(ip); got != tt.want {
				t.Errorf("Public(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if geo.Public(netip.Addr{}) {
		t.Error("Public(invalid) = true, want false")
	}
}

// FuzzPublic checks that Public agrees with the standard library's
// classification: anything net/netip calls private, loopback, link-local,
// multicast or unspecified is never public.
func FuzzPublic(f *testing.F) {
	for _, s := range []string{"81.2.69.142", "10.0.0.1", "::1", "fe80::1", "2001:218::1", "::ffff:192.168.1.1"} {
		a := netip.MustParseAddr(s).As16()
		f.Add(a[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 16 && len(b) != 4 {
			return
		}
		ip, _ := netip.AddrFromSlice(b)
		got := geo.Public(ip)
		u := ip.Unmap()
		if got && (u.IsPrivate() || u.IsLoopback() || u.IsLinkLocalUnicast() || u.IsMulticast() ||
			u.IsUnspecified() || u.IsLinkLocalMulticast() || u.IsInterfaceLocalMulticast()) {
			t.Errorf("Public(%s) = true for a special-purpose address", ip)
		}
		if got != geo.Public(u) {
			t.Errorf("Public(%s) = %v, but Public(%s) = %v", ip, got, u, !got)
		}
	})
}
