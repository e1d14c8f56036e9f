package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/store/internal/storeutil"
)

func siteArgs(s *analytics.Site) []any {
	return append(storeutil.SiteArgs(s), int64(s.Privacy.Consent), millis(s.Created))
}

func scanSite(sc scanner, s *analytics.Site) error {
	var (
		row              storeutil.SiteRow
		flags            [4]int64 // ecommerce, sitesearch, exclude_unknown_urls, keep_url_fragment
		consent, created int64
	)
	dest := append(row.Dest(s, [4]any{&flags[0], &flags[1], &flags[2], &flags[3]}), &consent, &created)
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	s.Ecommerce, s.SiteSearch, s.ExcludeUnknownURLs, s.KeepURLFragment = flags[0] != 0, flags[1] != 0, flags[2] != 0, flags[3] != 0
	s.Privacy.Consent = analytics.ConsentMode(consent)
	s.Created = fromMillis(created)
	return row.Decode(s)
}

// Sites returns every site ordered by ID.
func (s *Store) Sites(ctx context.Context) ([]analytics.Site, error) {
	if err := s.enter("sites"); err != nil {
		return nil, err
	}
	sites, err := storeutil.QueryAll(ctx, s.rdb, scanSite, s.sql.siteSelect+" ORDER BY s.idsite")
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
	err := scanSite(s.rdb.QueryRowContext(ctx, s.sql.siteSelect+" WHERE s.idsite = ?", id), &site)
	if errors.Is(err, sql.ErrNoRows) {
		return analytics.Site{}, fmt.Errorf("sqlitestore: site %d: %w", id, analytics.ErrNotFound)
	}
	if err != nil {
		return analytics.Site{}, s.wrap(ctx, fmt.Sprintf("site %d", id), err)
	}
	return site, nil
}

// CreateSite stores site with a new ID (and Created, when zero, from
// Options.Now) and sets them on site. IDs increase and are never reused.
// An invalid Timezone fails with ErrInvalid.
func (s *Store) CreateSite(ctx context.Context, site *analytics.Site) error {
	if err := s.enter("create site"); err != nil {
		return err
	}
	if err := storeutil.CheckSite(site); err != nil {
		return fmt.Errorf("sqlitestore: create site: %w", err)
	}
	c := *site
	c.Created = storeutil.SiteCreated(c.Created, s.now)
	var id int
	if err := s.wdb.QueryRowContext(ctx, s.sql.siteInsert, siteArgs(&c)...).Scan(&id); err != nil {
		return s.wrap(ctx, "create site", err)
	}
	site.ID, site.Created = id, c.Created
	return nil
}

// UpdateSite replaces site.ID; ErrNotFound when it does not exist. A zero
// Created keeps the stored one.
func (s *Store) UpdateSite(ctx context.Context, site analytics.Site) error {
	op := fmt.Sprintf("update site %d", site.ID)
	if err := s.enter(op); err != nil {
		return err
	}
	if err := storeutil.CheckSite(&site); err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	res, err := s.wdb.ExecContext(ctx, s.sql.siteUpdate, append(siteArgs(&site), site.ID)...)
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: %s: %w", op, analytics.ErrNotFound)
	}
	return nil
}

// siteExists reports ErrNotFound for an unknown site.
func siteExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM site WHERE idsite = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("site %d: %w", id, analytics.ErrNotFound)
	}
	return err
}

// Goals returns the site's goals ordered by ID; ErrNotFound for an
// unknown site.
func (s *Store) Goals(ctx context.Context, siteID int) ([]analytics.Goal, error) {
	op := fmt.Sprintf("goals of site %d", siteID)
	if err := s.enter(op); err != nil {
		return nil, err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	if err := siteExists(ctx, tx, siteID); err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	goals, err := storeutil.QueryAll(ctx, tx, func(sc storeutil.Scanner, g *analytics.Goal) error {
		var cs, am int64
		err := sc.Scan(&g.SiteID, &g.ID, &g.Name, &g.Match, &g.Pattern, &g.PatternType, &cs, &am, &g.Revenue)
		g.CaseSensitive, g.AllowMultiple = cs != 0, am != 0
		return err
	}, s.sql.goalSelect+" WHERE g.idsite = ? ORDER BY g.idgoal", siteID)
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	return goals, nil
}

// CreateGoal stores g with the next ID of its site (1, 2, …) and sets it
// on g; ErrNotFound for an unknown site.
func (s *Store) CreateGoal(ctx context.Context, g *analytics.Goal) error {
	op := fmt.Sprintf("create goal of site %d", g.SiteID)
	if err := s.enter(op); err != nil {
		return err
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	defer tx.Rollback()
	if err := siteExists(ctx, tx, g.SiteID); err != nil {
		return s.wrap(ctx, op, err)
	}
	var id int
	if err := tx.QueryRowContext(ctx, s.sql.goalInsert, g.SiteID, g.Name, g.Match, g.Pattern, g.PatternType,
		storeutil.BoolInt(g.CaseSensitive), storeutil.BoolInt(g.AllowMultiple), g.Revenue, g.SiteID).Scan(&id); err != nil {
		return s.wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, op, err)
	}
	g.ID = id
	return nil
}

// DailySalt returns the salt of a site's day, creating a random one when
// there is none; concurrent callers (and processes) get the same salt.
func (s *Store) DailySalt(ctx context.Context, siteID int, day string) ([]byte, error) {
	op := fmt.Sprintf("daily salt of site %d, %s", siteID, day)
	if err := s.enter(op); err != nil {
		return nil, err
	}
	salt, err := storeutil.DailySalt(day, func() (salt []byte, err error) {
		err = s.r.saltGet.QueryRowContext(ctx, siteID, day).Scan(&salt)
		return salt, err
	}, func(fresh []byte) (salt []byte, err error) {
		// Insert, or return the salt another caller stored first.
		err = s.w.saltPut.QueryRowContext(ctx, siteID, day, fresh).Scan(&salt)
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
	n, err := storeutil.DeleteSalts(ctx, s.wdb, day, sites...)
	if err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	return n, nil
}

// Invalidations returns the site days that WriteBatch marked for
// re-archiving, ordered by site and day. (The archiver's part of the store
// will consume them; this is how the conformance suite reads them back.)
func (s *Store) Invalidations(ctx context.Context) ([]analytics.SiteDay, error) {
	if err := s.enter("invalidations"); err != nil {
		return nil, err
	}
	days, err := storeutil.QueryAll(ctx, s.rdb, func(sc storeutil.Scanner, d *analytics.SiteDay) error {
		return sc.Scan(&d.SiteID, &d.Day)
	}, "SELECT idsite, day FROM archive_invalidation ORDER BY idsite, day")
	if err != nil {
		return nil, s.wrap(ctx, "invalidations", err)
	}
	return days, nil
}
