package httpapi_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/workflows"
)

// sseStream reads one Server-Sent Events response: next returns the next
// event's name ("ping" for a comment line), "" at the end of the stream.
type sseStream struct {
	res  *http.Response
	r    *bufio.Reader
	text strings.Builder // everything read, to check what the stream carries
}

func (s *sseStream) next(t *testing.T) string {
	t.Helper()
	name := ""
	for {
		line, err := s.r.ReadString('\n')
		s.text.WriteString(line)
		if err == io.EOF || (err != nil && name == "") {
			return ""
		}
		if err != nil {
			t.Fatalf("read the stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name
		case strings.HasPrefix(line, ":"):
			return "ping"
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		}
	}
}

// until reads events until want (failing on the stream's end), and returns
// the names read before it.
func (s *sseStream) until(t *testing.T, want string) []string {
	t.Helper()
	var seen []string
	for {
		n := s.next(t)
		switch n {
		case want:
			return seen
		case "":
			t.Fatalf("the stream ended before %q; read %v", want, seen)
		}
		seen = append(seen, n)
	}
}

// noFlush is a ResponseWriter that cannot stream (as API Gateway's adapter).
type noFlush struct {
	h      http.Header
	status int
	body   strings.Builder
}

func (w *noFlush) Header() http.Header         { return w.h }
func (w *noFlush) WriteHeader(s int)           { w.status = s }
func (w *noFlush) Write(b []byte) (int, error) { return w.body.Write(b) }

// TestTaskEvents: GET /v1/tasks/events streams "changed" to the shop whose
// tasks changed (a task raised by a workflow, a claim through the API) and
// to no other shop, carries no task or buyer data, keeps alive with
// heartbeats, refuses streams over the shop's bound (429), answers 501
// where responses cannot stream, and ends on shutdown.
func TestTaskEvents(t *testing.T) {
	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, t.TempDir()+"/care.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	vc := clock.NewVirtual(time.Date(2026, 11, 11, 2, 0, 0, 0, time.UTC), nil)
	api, err := httpapi.New(httpapi.Config{Store: store, Clock: vc, AdminToken: adminToken, Resumer: &fakeResumer{}, Workflows: workflows.All(),
		TaskEvents: httpapi.TaskEvents{Poll: 10 * time.Millisecond, Heartbeat: 30 * time.Millisecond, MaxPerShop: 2}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(api)
	ts.Config.RegisterOnShutdown(api.CloseStreams)
	ts.Start()
	defer ts.Close()
	e := &env{t: t, url: ts.URL, clock: vc, store: store}
	tea, rival := e.createShop("tea"), e.createShop("rival")
	open := func(token string) (*sseStream, int) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+"/v1/tasks/events", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req) // a stream that never says what is awaited fails the test
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			t.Logf("GET /v1/tasks/events: %d %s", res.StatusCode, b)
			return nil, res.StatusCode
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("Content-Type %q", ct)
		}
		t.Cleanup(func() { res.Body.Close() })
		return &sseStream{res: res, r: bufio.NewReader(res.Body)}, 200
	}

	if _, st := open(""); st != 401 {
		t.Fatalf("without a key: %d; want 401", st)
	}
	teaStream, _ := open(tea.Keys[care.RoleAgent])
	rivalStream, _ := open(rival.Keys[care.RoleOps])
	if seen := teaStream.until(t, "ready"); len(seen) != 0 {
		t.Errorf("before ready: %v", seen)
	}
	rivalStream.until(t, "ready")

	// Bounded per shop: a third stream of tea is refused, rival's is not full.
	if _, st := open(tea.Keys[care.RoleOps]); st != 200 {
		t.Fatalf("tea's second stream: %d", st)
	}
	if _, st := open(tea.Keys[care.RoleOps]); st != http.StatusTooManyRequests {
		t.Errorf("tea's third stream: %d; want 429", st)
	}

	// A workflow raises a task (straight into the store, as the step handler does).
	e.task("tea", "t1", "1001", 3, 2*time.Hour)
	teaStream.until(t, "changed")
	// An agent claims it through the API: announced at once.
	if r := e.do("POST", "/v1/tasks/t1/claim", tea.Keys[care.RoleAgent], []byte(`{"agent":"li"}`), nil); r.Status != 200 {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	teaStream.until(t, "changed")
	// Rival's stream saw heartbeats and nothing changed meanwhile.
	for range 3 {
		if n := rivalStream.next(t); n != "ping" {
			t.Errorf("rival's stream got %q while only tea's tasks changed", n)
		}
	}
	for _, secret := range []string{"王芳", "+8613800138000", "t1", "1001", "Call the buyer"} {
		if strings.Contains(teaStream.text.String(), secret) {
			t.Errorf("the stream carries %q", secret)
		}
	}

	// Where responses cannot stream (API Gateway + Lambda): 501 at once.
	w := &noFlush{h: http.Header{}}
	req := httptest.NewRequest("GET", "/v1/tasks/events", nil)
	req.Header.Set("Authorization", "Bearer "+tea.Keys[care.RoleAgent])
	api.ServeHTTP(w, req)
	if w.status != http.StatusNotImplemented || !strings.Contains(w.body.String(), `"no_streaming"`) {
		t.Errorf("without streaming: %d %s; want 501 no_streaming", w.status, w.body.String())
	}

	// Shutdown ends the streams instead of waiting for them.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ts.Config.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown with open streams: %v", err)
	}
	teaStream.until(t, "bye")
	if n := teaStream.next(t); n != "" {
		t.Errorf("after bye: %q; want the end of the stream", n)
	}
}
