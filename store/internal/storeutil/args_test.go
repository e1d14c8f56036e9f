package storeutil

import (
	"errors"
	"strings"
	"testing"

	"github.com/footfall/analytics"
)

func TestArgumentChecks(t *testing.T) {
	x := analytics.VisitorID{1}
	for _, tc := range []struct {
		name string
		err  error
		want string // "" = valid
	}{
		{"reserve visit ids", CheckReserve(analytics.IDVisit, 1), ""},
		{"reserve action ids", CheckReserve(analytics.IDAction, 100), ""},
		{"reserve unknown kind", CheckReserve(0, 1), "unknown kind 0"},
		{"reserve kind 3", CheckReserve(3, 1), "unknown kind 3"},
		{"reserve 0", CheckReserve(analytics.IDVisit, 0), "n = 0, want > 0"},
		{"reserve -1", CheckReserve(analytics.IDAction, -1), "n = -1, want > 0"},
		{"match visitor id", CheckVisitorMatch(analytics.VisitorMatch{VisitorID: x}), ""},
		{"match config id", CheckVisitorMatch(analytics.VisitorMatch{ConfigID: x}), ""},
		{"match neither", CheckVisitorMatch(analytics.VisitorMatch{SiteID: 1}), "exactly one of VisitorID and ConfigID must be set"},
		{"match both", CheckVisitorMatch(analytics.VisitorMatch{VisitorID: x, ConfigID: x}), "exactly one of VisitorID and ConfigID must be set"},
		{"query", CheckVisitQuery(analytics.VisitQuery{Limit: 0}), ""},
		{"query negative limit", CheckVisitQuery(analytics.VisitQuery{Limit: -1}), "negative limit -1"},
		{"chunk", CheckChunk(1), ""},
		{"chunk 0", CheckChunk(0), "chunk 0, want > 0"},
		{"prune", CheckPrune(1, 10), ""},
		{"prune site 0", CheckPrune(0, 10), "site id must be > 0"},
		{"prune chunk -1", CheckPrune(1, -1), "chunk -1, want > 0"},
		{"filter visitor", CheckVisitorFilter(0, analytics.VisitorFilter{VisitorID: x}, 0), ""},
		{"filter user", CheckVisitorFilter(3, analytics.VisitorFilter{UserID: "u"}, 1), ""},
		{"filter empty", CheckVisitorFilter(1, analytics.VisitorFilter{}, 0), "the filter has neither a visitor id nor a user id"},
		{"filter long user", CheckVisitorFilter(1, analytics.VisitorFilter{UserID: "uu"}, 1), "user id longer than 1 bytes"},
		{"filter long user, no limit", CheckVisitorFilter(1, analytics.VisitorFilter{UserID: strings.Repeat("u", 5000)}, 0), ""},
		{"filter site -1", CheckVisitorFilter(-1, analytics.VisitorFilter{VisitorID: x}, 0), "site id -1"},
		{"site", CheckSite(&analytics.Site{Timezone: "Europe/Paris"}), ""},
		{"site without time zone", CheckSite(&analytics.Site{}), ""},
		{"options", CheckOptions("p", nil), ""},
		{"options fail", CheckOptions("p", []string{"A is bad", "B too"}), "p: options: A is bad; B too"},
	} {
		if tc.want == "" {
			if tc.err != nil {
				t.Errorf("%s: %v", tc.name, tc.err)
			}
			continue
		}
		if !errors.Is(tc.err, analytics.ErrInvalid) || tc.err.Error() != tc.want+": analytics: invalid" {
			t.Errorf("%s: error = %v, want %q wrapping ErrInvalid", tc.name, tc.err, tc.want)
		}
	}
	if err := CheckSite(&analytics.Site{Timezone: "Mars/Olympus_Mons"}); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("CheckSite of an unknown time zone = %v, want ErrInvalid", err)
	}
}
