package mysqlstore

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// The write path sends its values as SQL literals written here, not as
// arguments for the driver to interpolate: database/sql converts every
// argument twice (to a driver.NamedValue, then a driver.Value) and the
// driver scans the whole statement text for placeholders — for a batch of
// 500 hits some 20 000 arguments, several MiB of garbage and a fifth of
// the worker's CPU. The literals are the driver's, except text:
//
//   - nil and a nil []byte: NULL;
//   - int64, int, uint64, uint32: decimal; float64: strconv 'g' (the
//     driver's format); bool: 1 or 0;
//   - time.Time: '2006-01-02 15:04:05.000' in UTC truncated to the
//     millisecond (the driver's TimeTruncate), the zero time '0000-00-00';
//   - []byte: X'…' hex, a binary string;
//   - string: '…' as is when it is valid UTF-8 without a quote, a
//     backslash or a control character — such a literal means the same
//     with and without NO_BACKSLASH_ESCAPES, so nothing depends on the
//     session's sql_mode —, else X'…' hex. The columns the write path
//     fills with text are all binary (VARBINARY, BLOB; SCHEMA.md), or
//     receive only plain values (days), so a hex literal stores the same
//     bytes.
//
// appendLiteral panics on another type: the write path passes only these.
func appendLiteral(buf []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(buf, "NULL"...)
	case int64:
		return strconv.AppendInt(buf, v, 10)
	case int:
		return strconv.AppendInt(buf, int64(v), 10)
	case uint64:
		return strconv.AppendUint(buf, v, 10)
	case uint32:
		return strconv.AppendUint(buf, uint64(v), 10)
	case float64:
		return strconv.AppendFloat(buf, v, 'g', -1, 64)
	case bool:
		if v {
			return append(buf, '1')
		}
		return append(buf, '0')
	case time.Time:
		if v.IsZero() {
			return append(buf, "'0000-00-00'"...)
		}
		return v.UTC().Truncate(time.Millisecond).AppendFormat(buf, "'2006-01-02 15:04:05.000'")
	case []byte:
		if v == nil {
			return append(buf, "NULL"...)
		}
		return appendHex(buf, v)
	case string:
		if plainText(v) {
			buf = append(buf, '\'')
			buf = append(buf, v...)
			return append(buf, '\'')
		}
		return appendHex(buf, []byte(v))
	}
	panic(fmt.Sprintf("mysqlstore: no SQL literal for %T", v))
}

// appendHex appends b as X'…' (no digits for no bytes).
func appendHex(buf, b []byte) []byte {
	buf = append(buf, "X'"...)
	buf = hex.AppendEncode(buf, b)
	return append(buf, '\'')
}

// plainText reports whether s can be sent between single quotes as it is:
// valid UTF-8 without quote, backslash or control characters.
func plainText(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '\'' || c == '\\' || c == 0x7f {
			return false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	return ascii || utf8.ValidString(s)
}

// literalSQL returns query with each ? replaced by the literal of the next
// argument. query is the store's own text: no ? in it but placeholders.
func literalSQL(query string, args ...any) string {
	buf := make([]byte, 0, len(query)+16*len(args))
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			buf = append(buf, query[i])
			continue
		}
		if n == len(args) {
			panic("mysqlstore: more placeholders than arguments in " + query)
		}
		buf = appendLiteral(buf, args[n])
		n++
	}
	if n != len(args) {
		panic("mysqlstore: more arguments than placeholders in " + query)
	}
	return string(buf)
}
