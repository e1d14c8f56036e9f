package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

// buildBinaries builds examples/full and cmd/footfall once per test run.
func buildBinaries(t *testing.T) (full, footfall string) {
	t.Helper()
	dir := t.TempDir()
	full, footfall = filepath.Join(dir, "full"), filepath.Join(dir, "footfall")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, b := range []struct{ out, pkg string }{{full, "."}, {footfall, "../../cmd/footfall"}} {
		cmd := exec.Command(gobin, "build", "-o", b.out, b.pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return full, footfall
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type server struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	base   string
	data   string
}

// start runs examples/full on a fresh data directory and waits until it
// serves; it reports how long that took.
func start(t *testing.T, bin string) *server {
	t.Helper()
	s := &server{stderr: &bytes.Buffer{}, data: t.TempDir()}
	addr := freeAddr(t)
	s.base = "http://" + addr
	s.cmd = exec.Command(bin, "-addr", addr, "-data", s.data)
	s.cmd.Stderr = s.stderr
	s.cmd.Stdout = &bytes.Buffer{}
	t0 := time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	for {
		resp, err := http.Get(s.base + "/matomo.js")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(t0) > 60*time.Second {
			t.Fatalf("not serving after 60s; stderr:\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("serving %v after start, on a fresh data directory", time.Since(t0).Round(time.Millisecond))
	return s
}

func (s *server) send(t *testing.T, method, query, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.base+"/matomo.php?"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", browserUA)
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// stop sends SIGINT (Ctrl-C) and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, s.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("did not stop after SIGINT\n%s", s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "queue drained") {
		t.Errorf("no drain in the log:\n%s", s.stderr)
	}
}

type liveVisit struct {
	IDVisit       int64  `json:"idVisit"`
	VisitorID     string `json:"visitorId"`
	ActionDetails []struct {
		Type          string `json:"type"`
		URL           string `json:"url"`
		PageTitle     string `json:"pageTitle"`
		EventCategory string `json:"eventCategory"`
	} `json:"actionDetails"`
}

func live(t *testing.T, footfall, data string) []liveVisit {
	t.Helper()
	out, err := exec.Command(footfall, "live", "--data", data, "--site", "1", "--last", "1000", "--json").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("footfall live: %v\n%s", err, stderr)
	}
	var v []liveVisit
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("footfall live --json: %v\n%s", err, out)
	}
	return v
}

// TestFull is the README's promise: examples/full serves on a fresh data
// directory with no services, and hits sent to it (single GET, sendBeacon
// POST, bulk) show up in `footfall live` pointed at the same directory.
func TestFull(t *testing.T) {
	full, footfall := buildBinaries(t)
	s := start(t, full)

	t0 := time.Now()
	if c := s.send(t, "GET", "idsite=1&rec=1&action_name=Home&url=http%3A%2F%2Fdemo%2F&_id=1111111111111111", ""); c != 200 {
		t.Fatalf("GET: %d", c)
	}
	if c := s.send(t, "POST", "idsite=1&rec=1&action_name=Beacon&url=http%3A%2F%2Fdemo%2Fb&_id=2222222222222222&send_image=0", ""); c != 204 {
		t.Fatalf("beacon: %d", c)
	}
	bulk := `{"requests":["?idsite=1&rec=1&action_name=Bulk1&url=http%3A%2F%2Fdemo%2Fc&_id=3333333333333333",` +
		`"?idsite=1&rec=1&e_c=Video&e_a=Play&url=http%3A%2F%2Fdemo%2Fc&_id=3333333333333333"]}`
	req, _ := http.NewRequest("POST", s.base+"/matomo.php", strings.NewReader(bulk))
	req.Header.Set("User-Agent", browserUA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var br map[string]any
	json.NewDecoder(resp.Body).Decode(&br)
	resp.Body.Close()
	if br["status"] != "success" || br["tracked"] != 2.0 {
		t.Fatalf("bulk answer %v", br)
	}

	want := map[string][]string{
		"1111111111111111": {"action Home"},
		"2222222222222222": {"action Beacon"},
		"3333333333333333": {"action Bulk1", "event Video"},
	}
	for {
		got := map[string][]string{}
		for _, v := range live(t, footfall, s.data) {
			for _, a := range v.ActionDetails {
				got[v.VisitorID] = append(got[v.VisitorID], a.Type+" "+a.PageTitle+a.EventCategory)
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
		if time.Since(t0) > 30*time.Second {
			t.Fatalf("live shows %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("all three request forms visible in footfall live %v after sending", time.Since(t0).Round(time.Millisecond))
	s.stop(t)
}

// TestFullDrain: hits accepted just before Ctrl-C are all stored — the
// endpoint closes first, then the queue drains.
func TestFullDrain(t *testing.T) {
	full, footfall := buildBinaries(t)
	s := start(t, full)
	const n = 300
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, fmt.Sprintf(`"?idsite=1&rec=1&action_name=p%d&url=http%%3A%%2F%%2Fdemo%%2F%d&_id=%016x"`, i, i, i+1))
	}
	body := `{"requests":[` + strings.Join(lines, ",") + `]}`
	req, _ := http.NewRequest("POST", s.base+"/matomo.php", strings.NewReader(body))
	req.Header.Set("User-Agent", browserUA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("bulk: %d", resp.StatusCode)
	}
	s.stop(t) // immediately: the hits may still be queued
	visits := live(t, footfall, s.data)
	if len(visits) != n {
		t.Fatalf("%d visits stored after Ctrl-C, want %d", len(visits), n)
	}
	if _, err := os.Stat(filepath.Join(s.data, "footfall.db")); err != nil {
		t.Fatal(err)
	}
}
