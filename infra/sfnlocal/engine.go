package sfnlocal

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/ordercare/ordercare/infra/sfnlocal/asl"
	"github.com/ordercare/ordercare/internal/clock"
)

// Engine is a durable local AWS Step Functions (Standard) engine. All its
// methods are safe for concurrent use.
type Engine struct {
	cfg   Config
	clk   clock.Clock
	virt  *clock.Virtual // set when cfg.Clock is virtual and SkipIdle
	db    *sql.DB
	wconn *sql.Conn
	tmp   string // temp dir removed by Close when Path was empty

	stInsExec, stUpdExec, stInsHist, stInsTimer, stDelTimer *sql.Stmt
	stInsToken, stCloseToken, stInsInv, stDelInv            *sql.Stmt
	stBegin, stCommit, stRollback                           *sql.Stmt
	stDelTimers, stDelInvs, stCloseTokens                   *sql.Stmt

	smMu     sync.RWMutex
	sms      map[string]*smInfo
	machines map[string]*asl.Machine // by arn + "#" + rev
	parseMu  sync.Mutex              // held while a definition missing from machines is loaded
	parsed   atomic.Int64            // Stats.Parsed

	fnMu sync.RWMutex
	fns  map[string]*fnEntry

	reqs       chan *req
	wch        chan *batch
	committed  chan *batch
	execDone   chan struct{}
	writerDone chan struct{}
	stop       chan struct{}
	ctx        context.Context
	cancel     context.CancelFunc
	closeOnce  sync.Once
	closed     atomic.Bool
	wg         sync.WaitGroup
	// startMu guards started: Start and Close agree on whether the
	// invocation workers run.
	startMu sync.Mutex
	started bool

	// names holds a hash of every execution ARN in the store (owned by the
	// executor goroutine after Open): StartExecution reads the store only
	// on a hash hit.
	names map[uint64]struct{}

	sched *scheduler
	invq  *invQueue

	// busy counts work the engine has not finished (queued requests and
	// signals, batches not yet committed, Lambda invocations in flight);
	// SkipIdle advances the clock only when it is zero.
	busy atomic.Int64
	idle chan struct{}
	// idleCh is closed (and replaced) whenever busy drops to zero: WaitIdle's wake-up.
	idleMu sync.Mutex
	idleCh chan struct{}
	ckpt   chan struct{}
	// batches and batched count group commits (diagnostics).
	batches, batched atomic.Int64
}

type smInfo struct {
	arn, name, role, typ, status string
	rev                          int64
	created                      int64
	definition                   string
	logging, tracing             string
}

// Open opens (creating if needed) the store at cfg.Path and resumes every
// execution found there: pending Lambda invocations are invoked again
// (from Start when cfg.HoldInvocations is set), timers fire when due. It
// returns an error if the store cannot be opened.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "111111111111"
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	e := &Engine{
		cfg:        cfg,
		clk:        cfg.Clock,
		sms:        map[string]*smInfo{},
		machines:   map[string]*asl.Machine{},
		fns:        map[string]*fnEntry{},
		reqs:       make(chan *req, 4096),
		wch:        make(chan *batch, 1),
		committed:  make(chan *batch, 64),
		execDone:   make(chan struct{}),
		writerDone: make(chan struct{}),
		stop:       make(chan struct{}),
		idle:       make(chan struct{}, 1),
		idleCh:     make(chan struct{}),
		ckpt:       make(chan struct{}, 1),
	}
	if v, ok := cfg.Clock.(*clock.Virtual); ok && cfg.SkipIdle {
		e.virt = v
	}
	for name, h := range cfg.Functions {
		e.Register(name, h)
	}
	path := cfg.Path
	if path == "" || path == ":memory:" {
		dir, err := os.MkdirTemp("", "sfnlocal-")
		if err != nil {
			return nil, err
		}
		e.tmp = dir
		path = filepath.Join(dir, "sfn.db")
	}
	db, err := openDB(ctx, path)
	if err != nil {
		return nil, err
	}
	e.db = db
	if e.wconn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := e.prepare(ctx); err != nil {
		e.wconn.Close()
		db.Close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	if err := e.loadStateMachines(ctx); err != nil {
		db.Close()
		return nil, err
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.sched = newScheduler(e)
	e.invq = newInvQueue()
	if err := e.sched.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := e.loadInvocations(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := e.loadNames(ctx); err != nil {
		db.Close()
		return nil, err
	}
	runnable, err := e.loadRunnable(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	x, err := e.newExecutor(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("executor connection: %w", err)
	}
	go e.writer()
	go e.executor(x)
	if !cfg.HoldInvocations {
		e.Start()
	}
	e.wg.Add(2)
	go e.sched.run()
	go e.checkpointer()
	for _, arn := range runnable {
		e.send(&req{sig: &signal{arn: arn, kind: sigResume}})
	}
	return e, nil
}

// Start starts the workers that invoke Lambda handlers: the invocations
// queued since Open (interrupted ones from the last run first) begin. Open
// calls it unless Config.HoldInvocations is set. Start is idempotent and
// does nothing after Close.
func (e *Engine) Start() {
	e.startMu.Lock()
	defer e.startMu.Unlock()
	if e.started || e.closed.Load() {
		return
	}
	e.started = true
	for i := 0; i < e.cfg.Workers; i++ {
		e.wg.Add(1)
		go e.worker()
	}
}

// Close stops the engine: it stops accepting calls, waits for in-flight
// transitions to commit, and closes the store. Lambda invocations still
// running are handed back: their handlers' contexts are cancelled, their
// results ignored, and they stay pending in the store, to be invoked again
// on the next Open (handlers are idempotent, as on AWS). Close is
// idempotent.
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.startMu.Lock()
		e.closed.Store(true)
		e.startMu.Unlock()
		e.cancel()
		close(e.stop)
		<-e.execDone
		e.invq.close()
		e.wg.Wait()
		<-e.writerDone
		for _, s := range []*sql.Stmt{e.stBegin, e.stCommit, e.stRollback, e.stDelTimers, e.stDelInvs, e.stCloseTokens, e.stInsExec, e.stUpdExec, e.stInsHist, e.stInsTimer, e.stDelTimer, e.stInsToken, e.stCloseToken, e.stInsInv, e.stDelInv} {
			if s != nil {
				s.Close()
			}
		}
		e.wconn.Close()
		err = e.db.Close()
		if e.tmp != "" {
			os.RemoveAll(e.tmp)
		}
	})
	return err
}

// Stats are counters for monitoring and benchmarks.
type Stats struct {
	// Commits is the number of group commits so far; Transitions the
	// number of per-execution changes they held.
	Commits, Transitions int64
	// Busy is the work in flight (queued requests and signals, uncommitted
	// batches, running Lambda invocations).
	Busy int64
	// Timers is the number of timers held by the scheduler (including
	// stale ones not yet reached).
	Timers int
	// Parsed is the number of state machine revisions parsed for their
	// executions: one per revision started, however many start at once.
	Parsed int64
}

// Stats returns current counters. Safe for concurrent use.
func (e *Engine) Stats() Stats {
	e.sched.mu.Lock()
	n := len(e.sched.h)
	e.sched.mu.Unlock()
	return Stats{Commits: e.batches.Load(), Transitions: e.batched.Load(), Busy: e.busy.Load(), Timers: n, Parsed: e.parsed.Load()}
}

// Register adds or replaces the Go Lambda handler for function name (the
// last part of the function ARN). handler is anything lambda.NewHandler
// accepts, or a lambda.Handler.
//
// Each invocation of a plain handler function goes through a fresh
// lambda.NewHandler(handler).Invoke: aws-lambda-go returns the response in
// a pooled buffer that it recycles before Invoke returns, so a handler
// value shared by concurrent invocations would mix up their outputs. A
// lambda.Handler given as is, which the engine cannot re-wrap, is invoked
// one call at a time and its output copied.
func (e *Engine) Register(name string, handler any) {
	fe := &fnEntry{}
	if h, ok := handler.(lambda.Handler); ok {
		fe.h = h
	} else {
		fe.raw = handler
	}
	e.fnMu.Lock()
	e.fns[name] = fe
	e.fnMu.Unlock()
}

// fnEntry is a registered function.
type fnEntry struct {
	raw any
	h   lambda.Handler
	mu  sync.Mutex
}

// invoke runs one invocation (see Register).
func (f *fnEntry) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if f.raw != nil {
		return lambda.NewHandler(f.raw).Invoke(ctx, payload)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out, err := f.h.Invoke(ctx, payload)
	return bytes.Clone(out), err
}

func (e *Engine) function(name string) *fnEntry {
	e.fnMu.RLock()
	defer e.fnMu.RUnlock()
	return e.fns[name]
}

// validName applies AWS's naming rules for state machines and executions:
// 1–80 characters; no whitespace, brackets < > { } [ ], wildcards ? *,
// special characters " # % \ ^ | ~ ` $ & , ; : / or control characters.
func validName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 80 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

func (e *Engine) smArn(name string) string {
	return "arn:aws:states:" + e.cfg.Region + ":" + e.cfg.Account + ":stateMachine:" + name
}

func (e *Engine) execArn(smName, name string) string {
	return "arn:aws:states:" + e.cfg.Region + ":" + e.cfg.Account + ":execution:" + smName + ":" + name
}

// parseExecArn returns the state machine ARN and execution name of arn.
func (e *Engine) parseExecArn(arn string) (smArn, name string, err error) {
	p := strings.Split(arn, ":")
	if len(p) != 8 || p[0] != "arn" || p[2] != "states" || p[5] != "execution" {
		return "", "", apiErr(ErrCodeInvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	return strings.Join(append(p[:5:5], "stateMachine", p[6]), ":"), p[7], nil
}

func checkSMArn(arn string) error {
	p := strings.Split(arn, ":")
	if len(p) != 7 || p[0] != "arn" || p[2] != "states" || p[5] != "stateMachine" {
		return apiErr(ErrCodeInvalidArn, "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	return nil
}

func (e *Engine) loadStateMachines(ctx context.Context) error {
	rows, err := e.db.QueryContext(ctx, `SELECT s.arn, s.name, s.rev, s.role_arn, s.type, s.created, s.status, COALESCE(s.logging,''), COALESCE(s.tracing,''), v.definition
		FROM state_machines s JOIN sm_versions v ON v.arn = s.arn AND v.rev = s.rev`)
	if err != nil {
		return fmt.Errorf("load state machines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s := &smInfo{}
		if err := rows.Scan(&s.arn, &s.name, &s.rev, &s.role, &s.typ, &s.created, &s.status, &s.logging, &s.tracing, &s.definition); err != nil {
			return err
		}
		e.sms[s.arn] = s
	}
	return rows.Err()
}

// machine returns the parsed definition of state machine arn at revision
// rev, parsing (and caching) it from the store when needed, once: the
// first starts of a surge all ask at the same moment.
func (e *Engine) machine(arn string, rev int64) (*asl.Machine, error) {
	key := arn + "#" + strconv.FormatInt(rev, 10)
	cached := func() *asl.Machine {
		e.smMu.RLock()
		defer e.smMu.RUnlock()
		return e.machines[key]
	}
	if m := cached(); m != nil {
		return m, nil
	}
	e.parseMu.Lock()
	defer e.parseMu.Unlock()
	if m := cached(); m != nil {
		return m, nil
	}
	var def string
	if err := e.db.QueryRow(`SELECT definition FROM sm_versions WHERE arn=? AND rev=?`, arn, rev).Scan(&def); err != nil {
		return nil, fmt.Errorf("load definition %s#%d: %w", arn, rev, err)
	}
	m, err := parseDefinition(def)
	if err != nil {
		return nil, err
	}
	e.parsed.Add(1)
	e.smMu.Lock()
	e.machines[key] = m
	e.smMu.Unlock()
	return m, nil
}

// definitionError translates an asl.Parse error into AWS's InvalidDefinition.
func definitionError(err error) *APIError {
	if f, ok := asl.Unsupported(err); ok {
		return apiErr(ErrCodeInvalidDefinition, "Invalid State Machine Definition: 'UNSUPPORTED_FEATURE: %s is not supported by the local engine: %v'", f, err)
	}
	var ve *asl.ValidationError
	if errors.As(err, &ve) {
		return apiErr(ErrCodeInvalidDefinition, "%s", ve.Error())
	}
	return apiErr(ErrCodeInvalidDefinition, "Invalid State Machine Definition: '%v'", err)
}

// CreateStateMachine creates a STANDARD state machine. Errors:
// InvalidName, InvalidDefinition (invalid, or using a feature this engine
// refuses, EXPRESS included), StateMachineAlreadyExists (same
// name, different definition or role; identical re-creation returns the
// existing machine, as AWS does).
func (e *Engine) CreateStateMachine(ctx context.Context, in *CreateStateMachineInput) (*CreateStateMachineOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if !validName(in.Name) {
		return nil, apiErr(ErrCodeInvalidName, "Invalid Name: '%s'", in.Name)
	}
	if in.Type != "" && in.Type != "STANDARD" {
		if in.Type == "EXPRESS" {
			return nil, apiErr(ErrCodeInvalidDefinition, "Invalid State Machine Definition: 'UNSUPPORTED_FEATURE: EXPRESS state machines are not supported by the local engine'")
		}
		return nil, apiErr(ErrCodeValidationException, "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", in.Type)
	}
	if _, err := parseDefinition(in.Definition); err != nil {
		return nil, definitionError(err)
	}
	arn := e.smArn(in.Name)
	e.smMu.Lock()
	defer e.smMu.Unlock()
	if s, ok := e.sms[arn]; ok {
		if s.definition == in.Definition && s.role == in.RoleArn {
			return &CreateStateMachineOutput{StateMachineArn: arn, CreationDate: TS(msTime(s.created))}, nil
		}
		return nil, apiErr(ErrCodeStateMachineAlreadyExists, "State Machine Already Exists: '%s'", arn)
	}
	now := e.clk.Now()
	var rev int64
	_ = e.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(rev),0) FROM sm_versions WHERE arn=?`, arn).Scan(&rev)
	rev++
	s := &smInfo{arn: arn, name: in.Name, role: in.RoleArn, typ: "STANDARD", status: "ACTIVE", rev: rev, created: now.UnixMilli(), definition: in.Definition,
		logging: jsonText(in.LoggingConfiguration), tracing: jsonText(in.TracingConfiguration)}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO sm_versions(arn, rev, definition) VALUES (?,?,?)`, arn, rev, in.Definition); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`INSERT OR REPLACE INTO state_machines(arn, name, rev, role_arn, type, created, status, logging, tracing) VALUES (?,?,?,?,?,?,?,?,?)`,
		arn, s.name, rev, s.role, s.typ, s.created, s.status, s.logging, s.tracing); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	e.sms[arn] = s
	return &CreateStateMachineOutput{StateMachineArn: arn, CreationDate: TS(now)}, nil
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	if string(b) == "null" {
		return ""
	}
	return string(b)
}

// UpdateStateMachine replaces the definition and/or role. Running
// executions keep their definition. Errors: InvalidArn,
// StateMachineDoesNotExist, StateMachineDeleting, InvalidDefinition,
// MissingRequiredParameter (nothing to update).
func (e *Engine) UpdateStateMachine(ctx context.Context, in *UpdateStateMachineInput) (*UpdateStateMachineOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if err := checkSMArn(in.StateMachineArn); err != nil {
		return nil, err
	}
	if in.Definition == "" && in.RoleArn == "" && in.LoggingConfiguration == nil && in.TracingConfiguration == nil {
		return nil, apiErr(ErrCodeMissingRequiredParameter, "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified")
	}
	if in.Definition != "" {
		if _, err := parseDefinition(in.Definition); err != nil {
			return nil, definitionError(err)
		}
	}
	e.smMu.Lock()
	defer e.smMu.Unlock()
	s, ok := e.sms[in.StateMachineArn]
	if !ok {
		return nil, apiErr(ErrCodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", in.StateMachineArn)
	}
	if s.status != "ACTIVE" {
		return nil, apiErr(ErrCodeStateMachineDeleting, "State Machine is being deleted: '%s'", in.StateMachineArn)
	}
	n := *s
	if in.Definition != "" && in.Definition != s.definition {
		n.definition = in.Definition
		n.rev++
	}
	if in.RoleArn != "" {
		n.role = in.RoleArn
	}
	if in.LoggingConfiguration != nil {
		n.logging = jsonText(in.LoggingConfiguration)
	}
	if in.TracingConfiguration != nil {
		n.tracing = jsonText(in.TracingConfiguration)
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if n.rev != s.rev {
		if _, err := tx.Exec(`INSERT INTO sm_versions(arn, rev, definition) VALUES (?,?,?)`, n.arn, n.rev, n.definition); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(`UPDATE state_machines SET rev=?, role_arn=?, logging=?, tracing=? WHERE arn=?`, n.rev, n.role, n.logging, n.tracing, n.arn); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	e.sms[n.arn] = &n
	return &UpdateStateMachineOutput{UpdateDate: TS(e.clk.Now())}, nil
}

// DescribeStateMachine describes the current revision. Errors: InvalidArn,
// StateMachineDoesNotExist.
func (e *Engine) DescribeStateMachine(ctx context.Context, in *DescribeStateMachineInput) (*DescribeStateMachineOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if err := checkSMArn(in.StateMachineArn); err != nil {
		return nil, err
	}
	e.smMu.RLock()
	s, ok := e.sms[in.StateMachineArn]
	e.smMu.RUnlock()
	if !ok {
		return nil, apiErr(ErrCodeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", in.StateMachineArn)
	}
	out := &DescribeStateMachineOutput{StateMachineArn: s.arn, Name: s.name, Status: s.status, Definition: s.definition,
		RoleArn: s.role, Type: s.typ, CreationDate: TS(msTime(s.created))}
	if s.logging != "" {
		out.LoggingConfiguration = &LoggingConfiguration{}
		_ = json.Unmarshal([]byte(s.logging), out.LoggingConfiguration)
	} else {
		out.LoggingConfiguration = &LoggingConfiguration{Level: "OFF"}
	}
	if s.tracing != "" {
		out.TracingConfiguration = &TracingConfiguration{}
		_ = json.Unmarshal([]byte(s.tracing), out.TracingConfiguration)
	} else {
		out.TracingConfiguration = &TracingConfiguration{}
	}
	return out, nil
}

// ListStateMachines lists state machines by name. nextToken is opaque.
func (e *Engine) ListStateMachines(ctx context.Context, in *ListStateMachinesInput) (*ListStateMachinesOutput, error) {
	if in == nil {
		in = &ListStateMachinesInput{}
	}
	max := in.MaxResults
	if max <= 0 || max > 1000 {
		max = 100
	}
	e.smMu.RLock()
	var all []*smInfo
	for _, s := range e.sms {
		all = append(all, s)
	}
	e.smMu.RUnlock()
	sortBy(all, func(a, b *smInfo) bool { return a.name < b.name })
	out := &ListStateMachinesOutput{StateMachines: []StateMachineListItem{}}
	for _, s := range all {
		if in.NextToken != "" && s.name <= in.NextToken {
			continue
		}
		if len(out.StateMachines) == max {
			out.NextToken = out.StateMachines[max-1].Name
			break
		}
		out.StateMachines = append(out.StateMachines, StateMachineListItem{StateMachineArn: s.arn, Name: s.name, Type: s.typ, CreationDate: TS(msTime(s.created))})
	}
	return out, nil
}

// DeleteStateMachine deletes a state machine. Its executions (running
// ones included) keep running with the definition they started with and
// remain describable. Deleting an unknown machine succeeds, as in AWS.
func (e *Engine) DeleteStateMachine(ctx context.Context, in *DeleteStateMachineInput) (*DeleteStateMachineOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	if err := checkSMArn(in.StateMachineArn); err != nil {
		return nil, err
	}
	e.smMu.Lock()
	defer e.smMu.Unlock()
	if _, err := e.db.ExecContext(ctx, `DELETE FROM state_machines WHERE arn=?`, in.StateMachineArn); err != nil {
		return nil, err
	}
	delete(e.sms, in.StateMachineArn)
	return &DeleteStateMachineOutput{}, nil
}

// ValidateStateMachineDefinition validates without creating anything.
// Definitions using features this engine refuses are reported as FAIL with
// code UNSUPPORTED_FEATURE.
func (e *Engine) ValidateStateMachineDefinition(ctx context.Context, in *ValidateStateMachineDefinitionInput) (*ValidateStateMachineDefinitionOutput, error) {
	if in == nil {
		return nil, apiErr(ErrCodeValidationException, "missing input")
	}
	out := &ValidateStateMachineDefinitionOutput{Result: "OK", Diagnostics: []ValidateStateMachineDefinitionDiagnostic{}}
	if in.Type == "EXPRESS" {
		out.Result = "FAIL"
		out.Diagnostics = append(out.Diagnostics, ValidateStateMachineDefinitionDiagnostic{Severity: "ERROR", Code: "UNSUPPORTED_FEATURE", Message: "EXPRESS state machines are not supported by the local engine"})
		return out, nil
	}
	_, err := parseDefinition(in.Definition)
	if err == nil {
		return out, nil
	}
	out.Result = "FAIL"
	var ve *asl.ValidationError
	var ue *asl.UnsupportedError
	switch {
	case errors.As(err, &ve):
		for _, p := range ve.Problems {
			out.Diagnostics = append(out.Diagnostics, ValidateStateMachineDefinitionDiagnostic{Severity: "ERROR", Code: p.Code, Message: p.Message, Location: p.Location})
		}
	case errors.As(err, &ue):
		out.Diagnostics = append(out.Diagnostics, ValidateStateMachineDefinitionDiagnostic{Severity: "ERROR", Code: "UNSUPPORTED_FEATURE", Message: ue.Error(), Location: ue.Location})
	default:
		out.Diagnostics = append(out.Diagnostics, ValidateStateMachineDefinitionDiagnostic{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: err.Error()})
	}
	if in.MaxResults > 0 && len(out.Diagnostics) > in.MaxResults {
		out.Diagnostics = out.Diagnostics[:in.MaxResults]
		out.Truncated = true
	}
	return out, nil
}

// PauseInvocations makes the workers start no new Lambda invocation until
// release is called (invocations already running go on; committed ones
// wait in the queue, durable as ever; pauses nest). A caller about to
// start many executions at once pauses them, so the starts are not slowed
// by the steps of the executions started first.
func (e *Engine) PauseInvocations() (release func()) { return e.invq.hold() }
