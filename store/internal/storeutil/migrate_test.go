package storeutil

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestParseMigrations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []Migration
		err   string // the error's message when want is nil
	}{
		{"ordered", fstest.MapFS{
			"m/0002_b.sql":     {Data: []byte("B")},
			"m/0001_a.sql":     {Data: []byte("A")},
			"m/README":         {Data: []byte("ignored")},
			"m/0003_dir.sql/x": {Data: []byte("a directory is ignored")},
		}, []Migration{{1, "0001_a.sql", "A"}, {2, "0002_b.sql", "B"}}, ""},
		{"long numbers", fstest.MapFS{"m/1_a.sql": {}, "m/00002_b.sql": {}},
			[]Migration{{1, "1_a.sql", ""}, {2, "00002_b.sql", ""}}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, nil,
			`migration "0003_c.sql": version 3, want 2 (versions start at 1 without gaps)`},
		{"not starting at 1", fstest.MapFS{"m/0002_a.sql": {}}, nil,
			`migration "0002_a.sql": version 2, want 1 (versions start at 1 without gaps)`},
		{"twice the same version", fstest.MapFS{"m/0001_a.sql": {}, "m/0001_b.sql": {}}, nil,
			`migration "0001_b.sql": version 1, want 2 (versions start at 1 without gaps)`},
		{"bad name", fstest.MapFS{"m/0001_a.sql": {}, "m/second.sql": {}}, nil,
			`migration "second.sql": name must be NNNN_what.sql`},
		{"no underscore", fstest.MapFS{"m/0001.sql": {}}, nil, `migration "0001.sql": name must be NNNN_what.sql`},
		{"zero", fstest.MapFS{"m/0000_a.sql": {}}, nil, `migration "0000_a.sql": name must be NNNN_what.sql`},
		{"negative", fstest.MapFS{"m/-1_a.sql": {}}, nil, `migration "-1_a.sql": name must be NNNN_what.sql`},
		{"none", fstest.MapFS{"m/README": {}}, nil, "no migrations in m"},
		{"no directory", fstest.MapFS{"x/0001_a.sql": {}}, nil, "migrations: open m: file does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMigrations(tc.files, "m")
			if tc.want == nil {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseMigrations = %v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseMigrations (-want +got):\n%s", d)
			}
		})
	}
}
