package storeutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/footfall/analytics"
)

// SiteArgs returns the values of the site columns both schemas have, in
// their order: name urls timezone currency ecommerce sitesearch
// sitesearch_keyword_parameters sitesearch_category_parameters
// excluded_ips excluded_parameters excluded_user_agents
// excluded_referrers exclude_unknown_urls keep_url_fragment
// privacy_ipv4_mask_bytes privacy_ipv6_mask_bits privacy_store_ip
// privacy_cookieless privacy_dnt privacy_gpc privacy_hash_user_id
// privacy_scrub_pii privacy_retention_days. Lists are JSON (ListJSON),
// booleans 0 or 1. The store appends the values of its other columns
// (ts_created, privacy_consent).
func SiteArgs(s *analytics.Site) []any {
	p := &s.Privacy
	return []any{
		s.Name, ListJSON(s.URLs), s.Timezone, s.Currency, BoolInt(s.Ecommerce), BoolInt(s.SiteSearch),
		ListJSON(s.SearchKeywordParams), ListJSON(s.SearchCategoryParams),
		ListJSON(s.ExcludedIPs), ListJSON(s.ExcludedParams), ListJSON(s.ExcludedUserAgents), ListJSON(s.ExcludedReferrers),
		BoolInt(s.ExcludeUnknownURLs), BoolInt(s.KeepURLFragment),
		int64(p.IPv4MaskBytes), int64(p.IPv6MaskBits), int64(p.StoreIP), int64(p.Cookieless), int64(p.DNT), int64(p.GPC),
		int64(p.HashUserID), int64(p.ScrubPII), int64(p.RetentionDays),
	}
}

// SiteRow decodes a site row: idsite, then the columns of SiteArgs in
// order; the store's own columns follow. The four boolean columns
// (ecommerce, sitesearch, exclude_unknown_urls, keep_url_fragment) are
// scanned into the store's destinations, in its type.
type SiteRow struct {
	urls, kw, cat, ips, params, uas, refs      string
	storeIP, cookieless, dnt, gpc, hash, scrub int64
}

// Dest returns the scan destinations of idsite and the SiteArgs columns
// into s and r; flags are the destinations of the four boolean columns.
func (r *SiteRow) Dest(s *analytics.Site, flags [4]any) []any {
	p := &s.Privacy
	return []any{&s.ID,
		&s.Name, &r.urls, &s.Timezone, &s.Currency, flags[0], flags[1], &r.kw, &r.cat,
		&r.ips, &r.params, &r.uas, &r.refs, flags[2], flags[3],
		&p.IPv4MaskBytes, &p.IPv6MaskBits, &r.storeIP, &r.cookieless, &r.dnt, &r.gpc, &r.hash, &r.scrub, &p.RetentionDays}
}

// Decode sets the fields of s that the scan left in r: the privacy
// toggles and modes, and the lists.
func (r *SiteRow) Decode(s *analytics.Site) error {
	p := &s.Privacy
	p.StoreIP, p.Cookieless = analytics.Toggle(r.storeIP), analytics.Toggle(r.cookieless)
	p.HashUserID, p.ScrubPII = analytics.Toggle(r.hash), analytics.Toggle(r.scrub)
	p.DNT, p.GPC = analytics.DNTMode(r.dnt), analytics.DNTMode(r.gpc)
	var err error
	for _, l := range []struct {
		dst *[]string
		src string
	}{{&s.URLs, r.urls}, {&s.SearchKeywordParams, r.kw}, {&s.SearchCategoryParams, r.cat}, {&s.ExcludedIPs, r.ips},
		{&s.ExcludedParams, r.params}, {&s.ExcludedUserAgents, r.uas}, {&s.ExcludedReferrers, r.refs}} {
		if *l.dst, err = ParseList(l.src); err != nil {
			return fmt.Errorf("site %d: %w", s.ID, err)
		}
	}
	return nil
}

// SiteCreated is the Created that CreateSite stores and sets on the site:
// the given one, or now() when it is zero, in UTC truncated to the
// millisecond (as Site reads it back).
func SiteCreated(given time.Time, now func() time.Time) time.Time {
	if given.IsZero() {
		given = now()
	}
	return given.UTC().Truncate(time.Millisecond)
}

// SaltLen is the size of a daily salt.
const SaltLen = 32

// DailySalt returns the salt of a day: the one get reads or, when there
// is none (get fails with sql.ErrNoRows), a fresh random one that put
// stores unless another caller stored one first; put returns the salt
// that is stored. It checks day first (CheckDay).
func DailySalt(day string, get func() ([]byte, error), put func(fresh []byte) ([]byte, error)) ([]byte, error) {
	if err := CheckDay(day); err != nil {
		return nil, err
	}
	salt, err := get()
	if !errors.Is(err, sql.ErrNoRows) {
		return salt, err
	}
	fresh := make([]byte, SaltLen)
	_, _ = rand.Read(fresh) // never fails: crypto/rand crashes the program instead
	return put(fresh)
}

// Execer runs a statement: *sql.DB, *sql.Tx or *sql.Conn.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// DeleteSalts deletes the salts of days before day of the given sites
// (every site when none is given) from the salt table and reports how many
// it deleted. It checks day first. Sites go 500 to a statement.
func DeleteSalts(ctx context.Context, db Execer, day string, sites ...int) (int, error) {
	if err := CheckDay(day); err != nil {
		return 0, err
	}
	if len(sites) == 0 {
		return execCount(ctx, db, "DELETE FROM salt WHERE day < ?", day)
	}
	total := 0
	for chunk := range slices.Chunk(sites, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, day)
		for _, id := range chunk {
			args = append(args, id)
		}
		q := "DELETE FROM salt WHERE day < ? AND idsite IN (?" + strings.Repeat(",?", len(chunk)-1) + ")"
		n, err := execCount(ctx, db, q, args...)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// execCount runs a statement and reports the rows it affected.
func execCount(ctx context.Context, db Execer, query string, args ...any) (int, error) {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
