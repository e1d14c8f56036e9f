package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest"
	"github.com/footfall/analytics/store/sqlitestore"
)

// seed writes visits straight into the data directory's store: for each
// (visitor, user id, last action time) one visit with one page view.
type seedVisit struct {
	visitor string
	uid     string
	at      time.Time
}

func seed(t *testing.T, data string, visits []seedVisit) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(data, "footfall.db"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site := analytics.Site{Name: "Shop", URLs: []string{"https://shop.example"}, Timezone: "UTC"}
	if err := st.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	b := &analytics.LogBatch{Shard: "seed", To: analytics.Position{Hi: 1, Lo: 1}}
	for i, v := range visits {
		id, err := analytics.ParseVisitorID(v.visitor)
		if err != nil {
			t.Fatal(err)
		}
		b.Visits = append(b.Visits, analytics.Visit{ID: int64(i + 1), SiteID: site.ID, VisitorID: id, UserID: v.uid,
			FirstActionTime: v.at, LastActionTime: v.at, Actions: 1, Pageviews: 1, VisitCount: 1, LocalTime: -1,
			SecondsSinceOrder: -1, Referrer: analytics.Referrer{Type: analytics.ReferrerDirect}})
		b.Actions = append(b.Actions, analytics.Action{ID: int64(i + 1), VisitID: int64(i + 1), SiteID: site.ID, VisitorID: id,
			Time: v.at, Type: analytics.ActionPageview, URL: "https://shop.example/" + v.visitor, Title: "p", Position: 1})
	}
	if err := st.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
}

func liveVisitors(t *testing.T, env []string) []string {
	t.Helper()
	r := runCmd(t.Context(), env, "live", "--site", "1", "--last", "100", "--json")
	if r.code != 0 {
		t.Fatalf("live: %+v", r)
	}
	var vs []struct {
		VisitorID string `json:"visitorId"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.VisitorID)
	}
	return ids
}

func TestRetentionRun(t *testing.T) {
	data := t.TempDir()
	now := time.Now().UTC()
	seed(t, data, []seedVisit{
		{"00000000000000a1", "", now.AddDate(0, 0, -40)},
		{"00000000000000a2", "", now.AddDate(0, 0, -31)},
		{"00000000000000b1", "", now.AddDate(0, 0, -29)},
		{"00000000000000b2", "", now.Add(-time.Hour)},
	})
	env := []string{"FOOTFALL_DATA_DIR=" + data, "FOOTFALL_LOG_LEVEL=warn"}
	// Instance default: keep forever.
	if r := runCmd(t.Context(), env, "retention", "run"); r.code != 0 {
		t.Fatalf("retention run: %+v", r)
	}
	if got := liveVisitors(t, env); len(got) != 4 {
		t.Fatalf("keep forever deleted visits: %v", got)
	}
	env30 := append(env, "FOOTFALL_PRIVACY_RETENTION_DAYS=30")
	r := runCmd(t.Context(), env30, "retention", "run", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would delete") {
		t.Fatalf("dry run: %+v", r)
	}
	if got := liveVisitors(t, env); len(got) != 4 {
		t.Fatalf("dry run deleted visits: %v", got)
	}
	r = runCmd(t.Context(), env30, "retention", "run", "--chunk", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted 2 visits, 2 actions") {
		t.Fatalf("retention run: %+v", r)
	}
	got := strings.Join(liveVisitors(t, env), " ")
	if got != "00000000000000b2 00000000000000b1" {
		t.Fatalf("after retention: %s", got)
	}
	// A site setting overrides the instance default.
	if r := runCmd(t.Context(), env30, "site", "update", "1", "--retention-days", "forever"); r.code != 0 {
		t.Fatal(r)
	}
	if r := runCmd(t.Context(), append(env, "FOOTFALL_PRIVACY_RETENTION_DAYS=1"), "retention", "run"); r.code != 0 {
		t.Fatal(r)
	}
	if got := liveVisitors(t, env); len(got) != 2 {
		t.Fatalf("site retention 'forever' did not win over the instance: %v", got)
	}
	if r := runCmd(t.Context(), env, "retention", "frob"); r.code != 2 {
		t.Fatalf("bad subcommand: %+v", r)
	}
}

func TestGDPR(t *testing.T) {
	data := t.TempDir()
	now := time.Now().UTC().Add(-time.Hour)
	hashed := ingest.HashUserID("bob@example.com", "")
	seed(t, data, []seedVisit{
		{"00000000000000a1", "", now.Add(-48 * time.Hour)},
		{"00000000000000a1", "", now},
		{"00000000000000b1", "", now},
		{analytics.UserVisitorID("alice").String(), "alice", now},
		{analytics.UserVisitorID(hashed).String(), hashed, now},
	})
	env := []string{"FOOTFALL_DATA_DIR=" + data, "FOOTFALL_LOG_LEVEL=warn"}
	export := func(args ...string) []string {
		t.Helper()
		r := runCmd(t.Context(), env, append([]string{"gdpr", "export", "--site", "1"}, args...)...)
		if r.code != 0 {
			t.Fatalf("export %v: %+v", args, r)
		}
		var vs []struct {
			VisitorID     string `json:"visitorId"`
			ActionDetails []struct {
				URL string `json:"url"`
			} `json:"actionDetails"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.VisitorID+" "+v.ActionDetails[0].URL)
		}
		return out
	}
	if got := export("--visitor", "00000000000000a1"); len(got) != 2 || !strings.HasSuffix(got[0], "/00000000000000a1") {
		t.Fatalf("export visitor a1: %v", got)
	}
	if got := export("--user-id", "alice"); len(got) != 1 {
		t.Fatalf("export user alice: %v", got)
	}
	if got := export("--user-id", "bob@example.com"); len(got) != 1 {
		t.Fatalf("export hashed user bob: %v", got)
	}
	for _, bad := range [][]string{{"--visitor", "xyz"}, {}, {"--visitor", "00000000000000a1", "--user-id", "x"}} {
		if r := runCmd(t.Context(), env, append([]string{"gdpr", "export", "--site", "1"}, bad...)...); r.code != 1 {
			t.Errorf("gdpr export %v: exit %d, want 1", bad, r.code)
		}
	}
	r := runCmd(t.Context(), env, "gdpr", "delete", "--site", "1", "--visitor", "00000000000000a1")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted 2 visits, 2 actions") {
		t.Fatalf("delete: %+v", r)
	}
	r = runCmd(t.Context(), env, "gdpr", "delete", "--site", "1", "--user-id", "bob@example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted 1 visits") {
		t.Fatalf("delete hashed user: %+v", r)
	}
	left := liveVisitors(t, env)
	if len(left) != 2 {
		t.Fatalf("left after deletes: %v", left)
	}
	for _, v := range left {
		if v == "00000000000000a1" || v == analytics.UserVisitorID(hashed).String() {
			t.Fatalf("deleted visitor %s still stored", v)
		}
	}
}
