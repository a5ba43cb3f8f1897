package localruntime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/workflows"
	stalledparcel "github.com/ordercare/ordercare/workflows/stalled_parcel"
)

// wallLog records the wall time of the runtime's log records: when each
// scheduled run was started and when each stall's buyer message was sent.
type wallLog struct {
	mu      sync.Mutex
	started map[string]time.Time // by order: "router: scheduled run started"
	told    map[string]time.Time // by order: the stall message sent
	// detected is called once, when the want-th run has started.
	want     int
	detected func()
}

func (w *wallLog) Enabled(context.Context, slog.Level) bool { return true }
func (w *wallLog) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *wallLog) WithGroup(string) slog.Handler            { return w }
func (w *wallLog) Handle(_ context.Context, r slog.Record) error {
	at := time.Now()
	var order, wf, step string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "order":
			order = a.Value.String()
		case "workflow":
			wf = a.Value.String()
		case "step":
			step = a.Value.String()
		}
		return true
	})
	if wf != string(stalledparcel.Name) {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case r.Message == "router: scheduled run started":
		w.started[order] = at
		if len(w.started) == w.want && w.detected != nil {
			w.detected()
		}
	case r.Message == "message sent" && step == stalledparcel.StepStall:
		w.told[order] = at
	}
	return nil
}

// BenchmarkStallTimers is issue 10's scale figure: b.N parcels in flight on
// the local runtime, each watched for a stall (only stalled_parcel is on:
// the shop switches the other workflows off). A tenth of them had their
// last scan at the same instant, so their stalls come due together; the
// rest were scanned a day later. A watch is a scheduled run: a stored row
// and no execution until its stall is due. It prints the memory (Go heap
// and resident set) and disk (care.db and sfn.db) with every parcel in
// flight, then moves the clock to the shared due time and prints, per
// stalled parcel, the wall-time lag from that moment until the router
// started its run (detection) and until the buyer's message went out and
// the agent's task opened (the run's first step done): p50, p99, max; and
// the CPU the process used until the last stall was detected, with the
// garbage collector's share (p99 follows it: the host's speed varies).
//
//	go test -run '^$' -bench StallTimers -benchtime 100000x -timeout 60m ./infra/localruntime/
//
// STALL_DATA=<dir> keeps the data of the b.N parcels ingested in
// <dir>/<b.N>, and a later run with the same b.N starts from a copy of it
// instead of ingesting (about 80 s): for comparing changes to the due path
// quickly. With it, the runtime is reopened before the stalls come due, so
// its caches are cold and the lags are not those of the plain run.
// STALL_PROFILE=<file> writes a CPU profile of the detection (from the
// moment the stalls come due until the last is detected). It runs with
// care serve's garbage collector target (TuneGC).
func BenchmarkStallTimers(b *testing.B) {
	defer localruntime.TuneGC()() // as care serve runs
	ctx := context.Background()
	logs := &wallLog{started: map[string]time.Time{}, told: map[string]time.Time{}}
	dir := b.TempDir()
	open := func() *localruntime.Runtime {
		rt, err := localruntime.Open(ctx, localruntime.Options{DataDir: dir, Clock: localruntime.ClockVirtual, Start: start,
			AdminToken: "bench-admin-token-0123456789", Logger: slog.New(logs)})
		if err != nil {
			b.Fatal(err)
		}
		return rt
	}
	together := max(b.N/10, 1)
	var kept string
	if d := os.Getenv("STALL_DATA"); d != "" {
		kept = filepath.Join(d, fmt.Sprint(b.N))
	}
	var rt *localruntime.Runtime
	if _, err := os.Stat(filepath.Join(kept, "care.db")); kept != "" && err == nil {
		copyFiles(b, kept, dir)
		rt = open()
		fmt.Printf("\n%d parcels in flight, each watched by a scheduled run (a copy of %s, caches cold)\n", b.N, kept)
	} else {
		rt = open()
		ingest := ingestStalls(b, rt, together)
		// The stalls come due days after the last scan: by then the store
		// has long been idle and its WAL checkpointed, as it is now.
		if err := rt.Store.(*sqlitestore.DB).Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("\n%d parcels in flight, each watched by a scheduled run (ingested and routed in %.0f s, %.0f parcels/s):\n",
			b.N, ingest.Seconds(), float64(b.N)/ingest.Seconds())
		fmt.Printf("  memory: Go heap in use %.0f MiB, resident set %s\n", float64(ms.HeapInuse)/(1<<20), rss())
		fmt.Printf("  disk: care.db %s, sfn.db %s (executions: none until a stall is due)\n", size(dir, "care.db"), size(dir, "sfn.db"))
		if kept != "" {
			rt.Close()
			copyFiles(b, dir, kept)
			rt = open()
		}
	}
	defer func() { rt.Close() }()
	first, err := rt.Store.GetRun(ctx, "stall", "S0", stalledparcel.Name, "YT00000000")
	if err != nil {
		b.Fatal(err)
	}
	due, ok := first.Due()
	if !ok {
		b.Fatalf("parcel 0's watch is %s, want scheduled", first.Status)
	}

	b.ResetTimer()
	profile := os.Getenv("STALL_PROFILE")
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	var cpu0, cpu1 cpuUse
	logs.mu.Lock()
	logs.want, logs.detected = together, func() {
		cpu1 = cpuNow()
		if profile != "" {
			pprof.StopCPUProfile()
		}
	}
	logs.mu.Unlock()
	cpu0 = cpuNow()
	t0 := time.Now()
	if err := rt.AdvanceTo(ctx, due); err != nil {
		b.Fatal(err)
	}
	total := time.Since(t0)
	b.StopTimer()
	var detect, acted []time.Duration
	for i := range together {
		id := fmt.Sprintf("S%d", i)
		if at, ok := logs.started[id]; ok {
			detect = append(detect, at.Sub(t0))
		}
		if at, ok := logs.told[id]; ok {
			acted = append(acted, at.Sub(t0))
		}
	}
	if len(detect) != together || len(acted) != together || len(logs.started) != together {
		b.Fatalf("%d stalls due: %d runs started (%d of any parcel), %d buyers told; want every one, and no other", together, len(detect), len(logs.started), len(acted))
	}
	fmt.Printf("%d stalls due at %s at once, the clock moved there (every step of every run done in %.2f s, %.0f stalls/s):\n",
		together, due.Format(time.RFC3339), total.Seconds(), float64(together)/total.Seconds())
	fmt.Printf("  detected (run started):          p50 %s  p99 %s  max %s\n", pct(detect, 50), pct(detect, 99), pct(detect, 100))
	fmt.Printf("  acted on (buyer told, task open): p50 %s  p99 %s  max %s\n", pct(acted, 50), pct(acted, 99), pct(acted, 100))
	logs.mu.Lock()
	d := cpuUse{user: cpu1.user - cpu0.user, sys: cpu1.sys - cpu0.sys, gcCPU: cpu1.gcCPU - cpu0.gcCPU, gcs: cpu1.gcs - cpu0.gcs}
	logs.mu.Unlock()
	fmt.Printf("  CPU until the last was detected: %.2f s (user %.2f, system %.2f), %d collections (%.2f s of it)\n",
		d.user+d.sys, d.user, d.sys, d.gcs, d.gcCPU)
	b.ReportMetric(float64(pct(detect, 99))/1e6, "detect-p99-ms")
	b.ReportMetric(float64(pct(acted, 99))/1e6, "acted-p99-ms")
}

// ingestStalls creates the shop "stall" with only stalled_parcel switched
// on and posts b.N orders through its signed webhook, each shipping one
// parcel; the first together were scanned last at start, the others a day
// later. It returns how long ingesting and routing them took.
func ingestStalls(b *testing.B, rt *localruntime.Runtime, together int) time.Duration {
	ctx := context.Background()
	shop, err := httpapi.CreateShop(ctx, rt.Store, start, httpapi.ShopRequest{ID: "stall", Name: "Stall", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY"})
	if err != nil {
		b.Fatal(err)
	}
	for _, wf := range workflows.All().Names() {
		if wf == stalledparcel.Name {
			continue
		}
		body, _ := workflows.All().DefaultTemplate(wf)
		var tpl map[string]any
		if err := json.Unmarshal(body, &tpl); err != nil {
			b.Fatal(err)
		}
		tpl["enabled"] = false
		off, _ := json.Marshal(tpl)
		if err := rt.Store.PutTemplate(ctx, care.Template{ShopID: shop.ID, Workflow: wf, Version: 1, Body: off, CreatedAt: start}); err != nil {
			b.Fatal(err)
		}
	}
	post := signedPoster(b, rt, shop, start)
	scan := func(i int) time.Time {
		if i < together {
			return start
		}
		return start.Add(24 * time.Hour)
	}

	began := time.Now()
	fanout(b.N, func(i int) {
		post(fmt.Sprint("c", i), fmt.Appendf(nil, `{"id":"c%d","type":"order.created","occurred_at":"2026-11-11T01:00:00Z","order":{"id":"S%d","placed_at":"2026-11-11T01:00:00Z","paid_at":"2026-11-11T01:00:00Z","total":"40.00","currency":"CNY","payment_method":"online","buyer":{"name":"王芳","phone":"+8613800138000","locale":"zh-CN","timezone":"Asia/Shanghai"},"items":[{"sku":"LJ","title":"龙井","quantity":1,"price":"40.00"}]}}`, i, i))
		post(fmt.Sprint("s", i), fmt.Appendf(nil, `{"id":"s%d","type":"order.shipped","occurred_at":"2026-11-11T01:00:00Z","order":{"id":"S%d"},"parcels":[{"tracking_number":"YT%08d","carrier":"YTO","status":"in_transit","last_scan_at":%q}]}`,
			i, i, i, scan(i).Format(time.RFC3339)))
	})
	if err := rt.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	if b.Failed() {
		b.FailNow()
	}
	return time.Since(began)
}

// copyFiles copies the files of directory from into directory to.
func copyFiles(b *testing.B, from, to string) {
	if err := os.MkdirAll(to, 0o700); err != nil {
		b.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			b.Fatal(err)
		}
	}
}

// copyFile copies file from to file to, a buffer at a time: reading
// care.db (380 MB) whole set the collector's target so high that the
// stalls came due with no collection at all.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)].Round(time.Millisecond)
}

// rss is the process's resident set (Linux), "?" elsewhere.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
	}
	return "?"
}

// size is the size of a SQLite database and of its WAL.
func size(dir, name string) string {
	var n [2]int64
	for i, f := range []string{name, name + "-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			n[i] = fi.Size()
		}
	}
	return fmt.Sprintf("%.1f MB (+ %.1f MB WAL)", float64(n[0])/1e6, float64(n[1])/1e6)
}

// cpuUse is the process's CPU time so far (seconds) and the garbage
// collector's cycles and CPU time.
type cpuUse struct {
	user, sys, gcCPU float64
	gcs              uint64
}

func cpuNow() cpuUse {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	ss := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(ss)
	return cpuUse{user: float64(ru.Utime.Nano()) / 1e9, sys: float64(ru.Stime.Nano()) / 1e9,
		gcs: ss[0].Value.Uint64(), gcCPU: ss[1].Value.Float64()}
}
