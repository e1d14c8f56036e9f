//go:build !unix

package maxmindgeo

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
