package storeutil

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/analytics"
)

func fullSite() analytics.Site {
	return analytics.Site{
		ID: 4, Name: "n", URLs: []string{"https://a.example", "https://b.example"}, Timezone: "Europe/Paris", Currency: "EUR",
		Ecommerce: true, SiteSearch: false, SearchKeywordParams: []string{"q"}, SearchCategoryParams: []string{"c"},
		ExcludedIPs: []string{"192.0.2.0/24"}, ExcludedParams: []string{"sid"}, ExcludedUserAgents: []string{"bot"},
		ExcludedReferrers: []string{"spam.example"}, ExcludeUnknownURLs: true, KeepURLFragment: true,
		Privacy: analytics.Privacy{IPv4MaskBytes: 2, IPv6MaskBits: 80, StoreIP: analytics.On, Cookieless: analytics.Off,
			DNT: analytics.DNTIgnore, GPC: analytics.DNTExclude, HashUserID: analytics.On, ScrubPII: analytics.Off, RetentionDays: 30},
	}
}

// TestSiteRoundTrip writes a site's SiteArgs and reads them back with
// SiteRow, as a store does (flags as 0/1 integers).
func TestSiteRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		site analytics.Site
	}{
		{"full", fullSite()},
		{"empty", analytics.Site{ID: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := SiteArgs(&tc.site)
			if len(args) != 23 {
				t.Fatalf("SiteArgs has %d values, want the 23 shared columns", len(args))
			}
			cols := append(row{int64(tc.site.ID)}, args...)
			var got analytics.Site
			var r SiteRow
			var flags [4]int64
			if err := cols.Scan(r.Dest(&got, [4]any{&flags[0], &flags[1], &flags[2], &flags[3]})...); err != nil {
				t.Fatal(err)
			}
			got.Ecommerce, got.SiteSearch, got.ExcludeUnknownURLs, got.KeepURLFragment = flags[0] != 0, flags[1] != 0, flags[2] != 0, flags[3] != 0
			if err := r.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.site, got); d != "" {
				t.Errorf("site (-want +got):\n%s", d)
			}
		})
	}
	// A list column that is not JSON fails with the site's id.
	cols := append(row{int64(9)}, SiteArgs(&analytics.Site{})...)
	cols[2] = "{"
	var got analytics.Site
	var r SiteRow
	var b [4]int64
	if err := cols.Scan(r.Dest(&got, [4]any{&b[0], &b[1], &b[2], &b[3]})...); err != nil {
		t.Fatal(err)
	}
	if err := r.Decode(&got); err == nil || err.Error()[:7] != "site 9:" {
		t.Errorf("Decode of a bad list = %v", err)
	}
}

func TestSiteCreated(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name  string
		given time.Time
		want  time.Time
	}{
		{"zero: now", time.Time{}, time.Date(2024, 3, 1, 11, 0, 0, 123000000, time.UTC)},
		{"given", time.Date(2023, 1, 2, 3, 4, 5, 999999999, time.FixedZone("Y", -7200)),
			time.Date(2023, 1, 2, 5, 4, 5, 999000000, time.UTC)},
		{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999000000, time.UTC)},
	} {
		got := SiteCreated(tc.given, clock)
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%s: SiteCreated = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDailySalt(t *testing.T) {
	stored := []byte("stored")
	errGet := errors.New("get failed")
	for _, tc := range []struct {
		name    string
		day     string
		get     []byte
		getErr  error
		putWins []byte // what put returns; nil = the fresh salt
		want    string // "fresh" = a fresh random salt
		err     error
	}{
		{"stored", "2024-03-01", stored, nil, nil, "stored", nil},
		{"none: fresh", "2024-03-01", nil, sql.ErrNoRows, nil, "fresh", nil},
		{"none: another caller's", "2024-03-01", nil, sql.ErrNoRows, []byte("theirs"), "theirs", nil},
		{"get fails", "2024-03-01", nil, errGet, nil, "", errGet},
		{"bad day", "2024-3-1", stored, nil, nil, "", analytics.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			puts := 0
			salt, err := DailySalt(tc.day, func() ([]byte, error) { return tc.get, tc.getErr }, func(fresh []byte) ([]byte, error) {
				puts++
				if len(fresh) != SaltLen {
					t.Errorf("fresh salt of %d bytes, want %d", len(fresh), SaltLen)
				}
				if tc.putWins != nil {
					return tc.putWins, nil
				}
				return fresh, nil
			})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("DailySalt = %q, %v; want %v", salt, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tc.want {
			case "fresh":
				if len(salt) != SaltLen || puts != 1 {
					t.Errorf("DailySalt = %x after %d puts, want a fresh salt", salt, puts)
				}
			default:
				if string(salt) != tc.want {
					t.Errorf("DailySalt = %q, want %q", salt, tc.want)
				}
			}
		})
	}
}

func TestDeleteSalts(t *testing.T) {
	ctx := t.Context()
	db := testDB(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE salt (idsite INTEGER, day TEXT, value BLOB);
		INSERT INTO salt VALUES (1, '2024-02-28', x'00'), (2, '2024-02-29', x'00'), (1, '2024-03-01', x'00')`); err != nil {
		t.Fatal(err)
	}
	if n, err := DeleteSalts(ctx, db, "2024-03-01"); err != nil || n != 2 {
		t.Errorf("DeleteSalts = %d, %v; want 2", n, err)
	}
	if n, err := DeleteSalts(ctx, db, "2024-03-01"); err != nil || n != 0 {
		t.Errorf("DeleteSalts again = %d, %v; want 0", n, err)
	}
	if _, err := DeleteSalts(ctx, db, "yesterday"); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("DeleteSalts of a bad day = %v", err)
	}
}
