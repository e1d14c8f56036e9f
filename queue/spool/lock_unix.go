//go:build unix

package spool

import (
	"fmt"
	"os"
	"syscall"

	"github.com/footfall/analytics"
)

// lockDir takes an exclusive lock on path so that one process at a time
// uses a spool directory. Closing the file releases it.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: lock: %w: %w", analytics.ErrUnavailable, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %s is in use by another process: %w: %w", path, analytics.ErrUnavailable, err)
	}
	return f, nil
}
