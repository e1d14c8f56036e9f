package privacytest

import (
	"net/netip"
	"strings"
	"testing"
)

// TestNeedleForms: each needle is found in every form a store or a log
// could write it in, and not in what anonymization or scrubbing leaves.
func TestNeedleForms(t *testing.T) {
	v4 := IP("v4", netip.MustParseAddr("81.2.69.142"))
	v6 := IP("v6", netip.MustParseAddr("2a02:1234:5678:9abc:def0:1122:3344:5566"))
	mail := Text("mail", "Jane.Doe@mail.example")
	salt := Bytes("salt", []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03})
	cases := []struct {
		name  string
		cell  string
		n     Needle
		found bool
	}{
		{"v4 text", "ip=81.2.69.142;", v4, true},
		{"v4 binary", "\x51\x02\x45\x8e", v4, true},
		{"v4 mapped binary", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x51\x02\x45\x8e", v4, true},
		{"v4 hex upper", "0x5102458E", v4, true},
		{"v4 as number", "1359103374", v4, true},
		{"v4 mapped text", "::ffff:81.2.69.142", v4, true},
		{"v4 masked 1 byte", "81.2.69.0", v4, false},
		{"v4 masked binary", "\x51\x02\x45\x00", v4, false},
		{"v4 other address", "81.2.69.14", v4, false},
		{"v6 text", "2a02:1234:5678:9abc:def0:1122:3344:5566", v6, true},
		{"v6 expanded upper", "2A02:1234:5678:9ABC:DEF0:1122:3344:5566", v6, true},
		{"v6 binary", "\x2a\x02\x12\x34\x56\x78\x9a\xbc\xde\xf0\x11\x22\x33\x44\x55\x66", v6, true},
		{"v6 masked", "2a02:1234:5678::", v6, false},
		{"mail lower", "jane.doe@mail.example", mail, true},
		{"mail escaped", "/?u=Jane.Doe%40mail.example", mail, true},
		{"mail hex", "6a616e652e646f65406d61696c2e6578616d706c65", mail, true},
		{"mail scrubbed", "[email]", mail, false},
		{"salt binary", "x\xde\xad\xbe\xef\x00\x01\x02\x03y", salt, true},
		{"salt hex", "DEADBEEF00010203", salt, true},
		{"salt base64", "3q2+7wABAgM=", salt, true},
		{"salt not there", "\xde\xad\xbe\xef\x00\x01\x02", salt, false},
	}
	for _, c := range cases {
		_, _, _, got := match([]byte(c.cell), []Needle{c.n})
		if got != c.found {
			t.Errorf("%s: found %v, want %v", c.name, got, c.found)
		}
	}
}

func TestScanText(t *testing.T) {
	log := "2024-06-14T10:00:00Z [DEBUG] ok\n2024-06-14T10:00:01Z [TRACE] hit from 81.2.69.142\nend"
	f := ScanText("log", []byte(log), []Needle{IP("client", netip.MustParseAddr("81.2.69.142"))})
	if len(f) != 1 || f[0].Where != "log line 2" || !strings.Contains(f[0].String(), "81.2.69.142") {
		t.Fatalf("findings %v", f)
	}
}
