package storeutil

import (
	"fmt"
	"strings"

	"github.com/footfall/analytics"
)

// The argument checks of the Store methods other than WriteBatch: each
// fails with ErrInvalid and a message without the store's prefix.

// CheckOptions joins the problems a store's Options.Validate found into
// one ErrInvalid error ("prefix: options: a; b: analytics: invalid"); nil
// when there are none.
func CheckOptions(prefix string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: options: %s: %w", prefix, strings.Join(problems, "; "), analytics.ErrInvalid)
}

// CheckSite checks a site for CreateSite and UpdateSite: its time zone.
func CheckSite(s *analytics.Site) error {
	_, err := analytics.ParseTimezone(s.Timezone)
	return err
}

// CheckReserve checks the arguments of ReserveIDs.
func CheckReserve(kind analytics.IDKind, n int) error {
	if kind != analytics.IDVisit && kind != analytics.IDAction {
		return Invalid("unknown kind %d", kind)
	}
	if n <= 0 {
		return Invalid("n = %d, want > 0", n)
	}
	return nil
}

// CheckVisitorMatch checks a LastVisit match: exactly one of its ids.
func CheckVisitorMatch(m analytics.VisitorMatch) error {
	if m.VisitorID.IsZero() == m.ConfigID.IsZero() {
		return Invalid("exactly one of VisitorID and ConfigID must be set")
	}
	return nil
}

// CheckVisitQuery checks a Visits query: a limit not below 0.
func CheckVisitQuery(q analytics.VisitQuery) error {
	if q.Limit < 0 {
		return Invalid("negative limit %d", q.Limit)
	}
	return nil
}

// CheckChunk checks the chunk size of a deletion.
func CheckChunk(chunk int) error {
	if chunk <= 0 {
		return Invalid("chunk %d, want > 0", chunk)
	}
	return nil
}

// CheckPrune checks the site and the chunk size of DeleteLogsBefore (the
// time is the store's to check: its columns bound it differently).
func CheckPrune(siteID, chunk int) error {
	if siteID <= 0 {
		return Invalid("site id must be > 0")
	}
	return CheckChunk(chunk)
}

// CheckVisitorFilter checks the filter and site of ExportVisitor and
// DeleteVisitor: the filter names a visitor id or a user id of at most
// maxUserID bytes (0: no limit), the site is 0 (every site) or positive.
func CheckVisitorFilter(siteID int, f analytics.VisitorFilter, maxUserID int) error {
	if f.VisitorID.IsZero() && f.UserID == "" {
		return Invalid("the filter has neither a visitor id nor a user id")
	}
	if maxUserID > 0 && len(f.UserID) > maxUserID {
		return Invalid("user id longer than %d bytes", maxUserID)
	}
	if siteID < 0 {
		return Invalid("site id %d", siteID)
	}
	return nil
}
