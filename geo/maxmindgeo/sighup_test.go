//go:build unix

package maxmindgeo

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRunReloadsOnSIGHUP: with ReloadOnSIGHUP (and polling off), SIGHUP
// makes Run reload the file.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	// Keep SIGHUP from ending the test binary before Run installs its
	// handler, whatever the scheduling.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(guard) })

	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	copyFile(t, geoip2City, path)
	events := make(chan reloadEvent, 64)
	g := open(t, path, Options{
		ReloadInterval: -1,
		ReloadOnSIGHUP: true,
		OnReload:       func(m Metadata, err error) { events <- reloadEvent{m, err} },
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	copyFile(t, otherFlatFixture(t, dir), path)
	// Run may not have installed its handler yet: signal until it reloads.
	deadline := time.After(10 * time.Second)
	for reloaded := false; !reloaded; {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.err != nil || ev.meta.Layout != LayoutFlat {
				t.Fatalf("reload on SIGHUP: %+v", ev)
			}
			reloaded = true
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("no reload on SIGHUP within 10s")
		}
	}
	if got := lookupLoc(t, g, "81.2.69.142"); got.City != "Paris" {
		t.Fatalf("after SIGHUP: %+v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunIgnoresSIGHUPByDefault: without ReloadOnSIGHUP, Run installs no
// handler and SIGHUP reloads nothing.
func TestRunIgnoresSIGHUPByDefault(t *testing.T) {
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(guard) })

	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	copyFile(t, geoip2City, path)
	events := make(chan reloadEvent, 64)
	g := open(t, path, Options{
		ReloadInterval: 5 * time.Millisecond,
		OnReload:       func(m Metadata, err error) { events <- reloadEvent{m, err} },
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	// A change seen by polling proves Run is running.
	copyFile(t, otherFlatFixture(t, dir), path)
	if ev := waitReload(t, events); ev.err != nil {
		t.Fatal(ev.err)
	}
	for range 5 {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		<-guard // delivered to this process, so to Run too had it asked
	}
	select {
	case ev := <-events:
		t.Fatalf("reload of an unchanged file after SIGHUP without ReloadOnSIGHUP: %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
