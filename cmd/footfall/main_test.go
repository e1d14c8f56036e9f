package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCmd(ctx context.Context, environ []string, args ...string) result {
	var out, errb bytes.Buffer
	code := run(ctx, args, environ, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func TestSiteCommands(t *testing.T) {
	ctx := t.Context()
	env := []string{"FOOTFALL_DATA_DIR=" + t.TempDir(), "FOOTFALL_LOG_LEVEL=warn"}
	cases := []struct {
		name     string
		args     []string
		code     int
		contains string // in stdout (code 0) or stderr
	}{
		{"add needs name", []string{"site", "add", "--url", "https://a.example"}, 1, "--name and at least one --url"},
		{"add", []string{"site", "add", "--name", "Shop", "--url", "https://shop.example", "--timezone", "Asia/Kolkata", "--ecommerce=true"}, 0, `site 1 "Shop" created`},
		{"add second", []string{"site", "add", "--name", "Blog", "--url", "https://blog.example,https://www.blog.example"}, 0, `site 2 "Blog" created`},
		{"bad timezone", []string{"site", "add", "--name", "X", "--url", "https://x.example", "--timezone", "Mars/Base"}, 1, "--timezone"},
		{"bad excluded ip", []string{"site", "add", "--name", "X", "--url", "https://x.example", "--excluded-ip", "300.1.1.1"}, 1, "--excluded-ip"},
		{"list", []string{"site", "list"}, 0, "https://blog.example"},
		{"update privacy", []string{"site", "update", "1", "--dnt", "exclude", "--ipv4-mask-bytes", "3", "--retention-days", "30"}, 0, `site 1 "Shop" updated`},
		{"update bad value", []string{"site", "update", "1", "--gpc", "maybe"}, 1, `--gpc: "maybe"`},
		{"update unknown site", []string{"site", "update", "9", "--name", "x"}, 1, "not found"},
		{"show", []string{"site", "show", "1"}, 0, "dnt                 exclude             (site)"},
		{"show instance default", []string{"site", "show", "1"}, 0, "gpc                 count, don't track  (instance)"},
		{"show bad id", []string{"site", "show", "x"}, 1, "not a positive number"},
		{"unknown subcommand", []string{"site", "frob"}, 2, "unknown subcommand"},
		{"unknown command", []string{"frob"}, 2, `unknown command "frob"`},
		{"bad flag", []string{"site", "list", "--nope"}, 2, "flag provided but not defined"},
		{"live empty", []string{"live", "--site", "2"}, 0, "no visits yet"},
		{"live unknown site", []string{"live", "--site", "7"}, 1, "not found"},
		{"version", []string{"version"}, 0, "footfall "},
	}
	for _, c := range cases {
		r := runCmd(ctx, env, c.args...)
		if r.code != c.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", c.name, r.code, c.code, r.stdout, r.stderr)
			continue
		}
		where := r.stdout
		if c.code != 0 {
			where = r.stderr
		}
		if !strings.Contains(where, c.contains) {
			t.Errorf("%s: output does not contain %q\nstdout: %s\nstderr: %s", c.name, c.contains, r.stdout, r.stderr)
		}
	}
	r := runCmd(ctx, env, "site", "show", "1", "--json")
	var site struct {
		ID        int
		Timezone  string
		Ecommerce bool
		Privacy   struct{ IPv4MaskBytes, RetentionDays, DNT int }
		Effective []struct{ Setting, Effective, Source string } `json:"PrivacyEffective"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &site); err != nil {
		t.Fatalf("site show --json: %v\n%s", err, r.stdout)
	}
	if site.ID != 1 || site.Timezone != "Asia/Kolkata" || !site.Ecommerce || site.Privacy.IPv4MaskBytes != 3 || site.Privacy.RetentionDays != 30 {
		t.Errorf("site show --json = %+v", site)
	}
	if len(site.Effective) == 0 || site.Effective[0].Effective != "3 bytes" || site.Effective[0].Source != "site" {
		t.Errorf("effective privacy = %+v", site.Effective)
	}
}

func TestConfigErrors(t *testing.T) {
	r := runCmd(t.Context(), []string{"FOOTFALL_QUEUE_SHARDZ=3"}, "site", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "FOOTFALL_QUEUE_SHARDZ") {
		t.Fatalf("unknown env var: %+v", r)
	}
	r = runCmd(t.Context(), nil, "live", "--config", "/nonexistent/footfall.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "footfall.hcl") {
		t.Fatalf("missing config file: %+v", r)
	}
	r = runCmd(t.Context(), []string{"FOOTFALL_QUEUE_DRIVER=memory"}, "worker", "--data", t.TempDir())
	if r.code != 1 {
		t.Fatalf("worker on a memory queue must refuse: %+v", r)
	}
}

// TestServeAll runs `footfall serve --role=all`, tracks hits, stops it
// like Ctrl-C and reads the visits back with `footfall live`.
func TestServeAll(t *testing.T) {
	data := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{"FOOTFALL_DATA_DIR=" + data, "FOOTFALL_INGEST_LISTEN=" + addr, "FOOTFALL_LOG_LEVEL=warn"}
	if r := runCmd(t.Context(), env, "site", "add", "--name", "Shop", "--url", "https://shop.example"); r.code != 0 {
		t.Fatalf("site add: %+v", r)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan result, 1)
	go func() { done <- runCmd(ctx, env, "serve", "--role=all") }()

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("not serving: %v %+v", err, <-done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
	for i, path := range []string{"/", "/pricing", "/signup"} {
		req, _ := http.NewRequest("GET", base+"/matomo.php?idsite=1&rec=1&_id=00000000000000aa&action_name=p&url=https%3A%2F%2Fshop.example"+
			strings.ReplaceAll(path, "/", "%2F"), nil)
		req.Header.Set("User-Agent", ua)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("hit %d: %d", i, resp.StatusCode)
		}
	}
	for _, p := range []string{"/index.php?module=CoreHome", "/admin"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if p == "/admin" && resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404 on the tracking endpoint", p, resp.StatusCode)
		}
	}
	cancel()
	r := <-done
	if r.code != 0 {
		t.Fatalf("serve exit %d: %s", r.code, r.stderr)
	}
	lr := runCmd(t.Context(), env, "live", "--site", "1", "--json")
	var visits []struct {
		VisitorID     string `json:"visitorId"`
		BrowserName   string `json:"browserName"`
		ActionDetails []struct {
			URL string `json:"url"`
		} `json:"actionDetails"`
	}
	if err := json.Unmarshal([]byte(lr.stdout), &visits); err != nil {
		t.Fatalf("live: %v\n%+v", err, lr)
	}
	if len(visits) != 1 || visits[0].VisitorID != "00000000000000aa" || len(visits[0].ActionDetails) != 3 || visits[0].BrowserName != "Safari" {
		t.Fatalf("visits after serve: %+v", visits)
	}
	if u := visits[0].ActionDetails[2].URL; u != "https://shop.example/signup" {
		t.Errorf("last action URL %q", u)
	}
	text := runCmd(t.Context(), env, "live", "--site", "1")
	if !strings.Contains(text.stdout, "https://shop.example/pricing") {
		t.Errorf("live text output:\n%s", text.stdout)
	}
}
