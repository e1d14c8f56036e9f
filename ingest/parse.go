package ingest

import (
	"strconv"
	"strings"
	"unsafe"

	analytics "github.com/footfall/analytics"
)

// parseID names a tracking parameter the handler understands. Values are
// kept in parseParams.v, indexed by parseID.
type parseID uint8

const (
	parseIDSite parseID = iota
	parseRec
	parseActionName
	parseURL
	parseURLRef
	parseVisitorID // _id
	parseCID
	parseUID
	parseNewVisit
	parsePageViewID
	parseRes
	parseHour
	parseMinute
	parseSecond
	parsePDF
	parseQT
	parseRealP
	parseWMA
	parseFla
	parseJava
	parseAG
	parseCookie
	parseLang
	parseUA
	parseUAData
	parseEC
	parseEA
	parseEN
	parseEV
	parseCN
	parseCP
	parseCT
	parseCI
	parseSearch
	parseSearchCat
	parseSearchCount
	parseLink
	parseDownload
	parseCA
	parseIDGoal
	parseRevenue
	parseECID
	parseECST
	parseECTX
	parseECSH
	parseECDT
	parseECItems
	parsePKS
	parsePKN
	parsePKC
	parsePKP
	parsePfNet
	parsePfSrv
	parsePfTfr
	parsePfDm1
	parsePfDm2
	parsePfOnl
	parsePing
	parseRCN
	parseRCK
	parseRefTS
	parseRef
	parseConsent
	parseBots
	parseCIP
	parseCDT
	parseCDO
	parseCountry
	parseRegion
	parseCity
	parseLat
	parseLong
	parseSendImage
	parseTokenAuth
	parseNumParams
)

// parseKey maps a parameter name to its parseID. Unknown names (rand, r,
// apiv, _idn, _idts, _viewts, _ects, cs, data, _cvar, …) report false and
// are ignored; dimensionN is handled by the caller.
func parseKey(k string) (parseID, bool) {
	switch k {
	case "idsite":
		return parseIDSite, true
	case "rec":
		return parseRec, true
	case "action_name":
		return parseActionName, true
	case "url":
		return parseURL, true
	case "urlref":
		return parseURLRef, true
	case "_id":
		return parseVisitorID, true
	case "cid":
		return parseCID, true
	case "uid":
		return parseUID, true
	case "new_visit":
		return parseNewVisit, true
	case "pv_id":
		return parsePageViewID, true
	case "res":
		return parseRes, true
	case "h":
		return parseHour, true
	case "m":
		return parseMinute, true
	case "s":
		return parseSecond, true
	case "pdf":
		return parsePDF, true
	case "qt":
		return parseQT, true
	case "realp":
		return parseRealP, true
	case "wma":
		return parseWMA, true
	case "fla":
		return parseFla, true
	case "java":
		return parseJava, true
	case "ag":
		return parseAG, true
	case "cookie":
		return parseCookie, true
	case "lang":
		return parseLang, true
	case "ua":
		return parseUA, true
	case "uadata":
		return parseUAData, true
	case "e_c":
		return parseEC, true
	case "e_a":
		return parseEA, true
	case "e_n":
		return parseEN, true
	case "e_v":
		return parseEV, true
	case "c_n":
		return parseCN, true
	case "c_p":
		return parseCP, true
	case "c_t":
		return parseCT, true
	case "c_i":
		return parseCI, true
	case "search":
		return parseSearch, true
	case "search_cat":
		return parseSearchCat, true
	case "search_count":
		return parseSearchCount, true
	case "link":
		return parseLink, true
	case "download":
		return parseDownload, true
	case "ca":
		return parseCA, true
	case "idgoal":
		return parseIDGoal, true
	case "revenue":
		return parseRevenue, true
	case "ec_id":
		return parseECID, true
	case "ec_st":
		return parseECST, true
	case "ec_tx":
		return parseECTX, true
	case "ec_sh":
		return parseECSH, true
	case "ec_dt":
		return parseECDT, true
	case "ec_items":
		return parseECItems, true
	case "_pks":
		return parsePKS, true
	case "_pkn":
		return parsePKN, true
	case "_pkc":
		return parsePKC, true
	case "_pkp":
		return parsePKP, true
	case "pf_net":
		return parsePfNet, true
	case "pf_srv":
		return parsePfSrv, true
	case "pf_tfr":
		return parsePfTfr, true
	case "pf_dm1":
		return parsePfDm1, true
	case "pf_dm2":
		return parsePfDm2, true
	case "pf_onl":
		return parsePfOnl, true
	case "ping":
		return parsePing, true
	case "_rcn":
		return parseRCN, true
	case "_rck":
		return parseRCK, true
	case "_refts":
		return parseRefTS, true
	case "_ref":
		return parseRef, true
	case "consent":
		return parseConsent, true
	case "bots":
		return parseBots, true
	case "cip":
		return parseCIP, true
	case "cdt":
		return parseCDT, true
	case "cdo":
		return parseCDO, true
	case "country":
		return parseCountry, true
	case "region":
		return parseRegion, true
	case "city":
		return parseCity, true
	case "lat":
		return parseLat, true
	case "long":
		return parseLong, true
	case "send_image":
		return parseSendImage, true
	case "token_auth":
		return parseTokenAuth, true
	}
	return 0, false
}

// parseMaxDimensionID bounds dimensionN: Matomo's custom dimension ids are
// small positive integers.
const parseMaxDimensionID = 1 << 20

// parseParams holds the raw (unescaped) values of one tracking request.
// An empty value is the same as an absent parameter. Later values replace
// earlier ones, so scanning the POST body before the query string makes the
// GET value win on a clash, as in Matomo ($_GET + $_POST).
//
// It is a plain value meant to live on the stack: the strings point into
// the query string or body, and only values that contain escapes are
// copied.
type parseParams struct {
	v [parseNumParams]string
	// Dimensions: the first ones inline (no self-pointing slice, so a
	// parseParams can stay on the stack), the rest in dimsMore.
	dimsBuf  [8]analytics.Dimension
	nDims    int
	dimsMore []analytics.Dimension
	// n counts the parameters seen (known or not): a request with none at
	// all is "nothing to track".
	n int
}

// scan adds the parameters of a raw query string ("a=1&b=2", no leading
// '?'). Keys and values are unescaped like PHP's urldecode: '+' is a space,
// a valid %XX is a byte and a malformed escape is kept literally, so scan
// never fails. Values of unknown keys are never unescaped.
func (p *parseParams) scan(q string) {
	for q != "" {
		var pair string
		if i := strings.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, ""
		}
		if pair == "" {
			continue
		}
		k, v := pair, ""
		if i := strings.IndexByte(pair, '='); i >= 0 {
			k, v = pair[:i], pair[i+1:]
		}
		k = parseUnescape(k)
		if k == "" {
			continue
		}
		p.n++
		if id, ok := parseKey(k); ok {
			p.v[id] = parseUnescape(v)
		} else if n, ok := parseDimensionKey(k); ok {
			p.setDimension(n, parseUnescape(v))
		}
	}
}

// set adds one already unescaped parameter (a bulk JSON object member).
func (p *parseParams) set(k, v string) {
	if k == "" {
		return
	}
	p.n++
	if id, ok := parseKey(k); ok {
		p.v[id] = v
	} else if n, ok := parseDimensionKey(k); ok {
		p.setDimension(n, v)
	}
}

func (p *parseParams) setDimension(id int, v string) {
	for i := range p.dimsBuf[:min(p.nDims, len(p.dimsBuf))] {
		if p.dimsBuf[i].ID == id {
			p.dimsBuf[i].Value = v
			return
		}
	}
	for i := range p.dimsMore {
		if p.dimsMore[i].ID == id {
			p.dimsMore[i].Value = v
			return
		}
	}
	if p.nDims < len(p.dimsBuf) {
		p.dimsBuf[p.nDims] = analytics.Dimension{ID: id, Value: v}
	} else {
		p.dimsMore = append(p.dimsMore, analytics.Dimension{ID: id, Value: v})
	}
	p.nDims++
}

// dimensions returns the dimensions seen, in no particular order, in a
// new slice (nil when none).
func (p *parseParams) dimensions() []analytics.Dimension {
	if p.nDims == 0 {
		return nil
	}
	out := make([]analytics.Dimension, 0, p.nDims)
	out = append(out, p.dimsBuf[:min(p.nDims, len(p.dimsBuf))]...)
	return append(out, p.dimsMore...)
}

// parseDimensionKey recognises "dimensionN" with N a positive integer.
func parseDimensionKey(k string) (int, bool) {
	rest, ok := strings.CutPrefix(k, "dimension")
	if !ok || rest == "" || len(rest) > 7 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n <= 0 || n > parseMaxDimensionID {
		return 0, false
	}
	return n, true
}

// parseUnescape decodes a query-string component the way PHP's urldecode
// does: '+' becomes a space, "%XX" with two hex digits becomes that byte,
// and anything else (a lone '%', "%zz") is kept as it is. It allocates only
// when s contains '+' or '%'.
func parseUnescape(s string) string {
	first := -1
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '+' {
			first = i
			break
		}
	}
	if first < 0 {
		return s
	}
	// One allocation: the result is never longer than s, and the buffer
	// is never written again once it becomes the string.
	buf := make([]byte, len(s))
	n := copy(buf, s[:first])
	for i := first; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && parseIsHex(s[i+1]) && parseIsHex(s[i+2]):
			c = parseUnhex(s[i+1])<<4 | parseUnhex(s[i+2])
			i += 2
		}
		buf[n] = c
		n++
	}
	return unsafe.String(&buf[0], n)
}

func parseIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func parseUnhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// parseFlag reports whether a 0/1 parameter is set: any non-zero integer.
func parseFlag(s string) bool {
	if s == "1" {
		return true
	}
	n, ok := parseInt(s)
	return ok && n != 0
}

// parseInt parses a decimal integer with an optional sign, surrounding
// spaces allowed, without allocating (strconv.Atoi allocates its error,
// and most parameters are absent on most requests).
func parseInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		s = strings.TrimSpace(s)
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || len(s) > 18 { // 18 digits cannot overflow an int64
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseFloat parses a finite decimal number; a decimal comma is accepted
// as Matomo does (forceDotAsSeparatorForDecimalPoint).
func parseFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if strings.IndexByte(s, ',') >= 0 {
		s = strings.Replace(s, ",", ".", 1)
	}
	for i := 0; i < len(s); i++ { // reject "inf", "nan", hex floats, "1_000"
		c := s[i]
		if !('0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
