package ingest

import (
	"net/url"
	"strings"
)

// procDefaultExcludedParams are the query parameters stripped from every
// page URL before it is stored: Matomo's default
// url_query_parameter_to_exclude_from_url (config/global.ini.php) plus the
// click and session identifiers of the big ad and mail platforms, which
// identify a person and make every URL unique. ProcessorOptions.
// ExcludedQueryParams and Site.ExcludedParams add to it.
var procDefaultExcludedParams = []string{
	// Matomo's default list.
	"gclid", "fbclid", "msclkid", "twclid", "wbraid", "gbraid", "yclid",
	"fb_xd_fragment", "fb_comment_id", "phpsessid", "jsessionid", "sessionid",
	"aspsessionid", "doing_wp_cron", "sid", "pk_vid",
	// Identifiers Matomo's list does not have.
	"gclsrc", "dclid", "_ga", "_gl", "ttclid", "li_fat_id", "igshid", "igsh",
	"mc_eid", "_hsenc", "_hsmi", "mkt_tok", "srsltid", "epik", "rdt_cid",
	"sccid", "_kx", "oly_enc_id", "oly_anon_id", "vero_id",
	"wickedid", "s_cid",
}

// Campaign parameters (Matomo's campaign_var_name and
// campaign_keyword_var_name defaults, the Tag Manager's mtm_ names and the
// Google Analytics utm_ names), in order of preference.
var (
	procCampaignNameParams    = []string{"pk_campaign", "pk_cpn", "mtm_campaign", "matomo_campaign", "piwik_campaign", "utm_campaign"}
	procCampaignKeywordParams = []string{"pk_kwd", "pk_keyword", "mtm_kwd", "mtm_keyword", "matomo_kwd", "piwik_kwd", "utm_term"}
	procCampaignSourceParams  = []string{"mtm_source", "pk_source", "utm_source"}
	procCampaignMediumParams  = []string{"mtm_medium", "pk_medium", "utm_medium"}
	procCampaignContentParams = []string{"mtm_content", "pk_content", "utm_content"}
	procCampaignIDParams      = []string{"mtm_cid", "pk_cid", "utm_id", "mtm_clid"}
)

// Matomo's default site search parameters.
var procDefaultSearchKeywordParams = []string{"q", "query", "s", "search", "searchword", "k", "keyword"}

// procMaxURLLength is Matomo's page_maximum_length.
const procMaxURLLength = 1024

// procParamSet is a set of lower-case query parameter names.
type procParamSet map[string]struct{}

func newProcParamSet(lists ...[]string) procParamSet {
	s := make(procParamSet)
	for _, l := range lists {
		for _, n := range l {
			n = strings.ToLower(strings.TrimSpace(n))
			if n != "" {
				s[n] = struct{}{}
			}
		}
	}
	return s
}

func (s procParamSet) has(rawName string) bool {
	if len(s) == 0 {
		return false
	}
	_, ok := s[procLowerASCII(procUnescape(rawName))]
	return ok
}

// procCleanURL strips excluded query parameters from raw and drops the
// fragment unless keepFragment. It returns raw itself when nothing changes.
func procCleanURL(raw string, ex procParamSet, keepFragment bool) string {
	s := raw
	var frag string
	hasFrag := false
	if i := strings.IndexByte(s, '#'); i >= 0 {
		frag, s, hasFrag = s[i+1:], s[:i], true
	}
	base, query, hasQuery := strings.Cut(s, "?")
	changed := false
	if hasQuery {
		nq := procFilterQuery(query, ex.has)
		if nq != query {
			changed = true
			query = nq
		}
	}
	if hasFrag {
		if !keepFragment {
			changed = true
			frag, hasFrag = "", false
		} else if fb, fq, ok := strings.Cut(frag, "?"); ok {
			// Single-page apps: "#/path?gclid=…".
			if nq := procFilterQuery(fq, ex.has); nq != fq {
				changed = true
				frag = fb
				if nq != "" {
					frag += "?" + nq
				}
			}
		} else if strings.IndexByte(frag, '=') >= 0 {
			if nq := procFilterQuery(frag, ex.has); nq != frag {
				changed = true
				frag = nq
			}
		}
	}
	if !changed {
		return procTruncate(raw, procMaxURLLength)
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.WriteString(base)
	if hasQuery && query != "" {
		b.WriteByte('?')
		b.WriteString(query)
	}
	if hasFrag && frag != "" {
		b.WriteByte('#')
		b.WriteString(frag)
	}
	return procTruncate(b.String(), procMaxURLLength)
}

// procFilterQuery removes the pairs of query whose raw name drop reports.
// It returns query itself when nothing is dropped.
func procFilterQuery(query string, drop func(rawName string) bool) string {
	if query == "" {
		return query
	}
	// First pass: anything to drop?
	any := false
	for rest := query; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		name, _, _ := strings.Cut(pair, "=")
		if drop(name) {
			any = true
			break
		}
	}
	if !any {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	for rest := query; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		name, _, _ := strings.Cut(pair, "=")
		if pair == "" || drop(name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
}

// procQueryOf returns the query and the fragment of a URL.
func procQueryOf(raw string) (query, frag string) {
	s := raw
	if i := strings.IndexByte(s, '#'); i >= 0 {
		frag, s = s[i+1:], s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		query = s[i+1:]
	}
	return query, frag
}

// procParam returns the decoded value of the first of names that has a
// non-empty value in query (names compared case-insensitively).
func procParam(query string, names []string) string {
	if query == "" {
		return ""
	}
	for _, want := range names {
		for rest := query; rest != ""; {
			var pair string
			pair, rest, _ = strings.Cut(rest, "&")
			name, val, _ := strings.Cut(pair, "=")
			if len(name) < len(want) || !strings.EqualFold(procUnescape(name), want) {
				continue
			}
			if v := strings.TrimSpace(procUnescapeValue(val)); v != "" {
				return v
			}
		}
	}
	return ""
}

// procCampaign is the campaign a page URL carries.
type procCampaign struct {
	Name, Keyword, Source, Medium, Content, ID string
}

// procCampaignOf reads campaign parameters from a page URL's query, else
// from its fragment (the JS tracker keeps "#pk_campaign=…" links working).
// ok is false when the URL names no campaign; utm_source or utm_medium
// alone make a campaign named after them, as in Matomo.
func procCampaignOf(raw string) (c procCampaign, ok bool) {
	query, frag := procQueryOf(raw)
	if c, ok = procCampaignOfQuery(query); ok {
		return c, true
	}
	if _, fq, found := strings.Cut(frag, "?"); found {
		frag = fq
	}
	return procCampaignOfQuery(frag)
}

func procCampaignOfQuery(q string) (c procCampaign, ok bool) {
	if q == "" || !procMayHaveCampaign(q) {
		return c, false
	}
	c.Name = procParam(q, procCampaignNameParams)
	c.Keyword = procParam(q, procCampaignKeywordParams)
	c.Source = procParam(q, procCampaignSourceParams)
	c.Medium = procParam(q, procCampaignMediumParams)
	c.Content = procParam(q, procCampaignContentParams)
	c.ID = procParam(q, procCampaignIDParams)
	if c.Name == "" {
		c.Name = c.Source
	}
	if c.Name == "" {
		c.Name = c.Medium
	}
	if c.Name == "" {
		return procCampaign{}, false
	}
	c.Name = procTruncate(strings.ToLower(c.Name), 255)
	c.Keyword = procTruncate(strings.ToLower(c.Keyword), 255)
	c.Source = procTruncate(strings.ToLower(c.Source), 255)
	c.Medium = procTruncate(strings.ToLower(c.Medium), 255)
	c.Content = procTruncate(c.Content, 255)
	c.ID = procTruncate(c.ID, 100)
	return c, true
}

// procMayHaveCampaign is a cheap filter: every campaign parameter starts
// with pk_, mtm_, utm_, matomo_ or piwik_.
func procMayHaveCampaign(q string) bool {
	for rest := q; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if len(pair) < 3 {
			continue
		}
		switch pair[0] | 0x20 {
		case 'p', 'm', 'u':
			return true
		}
	}
	return false
}

// procSiteSearchOf detects a site search in a page URL. It returns the
// keyword (lower case), the category and the URL without the search
// parameters; ok is false when no keyword parameter has a value.
func procSiteSearchOf(raw string, kwParams, catParams []string) (kw, cat, cleaned string, ok bool) {
	query, _ := procQueryOf(raw)
	if query == "" {
		return "", "", raw, false
	}
	kw = procParam(query, kwParams)
	if kw == "" {
		return "", "", raw, false
	}
	cat = procParam(query, catParams)
	drop := func(rawName string) bool {
		n := procUnescape(rawName)
		for _, p := range kwParams {
			if strings.EqualFold(n, p) {
				return true
			}
		}
		for _, p := range catParams {
			if strings.EqualFold(n, p) {
				return true
			}
		}
		return false
	}
	base, rest, _ := strings.Cut(raw, "?")
	q, frag, hasFrag := strings.Cut(rest, "#")
	q = procFilterQuery(q, drop)
	cleaned = base
	if q != "" {
		cleaned += "?" + q
	}
	if hasFrag {
		cleaned += "#" + frag
	}
	return strings.ToLower(kw), cat, cleaned, true
}

// procHostOf returns the lower-case host of an absolute URL without port
// and user info, and the path; host is "" when raw has none.
func procHostOf(raw string) (host, path string) {
	s := raw
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", ""
	}
	s = s[i+3:]
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	} else {
		path = s[end:]
		if j := strings.IndexAny(path, "?#"); j >= 0 {
			path = path[:j]
		}
	}
	h := s[:end]
	if at := strings.LastIndexByte(h, '@'); at >= 0 {
		h = h[at+1:]
	}
	if strings.HasPrefix(h, "[") {
		if j := strings.IndexByte(h, ']'); j > 0 {
			h = h[1:j]
		}
	} else if c := strings.LastIndexByte(h, ':'); c >= 0 {
		h = h[:c]
	}
	return strings.TrimSuffix(procLowerASCII(h), "."), path
}

// procStripWWW removes a leading "www." from a host.
func procStripWWW(host string) string { return strings.TrimPrefix(host, "www.") }

func procUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func procUnescapeValue(s string) string { return procUnescape(s) }

// procLowerASCII lower-cases s without allocating when it has no upper
// case ASCII letter.
func procLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// procTruncate cuts s to at most n bytes on a UTF-8 boundary.
func procTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ---------------------------------------------------------------------------
// PII scrubbing (Privacy.ScrubPII)
// ---------------------------------------------------------------------------

// procSecretParam reports whether a query parameter name looks like it
// carries a secret or a personal identifier: it contains token, passw,
// pwd, secret, apikey, api_key, access_key, session, email, e-mail, ssn,
// iban or auth ("auth" except in "author"; "authorization" counts), in
// any case, also %-escaped. One pass over the name, no allocation unless
// it is escaped.
func procSecretParam(rawName string) bool {
	n := rawName
	if strings.IndexByte(n, '%') >= 0 || strings.IndexByte(n, '+') >= 0 {
		n = procUnescape(n)
	}
	return procSecretName(n)
}

// procSecretName is procSecretParam for an unescaped name.
func procSecretName(n string) bool {
	for i := 0; i+1 < len(n); i++ {
		// Dispatch on the first two letters, in ASCII lower case (|0x20
		// leaves the other bytes that matter, '-' and '_', unchanged).
		var kws []string
		switch uint16(n[i]|0x20)<<8 | uint16(n[i+1]|0x20) {
		case 't'<<8 | 'o':
			kws = procSecretTo
		case 'p'<<8 | 'a':
			kws = procSecretPa
		case 'p'<<8 | 'w':
			kws = procSecretPw
		case 's'<<8 | 'e':
			kws = procSecretSe
		case 's'<<8 | 's':
			kws = procSecretSs
		case 'a'<<8 | 'p':
			kws = procSecretAp
		case 'a'<<8 | 'c':
			kws = procSecretAc
		case 'a'<<8 | 'u':
			if procHasPrefixFold(n[i:], "auth") {
				return !procHasPrefixFold(n[i:], "author") || procHasPrefixFold(n[i:], "authoriz")
			}
			continue
		case 'e'<<8 | 'm':
			kws = procSecretEm
		case 'e'<<8 | '-':
			kws = procSecretEDash
		case 'i'<<8 | 'b':
			kws = procSecretIb
		default:
			continue
		}
		for _, kw := range kws {
			if procHasPrefixFold(n[i:], kw) {
				return true
			}
		}
	}
	return false
}

// The secret-like name parts but "auth", by their first two letters.
var (
	procSecretTo    = []string{"token"}
	procSecretPa    = []string{"passw"}
	procSecretPw    = []string{"pwd"}
	procSecretSe    = []string{"secret", "session"}
	procSecretSs    = []string{"ssn"}
	procSecretAp    = []string{"apikey", "api_key"}
	procSecretAc    = []string{"access_key"}
	procSecretEm    = []string{"email"}
	procSecretEDash = []string{"e-mail"}
	procSecretIb    = []string{"iban"}
)

// procHasPrefixFold reports whether s begins with the lower-case ASCII
// prefix, in any case.
func procHasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// procScrubURL scrubs a URL as a text (procScrubText), then removes the
// secret-like query parameters whose value it blanked whole. It returns u itself when there is
// nothing to scrub.
func procScrubURL(u string) string {
	if u == "" {
		return u
	}
	t := procScrubText(u)
	if t == u {
		return u // nothing scrubbed, so no secret-like value either
	}
	u = t
	beforeFrag, frag, hasFrag := strings.Cut(u, "#")
	base, q, ok := strings.Cut(beforeFrag, "?")
	if !ok {
		return u
	}
	if !strings.Contains(q, "[secret]") {
		// The text pass found no secret-like name=value pair: no
		// parameter to drop (a secret-like name without a value holds
		// nothing).
		return u
	}
	fq := procFilterQuery(q, procSecretParam)
	if fq == q {
		return u
	}
	out := base
	if fq != "" {
		out += "?" + fq
	}
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// procScrubText replaces the value of secret-like name=value pairs
// (procSecretParam: "password=…", "token=…", also inside a URL's path or
// fragment, or %3D-escaped in a parameter value) with "[secret]", e-mail addresses (also %40-encoded) with
// "[email]" and runs of 9 or more digits (spaces and hyphens between them
// allowed: phone and card numbers) with "[number]". It returns s itself
// when there is nothing to scrub.
func procScrubText(s string) string {
	if s == "" {
		return s
	}
	digits, flags := 0, uint8(0)
	for i := 0; i < len(s); i++ {
		c := procTextClass[s[i]]
		digits += int(c & procClassDigit)
		flags |= c
	}
	hasAt := flags&procClassAt != 0
	hasEq := flags&procClassEq != 0
	if flags&procClassPct != 0 {
		pct := strings.IndexByte(s, '%')
		rest := s[pct:]
		hasAt = hasAt || strings.Contains(rest, "%40")
		hasEq = hasEq || strings.Contains(rest, "%3D") || strings.Contains(rest, "%3d")
	}
	// E-mails, then digits, then secrets: no step makes what an earlier
	// one looks for, so a scrubbed text scrubs to itself.
	if hasAt {
		s = procScrubEmails(s)
	}
	if digits >= 9 {
		s = procScrubDigits(s)
	}
	if hasEq {
		s = procScrubSecrets(s)
	}
	return s
}

// procTextClass classifies the bytes procScrubText looks for, so that
// one pass over a text tells whether there is anything to scrub.
var procTextClass = [256]uint8{
	'0': procClassDigit, '1': procClassDigit, '2': procClassDigit, '3': procClassDigit, '4': procClassDigit,
	'5': procClassDigit, '6': procClassDigit, '7': procClassDigit, '8': procClassDigit, '9': procClassDigit,
	'@': procClassAt, '=': procClassEq, '%': procClassPct,
}

const (
	procClassDigit uint8 = 1 << iota // counted: must stay bit 0
	procClassAt
	procClassEq
	procClassPct
)

func procIsParamName(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == '%' || c == '[' || c == ']'
}

func procIsValueEnd(c byte) bool {
	switch c {
	case '&', '?', ' ', '\t', '\n', '\r', ';', ',', '#', '"', '\'', '<', '>':
		return true
	}
	return false
}

// procScrubSecrets replaces the values of secret-like name=value pairs in
// free text with "[secret]".
func procScrubSecrets(s string) string {
	var b strings.Builder
	last := 0
	pct := strings.IndexByte(s, '%') >= 0
	for i := 0; i < len(s); i++ {
		if !pct {
			// Jump to the next '=' (the common case: no escapes).
			n := strings.IndexByte(s[i:], '=')
			if n < 0 {
				break
			}
			i += n
		}
		eq := 0
		switch {
		case s[i] == '=':
			eq = 1
		case s[i] == '%' && i+2 < len(s) && s[i+1] == '3' && (s[i+2] == 'D' || s[i+2] == 'd'):
			eq = 3 // "%3D": a pair inside an escaped parameter value
		default:
			continue
		}
		j := i
		for j > last && procIsParamName(s[j-1]) {
			j--
		}
		if j == i {
			continue
		}
		if name := s[j:i]; pct && !procSecretParam(name) || !pct && !procSecretName(name) {
			continue
		}
		k := i + eq
		for k < len(s) && !procIsValueEnd(s[k]) {
			k++
		}
		if k == i+eq {
			continue
		}
		b.WriteString(s[last : i+eq])
		b.WriteString("[secret]")
		last = k
		i = k - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func procIsEmailLocal(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '+' || c == '%'
}

func procIsEmailDomain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func procScrubEmails(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		atLen := 0
		if s[i] == '@' {
			atLen = 1
		} else if s[i] == '%' && i+2 < len(s) && s[i+1] == '4' && s[i+2] == '0' {
			atLen = 3
		}
		if atLen == 0 {
			continue
		}
		start := i
		for start > last && procIsEmailLocal(s[start-1]) {
			start--
		}
		end := i + atLen
		dot := false
		for end < len(s) && procIsEmailDomain(s[end]) {
			if s[end] == '.' {
				dot = true
			}
			end++
		}
		if start == i || end == i+atLen || !dot {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString("[email]")
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func procScrubDigits(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		j, n, end := i, 0, i
		for j < len(s) {
			if s[j] >= '0' && s[j] <= '9' {
				n++
				j++
				end = j
				continue
			}
			if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
				j++
				continue
			}
			break
		}
		if n >= 9 {
			b.WriteString(s[last:i])
			b.WriteString("[number]")
			last = end
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
