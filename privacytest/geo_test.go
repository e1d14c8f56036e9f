package privacytest

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/ingest"
)

// leakyGeo fails naming the address in its error, as a MaxMind reader
// does for a corrupt record.
type leakyGeo struct{}

func (leakyGeo) Lookup(ip netip.Addr) (analytics.Location, error) {
	return analytics.Location{}, fmt.Errorf("lookup %s / %s: invalid record", ip, ip.StringExpanded())
}

// TestGeoFailureNotLogged: with a geolocation database that fails and
// names the address, the hits are still stored (without a location) and
// neither the store nor the log has a full address.
func TestGeoFailureNotLogged(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			start := time.Date(2024, 6, 14, 10, 0, 0, 0, time.UTC)
			p := newPipeline(t, kind, config.Default().PrivacyDefaults(), analytics.Site{}, start,
				func(o *ingest.ProcessorOptions) { o.Geo = leakyGeo{} })
			traffic := hits(nil, nil)
			for _, r := range traffic {
				p.send(r)
			}
			p.drain()
			vs := p.visits()
			if len(vs) != 3 {
				t.Fatalf("%d visits, want 3", len(vs))
			}
			for _, v := range vs {
				if !v.Location.IsZero() {
					t.Errorf("visit %d has a location %+v from a failing database", v.ID, v.Location)
				}
			}
			ips := []Needle{IP("A's address", ipA), IP("B's address", ipB), IP("C's address", ipC)}
			p.scan(ips, ips)
			if n := len(ScanText("log", p.logs.Bytes(), []Needle{Text("warning", "geolocation failed")})); n == 0 {
				t.Error("control: the geolocation failure was not logged at all")
			}
		})
	}
}
