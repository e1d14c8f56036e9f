package queuetest

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

// TestFullHitIsFull guards the round-trip test: every field of Hit, down
// to the sub-structs, is non-zero in FullHit (in some element, for
// slices), so that a driver dropping a field is caught. A field added to
// the contract fails here until FullHit sets it.
func TestFullHitIsFull(t *testing.T) {
	h := FullHit()
	zero := zeroPaths(reflect.ValueOf(h), "Hit")
	// Pos is the queue's; GoalID is 0 for an order (the "extreme values"
	// round trip sets it).
	zero = slices.DeleteFunc(zero, func(p string) bool { return strings.HasPrefix(p, "Hit.Pos.") || p == "Hit.GoalID" })
	if len(zero) > 0 {
		t.Errorf("FullHit leaves zero: %v", zero)
	}
}

// zeroPaths returns the paths of the zero leaves under v.
func zeroPaths(v reflect.Value, path string) []string {
	switch x := v.Interface().(type) {
	case time.Time:
		if x.IsZero() {
			return []string{path}
		}
		return nil
	case netip.Addr:
		if !x.IsValid() {
			return []string{path}
		}
		return nil
	case analytics.HitID, analytics.VisitorID:
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroPaths(v.Elem(), path)
	case reflect.Struct:
		var zero []string
		for i := range v.NumField() {
			zero = append(zero, zeroPaths(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return zero
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{path}
		}
		// A leaf counts as set when some element sets it.
		zero := zeroPaths(v.Index(0), path+"[]")
		for i := 1; i < v.Len(); i++ {
			other := zeroPaths(v.Index(i), path+"[]")
			zero = slices.DeleteFunc(zero, func(p string) bool { return !slices.Contains(other, p) })
		}
		return zero
	}
	if v.IsZero() {
		return []string{path}
	}
	return nil
}
