package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

// siteColumns are the columns of site after idsite, without ts_created;
// privacy_consent (migration 3) is used only once the schema has it.
var siteColumns = strings.Fields(`name urls timezone currency ecommerce sitesearch
	sitesearch_keyword_parameters sitesearch_category_parameters
	excluded_ips excluded_parameters excluded_user_agents excluded_referrers
	exclude_unknown_urls keep_url_fragment
	privacy_ipv4_mask_bytes privacy_ipv6_mask_bits privacy_store_ip privacy_cookieless privacy_dnt privacy_gpc
	privacy_hash_user_id privacy_scrub_pii privacy_retention_days`)

const goalColumns = "idsite, idgoal, name, match_attribute, pattern, pattern_type, case_sensitive, allow_multiple, revenue"

// siteSQL holds the site statements of the schema version a Store found.
type siteSQL struct {
	consent bool // the schema has site.privacy_consent (version ≥ 3)
	// selectAll reads idsite, the columns, ts_created (, privacy_consent).
	selectAll string
	insert    string
	// update sets every column and ts_created; updateKeep keeps ts_created.
	update, updateKeep string
}

func newSiteSQL(schema int) siteSQL {
	q := siteSQL{consent: schema >= 3}
	cols := append(slices.Clone(siteColumns), "ts_created")
	if q.consent {
		cols = append(cols, "privacy_consent")
	}
	keep := slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return c == "ts_created" })
	q.selectAll = "SELECT idsite, " + strings.Join(cols, ", ") + " FROM site"
	q.insert = "INSERT INTO site (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	q.update = "UPDATE site SET " + strings.Join(cols, " = ?, ") + " = ? WHERE idsite = ?"
	q.updateKeep = "UPDATE site SET " + strings.Join(keep, " = ?, ") + " = ? WHERE idsite = ?"
	return q
}

// args returns the values of the columns; keepCreated leaves out
// ts_created.
func (q *siteSQL) args(s *analytics.Site, keepCreated bool) []any {
	args := storeutil.SiteArgs(s)
	if !keepCreated {
		args = append(args, s.Created)
	}
	if q.consent {
		args = append(args, int64(s.Privacy.Consent))
	}
	return args
}

func (q *siteSQL) scan(sc scanner, s *analytics.Site) error {
	var (
		row     storeutil.SiteRow
		consent int64
		created time.Time
	)
	dest := append(row.Dest(s, [4]any{&s.Ecommerce, &s.SiteSearch, &s.ExcludeUnknownURLs, &s.KeepURLFragment}), &created)
	if q.consent {
		dest = append(dest, &consent)
	}
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	s.Privacy.Consent = analytics.ConsentMode(consent)
	s.Created = timeOf(created)
	return row.Decode(s)
}

func validateSite(s *analytics.Site) error {
	if err := storeutil.CheckSite(s); err != nil {
		return err
	}
	if err := checkTime(s.Created); err != nil {
		return storeutil.Invalid("created: %v", err)
	}
	return nil
}

// Sites returns every site ordered by ID.
func (s *Store) Sites(ctx context.Context) ([]analytics.Site, error) {
	if err := s.enter("sites"); err != nil {
		return nil, err
	}
	sites, err := storeutil.QueryAll(ctx, s.db, s.site.scan, s.site.selectAll+" ORDER BY idsite")
	if err != nil {
		return nil, s.wrap(ctx, "sites", err)
	}
	return sites, nil
}

// Site returns one site or ErrNotFound.
func (s *Store) Site(ctx context.Context, id int) (analytics.Site, error) {
	var site analytics.Site
	if err := s.enter("site"); err != nil {
		return site, err
	}
	err := s.site.scan(s.db.QueryRowContext(ctx, s.site.selectAll+" WHERE idsite = ?", int64(id)), &site)
	if errors.Is(err, sql.ErrNoRows) {
		return analytics.Site{}, fmt.Errorf("mysqlstore: site %d: %w", id, analytics.ErrNotFound)
	}
	if err != nil {
		return analytics.Site{}, s.wrap(ctx, fmt.Sprintf("site %d", id), err)
	}
	return site, nil
}

// CreateSite stores site with a new ID (AUTO_INCREMENT: increasing, never
// reused) and Created (Options.Now when zero) and sets them on site. An
// invalid Timezone fails with ErrInvalid.
func (s *Store) CreateSite(ctx context.Context, site *analytics.Site) error {
	if err := s.enter("create site"); err != nil {
		return err
	}
	if err := validateSite(site); err != nil {
		return fmt.Errorf("mysqlstore: create site: %w", err)
	}
	c := *site
	c.Created = storeutil.SiteCreated(c.Created, s.now)
	res, err := s.db.ExecContext(ctx, s.site.insert, s.site.args(&c, false)...)
	if err != nil {
		return s.wrap(ctx, "create site", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return s.wrap(ctx, "create site", err)
	}
	site.ID, site.Created = int(id), c.Created
	return nil
}

// UpdateSite replaces site.ID; ErrNotFound when it does not exist. A zero
// Created keeps the stored one.
func (s *Store) UpdateSite(ctx context.Context, site analytics.Site) error {
	op := fmt.Sprintf("update site %d", site.ID)
	if err := s.enter(op); err != nil {
		return err
	}
	if err := validateSite(&site); err != nil {
		return fmt.Errorf("mysqlstore: %s: %w", op, err)
	}
	q := s.site.update
	if site.Created.IsZero() {
		q = s.site.updateKeep
	}
	args := s.site.args(&site, site.Created.IsZero())
	res, err := s.db.ExecContext(ctx, q, append(args, int64(site.ID))...)
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	// clientFoundRows: matched rows, also when nothing changed.
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	if n == 0 {
		return fmt.Errorf("mysqlstore: %s: %w", op, analytics.ErrNotFound)
	}
	return nil
}

// Goals returns the site's goals ordered by ID; ErrNotFound for an
// unknown site. One query: the site LEFT JOIN its goals.
func (s *Store) Goals(ctx context.Context, siteID int) ([]analytics.Goal, error) {
	op := fmt.Sprintf("goals of site %d", siteID)
	if err := s.enter(op); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT g.idgoal, g.name, g.match_attribute, g.pattern, g.pattern_type,
		g.case_sensitive, g.allow_multiple, g.revenue
		FROM site s LEFT JOIN goal g ON g.idsite = s.idsite WHERE s.idsite = ? ORDER BY g.idgoal`, int64(siteID))
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	defer rows.Close()
	var goals []analytics.Goal
	found := false
	for rows.Next() {
		found = true
		var id sql.NullInt64
		var name, match, pattern, ptype sql.NullString
		var cs, am sql.NullBool
		var rev sql.NullFloat64
		if err := rows.Scan(&id, &name, &match, &pattern, &ptype, &cs, &am, &rev); err != nil {
			return nil, s.wrap(ctx, op, err)
		}
		if !id.Valid {
			continue
		}
		goals = append(goals, analytics.Goal{SiteID: siteID, ID: int(id.Int64), Name: name.String, Match: match.String,
			Pattern: pattern.String, PatternType: ptype.String, CaseSensitive: cs.Bool, AllowMultiple: am.Bool, Revenue: rev.Float64})
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	if !found {
		return nil, fmt.Errorf("mysqlstore: %s: %w", op, analytics.ErrNotFound)
	}
	return goals, nil
}

// CreateGoal stores g with the next ID of its site (1, 2, …) and sets it
// on g; ErrNotFound for an unknown site. It locks the site row, so
// concurrent calls for one site get distinct IDs.
func (s *Store) CreateGoal(ctx context.Context, g *analytics.Goal) error {
	op := fmt.Sprintf("create goal of site %d", g.SiteID)
	if err := s.enter(op); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM site WHERE idsite = ? FOR UPDATE", int64(g.SiteID)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("mysqlstore: %s: site %d: %w", op, g.SiteID, analytics.ErrNotFound)
	}
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	var id int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(idgoal), 0) + 1 FROM goal WHERE idsite = ?", int64(g.SiteID)).Scan(&id); err != nil {
		return s.wrap(ctx, op, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO goal ("+goalColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		int64(g.SiteID), int64(id), g.Name, g.Match, g.Pattern, g.PatternType, storeutil.BoolInt(g.CaseSensitive), storeutil.BoolInt(g.AllowMultiple), g.Revenue); err != nil {
		return s.wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, op, err)
	}
	g.ID = id
	return nil
}

// DailySalt returns the salt of a site's day, creating a random one when
// there is none; concurrent callers (and processes) get the same salt:
// INSERT IGNORE keeps the first.
func (s *Store) DailySalt(ctx context.Context, siteID int, day string) ([]byte, error) {
	op := fmt.Sprintf("daily salt of site %d, %s", siteID, day)
	if err := s.enter(op); err != nil {
		return nil, err
	}
	const get = "SELECT value FROM salt WHERE idsite = ? AND day = ?"
	salt, err := storeutil.DailySalt(day, func() (salt []byte, err error) {
		err = s.db.QueryRowContext(ctx, get, int64(siteID), day).Scan(&salt)
		return salt, err
	}, func(fresh []byte) (salt []byte, err error) {
		if _, err := s.db.ExecContext(ctx, "INSERT IGNORE INTO salt (idsite, day, value) VALUES (?, ?, ?)", int64(siteID), day, fresh); err != nil {
			return nil, err
		}
		err = s.db.QueryRowContext(ctx, get, int64(siteID), day).Scan(&salt)
		return salt, err
	})
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	return salt, nil
}

// DeleteSaltsBefore deletes the salts of days before day of the given
// sites (every site when none is given) and reports how many it deleted.
func (s *Store) DeleteSaltsBefore(ctx context.Context, day string, sites ...int) (int, error) {
	op := "delete salts before " + day
	if err := s.enter(op); err != nil {
		return 0, err
	}
	n, err := storeutil.DeleteSalts(ctx, s.db, day, sites...)
	if err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	return n, nil
}

// Invalidations returns the site days that WriteBatch marked for
// re-archiving, ordered by site and day (storetest.InvalidationLister).
func (s *Store) Invalidations(ctx context.Context) ([]analytics.SiteDay, error) {
	if err := s.enter("invalidations"); err != nil {
		return nil, err
	}
	days, err := storeutil.QueryAll(ctx, s.db, func(sc storeutil.Scanner, d *analytics.SiteDay) error {
		return sc.Scan(&d.SiteID, &d.Day)
	}, "SELECT idsite, DATE_FORMAT(day, '%Y-%m-%d') FROM archive_invalidation ORDER BY idsite, day")
	if err != nil {
		return nil, s.wrap(ctx, "invalidations", err)
	}
	return days, nil
}
