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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/sfnhttp"
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

// TestSFNCredentials: the Step Functions API requires the key pair the
// runtime generated and stored in DATA/sfn-credentials (mode 0600, the same
// on the next start), or the one given in Options; another is refused.
func TestSFNCredentials(t *testing.T) {
	dir := t.TempDir()
	open := func(opts localruntime.Options) *localruntime.Runtime {
		t.Helper()
		opts.DataDir = dir
		rt, err := localruntime.Open(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return rt
	}
	list := func(rt *localruntime.Runtime, c sfnhttp.Credentials) error {
		srv := httptest.NewServer(rt.SFN)
		defer srv.Close()
		client := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
		_, err := client.ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{})
		return err
	}
	rt := open(localruntime.Options{})
	first := rt.SFNCredentials
	if err := list(rt, first); err != nil {
		t.Fatalf("generated key pair refused: %v", err)
	}
	if err := list(rt, sfnhttp.NewCredentials()); err == nil {
		t.Fatal("another key pair was accepted")
	}
	info, err := os.Stat(filepath.Join(dir, "sfn-credentials"))
	if err != nil || info.Mode().Perm() != 0o600 || rt.SFNCredentialsFile != filepath.Join(dir, "sfn-credentials") {
		t.Fatalf("sfn-credentials: %v %v (file %q)", info, err, rt.SFNCredentialsFile)
	}
	rt.Close()

	rt = open(localruntime.Options{})
	if rt.SFNCredentials != first {
		t.Errorf("second start: %v, want the stored pair", rt.SFNCredentials.AccessKeyID)
	}
	rt.Close()

	given := sfnhttp.NewCredentials()
	rt = open(localruntime.Options{SFNCredentials: given})
	defer rt.Close()
	if err := list(rt, given); err != nil {
		t.Fatalf("given key pair refused: %v", err)
	}
	if err := list(rt, first); err == nil {
		t.Fatal("the stored pair was accepted while another was given")
	}
}
