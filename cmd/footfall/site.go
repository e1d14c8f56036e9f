package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/config/standard"
)

// runSite manages sites: add, list, show, update.
func runSite(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: footfall site add|list|show|update [flags]")
		return errUsage
	}
	switch args[0] {
	case "add":
		return siteAdd(ctx, e, args[1:])
	case "list":
		return siteList(ctx, e, args[1:])
	case "show":
		return siteShow(ctx, e, args[1:])
	case "update":
		return siteUpdate(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "footfall site: unknown subcommand %q (want add, list, show, update)\n", args[0])
	return errUsage
}

// listFlag collects a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// siteFields are the flags that describe a site (add and update).
type siteFields struct {
	name, timezone, currency            string
	urls, excludedIPs, excludedParams   listFlag
	excludedUAs, excludedReferrers      listFlag
	ecommerce, siteSearch, keepFragment string
	excludeUnknownURLs                  string
	ipv4Mask, ipv6Mask, retention       string
	storeIP, cookieless, hashUID, scrub string
	dnt, gpc, consent                   string
}

func (f *siteFields) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "site `name`")
	fs.Var(&f.urls, "url", "site `URL` (repeatable; the first is the main URL)")
	fs.StringVar(&f.timezone, "timezone", "", "IANA `zone` or UTC±h (reports and visits split at local midnight)")
	fs.StringVar(&f.currency, "currency", "", "ISO 4217 `code`")
	fs.StringVar(&f.ecommerce, "ecommerce", "", "ecommerce reports (true|false)")
	fs.StringVar(&f.siteSearch, "site-search", "", "detect site searches in page URLs (true|false)")
	fs.StringVar(&f.keepFragment, "keep-url-fragment", "", "keep #fragments in URLs (true|false)")
	fs.StringVar(&f.excludeUnknownURLs, "exclude-unknown-urls", "", "track only URLs of the site (true|false)")
	fs.Var(&f.excludedIPs, "excluded-ip", "excluded `IP`, CIDR or a.b.c.* (repeatable)")
	fs.Var(&f.excludedParams, "excluded-param", "query `parameter` stripped from URLs (repeatable)")
	fs.Var(&f.excludedUAs, "excluded-user-agent", "excluded user agent `substring` (repeatable)")
	fs.Var(&f.excludedReferrers, "excluded-referrer", "referrer `host` treated as direct (repeatable)")
	fs.StringVar(&f.ipv4Mask, "ipv4-mask-bytes", "", "IPv4 bytes masked before storage: 1-4, none, or default")
	fs.StringVar(&f.ipv6Mask, "ipv6-mask-bits", "", "IPv6 bits masked before storage: 1-128, none, or default")
	fs.StringVar(&f.storeIP, "store-ip", "", "store the (masked) IP: on, off or default")
	fs.StringVar(&f.cookieless, "cookieless", "", "ignore tracker visitor ids: on, off or default")
	fs.StringVar(&f.hashUID, "hash-user-id", "", "store user ids hashed: on, off or default")
	fs.StringVar(&f.scrub, "scrub-pii", "", "scrub e-mails, digit runs, secrets: on, off or default")
	fs.StringVar(&f.dnt, "dnt", "", "DNT header: ignore, exclude, count or default")
	fs.StringVar(&f.gpc, "gpc", "", "Sec-GPC header: ignore, exclude, count or default")
	fs.StringVar(&f.consent, "consent", "", "consent required (server side): none, cookies, tracking or default")
	fs.StringVar(&f.retention, "retention-days", "", "days of raw logs kept: N, forever or default")
}

// apply sets the fields given on the command line on s.
func (f *siteFields) apply(fs *flag.FlagSet, s *analytics.Site) error {
	var errs []string
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	boolFlag := func(name, v string, dst *bool) {
		if !set[name] {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("--%s: %q is not true or false", name, v))
			return
		}
		*dst = b
	}
	toggle := func(name, v string, dst *analytics.Toggle) {
		if !set[name] {
			return
		}
		switch v {
		case "on", "true":
			*dst = analytics.On
		case "off", "false":
			*dst = analytics.Off
		case "default":
			*dst = analytics.Default
		default:
			errs = append(errs, fmt.Sprintf("--%s: %q is not on, off or default", name, v))
		}
	}
	mode := func(name, v string, dst *analytics.DNTMode) {
		if !set[name] {
			return
		}
		switch v {
		case "ignore":
			*dst = analytics.DNTIgnore
		case "exclude":
			*dst = analytics.DNTExclude
		case "count":
			*dst = analytics.DNTCount
		case "default":
			*dst = analytics.DNTDefault
		default:
			errs = append(errs, fmt.Sprintf("--%s: %q is not ignore, exclude, count or default", name, v))
		}
	}
	consent := func(name, v string, dst *analytics.ConsentMode) {
		if !set[name] {
			return
		}
		switch v {
		case "none":
			*dst = analytics.ConsentNone
		case "cookies":
			*dst = analytics.ConsentCookies
		case "tracking":
			*dst = analytics.ConsentTracking
		case "default":
			*dst = analytics.ConsentDefault
		default:
			errs = append(errs, fmt.Sprintf("--%s: %q is not none, cookies, tracking or default", name, v))
		}
	}
	number := func(name, v, none string, lo, hi int, dst *int) {
		if !set[name] {
			return
		}
		switch v {
		case "default":
			*dst = 0
			return
		case none:
			*dst = -1
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Sprintf("--%s: %q is not %d-%d, %s or default", name, v, lo, hi, none))
			return
		}
		*dst = n
	}
	if set["name"] {
		s.Name = f.name
	}
	if set["url"] {
		s.URLs = f.urls
	}
	if set["timezone"] {
		if _, err := analytics.ParseTimezone(f.timezone); err != nil {
			errs = append(errs, "--timezone: "+err.Error())
		}
		s.Timezone = f.timezone
	}
	if set["currency"] {
		if len(f.currency) != 3 {
			errs = append(errs, fmt.Sprintf("--currency: %q is not a 3-letter ISO 4217 code", f.currency))
		}
		s.Currency = strings.ToUpper(f.currency)
	}
	boolFlag("ecommerce", f.ecommerce, &s.Ecommerce)
	boolFlag("site-search", f.siteSearch, &s.SiteSearch)
	boolFlag("keep-url-fragment", f.keepFragment, &s.KeepURLFragment)
	boolFlag("exclude-unknown-urls", f.excludeUnknownURLs, &s.ExcludeUnknownURLs)
	if set["excluded-ip"] {
		for _, ip := range f.excludedIPs {
			if _, err := config.ParseIPRange(ip); err != nil {
				errs = append(errs, fmt.Sprintf("--excluded-ip: %v", err))
			}
		}
		s.ExcludedIPs = f.excludedIPs
	}
	if set["excluded-param"] {
		s.ExcludedParams = f.excludedParams
	}
	if set["excluded-user-agent"] {
		s.ExcludedUserAgents = f.excludedUAs
	}
	if set["excluded-referrer"] {
		s.ExcludedReferrers = f.excludedReferrers
	}
	p := &s.Privacy
	number("ipv4-mask-bytes", f.ipv4Mask, "none", 1, 4, &p.IPv4MaskBytes)
	number("ipv6-mask-bits", f.ipv6Mask, "none", 1, 128, &p.IPv6MaskBits)
	number("retention-days", f.retention, "forever", 1, 100000, &p.RetentionDays)
	toggle("store-ip", f.storeIP, &p.StoreIP)
	toggle("cookieless", f.cookieless, &p.Cookieless)
	toggle("hash-user-id", f.hashUID, &p.HashUserID)
	toggle("scrub-pii", f.scrub, &p.ScrubPII)
	mode("dnt", f.dnt, &p.DNT)
	mode("gpc", f.gpc, &p.GPC)
	consent("consent", f.consent, &p.Consent)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func openSites(ctx context.Context, e *env, cf *configFlags) (*config.Config, analytics.Store, error) {
	cfg, err := cf.load(e)
	if err != nil {
		return nil, nil, err
	}
	// Site management is allowed to create the schema of an embedded store
	// (a first `site add` before the first `serve`); a MySQL store must be
	// migrated by `footfall migrate`.
	migrate := cfg.Store.Driver == "sqlite"
	st, err := standard.OpenStore(ctx, cfg, standard.StoreOptions{Migrate: migrate, Logger: logger(cfg, e.stderr)})
	return cfg, st, err
}

func siteAdd(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	var f siteFields
	fs := newFlagSet(e, "site add", &cf)
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	s := analytics.Site{Currency: "USD", Timezone: "UTC"}
	if err := f.apply(fs, &s); err != nil {
		return err
	}
	if s.Name == "" || len(s.URLs) == 0 {
		return fmt.Errorf("--name and at least one --url are required")
	}
	_, st, err := openSites(ctx, e, &cf)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateSite(ctx, &s); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "site %d %q created\n", s.ID, s.Name)
	return nil
}

func siteUpdate(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	var f siteFields
	fs := newFlagSet(e, "site update", &cf)
	f.register(fs)
	if err := parseFlags(fs, idLast(args)); err != nil {
		return err
	}
	id, err := siteIDArg(fs)
	if err != nil {
		return err
	}
	_, st, err := openSites(ctx, e, &cf)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Site(ctx, id)
	if err != nil {
		return err
	}
	if err := f.apply(fs, &s); err != nil {
		return err
	}
	if err := st.UpdateSite(ctx, s); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "site %d %q updated\n", s.ID, s.Name)
	return nil
}

// idLast moves a leading site id behind the flags, so both
// `site show 1 --json` and `site show --json 1` work.
func idLast(args []string) []string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return append(append([]string(nil), args[1:]...), args[0])
	}
	return args
}

func siteIDArg(fs *flag.FlagSet) (int, error) {
	if fs.NArg() != 1 {
		return 0, fmt.Errorf("want one site id, got %v", fs.Args())
	}
	id, err := strconv.Atoi(fs.Arg(0))
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("site id %q is not a positive number", fs.Arg(0))
	}
	return id, nil
}

func siteList(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "site list", &cf)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	_, st, err := openSites(ctx, e, &cf)
	if err != nil {
		return err
	}
	defer st.Close()
	sites, err := st.Sites(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]siteJSON, 0, len(sites))
		for _, s := range sites {
			out = append(out, newSiteJSON(s, nil))
		}
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMAIN URL\tTIMEZONE")
	for _, s := range sites {
		main := ""
		if len(s.URLs) > 0 {
			main = s.URLs[0]
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.ID, s.Name, main, s.Timezone)
	}
	return tw.Flush()
}

// siteShow prints one site with its privacy settings resolved against the
// instance defaults, so an operator sees what applies and where it comes from.
func siteShow(ctx context.Context, e *env, args []string) error {
	var cf configFlags
	fs := newFlagSet(e, "site show", &cf)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, idLast(args)); err != nil {
		return err
	}
	id, err := siteIDArg(fs)
	if err != nil {
		return err
	}
	cfg, st, err := openSites(ctx, e, &cf)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Site(ctx, id)
	if err != nil {
		return err
	}
	goals, err := st.Goals(ctx, id)
	if err != nil {
		return err
	}
	sj := newSiteJSON(s, cfg)
	sj.Goals = goals
	if *asJSON {
		return writeJSON(e.stdout, sj)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "id\t%d\nname\t%s\nurls\t%s\ntimezone\t%s\ncurrency\t%s\necommerce\t%v\nsite search\t%v\n",
		s.ID, s.Name, strings.Join(s.URLs, ", "), s.Timezone, s.Currency, s.Ecommerce, s.SiteSearch)
	fmt.Fprintf(w, "excluded ips\t%s\nexcluded params\t%s\nexcluded user agents\t%s\nexcluded referrers\t%s\n",
		strings.Join(s.ExcludedIPs, ", "), strings.Join(s.ExcludedParams, ", "),
		strings.Join(s.ExcludedUserAgents, ", "), strings.Join(s.ExcludedReferrers, ", "))
	fmt.Fprintln(w, "privacy\t(effective value, and whether the site sets it or the instance default applies)")
	for _, p := range sj.Privacy {
		fmt.Fprintf(w, "  %s\t%s\t(%s)\n", p.Setting, p.Effective, p.Source)
	}
	for _, g := range goals {
		fmt.Fprintf(w, "goal %d\t%s (%s)\n", g.ID, g.Name, g.Match)
	}
	return w.Flush()
}

type siteJSON struct {
	analytics.Site
	Privacy []privacySetting `json:"PrivacyEffective,omitempty"`
	Goals   []analytics.Goal `json:",omitempty"`
}

type privacySetting struct {
	Setting   string `json:"setting"`
	Effective string `json:"effective"`
	Source    string `json:"source"` // "site" or "instance"
}

func newSiteJSON(s analytics.Site, cfg *config.Config) siteJSON {
	sj := siteJSON{Site: s}
	if cfg == nil {
		return sj
	}
	eff := cfg.ResolvePrivacy(s.Privacy)
	src := func(siteSet bool) string {
		if siteSet {
			return "site"
		}
		return "instance"
	}
	onOff := func(t analytics.Toggle) string {
		if t.Resolve(false) {
			return "on"
		}
		return "off"
	}
	mask := func(n int, unit string) string {
		if n < 0 {
			return "none"
		}
		return strconv.Itoa(n) + " " + unit
	}
	mode := func(m analytics.DNTMode) string {
		switch m {
		case analytics.DNTIgnore:
			return "ignore"
		case analytics.DNTExclude:
			return "exclude"
		case analytics.DNTCount:
			return "count, don't track"
		}
		return "default"
	}
	consent := func(m analytics.ConsentMode) string {
		switch m {
		case analytics.ConsentNone:
			return "none"
		case analytics.ConsentCookies:
			return "cookies (no consent=1: cookieless)"
		case analytics.ConsentTracking:
			return "tracking (no consent=1: not tracked)"
		}
		return "default"
	}
	retention := "forever"
	if eff.RetentionDays > 0 {
		retention = strconv.Itoa(eff.RetentionDays) + " days"
	}
	p := s.Privacy
	sj.Privacy = []privacySetting{
		{"ipv4 mask", mask(eff.IPv4MaskBytes, "bytes"), src(p.IPv4MaskBytes != 0)},
		{"ipv6 mask", mask(eff.IPv6MaskBits, "bits"), src(p.IPv6MaskBits != 0)},
		{"store ip", onOff(eff.StoreIP), src(p.StoreIP != analytics.Default)},
		{"cookieless", onOff(eff.Cookieless), src(p.Cookieless != analytics.Default)},
		{"dnt", mode(eff.DNT), src(p.DNT != analytics.DNTDefault)},
		{"gpc", mode(eff.GPC), src(p.GPC != analytics.DNTDefault)},
		{"hash user id", onOff(eff.HashUserID), src(p.HashUserID != analytics.Default)},
		{"consent", consent(eff.Consent), src(p.Consent != analytics.ConsentDefault)},
		{"scrub pii", onOff(eff.ScrubPII), src(p.ScrubPII != analytics.Default)},
		{"raw log retention", retention, src(p.RetentionDays != 0)},
	}
	return sj
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
