package localruntime_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
)

func TestDevClockOnlyWithVirtualClock(t *testing.T) {
	for _, tc := range []struct {
		clock string
		want  int
	}{{"real", http.StatusNotFound}, {"virtual", http.StatusOK}, {"skip", http.StatusOK}} {
		t.Run(tc.clock, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
			rt, err := localruntime.Open(context.Background(), localruntime.Options{DataDir: dir, Clock: tc.clock, Start: start})
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close()
			req := httptest.NewRequest("POST", "/v1/dev/clock", strings.NewReader(`{"advance":"90m"}`))
			req.Header.Set("Authorization", "Bearer "+rt.AdminToken)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			rt.API.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Fatalf("POST /v1/dev/clock: %d %s, want %d", w.Code, w.Body, tc.want)
			}
			if tc.want == http.StatusOK {
				if got := rt.Clock.Now(); !got.Equal(start.Add(90 * time.Minute)) {
					t.Errorf("clock = %s, want %s", got, start.Add(90*time.Minute))
				}
				saved, _ := os.ReadFile(filepath.Join(dir, "clock"))
				if !strings.HasPrefix(string(saved), "2026-11-11T01:30:00") {
					t.Errorf("saved clock = %q", saved)
				}
			}
			tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
			if err != nil || strings.TrimSpace(string(tok)) != rt.AdminToken {
				t.Errorf("admin-token file = %q, %v", tok, err)
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	for name, opts := range map[string]localruntime.Options{
		"no data dir": {},
		"clock":       {DataDir: t.TempDir(), Clock: "sundial"},
		"short token": {DataDir: t.TempDir(), AdminToken: "short"},
	} {
		t.Run(name, func(t *testing.T) {
			if rt, err := localruntime.Open(context.Background(), opts); err == nil {
				rt.Close()
				t.Fatal("Open accepted bad options")
			}
		})
	}
}
