package ingest

import (
	"strings"

	analytics "github.com/footfall/analytics"
	"github.com/footfall/analytics/ingest/internal/refdata"
)

// procMaxReferrerURL is Matomo's referer_url column size.
const procMaxReferrerURL = 1500

// procHostSet matches hosts of a site: exact hosts (compared without a
// leading "www.") and "*.example.com" wildcards.
type procHostSet struct {
	exact    map[string]struct{}
	suffixes []string // ".example.com"
}

func (s *procHostSet) add(pattern string) {
	h := pattern
	if strings.Contains(h, "://") {
		h, _ = procHostOf(h)
	} else {
		h = strings.ToLower(strings.TrimSpace(h))
		if i := strings.IndexAny(h, "/?#"); i >= 0 {
			h = h[:i]
		}
	}
	if h == "" {
		return
	}
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		s.suffixes = append(s.suffixes, "."+rest)
		s.add(rest)
		return
	}
	if s.exact == nil {
		s.exact = make(map[string]struct{})
	}
	s.exact[procStripWWW(h)] = struct{}{}
}

func (s *procHostSet) has(host string) bool {
	if host == "" {
		return false
	}
	if _, ok := s.exact[procStripWWW(host)]; ok {
		return true
	}
	for _, suf := range s.suffixes {
		if strings.HasSuffix(host, suf) {
			return true
		}
	}
	return false
}

// hasDomain reports whether host is one of the set or a subdomain of one.
func (s *procHostSet) hasDomain(host string) bool {
	for h := host; h != ""; {
		if s.has(h) {
			return true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return false
}

// procClassifyReferrer decides how a visit arrived (Matomo's order):
// campaign parameters of the page URL; else no referrer, an excluded
// referrer or one of the site's own hosts (or the page's host) is a direct
// entry; else a known search engine (with its keyword), a social network,
// or a website named by its host.
func procClassifyReferrer(tab *refdata.Table, site *procSite, pageURL, refURL string) analytics.Referrer {
	refURL = strings.TrimSpace(refURL)
	host, _ := procHostOf(refURL)
	if host != "" && site != nil && site.excludedRefs.hasDomain(host) {
		refURL, host = "", ""
	}
	if c, ok := procCampaignOf(pageURL); ok {
		return analytics.Referrer{
			Type:            analytics.ReferrerCampaign,
			Name:            c.Name,
			Keyword:         c.Keyword,
			URL:             procTruncate(refURL, procMaxReferrerURL),
			CampaignSource:  c.Source,
			CampaignMedium:  c.Medium,
			CampaignContent: c.Content,
			CampaignID:      c.ID,
		}
	}
	if host == "" {
		return analytics.Referrer{Type: analytics.ReferrerDirect}
	}
	if site != nil && site.ownHosts.has(host) {
		return analytics.Referrer{Type: analytics.ReferrerDirect}
	}
	if ph, _ := procHostOf(pageURL); ph != "" && procStripWWW(ph) == procStripWWW(host) {
		return analytics.Referrer{Type: analytics.ReferrerDirect}
	}
	url := procTruncate(refURL, procMaxReferrerURL)
	if e := tab.Lookup(host); e != nil {
		switch e.Kind {
		case refdata.Search:
			q, frag := procQueryOf(refURL)
			kw := procParam(q, e.Params)
			if kw == "" && frag != "" {
				// Some engines keep the query in the fragment.
				kw = procParam(frag, e.Params)
			}
			if strings.HasPrefix(kw, "http://") || strings.HasPrefix(kw, "https://") {
				kw = "" // Google's /url?q=<target> redirector
			}
			return analytics.Referrer{
				Type:    analytics.ReferrerSearch,
				Name:    e.Name,
				Keyword: procTruncate(strings.ToLower(kw), 255),
				URL:     url,
			}
		case refdata.Social:
			return analytics.Referrer{Type: analytics.ReferrerSocial, Name: e.Name, URL: url}
		}
	}
	return analytics.Referrer{Type: analytics.ReferrerWebsite, Name: procStripWWW(host), URL: url}
}
