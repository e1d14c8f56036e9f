// Package report renders stored analytics in the shapes of Matomo's
// Reporting API, so existing API clients read Footfall unchanged.
//
// NewLiveVisit renders a visit with its actions as
// Live.getLastVisitsDetails does; `footfall live --json` prints a list of
// them.
package report
