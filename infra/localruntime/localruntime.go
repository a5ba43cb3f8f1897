// Package localruntime assembles ordercare's local runtime, the process
// `care serve` runs: the embedded SQLite order store, the durable local Step
// Functions engine, the clock they share, the public HTTP API and the Step
// Functions API. Tests start it in-process exactly as `care serve` does.
//
// Everything lives under one data directory:
//
//	care.db      orders, events, shops, the change feed (infra/sqlitestore)
//	sfn.db       state machines and executions (infra/sfnlocal)
//	admin-token  the generated admin token (mode 0600), unless CARE_ADMIN_TOKEN is given
//	clock        the virtual time, when the clock is virtual or skip
//	sfn-credentials  the generated Step Functions API key pair (JSON, mode
//	             0600), unless Options.SFNCredentials is given
package localruntime

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/infra/sfnlocal"
	"github.com/ordercare/ordercare/infra/shopwebhook"
	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/console"
	"github.com/ordercare/ordercare/internal/erasure"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// Clock modes.
const (
	ClockReal    = "real"
	ClockVirtual = "virtual" // moved only through POST /v1/dev/clock
	ClockSkip    = "skip"    // virtual, and the engine jumps to the next timer when idle
)

// Options configures Open.
type Options struct {
	DataDir    string       // required; created if absent
	Clock      string       // ClockReal (default), ClockVirtual or ClockSkip
	AdminToken string       // "" reads or creates DataDir/admin-token
	Start      time.Time    // virtual clock's first time when none is persisted; zero = now
	Logger     *slog.Logger // nil discards
	// SFNCredentials is the key pair the Step Functions API requires
	// (SigV4); zero reads or creates DataDir/sfn-credentials.
	SFNCredentials sfnhttp.Credentials
	// PublicURL is where buyers reach this runtime's HTTP API: the base of
	// the email channel's one-click unsubscribe links. "" means
	// http://127.0.0.1:8080 (care serve's default address).
	PublicURL string
	// SMTPRoots, when set, are the only roots the email channel's SMTP
	// transport trusts (tests with their own server); nil: the system's.
	SMTPRoots *tls.Config
	// SMS, when set, is the "sms" channel (snssms pointed at an SNS
	// endpoint); nil leaves the local runtime without one (steps listing
	// sms fall back to their next channel).
	SMS steps.Channel
	// Store, when set, holds the care state instead of the embedded
	// SQLite store (DataDir/care.db): the DynamoDB store on DynamoDB Local,
	// so a benchmark measures what AWS would consume. The runtime does not
	// close it. Its feed is polled unless it also has Notify, and the
	// router loop's cursor is kept in memory unless it has router.Cursors.
	Store Store
}

// Store is what the runtime keeps the care state in.
type Store interface {
	care.CareStore
	consent.Store
	erasure.Store
}

// Runtime is an open local runtime. Close it to release its files.
type Runtime struct {
	Store      Store
	Engine     *sfnlocal.Engine
	Clock      clock.Clock
	Virtual    *clock.Virtual // nil with the real clock
	AdminToken string
	API        http.Handler // the public HTTP API (webhooks, /v1, /healthz)
	SFN        http.Handler // the Step Functions API (AWS JSON 1.0), SigV4-authenticated
	// SFNCredentials is the key pair SFN requires; SFNCredentialsFile is
	// where it is stored ("" when it was given in Options).
	SFNCredentials     sfnhttp.Credentials
	SFNCredentialsFile string
	// SFNCredentialsGenerated says the pair was created by this Open (so
	// care serve prints its secret once, as it does the admin token).
	SFNCredentialsGenerated bool
	Router                  *router.Router
	Loop                    *router.Loop // the feed → router loop; Open starts it

	// AdminTokenFrom says where AdminToken came from: AdminTokenGiven
	// (Options.AdminToken), AdminTokenFile (read from DataDir/admin-token)
	// or AdminTokenGenerated (created now and written there).
	AdminTokenFrom string

	closeStore func() error // nil for a store given in Options
	stop       context.CancelFunc
	done       chan struct{}
	advance    sync.Mutex
	due        sync.Mutex    // held by startDue: two at once would plan and start the same runs
	scheduled  chan struct{} // the router scheduled a run: look at the next start again
	log        *slog.Logger
}

// Open opens (or creates) the runtime's state under opts.DataDir.
func Open(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.DataDir == "" {
		return nil, errors.New("localruntime: DataDir is required")
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt := &Runtime{log: log}
	var err error
	if rt.AdminToken, rt.AdminTokenFrom, err = adminToken(opts.DataDir, opts.AdminToken); err != nil {
		return nil, err
	}
	switch opts.Clock {
	case "", ClockReal:
		rt.Clock = clock.Real{}
	case ClockVirtual, ClockSkip:
		if rt.Virtual, err = virtualClock(opts.DataDir, opts.Start); err != nil {
			return nil, err
		}
		rt.Clock = rt.Virtual
	default:
		return nil, fmt.Errorf("clock %q: want real, virtual or skip", opts.Clock)
	}
	if rt.Store = opts.Store; rt.Store == nil {
		db, err := sqlitestore.Open(ctx, filepath.Join(opts.DataDir, "care.db"))
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		rt.Store, rt.closeStore = db, db.Close
	}
	rt.Engine, err = sfnlocal.Open(ctx, sfnlocal.Config{
		Path:     filepath.Join(opts.DataDir, "sfn.db"),
		Clock:    rt.Clock,
		SkipIdle: opts.Clock == ClockSkip,
		Logger:   log,
		// The step handler needs the engine's API (the router resumes
		// tasks through it), so it is registered after Open; wire starts
		// the invocations once it is.
		HoldInvocations: true,
	})
	if err != nil {
		rt.Close()
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if rt.SFNCredentials, rt.SFNCredentialsFile, rt.SFNCredentialsGenerated, err = sfnCredentials(opts.DataDir, opts.SFNCredentials); err != nil {
		rt.Close()
		return nil, err
	}
	// Signers use the wall clock; a virtual runtime's own time is accepted too.
	guard := &sfnhttp.SigV4{Credentials: rt.SFNCredentials, Clocks: []clock.Clock{clock.Real{}}}
	if rt.Virtual != nil {
		guard.Clocks = append(guard.Clocks, rt.Virtual)
	}
	// The listener gets the guarded handler. The runtime deploys its state
	// machines through the unguarded one, in process (it is the same
	// process), with the SDK client; its router calls the engine directly
	// (sfnlocal.SDK: the same operations without encoding, signing and
	// decoding each call, which a surge of starts paid for one by one).
	inner := sfnhttp.NewHandler(rt.Engine, log)
	rt.SFN = guard.Wrap(inner)
	if err := rt.wire(ctx, opts, inner, log); err != nil {
		rt.Close()
		return nil, err
	}
	return rt, nil
}

// wire creates the care workflows' state machines and connects the step
// handler, the router and the API, then starts the router loop.
func (rt *Runtime) wire(ctx context.Context, opts Options, sfnAPI http.Handler, log *slog.Logger) error {
	dataDir := opts.DataDir
	client := sfnhttp.InProcessClient(sfnAPI, Region, rt.SFNCredentials)
	for _, wf := range workflows.All().Names() {
		if _, err := deployWorkflow(ctx, client, wf); err != nil {
			return err
		}
	}
	rt.scheduled = make(chan struct{}, 1)
	wake := func(time.Time) { // a run was scheduled: look at the next start again
		select {
		case rt.scheduled <- struct{}{}:
		default:
		}
	}
	rt.Router = &router.Router{Store: rt.Store, SFN: sfnlocal.SDK{Engine: rt.Engine}, Clock: rt.Clock, StateMachinePrefix: stateMachinePrefix, Workflows: workflows.All(), Logger: log,
		Consents: rt.Store, OnScheduled: wake}
	handler := &steps.Handler{Store: loggedLedger{rt.Store, log}, Clock: rt.Clock, Resumer: rt.Router,
		Channels: map[string]steps.Channel{"webhook": &shopwebhook.Channel{Sources: rt.Store, Clock: rt.Clock},
			"email": rt.emailChannel(opts)},
		Consents:    rt.Store,
		Workflows:   workflows.All(),
		OnScheduled: wake}
	if opts.SMS != nil {
		handler.Channels["sms"] = opts.SMS
	}
	rt.Router.ConfirmOptOut = handler.ConfirmOptOut
	rt.Engine.Register(StepFunction, handler.Handle)
	// Only now may invocations run, those a crash or shutdown interrupted
	// first: before this, they would find no function and fail their run.
	rt.Engine.Start()
	rt.Loop = &router.Loop{Router: rt.Router, Feed: rt.Store, Cursors: &memCursors{}, Logger: log,
		DeadLetter: deadLetters(filepath.Join(dataDir, "router-dead-letters.jsonl"), rt.Clock)}
	if c, ok := rt.Store.(router.Cursors); ok {
		rt.Loop.Cursors = c
	}
	if n, ok := rt.Store.(interface{ Notify() <-chan struct{} }); ok {
		rt.Loop.Wake = n.Notify()
	}
	api, err := httpapi.New(httpapi.Config{Store: rt.Store, Clock: rt.Clock, AdminToken: rt.AdminToken, Logger: log,
		Resumer: rt.Router, DevClock: rt.devClock(), Workflows: workflows.All(), Unsubscribe: rt.unsubscribeSigner(),
		Consents: rt.Store, Erasure: rt.Store})
	if err != nil {
		return err
	}
	rt.API = console.Handler(api) // the console at / and /console/, the API behind it
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	rt.stop, rt.done = stop, make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		rt.Loop.Run(loopCtx)
	}()
	go func() {
		defer wg.Done()
		rt.sweepTexts(loopCtx, log)
	}()
	go func() {
		defer wg.Done()
		rt.startScheduled(loopCtx, log)
	}()
	go func() {
		wg.Wait()
		close(rt.done)
	}()
	return nil
}

// dueBatch is how many scheduled runs one StartDue call starts (it keeps
// router.dueInFlight of them in flight, earliest due first).
const dueBatch = 10000

// startScheduled is the local runtime's counterpart of the AWS rule that
// calls Router.StartDue every minute, only exact: it waits on the engine's
// clock for the earliest scheduled run (woken early when the router
// schedules an earlier one) and starts every run due, until ctx ends.
func (rt *Runtime) startScheduled(ctx context.Context, log *slog.Logger) {
	var retry time.Time // after a failure: not before then (a run that keeps failing is due at once, again and again)
	for ctx.Err() == nil {
		next, ok, err := rt.nextScheduled(ctx)
		if err != nil {
			log.ErrorContext(ctx, "scheduled runs: next start", "error", err.Error())
			next, ok = rt.Clock.Now().Add(time.Second), true // retry in a second
		}
		if ok && next.Before(retry) {
			next = retry
		}
		waitCtx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-rt.scheduled:
				cancel()
			case <-waitCtx.Done():
			}
		}()
		if !ok {
			<-waitCtx.Done()
		} else if release, err := rt.Engine.WaitUntil(waitCtx, next); err == nil {
			retry = time.Time{}
			if err := rt.startDue(ctx); err != nil && ctx.Err() == nil {
				log.ErrorContext(ctx, "scheduled runs: start", "error", err.Error())
				retry = rt.Clock.Now().Add(time.Second)
			}
			release()
		}
		cancel()
	}
}

// nextScheduled is the start time of the earliest scheduled run.
func (rt *Runtime) nextScheduled(ctx context.Context) (time.Time, bool, error) {
	runs, _, err := rt.Store.DueRuns(ctx, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "", 1)
	if err != nil || len(runs) == 0 {
		return time.Time{}, false, err
	}
	return *runs[0].NextAt, true, nil
}

// startDue starts every scheduled run due now (Router.StartDue, in
// batches), one call at a time (the clock's loop and Settle both call it),
// with the engine's Lambda invocations paused meanwhile: the steps of the
// runs started first wait for the last to be started.
func (rt *Runtime) startDue(ctx context.Context) error {
	rt.due.Lock()
	defer rt.due.Unlock()
	defer rt.Engine.PauseInvocations()()
	for {
		n, err := rt.Router.StartDue(ctx, dueBatch)
		if err != nil || n < dueBatch {
			return err
		}
	}
}

// deadLetters appends each change the router gave up on to path, one JSON
// object per line ({"at","change","error"}: ids only), for ops to replay.
func deadLetters(path string, clk clock.Clock) func(context.Context, care.Change, error) {
	var mu sync.Mutex
	return func(_ context.Context, c care.Change, err error) {
		b, _ := json.Marshal(map[string]any{"at": clk.Now().UTC(), "change": c, "error": err.Error()})
		mu.Lock()
		defer mu.Unlock()
		f, ferr := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if ferr != nil {
			return // the loop has logged the change already
		}
		defer f.Close()
		_, _ = f.Write(append(b, '\n'))
	}
}

// Region is the region of the local engine's ARNs.
const Region = "us-east-1"

// stateMachinePrefix names the local state machines: each is named for its
// workflow (router.Router.StateMachinePrefix).
const stateMachinePrefix = "arn:aws:states:" + Region + ":111111111111:stateMachine:"

// StepFunction is the name the state machines' ${StepFunction} substitution
// resolves to locally: the engine invokes the step handler under it.
const StepFunction = "StepFunction"

// deployWorkflow creates the workflow's state machine, or updates it to the
// definition in workflows/ when it exists: running executions keep the
// revision they started with.
func deployWorkflow(ctx context.Context, client *sfn.Client, wf care.Workflow) (string, error) {
	def, err := workflows.Substitute(wf, map[string]string{
		StepFunction: "arn:aws:lambda:" + Region + ":111111111111:function:" + StepFunction})
	if err != nil {
		return "", err
	}
	out, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(string(wf)),
		Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::111111111111:role/ordercare-local")})
	var exists *sfntypes.StateMachineAlreadyExists
	if errors.As(err, &exists) {
		arn := stateMachinePrefix + string(wf)
		cur, err := client.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err != nil || aws.ToString(cur.Definition) == string(def) {
			return arn, err
		}
		_, err = client.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(string(def))})
		return arn, err
	}
	if err != nil {
		return "", fmt.Errorf("create state machine %s: %w", wf, err)
	}
	return *out.StateMachineArn, nil
}

// Settle returns once the runtime has nothing left to do at the current
// time: every change in the feed routed, every scheduled run due started,
// and the engine idle (no due timer, no step running).
func (rt *Runtime) Settle(ctx context.Context) error {
	for {
		if _, err := rt.Loop.Drain(ctx); err != nil {
			return err
		}
		if err := rt.startDue(ctx); err != nil {
			// One run that cannot start (it stays due, and is retried) must
			// not stop time for every other: log it and go on.
			rt.log.ErrorContext(ctx, "scheduled runs: start", "error", err.Error())
		}
		if err := rt.Engine.WaitIdle(ctx); err != nil {
			return err
		}
		// A step may have resumed or raised something that touches the
		// feed's consumers; stop once a drain finds nothing new.
		if n, err := rt.Loop.Drain(ctx); err != nil || n == 0 {
			return err
		}
	}
}

// AdvanceTo moves the virtual clock to t the way time passes: through every
// engine timer and scheduled run's start due on the way, settling the runtime at each, so a reminder
// due at 10:10 runs with the clock at 10:10 even when time jumps to 18:00.
// It refuses to move backwards (clock.ErrBackwards).
func (rt *Runtime) AdvanceTo(ctx context.Context, t time.Time) error {
	if rt.Virtual == nil {
		return errors.New("the clock is real")
	}
	rt.advance.Lock()
	defer rt.advance.Unlock()
	if t.Before(rt.Virtual.Now()) {
		return clock.ErrBackwards
	}
	for {
		if err := rt.Settle(ctx); err != nil {
			return err
		}
		next, ok := rt.Engine.NextTimer()
		start, scheduled, err := rt.nextScheduled(ctx)
		if err != nil {
			return err
		}
		if scheduled && start.After(rt.Virtual.Now()) && (!ok || start.Before(next)) { // one due now failed to start (Settle logged it)
			next, ok = start, true
		}
		if !ok || next.After(t) {
			break
		}
		if next.After(rt.Virtual.Now()) {
			if err := rt.Virtual.Set(next); err != nil {
				return err
			}
		}
	}
	if t.After(rt.Virtual.Now()) {
		if err := rt.Virtual.Set(t); err != nil {
			return err
		}
	}
	return rt.Settle(ctx)
}

// devClock is what /v1/dev/clock moves: nil with the real clock.
func (rt *Runtime) devClock() httpapi.DevClock {
	if rt.Virtual == nil {
		return nil
	}
	return devClock{rt}
}

type devClock struct{ rt *Runtime }

func (d devClock) Now() time.Time                                   { return d.rt.Virtual.Now() }
func (d devClock) AdvanceTo(ctx context.Context, t time.Time) error { return d.rt.AdvanceTo(ctx, t) }

// Close stops the router loop and the engine and closes both databases.
func (rt *Runtime) Close() error {
	if rt.stop != nil {
		rt.stop()
		<-rt.done
	}
	var errs []error
	if rt.Engine != nil {
		errs = append(errs, rt.Engine.Close())
	}
	if rt.closeStore != nil {
		errs = append(errs, rt.closeStore())
	}
	return errors.Join(errs...)
}

// Where Runtime.AdminToken came from.
const (
	AdminTokenGiven     = "given"     // Options.AdminToken (CARE_ADMIN_TOKEN)
	AdminTokenFile      = "file"      // read from DataDir/admin-token
	AdminTokenGenerated = "generated" // created now and written to DataDir/admin-token
)

// adminToken returns the given token, or the one in dir/admin-token, or a new
// one written there with mode 0600, and where it came from.
func adminToken(dir, given string) (string, string, error) {
	if given != "" {
		if len(given) < 16 {
			return "", "", errors.New("CARE_ADMIN_TOKEN must be at least 16 characters")
		}
		return given, AdminTokenGiven, nil
	}
	path := filepath.Join(dir, "admin-token")
	if b, err := os.ReadFile(path); err == nil {
		if tok := strings.TrimSpace(string(b)); len(tok) >= 16 {
			return tok, AdminTokenFile, nil
		}
		return "", "", fmt.Errorf("%s holds no usable token; delete it to generate one", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "ocadm_" + hex.EncodeToString(b)
	if err := writeFileAtomic(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return tok, AdminTokenGenerated, nil
}

// sfnCredentials returns the given key pair, or the one in
// dir/sfn-credentials, or a new one written there with mode 0600.
func sfnCredentials(dir string, given sfnhttp.Credentials) (c sfnhttp.Credentials, path string, generated bool, err error) {
	if given != (sfnhttp.Credentials{}) {
		if !given.Valid() {
			return given, "", false, errors.New("Step Functions credentials: the key id and the secret must each be at least 16 characters")
		}
		return given, "", false, nil
	}
	path = filepath.Join(dir, "sfn-credentials")
	if b, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(b, &c) != nil || !c.Valid() {
			return c, "", false, fmt.Errorf("%s holds no usable key pair; delete it to generate one", path)
		}
		return c, path, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return c, "", false, err
	}
	c = sfnhttp.NewCredentials()
	b, _ := json.MarshalIndent(c, "", "  ")
	return c, path, true, writeFileAtomic(path, append(b, '\n'), 0o600)
}

// virtualClock restores the virtual time saved in dir/clock (or starts at
// start, else now) and saves every move there before it takes effect.
func virtualClock(dir string, start time.Time) (*clock.Virtual, error) {
	path := filepath.Join(dir, "clock")
	if b, err := os.ReadFile(path); err == nil {
		t, perr := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
		if perr != nil {
			return nil, fmt.Errorf("%s: %w", path, perr)
		}
		start = t
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	} else if start.IsZero() {
		start = time.Now().UTC().Truncate(time.Second)
	}
	save := func(t time.Time) error {
		return writeFileAtomic(path, []byte(t.UTC().Format(time.RFC3339Nano)+"\n"), 0o600)
	}
	if err := save(start); err != nil {
		return nil, err
	}
	return clock.NewVirtual(start, save), nil
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// DemoShop is what EnsureDemoShop prints: where to send webhooks and the keys.
type DemoShop = httpapi.NewShopResponse

// EnsureDemoShop creates the shop "demo" on first use and saves its keys and
// webhook secret in DataDir/demo-shop.json (mode 0600), so `make run` can
// print them every time; later calls read that file. created says whether
// the shop was created now.
func (rt *Runtime) EnsureDemoShop(ctx context.Context, dataDir string) (d DemoShop, created bool, err error) {
	path := filepath.Join(dataDir, "demo-shop.json")
	if b, err := os.ReadFile(path); err == nil {
		return d, false, json.Unmarshal(b, &d)
	}
	d, err = httpapi.CreateShop(ctx, rt.Store, rt.Clock.Now(), httpapi.ShopRequest{
		ID: "demo", Name: "Demo Tea Shop", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY"})
	if err != nil {
		return DemoShop{}, false, fmt.Errorf("create demo shop: %w", err)
	}
	if err := rt.seedDemoTemplates(d); err != nil {
		return DemoShop{}, false, err
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	return d, true, writeFileAtomic(path, b, 0o600)
}

// memCursors keeps the router loop's cursor in memory, for a store without
// cursors of its own (Options.Store): a restart reads its feed again from
// the start, which the router's idempotence allows.
type memCursors struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memCursors) Cursor(_ context.Context, name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name], nil
}

func (c *memCursors) PutCursor(_ context.Context, name, cursor string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[name] = cursor
	return nil
}
