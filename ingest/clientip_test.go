package ingest

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	analytics "github.com/footfall/analytics"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	xff := []string{"X-Forwarded-For"}
	tests := []struct {
		name      string
		remote    string
		trusted   []netip.Prefix
		headers   []string
		readFirst bool
		hdr       map[string][]string
		want      string // "" = invalid
	}{
		{name: "peer", remote: "192.0.2.1:1234", want: "192.0.2.1"},
		{name: "peer without port", remote: "192.0.2.1", want: "192.0.2.1"},
		{name: "IPv6 peer", remote: "[2001:db8::1]:443", want: "2001:db8::1"},
		{name: "IPv6 peer with zone", remote: "[fe80::1%eth0]:443", want: "fe80::1"},
		{name: "IPv4-mapped peer", remote: "[::ffff:192.0.2.1]:443", want: "192.0.2.1"},
		{name: "unreadable peer", remote: "pipe", want: ""},
		{name: "headers ignored without trusted proxies", remote: "10.0.0.1:1", headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"203.0.113.5"}}, want: "10.0.0.1"},
		{name: "headers ignored from an untrusted peer", remote: "192.0.2.9:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"203.0.113.5"}}, want: "192.0.2.9"},
		{name: "trusted peer: last untrusted entry", remote: "10.0.0.1:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"198.51.100.1, 203.0.113.5, 10.1.2.3"}}, want: "203.0.113.5"},
		{name: "trusted peer: read first", remote: "10.0.0.1:1", trusted: trusted, headers: xff, readFirst: true,
			hdr: map[string][]string{"X-Forwarded-For": {"10.9.9.9, 198.51.100.1, 203.0.113.5"}}, want: "198.51.100.1"},
		{name: "several header lines", remote: "10.0.0.1:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"198.51.100.1", "203.0.113.7 , 10.0.0.2"}}, want: "203.0.113.7"},
		{name: "junk entries skipped", remote: "10.0.0.1:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"198.51.100.1, unknown, , 10.0.0.3"}}, want: "198.51.100.1"},
		{name: "only trusted addresses in the header: the leftmost", remote: "10.0.0.1:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"junk, 10.0.0.2, 10.0.0.3"}}, want: "10.0.0.2"},
		{name: "header without an address: peer", remote: "10.0.0.1:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"unknown, "}}, want: "10.0.0.1"},
		{name: "first header with an address wins", remote: "10.0.0.1:1", trusted: trusted,
			headers: []string{"HTTP_CF_CONNECTING_IP", "x-forwarded-for"},
			hdr:     map[string][]string{"X-Forwarded-For": {"203.0.113.5"}}, want: "203.0.113.5"},
		{name: "Matomo header spelling", remote: "10.0.0.1:1", trusted: trusted, headers: []string{"HTTP_CF_CONNECTING_IP"},
			hdr: map[string][]string{"Cf-Connecting-Ip": {"203.0.113.6"}}, want: "203.0.113.6"},
		{name: "ports, brackets and mapped addresses in headers", remote: "[2001:db8:1::5]:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"[2001:db8:2::7]:8080, ::ffff:10.0.0.9"}}, want: "2001:db8:2::7"},
		{name: "IPv4 with port in header", remote: "10.0.0.1:1", trusted: trusted, headers: xff,
			hdr: map[string][]string{"X-Forwarded-For": {"203.0.113.5:4711"}}, want: "203.0.113.5"},
		{name: "RFC 7239 Forwarded", remote: "10.0.0.1:1", trusted: trusted, headers: []string{"Forwarded"},
			hdr: map[string][]string{"Forwarded": {`for=198.51.100.3;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.1`}}, want: "2001:db8:cafe::17"},
		{name: "trust everyone", remote: "192.0.2.1:1", headers: xff,
			trusted: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")},
			hdr:     map[string][]string{"X-Forwarded-For": {"203.0.113.5"}}, want: "203.0.113.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewHandler(HandlerOptions{Queue: &handlerRecQueue{}, Sites: &handlerSites{},
				TrustedProxies: tc.trusted, ClientIPHeaders: tc.headers, ProxyIPReadFirst: tc.readFirst})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/matomo.php", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.hdr {
				r.Header[k] = v
			}
			got := h.clientIP(r)
			var want netip.Addr
			if tc.want != "" {
				want = netip.MustParseAddr(tc.want)
			}
			if got != want {
				t.Errorf("clientIP = %v, want %v", got, want)
			}
		})
	}
}

// TestHandlerClientIPEndToEnd: the resolved address is the hit's IP.
func TestHandlerClientIPEndToEnd(t *testing.T) {
	e := newHandlerEnv(t, func(o *HandlerOptions) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
		o.ClientIPHeaders = []string{"X-Forwarded-For"}
	})
	e.do("GET", "/matomo.php?idsite=1&rec=1", "", map[string]string{"X-Forwarded-For": "spoofed, 203.0.113.44"})
	want := baseHit(analytics.KindPageview)
	want.IP = netip.MustParseAddr("203.0.113.44")
	checkHits(t, []analytics.Hit{want}, e.queue.hits())
}

func TestClientIPHeaderName(t *testing.T) {
	for in, want := range map[string]string{
		"HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
		"x-real-ip":            "X-Real-Ip",
		" CF-Connecting-IP ":   "Cf-Connecting-Ip",
		"Forwarded":            "Forwarded",
	} {
		if got := clientipHeaderName(in); got != want {
			t.Errorf("clientipHeaderName(%q) = %q, want %q", in, got, want)
		}
	}
}
