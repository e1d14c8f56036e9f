package privacytest_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"

	_ "modernc.org/sqlite"

	"github.com/footfall/analytics/privacytest"
)

// ExampleScanDB looks for a client address and an e-mail address in
// every column of a database.
func ExampleScanDB() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database
	for _, q := range []string{
		"CREATE TABLE visit (id INTEGER, ip BLOB, url TEXT)",
		"INSERT INTO visit VALUES (1, x'51020000', 'https://shop.example/?u=JANE%40mail.example')",
		"INSERT INTO visit VALUES (2, x'5102458e', 'https://shop.example/')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			panic(err)
		}
	}
	needles := []privacytest.Needle{
		privacytest.IP("client ip", netip.MustParseAddr("81.2.69.142")),
		privacytest.Text("e-mail", "jane@mail.example"),
	}
	r, err := privacytest.ScanDB(ctx, db, privacytest.SQLite, nil, needles)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Tables, "table,", r.Rows, "rows,", r.Cells, "cells")
	for _, f := range r.Findings {
		fmt.Println(f.Where, "|", f.Needle, "|", f.Form)
	}
	// Output:
	// 1 table, 2 rows, 6 cells
	// visit.url row 1 | e-mail | query-escaped
	// visit.ip row 2 | client ip | binary4
}
