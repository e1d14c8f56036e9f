package refdata_test

import (
	"fmt"

	"github.com/footfall/analytics/ingest/internal/refdata"
)

func ExampleTable_Lookup() {
	t := refdata.Default()
	for _, host := range []string{"www.google.co.uk", "l.facebook.com", "t.co", "mail.google.com"} {
		if e := t.Lookup(host); e != nil {
			fmt.Println(host, "→", e.Name, e.Params)
		} else {
			fmt.Println(host, "→ website")
		}
	}
	// Output:
	// www.google.co.uk → Google [q query]
	// l.facebook.com → Facebook []
	// t.co → Twitter []
	// mail.google.com → website
}
