package ingest

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientipHeaderName turns a header name as Matomo's proxy_client_headers
// writes it ("HTTP_X_FORWARDED_FOR") or as HTTP writes it
// ("x-forwarded-for") into Go's canonical form ("X-Forwarded-For").
func clientipHeaderName(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "HTTP_"); ok {
		s = strings.ReplaceAll(rest, "_", "-")
	}
	return http.CanonicalHeaderKey(s)
}

// clientIP resolves the address of the visitor: the peer address, or —
// when the peer is a trusted proxy — the address its headers name. In a
// header list ("client, proxy1, proxy2") trusted proxies are skipped and
// the last remaining address is used (first with ProxyIPReadFirst); if
// all are trusted, the leftmost. The
// first configured header that yields an address wins. IPv4-mapped IPv6
// addresses are unmapped. The zero Addr means unknown.
func (h *Handler) clientIP(r *http.Request) netip.Addr {
	peer := clientipParse(r.RemoteAddr)
	if len(h.ipHeaders) == 0 || !peer.IsValid() || !h.clientipTrusted(peer) {
		return peer
	}
	for _, name := range h.ipHeaders {
		if ip := h.clientipFromHeader(r.Header[name]); ip.IsValid() {
			return ip
		}
	}
	return peer
}

func (h *Handler) clientipTrusted(ip netip.Addr) bool {
	for _, p := range h.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientipFromHeader picks the client address from the lines of one
// header: the last (or first) entry that is not a trusted proxy; when
// every entry is a trusted proxy, the leftmost one, the origin of the
// chain. Unreadable entries are skipped.
func (h *Handler) clientipFromHeader(lines []string) netip.Addr {
	var found, leftmost netip.Addr
	for _, line := range lines {
		for line != "" {
			var entry string
			entry, line, _ = strings.Cut(line, ",")
			ip := clientipParse(clientipForwardedFor(entry))
			if !ip.IsValid() {
				continue
			}
			if !leftmost.IsValid() {
				leftmost = ip
			}
			if h.clientipTrusted(ip) {
				continue
			}
			if h.ipReadFirst {
				return ip
			}
			found = ip
		}
	}
	if !found.IsValid() {
		return leftmost
	}
	return found
}

// clientipForwardedFor returns the node of an RFC 7239 Forwarded element
// (`for=192.0.2.60;proto=http`), or entry itself when it has no "for=".
func clientipForwardedFor(entry string) string {
	if strings.IndexByte(entry, '=') < 0 {
		return entry
	}
	for entry != "" {
		var pair string
		pair, entry, _ = strings.Cut(entry, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if strings.EqualFold(k, "for") {
			return v
		}
	}
	return ""
}

// clientipParse reads "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]:5678",
// quoted or space-padded; the zero Addr when it is none of those.
func clientipParse(s string) netip.Addr {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, `"`)
	if s == "" {
		return netip.Addr{}
	}
	// Try the likely form first: a failed parse allocates its error.
	if s[0] == '[' || strings.IndexByte(s, '.') >= 0 && strings.IndexByte(s, ':') >= 0 {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone("")
		}
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap().WithZone("")
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return ip.Unmap().WithZone("")
		}
	}
	return netip.Addr{}
}
