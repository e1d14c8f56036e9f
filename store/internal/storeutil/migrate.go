package storeutil

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change: a file NNNN_what.sql.
type Migration struct {
	Version int    // NNNN: 1, 2, … without gaps
	Name    string // the file name, "0001_init.sql"
	SQL     string // the file's text
}

// ParseMigrations reads the migrations in directory dir of fsys, in
// version order: every file whose name ends in ".sql" must be named
// NNNN_what.sql with NNNN > 0, versions must start at 1 and have no gaps,
// and there must be at least one. Other files are ignored.
func ParseMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var migs []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_what.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migration %q: %w", name, err)
		}
		migs = append(migs, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	for i, m := range migs {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %q: version %d, want %d (versions start at 1 without gaps)", m.Name, m.Version, i+1)
		}
	}
	if len(migs) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return migs, nil
}
