//go:build !unix

package spool

import (
	"fmt"
	"os"

	"github.com/footfall/analytics"
)

// lockDir creates the lock file; without flock the one-process rule is
// not enforced on this platform.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: lock: %w: %w", analytics.ErrUnavailable, err)
	}
	return f, nil
}
