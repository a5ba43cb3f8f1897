package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ordercare/ordercare/infra/localruntime"
)

// TestHelpExitsZero: every command and subcommand answers -h, --help (and
// help) with its usage and no error, so `care … --help` exits 0.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"serve", "-h"}, {"serve", "--help"},
		{"shops", "-h"}, {"shops", "help"}, {"shops", "list", "-h"}, {"shops", "create", "--help"},
		{"keys", "--help"}, {"keys", "reissue", "-h"},
		{"sfn", "-h"}, {"sfn", "--help"}, {"sfn", "bench", "-h"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), args, &stdout, &stderr); err != nil {
				t.Fatalf("care %s: %v (stderr %q)", strings.Join(args, " "), err, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), "usage") {
				t.Errorf("care %s printed no usage: %q %q", strings.Join(args, " "), stdout.String(), stderr.String())
			}
		})
	}
	for _, args := range [][]string{nil, {"nope"}, {"shops"}, {"shops", "drop"}, {"keys", "rotate"},
		{"keys", "reissue", "--shop", "x", "--role", "admin"}, {"shops", "list", "stray"}} {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), args, &stdout, &stderr); err == nil {
			t.Errorf("care %q: no error", args)
		}
	}
}

// TestAdminCommands runs care shops list/create and care keys reissue
// against a running runtime's API.
func TestAdminCommands(t *testing.T) {
	t.Setenv("CARE_ADMIN_TOKEN", "")
	dir := t.TempDir()
	rt, err := localruntime.Open(t.Context(), localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ts := httptest.NewServer(rt.API)
	defer ts.Close()
	care := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), append(args, "--addr", ts.URL, "--data", dir), &stdout, &stderr); err != nil {
			t.Fatalf("care %s: %v", strings.Join(args, " "), err)
		}
		return stdout.String()
	}
	var shop struct {
		ID   string
		Keys map[string]string
	}
	out := care("shops", "create", "--id", "tea", "--name", "Tea", "--timezone", "Asia/Shanghai", "--locale", "zh-CN", "--currency", "CNY")
	if err := json.Unmarshal([]byte(out), &shop); err != nil || shop.ID != "tea" || shop.Keys["ops"] == "" {
		t.Fatalf("shops create printed %q (%v)", out, err)
	}
	care("shops", "create", "--id", "coffee", "--name", "Coffee", "--timezone", "UTC", "--locale", "en", "--currency", "USD")
	list := care("shops", "list")
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "coffee") || !strings.HasPrefix(lines[2], "tea ") {
		t.Errorf("shops list:\n%s", list)
	}

	status := func(key string) int {
		req, _ := http.NewRequest("GET", ts.URL+"/v1/shops/tea", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	var nk struct{ Key string }
	if err := json.Unmarshal([]byte(care("keys", "reissue", "--shop", "tea", "--role", "ops")), &nk); err != nil || nk.Key == "" {
		t.Fatalf("keys reissue: %v", err)
	}
	if got := status(shop.Keys["ops"]); got != 401 {
		t.Errorf("the old ops key answers %d after reissue, want 401", got)
	}
	if got := status(nk.Key); got != 200 {
		t.Errorf("the new ops key answers %d, want 200", got)
	}
	if got := status(shop.Keys["agent"]); got != 200 {
		t.Errorf("the agent key answers %d, want 200", got)
	}

	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"keys", "reissue", "--shop", "nope", "--role", "ops", "--addr", ts.URL, "--data", dir}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("reissue for an unknown shop: %v", err)
	}
	err = run(t.Context(), []string{"shops", "list", "--addr", ts.URL, "--data", t.TempDir()}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "admin token") {
		t.Errorf("shops list without a token: %v", err)
	}
}

// serveOnce runs care serve in-process until it has printed its clock
// line, then stops it as SIGTERM would; it returns stdout and stderr.
func serveOnce(t *testing.T, dir string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncBuf
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--sfn-addr", "127.0.0.1:0", "--clock", "virtual", "--data", dir}, pw, &stderr)
		pw.Close()
	}()
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "clock: ") {
			break
		}
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	return out.String(), stderr.String()
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestServeTokenClockAndShutdown: the admin token and the Step Functions
// secret are printed only when they are generated; the runtime's clock is
// printed; shutdown logs one JSON line.
func TestServeTokenClockAndShutdown(t *testing.T) {
	t.Setenv("CARE_ADMIN_TOKEN", "")
	t.Setenv("CARE_SFN_ACCESS_KEY_ID", "")
	t.Setenv("CARE_SFN_SECRET_ACCESS_KEY", "")
	dir := t.TempDir()
	first, logs := serveOnce(t, dir)
	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	if !strings.Contains(first, "admin token: "+token+" (new;") {
		t.Errorf("first start does not print the new token:\n%s", first)
	}
	var sfnKey struct {
		Secret string `json:"secret_access_key"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sfn-credentials")); err != nil || json.Unmarshal(b, &sfnKey) != nil || sfnKey.Secret == "" {
		t.Fatalf("sfn-credentials: %v", err)
	}
	if !strings.Contains(first, "AWS_SECRET_ACCESS_KEY="+sfnKey.Secret) {
		t.Errorf("first start does not print the new Step Functions secret:\n%s", first)
	}
	if !strings.Contains(first, "clock: virtual, now ") || !strings.Contains(first, "GET /healthz") {
		t.Errorf("no clock line:\n%s", first)
	}
	var shutdowns int
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
		if m["msg"] == "shutdown" {
			shutdowns++
		}
	}
	if shutdowns != 1 {
		t.Errorf("want one shutdown line, got %d:\n%s", shutdowns, logs)
	}

	again, _ := serveOnce(t, dir)
	if strings.Contains(again, token) || !strings.Contains(again, "admin token in "+filepath.Join(dir, "admin-token")) {
		t.Errorf("a restart prints the token or not where it is:\n%s", again)
	}
	if strings.Contains(again, sfnKey.Secret) || !strings.Contains(again, "sign with the key pair in "+filepath.Join(dir, "sfn-credentials")) {
		t.Errorf("a restart prints the Step Functions secret or not where it is:\n%s", again)
	}
	t.Setenv("CARE_ADMIN_TOKEN", "given-admin-token-0123456789")
	given, _ := serveOnce(t, dir)
	if strings.Contains(given, "given-admin-token") || !strings.Contains(given, "admin token from CARE_ADMIN_TOKEN") {
		t.Errorf("a given token is printed or not named:\n%s", given)
	}
}
