package ingest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	analytics "github.com/footfall/analytics"
)

// procSite is a site with everything the worker derives from it once per
// refresh: time zone, resolved privacy, exclusion matchers, URL lists and
// goals. Read-only once built.
type procSite struct {
	analytics.Site
	loc *time.Location

	v4Bytes, v6Bits int
	storeIP         bool
	hashUserID      bool
	scrub           bool
	rules           privacyRules // cookieless, DNT, GPC, consent

	ipEx         procIPMatcher // instance + site
	uaEx         []string      // lower case, instance + site
	params       procParamSet  // default + instance + site
	ownHosts     procHostSet
	urlPrefixes  []procURLPrefix
	excludedRefs procHostSet
	searchKW     []string
	searchCat    []string

	goals     map[int]*procGoal
	autoGoals []*procGoal
}

// procURLPrefix is a site URL for ExcludeUnknownURLs: a host (or
// "*.host") and a path prefix.
type procURLPrefix struct {
	host     string // without www.
	wildcard bool
	path     string
}

type procGoal struct {
	analytics.Goal
	re      *regexp.Regexp
	pattern string // lower case unless CaseSensitive
}

// procResolvePrivacy returns the site's effective privacy settings: each
// non-zero field of site overrides inst.
func procResolvePrivacy(inst, site analytics.Privacy) analytics.Privacy {
	r := inst
	if site.IPv4MaskBytes != 0 && site.IPv4MaskBytes <= 4 {
		r.IPv4MaskBytes = site.IPv4MaskBytes // negative: no masking
	}
	if site.IPv6MaskBits != 0 && site.IPv6MaskBits <= 128 {
		r.IPv6MaskBits = site.IPv6MaskBits
	}
	for _, t := range []struct{ dst, src *analytics.Toggle }{
		{&r.StoreIP, &site.StoreIP}, {&r.Cookieless, &site.Cookieless},
		{&r.HashUserID, &site.HashUserID}, {&r.ScrubPII, &site.ScrubPII},
	} {
		if *t.src != analytics.Default {
			*t.dst = *t.src
		}
	}
	if site.DNT != analytics.DNTDefault && site.DNT <= analytics.DNTCount {
		r.DNT = site.DNT
	}
	if site.GPC != analytics.DNTDefault && site.GPC <= analytics.DNTCount {
		r.GPC = site.GPC
	}
	if site.Consent != analytics.ConsentDefault && site.Consent <= analytics.ConsentTracking {
		r.Consent = site.Consent
	}
	if site.RetentionDays != 0 {
		r.RetentionDays = site.RetentionDays
	}
	return r
}

// newProcSite compiles s with the processor's instance settings. Problems
// with the site's own settings (a bad time zone, pattern or regex) are
// returned as warnings; the site still works without the bad part.
func newProcSite(o *ProcessorOptions, s analytics.Site, goals []analytics.Goal) (*procSite, []error) {
	var warns []error
	ps := &procSite{Site: s}
	loc, err := s.Location()
	if err != nil {
		warns = append(warns, err)
		loc = time.UTC
	}
	ps.loc = loc

	pr := procResolvePrivacy(o.Privacy, s.Privacy)
	ps.v4Bytes, ps.v6Bits = pr.IPv4MaskBytes, pr.IPv6MaskBits
	ps.storeIP = pr.StoreIP.Resolve(true)
	ps.hashUserID = pr.HashUserID.Resolve(false)
	ps.scrub = pr.ScrubPII.Resolve(false)
	ps.rules = newPrivacyRules(&o.Privacy, &s.Privacy)

	var errs []error
	ps.ipEx, errs = newProcIPMatcher(o.ExcludedIPs, s.ExcludedIPs)
	warns = append(warns, errs...)
	for _, l := range [][]string{o.ExcludedUserAgents, s.ExcludedUserAgents} {
		for _, u := range l {
			if u = strings.ToLower(strings.TrimSpace(u)); u != "" {
				ps.uaEx = append(ps.uaEx, u)
			}
		}
	}
	ps.params = newProcParamSet(procDefaultExcludedParams, o.ExcludedQueryParams, s.ExcludedParams)
	for _, u := range s.URLs {
		ps.ownHosts.add(u)
		host, path := procHostOf(u)
		if host == "" {
			// "example.com/shop" without a scheme
			host, path = procHostOf("http://" + strings.TrimSpace(u))
		}
		if host == "" {
			continue
		}
		pfx := procURLPrefix{host: procStripWWW(host), path: strings.TrimSuffix(path, "/")}
		if rest, ok := strings.CutPrefix(pfx.host, "*."); ok {
			pfx.host, pfx.wildcard = rest, true
		}
		ps.urlPrefixes = append(ps.urlPrefixes, pfx)
	}
	for _, r := range s.ExcludedReferrers {
		ps.excludedRefs.add(r)
	}
	ps.searchKW = s.SearchKeywordParams
	if len(ps.searchKW) == 0 {
		ps.searchKW = procDefaultSearchKeywordParams
	}
	ps.searchCat = s.SearchCategoryParams

	ps.goals = make(map[int]*procGoal, len(goals))
	for _, g := range goals {
		pg := &procGoal{Goal: g}
		switch {
		case g.Match == "manually" || g.Match == "":
		case g.PatternType == "regex":
			expr := g.Pattern
			if !g.CaseSensitive {
				expr = "(?i)" + expr
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				warns = append(warns, fmt.Errorf("ingest: goal %d of site %d: pattern %q: %v: %w", g.ID, s.ID, g.Pattern, err, analytics.ErrInvalid))
			} else {
				pg.re = re
				ps.autoGoals = append(ps.autoGoals, pg)
			}
		default:
			pg.pattern = g.Pattern
			if !g.CaseSensitive {
				pg.pattern = strings.ToLower(g.Pattern)
			}
			if pg.pattern != "" {
				ps.autoGoals = append(ps.autoGoals, pg)
			}
		}
		ps.goals[g.ID] = pg
	}
	return ps, warns
}

// knownURL reports whether a page URL belongs to the site's URLs
// (ExcludeUnknownURLs): same host (www. ignored, "*." wildcards) and a
// path under the site URL's path.
func (s *procSite) knownURL(raw string) bool {
	host, path := procHostOf(raw)
	if host == "" {
		return false
	}
	host = procStripWWW(host)
	for _, u := range s.urlPrefixes {
		if host != u.host && !(u.wildcard && strings.HasSuffix(host, "."+u.host)) {
			continue
		}
		if u.path == "" || path == u.path || strings.HasPrefix(path, u.path+"/") {
			return true
		}
	}
	return false
}

// matches reports whether the goal's pattern matches s.
func (g *procGoal) matches(s string) bool {
	if s == "" {
		return false
	}
	if g.re != nil {
		return g.re.MatchString(s)
	}
	if !g.CaseSensitive {
		s = strings.ToLower(s)
	}
	switch g.PatternType {
	case "exact":
		return s == g.pattern
	default: // "contains"
		return strings.Contains(s, g.pattern)
	}
}

// procSites caches the sites and goals of the store. The list is reloaded
// when older than SiteRefresh (by the first worker that notices, the
// others keep using the old list) and when an unknown site shows up, at
// most every procSiteMissRefresh. A failed reload keeps the old list.
type procSites struct {
	p *Processor

	mu       sync.RWMutex
	byID     map[int]*procSite
	loadedAt time.Time // zero: never loaded

	reload sync.Mutex // held while reloading
}

const procSiteMissRefresh = 5 * time.Second

func newProcSites(p *Processor) *procSites { return &procSites{p: p} }

// get returns the site, or nil when it does not exist. An error means the
// list could not be loaded at all.
func (c *procSites) get(ctx context.Context, id int) (*procSite, error) {
	c.mu.RLock()
	s, loadedAt := c.byID[id], c.loadedAt
	c.mu.RUnlock()
	now := time.Now()
	switch {
	case loadedAt.IsZero():
		c.reload.Lock()
		defer c.reload.Unlock()
		c.mu.RLock()
		loaded := !c.loadedAt.IsZero()
		c.mu.RUnlock()
		if !loaded {
			if err := c.load(ctx); err != nil {
				return nil, err
			}
		}
	case now.Sub(loadedAt) >= c.p.o.SiteRefresh:
		c.tryLoad(ctx)
	case s == nil && now.Sub(loadedAt) >= procSiteMissRefresh:
		c.tryLoad(ctx)
	default:
		return s, nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byID[id], nil
}

// tryLoad reloads unless another goroutine is at it; failures are logged.
func (c *procSites) tryLoad(ctx context.Context) {
	if !c.reload.TryLock() {
		return
	}
	defer c.reload.Unlock()
	if err := c.load(ctx); err != nil {
		c.p.log.Warn("reloading sites failed, keeping the cached list", "error", err)
		c.mu.Lock()
		c.loadedAt = time.Now() // try again after SiteRefresh
		c.mu.Unlock()
	}
}

// invalidate makes the next get reload the list (tests).
func (c *procSites) invalidate() {
	c.mu.Lock()
	if !c.loadedAt.IsZero() {
		c.loadedAt = time.Unix(1, 0)
	}
	c.mu.Unlock()
}

func (c *procSites) load(ctx context.Context) error {
	st := c.p.o.Store
	sites, err := st.Sites(ctx)
	if err != nil {
		return fmt.Errorf("ingest: processor: load sites: %w", err)
	}
	byID := make(map[int]*procSite, len(sites))
	for _, s := range sites {
		goals, err := st.Goals(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("ingest: processor: load goals of site %d: %w", s.ID, err)
		}
		ps, warns := newProcSite(&c.p.o, s, goals)
		for _, w := range warns {
			if c.p.logLimit.allow(w.Error()) {
				c.p.log.Warn("site setting ignored", "site", s.ID, "error", w)
			}
		}
		byID[s.ID] = ps
	}
	c.mu.Lock()
	c.byID, c.loadedAt = byID, time.Now()
	c.mu.Unlock()
	return nil
}
