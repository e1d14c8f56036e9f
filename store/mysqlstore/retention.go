package mysqlstore

import (
	"context"
	"time"

	"github.com/footfall/analytics"
)

// Deleted counts the rows a retention or GDPR deletion removed.
type Deleted struct {
	Visits, Actions, Conversions, Items int64
}

// VisitorFilter selects one visitor's visits for the GDPR tools: those
// with this visitor id or this (stored) user id. At least one is set.
type VisitorFilter struct {
	VisitorID analytics.VisitorID
	UserID    string
}

// Pruner is the optional retention capability.
type Pruner interface {
	DeleteLogsBefore(ctx context.Context, siteID int, before time.Time, chunk int) (Deleted, error)
	DeleteUnusedNames(ctx context.Context, chunk int) (int64, error)
}

// VisitorEraser is the optional GDPR capability.
type VisitorEraser interface {
	ExportVisitor(ctx context.Context, siteID int, f VisitorFilter) ([]analytics.VisitDetails, error)
	DeleteVisitor(ctx context.Context, siteID int, f VisitorFilter) (Deleted, error)
}

func (s *Store) DeleteLogsBefore(ctx context.Context, siteID int, before time.Time, chunk int) (Deleted, error) {
	return Deleted{}, nil
}
func (s *Store) DeleteUnusedNames(ctx context.Context, chunk int) (int64, error) { return 0, nil }
func (s *Store) ExportVisitor(ctx context.Context, siteID int, f VisitorFilter) ([]analytics.VisitDetails, error) {
	return nil, nil
}
func (s *Store) DeleteVisitor(ctx context.Context, siteID int, f VisitorFilter) (Deleted, error) {
	return Deleted{}, nil
}
