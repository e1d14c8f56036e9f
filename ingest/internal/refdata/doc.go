// Package refdata holds the tables the worker uses to classify referrers:
// search engines (with the query parameters that carry the keyword) and
// social networks, and the matcher that finds the entry of a host.
//
// The tables are written for Footfall from public knowledge of these
// services; they follow the spirit of Matomo's lists (same kinds of
// entries, same "name" conventions) without copying them.
package refdata
