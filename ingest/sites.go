package ingest

import (
	"context"
	"fmt"
	"time"

	analytics "github.com/footfall/analytics"
)

// SiteSource lists the tracked sites. analytics.SiteStore satisfies it.
type SiteSource interface {
	// Sites returns every site.
	Sites(ctx context.Context) ([]analytics.Site, error)
}

var _ SiteSource = (analytics.SiteStore)(nil)

// sitesMap is an immutable snapshot of the site list, replaced as a whole.
type sitesMap map[int]*analytics.Site

// LoadSites reads the site list once from the SiteSource and makes it the
// handler's cache. On error the previous list (if any) stays in use. Until
// a first load succeeds every tracking request is answered 503. Run calls
// it; call it yourself to be ready before serving.
func (h *Handler) LoadSites(ctx context.Context) error {
	list, err := h.sites.Sites(ctx)
	if err != nil {
		return fmt.Errorf("ingest: load sites: %w", err)
	}
	m := make(sitesMap, len(list))
	for i := range list {
		s := list[i]
		m[s.ID] = &s
	}
	h.siteMap.Store(&m)
	return nil
}

// Run keeps the site cache fresh: it loads the site list at once, then
// every SiteRefresh, and soon after a request names a site the cache does
// not know (at most once per SiteMissRefresh), so that new sites are
// tracked within seconds. A failed refresh is logged and the last good
// list kept. Run returns nil when ctx is done.
func (h *Handler) Run(ctx context.Context) error {
	h.sitesRefresh(ctx)
	t := time.NewTicker(h.siteRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-h.refresh:
		}
		h.sitesRefresh(ctx)
	}
}

func (h *Handler) sitesRefresh(ctx context.Context) {
	if err := h.LoadSites(ctx); err != nil && ctx.Err() == nil {
		n := 0
		if m := h.siteMap.Load(); m != nil {
			n = len(*m)
		}
		h.log.Warn("site list refresh failed; keeping the last good list", "error", err, "sites", n)
	}
}

// sitesCheck reports whether siteID may be tracked: nil for a known site,
// errSitesNotLoaded before the first load, an ErrInvalid error for an
// unknown site. A miss asks Run for an early refresh, at most once per
// SiteMissRefresh; the request itself is still refused.
func (h *Handler) sitesCheck(siteID int) error {
	m := h.siteMap.Load()
	if m == nil {
		return errSitesNotLoaded
	}
	if _, ok := (*m)[siteID]; ok {
		return nil
	}
	now := h.now().UnixNano()
	last := h.lastMiss.Load()
	if now-last >= int64(h.siteMissRefresh) && h.lastMiss.CompareAndSwap(last, now) {
		select {
		case h.refresh <- struct{}{}:
		default:
		}
	}
	return fmt.Errorf("ingest: idsite %d: unknown site: %w", siteID, analytics.ErrInvalid)
}

// sitesLoaded reports whether a site list has been loaded.
func (h *Handler) sitesLoaded() bool { return h.siteMap.Load() != nil }
