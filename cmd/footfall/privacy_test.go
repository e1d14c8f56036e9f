package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics/store/sqlitestore"
)

// TestSiteConsent: `site add|update --consent` and the consent line of
// `site show`, with where the value comes from.
func TestSiteConsent(t *testing.T) {
	ctx := t.Context()
	env := []string{"FOOTFALL_DATA_DIR=" + t.TempDir(), "FOOTFALL_LOG_LEVEL=warn", "FOOTFALL_PRIVACY_CONSENT=tracking"}
	cases := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"add with consent", []string{"site", "add", "--name", "Shop", "--url", "https://shop.example", "--consent", "cookies"}, 0, `site 1 "Shop" created`},
		{"show site value", []string{"site", "show", "1"}, 0, "consent             cookies (no consent=1: cookieless)  (site)"},
		{"bad consent", []string{"site", "update", "1", "--consent", "maybe"}, 1, `--consent: "maybe" is not none, cookies, tracking or default`},
		{"back to default", []string{"site", "update", "1", "--consent", "default"}, 0, `site 1 "Shop" updated`},
		{"show instance value", []string{"site", "show", "1"}, 0, "consent             tracking (no consent=1: not tracked)  (instance)"},
		{"none", []string{"site", "update", "1", "--consent", "none"}, 0, `site 1 "Shop" updated`},
	}
	for _, c := range cases {
		r := runCmd(ctx, env, c.args...)
		where := r.stdout
		if c.code != 0 {
			where = r.stderr
		}
		if r.code != c.code || !strings.Contains(where, c.contains) {
			t.Errorf("%s: exit %d (want %d), output does not contain %q\nstdout: %s\nstderr: %s", c.name, r.code, c.code, c.contains, r.stdout, r.stderr)
		}
	}
	r := runCmd(ctx, env, "site", "show", "1", "--json")
	var site struct {
		Privacy   struct{ Consent int }
		Effective []struct{ Setting, Effective, Source string } `json:"PrivacyEffective"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &site); err != nil {
		t.Fatalf("site show --json: %v\n%s", err, r.stdout)
	}
	found := false
	for _, e := range site.Effective {
		if e.Setting == "consent" {
			found = e.Effective == "none" && e.Source == "site"
		}
	}
	if site.Privacy.Consent != 1 || !found {
		t.Errorf("site show --json: consent %d, effective %+v", site.Privacy.Consent, site.Effective)
	}
}

// TestRetentionDeletesExpiredSalts: `footfall retention run` deletes the
// salts of days over everywhere plus privacy.salt_grace and keeps
// today's.
func TestRetentionDeletesExpiredSalts(t *testing.T) {
	ctx := t.Context()
	data := t.TempDir()
	env := []string{"FOOTFALL_DATA_DIR=" + data, "FOOTFALL_LOG_LEVEL=warn", "FOOTFALL_PRIVACY_SALT_GRACE=1h"}
	if r := runCmd(ctx, env, "site", "add", "--name", "Shop", "--url", "https://shop.example"); r.code != 0 {
		t.Fatalf("site add: %+v", r)
	}
	today := time.Now().UTC().Format("2006-01-02")
	old := time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02")
	salts := func() (oldSalt, todaySalt []byte) {
		st, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: filepath.Join(data, "footfall.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		o, err := st.DailySalt(context.WithoutCancel(ctx), 1, old)
		if err != nil {
			t.Fatal(err)
		}
		n, err := st.DailySalt(ctx, 1, today)
		if err != nil {
			t.Fatal(err)
		}
		return o, n
	}
	old1, today1 := salts()
	r := runCmd(ctx, env, "retention", "run")
	if r.code != 0 || !strings.Contains(r.stdout, "1 expired cookieless salts") {
		t.Fatalf("retention run: %+v", r)
	}
	old2, today2 := salts() // DailySalt makes a new salt where it was deleted
	if bytes.Equal(old1, old2) {
		t.Error("the salt of three days ago survived")
	}
	if !bytes.Equal(today1, today2) {
		t.Error("today's salt was deleted")
	}
}
