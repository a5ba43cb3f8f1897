package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/infra/sfnlocal"
	"github.com/ordercare/ordercare/internal/clock"
)

// refused are the `requires` values the engine does not implement: a case
// naming one of them is "unsupported". Everything else is in scope.
var refused = map[string]bool{
	"jsonata": true, "variables": true, "express": true, "sync": true, "activity": true,
	"credentials": true, "aws-sdk": true, "distributed_map": true, "item_reader": true,
	"item_batcher": true, "result_writer": true,
	// AWS services other than Lambda.
	"sqs": true, "sns": true, "dynamodb": true, "events": true, "s3": true, "sfn": true,
	"apigateway": true, "secretsmanager": true,
}

// inScope are the `requires` values the engine must handle. A value in
// neither set is taken to be another AWS service, hence refused.
var inScope = map[string]bool{
	"choice": true, "wait": true, "map": true, "parallel": true, "retry": true, "catch": true,
	"intrinsics": true, "context_object": true, "task_timeouts": true,
	"execution_timeout": true, "lambda": true, "callback": true,
}

// Result is one entry of the JSON report.
type Result struct {
	Name   string `json:"name"`
	Result string `json:"result"` // pass | fail | unsupported
	Reason string `json:"reason"`
	area   string
	group  string // failure cause, for conformance-failures.md
	detail string // longer diff
}

// caseTimeout bounds the real time one case may take.
const caseTimeout = 60 * time.Second

// start is the virtual time every case starts at.
var start = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// TestConformance runs every recorded case through a real engine and
// compares status, output, error/cause and the normalised history.
//
// Environment: ASL_CONFORMANCE_DIR (cases), ASL_CONFORMANCE_REPORT (JSON
// report path), ASL_CONFORMANCE_FAILURES (markdown summary of failures by
// cause), ASL_CONFORMANCE_FILTER (regexp on case names, for development),
// ASL_CONFORMANCE_ISOLATE (non-empty: one engine per case, no shared engine),
// ASL_CONFORMANCE_VIA=api (every Step Functions operation the runner calls
// goes over HTTP through sfnhttp on loopback; engine hooks stay in-process).
//
// Most cases share one engine (state machine and execution names get a
// "-c<index>" suffix, mapped back to the recorded tokens); cases that move
// or watch the clock, use time-dependent input or compute on their own
// names get an engine of their own.
func TestConformance(t *testing.T) {
	cases := loadCases(t)
	if f := os.Getenv("ASL_CONFORMANCE_FILTER"); f != "" {
		re, err := regexp.Compile(f)
		if err != nil {
			t.Fatalf("ASL_CONFORMANCE_FILTER: %v", err)
		}
		kept := cases[:0]
		for _, c := range cases {
			if re.MatchString(c.Name) {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	via := os.Getenv("ASL_CONFORMANCE_VIA")
	if via != viaEngine && via != viaAPI {
		t.Fatalf("ASL_CONFORMANCE_VIA=%q: want %q or unset", via, viaAPI)
	}
	known := loadKnownFailures(t)
	results := make([]Result, len(cases))
	// One directory per case, named by index: case names hold characters
	// ('#', '?') that a SQLite file: URI would misread.
	base := t.TempDir()
	shared, err := openShared(filepath.Join(base, "shared.db"))
	if err != nil {
		t.Fatalf("open shared engine: %v", err)
	}
	shared.via = via
	var stopServing func()
	shared.api, stopServing = serve(via, shared.eng)
	t.Run("case", func(t *testing.T) {
		for i, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				r := runCase(t, c, i, shared, filepath.Join(base, fmt.Sprint(i)))
				r.Name, r.area = c.Name, c.Area
				results[i] = r
				switch r.Result {
				case "unsupported":
					t.Skipf("unsupported: %s", r.Reason)
				case "fail":
					if why, ok := known[c.Name]; ok {
						t.Logf("known failure (%s): %s", why, r.Reason)
						return
					}
					t.Errorf("%s\n%s", r.Reason, r.detail)
				default:
					if _, ok := known[c.Name]; ok {
						t.Errorf("listed in %s but passes now: remove it from the list", knownFailuresFile)
					}
				}
			})
		}
	})
	stopServing()
	if err := shared.eng.Close(); err != nil {
		t.Errorf("close shared engine: %v", err)
	}
	summarise(t, results)
}

// shared is one engine for every case that does not move or watch the
// clock itself: a real engine with many state machines, much faster than
// one engine per case. Names get a per-case suffix mapped back to the
// recorded tokens.
type shared struct {
	eng     *sfnlocal.Engine
	api     stepFunctions // eng's operations, called directly or over HTTP
	via     string        // ASL_CONFORMANCE_VIA, for the cases' own engines
	vc      *clock.Virtual
	mu      sync.Mutex
	helpers map[string]string // function name → helper
	closed  sync.Map          // execution ARN → chan string
}

func openShared(path string) (*shared, error) {
	s := &shared{vc: clock.NewVirtual(start, nil), helpers: map[string]string{}}
	eng, err := sfnlocal.Open(context.Background(), sfnlocal.Config{
		Path:     path,
		Clock:    s.vc,
		SkipIdle: true,
		OnExecutionClosed: func(arn, status string) {
			select {
			case s.closedChan(arn) <- status:
			default:
			}
		},
	})
	if err != nil {
		return nil, err
	}
	s.eng = eng
	return s, nil
}

func (s *shared) closedChan(arn string) chan string {
	ch, _ := s.closed.LoadOrStore(arn, make(chan string, 1))
	return ch.(chan string)
}

// register makes the case's Lambda functions available; it reports false
// when a name is already taken by another helper (the case then needs its
// own engine).
func (s *shared) register(c *Case) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, desc := range c.Lambdas {
		helper := lambdaHelper(desc)
		if h, ok := s.helpers[name]; ok && h != helper {
			return false, nil
		}
	}
	for name, desc := range c.Lambdas {
		helper := lambdaHelper(desc)
		if _, ok := s.helpers[name]; ok {
			continue
		}
		h, err := helperHandler(helper, nil, nil)
		if err != nil {
			return false, err
		}
		s.eng.Register(name, h)
		s.helpers[name] = helper
	}
	return true, nil
}

func lambdaHelper(desc string) string {
	helper, _, _ := strings.Cut(desc, ":")
	return strings.TrimSpace(helper)
}

// needsOwnEngine tells whether a case moves or watches the clock, or
// starts from a time-dependent input, and so must run alone.
func needsOwnEngine(c *Case) bool {
	if os.Getenv("ASL_CONFORMANCE_ISOLATE") != "" || stopsExecution(c) || c.DynamicInput != nil ||
		c.Has("task_timeouts") || c.Has("execution_timeout") {
		return true
	}
	if orDefault(c.Run.Region, "us-east-1") != "us-east-1" || orDefault(c.Run.Account, "111111111111") != "111111111111" {
		return true
	}
	for _, desc := range c.Lambdas {
		if lambdaHelper(desc) == "wait_60_seconds" {
			return true
		}
	}
	// Intrinsics computing on the state machine or execution name would see
	// the shared engine's suffixed names.
	def := string(c.Definition)
	if strings.Contains(def, "States.") {
		for _, f := range []string{"StateMachine.Name", "StateMachine.Id", "Execution.Name", "Execution.Id"} {
			if strings.Contains(def, f) {
				return true
			}
		}
	}
	return false
}

// runCase runs one case and classifies it.
func runCase(t *testing.T, c *Case, idx int, sh *shared, dir string) Result {
	for _, r := range c.Requires {
		if refused[r] || !inScope[r] {
			return Result{Result: "unsupported", Reason: "requires " + r}
		}
	}
	if c.Run.StateMachineType != "" && c.Run.StateMachineType != "STANDARD" {
		return Result{Result: "unsupported", Reason: "state machine type " + c.Run.StateMachineType}
	}
	fail := func(group, reason, detail string) Result {
		return Result{Result: "fail", Reason: reason, group: group, detail: detail}
	}
	if extra := extraTransformers[c.Name]; extra != nil {
		cc := *c
		cc.Transformers = append(append([]Transformer(nil), c.Transformers...), extra...)
		c = &cc
	}
	norm, err := NewNormalizer(c)
	if err != nil {
		return fail("normaliser: transformer not supported", err.Error(), "")
	}

	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	done := make(chan struct{})
	var doneOnce sync.Once
	closeDone := func() { doneOnce.Do(func() { close(done) }) }
	defer closeDone()

	stops := stopsExecution(c)
	var stopWait <-chan struct{}
	smName, roleArn := runNames(c)
	execName := c.Run.ExecutionName
	var (
		eng      *sfnlocal.Engine
		api      stepFunctions
		vc       *clock.Virtual
		closedCh <-chan string
	)
	own := needsOwnEngine(c)
	if !own {
		ok, err := sh.register(c)
		if err != nil {
			return fail("test: unknown Lambda helper", err.Error(), "")
		}
		own = !ok
	}
	if !own {
		api, vc = sh.api, sh.vc
		// Unique names on the shared engine, mapped to what the recorded
		// data shows for the case's own names.
		suffix := fmt.Sprintf("-c%d", idx)
		mapped := []Placeholder{{Literal: smName + suffix, Token: norm.tokenFor(smName)}}
		if execName != "" {
			mapped = append(mapped, Placeholder{Literal: execName + suffix, Token: norm.tokenFor(execName)})
			execName += suffix
		}
		norm.placeholders = append(mapped, norm.placeholders...)
		smName += suffix
	} else {
		vc = clock.NewVirtual(start, nil)
		var clk clock.Clock = vc
		timerSet := make(chan struct{}, 1)
		if stops {
			// The test stops the execution while it waits: no skipping, and
			// we learn that the Wait state is waiting when it sets a timer.
			clk = &watchClock{Virtual: vc, armed: timerSet}
		}
		closed := make(chan string, 1)
		closedCh = closed
		funcs := map[string]any{}
		for name, desc := range c.Lambdas {
			h, err := helperHandler(lambdaHelper(desc), vc, done)
			if err != nil {
				return fail("test: unknown Lambda helper", err.Error(), "")
			}
			funcs[name] = h
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail("test: temp dir", err.Error(), "")
		}
		var err error
		eng, err = sfnlocal.Open(ctx, sfnlocal.Config{
			Path:      filepath.Join(dir, "sfn.db"),
			Clock:     clk,
			SkipIdle:  !stops,
			Region:    orDefault(c.Run.Region, "us-east-1"),
			Account:   orDefault(c.Run.Account, "111111111111"),
			Functions: funcs,
			Workers:   4,
			OnExecutionClosed: func(arn, status string) {
				select {
				case closed <- status:
				default:
				}
			},
		})
		if err != nil {
			return fail("engine: Open failed", "open engine: "+err.Error(), "")
		}
		var stopServing func()
		api, stopServing = serve(sh.via, eng)
		defer func() {
			closeDone() // handlers still "sleeping" return now
			stopServing()
			if err := eng.Close(); err != nil {
				t.Logf("close engine: %v", err)
			}
		}()
		stopWait = timerSet
	}

	input := string(c.Input)
	if c.DynamicInput != nil {
		var err error
		input, err = applyDynamicInput(c, norm, vc.Now())
		if err != nil {
			return fail("test: dynamic input", err.Error(), "")
		}
	}
	// The tests passed json.dumps(input); AWS keeps input texts verbatim.
	if py, err := PyDumps([]byte(input)); err == nil {
		input = py
	}

	sm, err := api.CreateStateMachine(ctx, &sfnlocal.CreateStateMachineInput{
		Name:       smName,
		Definition: string(c.Definition),
		RoleArn:    roleArn,
		Type:       "STANDARD",
	})
	if err != nil {
		return fail("definition refused: "+errorGroup(err), "CreateStateMachine: "+err.Error(), "")
	}
	ex, err := api.StartExecution(ctx, &sfnlocal.StartExecutionInput{
		StateMachineArn: sm.StateMachineArn,
		Name:            execName,
		Input:           input,
	})
	if err != nil {
		return fail("StartExecution refused: "+errorGroup(err), "StartExecution: "+err.Error(), "")
	}
	if closedCh == nil {
		closedCh = sh.closedChan(ex.ExecutionArn)
	}
	if stops {
		select {
		case <-stopWait:
		case <-ctx.Done():
			return fail("execution never waited (StopExecution case)", "no timer was set before the deadline", "")
		}
		if _, err := api.StopExecution(ctx, &sfnlocal.StopExecutionInput{ExecutionArn: ex.ExecutionArn}); err != nil {
			return fail("StopExecution failed", "StopExecution: "+err.Error(), "")
		}
	}
	select {
	case <-closedCh:
	case <-ctx.Done():
		return fail("execution did not finish", fmt.Sprintf("execution still running after %v (real time)", caseTimeout), lastEvents(ctx, api, ex.ExecutionArn))
	}

	desc, err := api.DescribeExecution(context.Background(), &sfnlocal.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	if err != nil {
		return fail("DescribeExecution failed", "DescribeExecution: "+err.Error(), "")
	}
	return compare(c, norm, api, ex.ExecutionArn, desc)
}

// compare checks history (first: it explains the rest), status, error,
// cause and output, and returns the first difference found.
func compare(c *Case, norm *Normalizer, api stepFunctions, arn string, desc *sfnlocal.DescribeExecutionOutput) Result {
	fail := func(group, reason, detail string) Result {
		return Result{Result: "fail", Reason: reason, group: group, detail: detail}
	}
	exp := c.Expected
	if exp.HasHistory {
		events, err := history(context.Background(), api, arn)
		if err != nil {
			return fail("GetExecutionHistory failed", "GetExecutionHistory: "+err.Error(), "")
		}
		got := norm.History(events)
		if !cmp.Equal(exp.History, got) {
			group, reason := historyDiff(exp.History, got)
			return fail(group, reason, typeTable(exp.History, got)+cmp.Diff(exp.History, got))
		}
	}
	if desc.Status != exp.Status {
		return fail(fmt.Sprintf("status: want %s got %s", exp.Status, desc.Status),
			fmt.Sprintf("status: want %s got %s%s", exp.Status, desc.Status, errCause(desc)), "")
	}
	if exp.Status != sfnlocal.StatusSucceeded {
		if (exp.Error != nil) != (desc.Error != nil) || (exp.Error != nil && *exp.Error != *desc.Error) {
			return fail("error differs", fmt.Sprintf("error: want %s got %s", strPtr(exp.Error), strPtr(desc.Error)), errCause(desc))
		}
		if exp.HasCause != (desc.Cause != nil) {
			return fail("cause presence differs", fmt.Sprintf("cause: want present=%v got %s", exp.HasCause, strPtr(desc.Cause)), "")
		}
		if exp.HasCause {
			got := norm.Cause(*desc.Cause)
			if !cmp.Equal(exp.Cause, got) {
				return fail("cause differs", "cause: "+shortDiff("", exp.Cause, got), cmp.Diff(exp.Cause, got))
			}
		}
	}
	if exp.HasOutput && exp.Status == sfnlocal.StatusSucceeded {
		if desc.Output == nil {
			return fail("output missing", "output: want a value, got none", "")
		}
		if exp.OutputIsRawText {
			return Result{Result: "pass", Reason: "output recorded as masked raw text: not compared"}
		}
		v, err := DecodeJSON([]byte(*desc.Output))
		if err != nil {
			return fail("output is not JSON", "output: "+err.Error(), *desc.Output)
		}
		got := norm.Output(v)
		if !cmp.Equal(exp.Output, got) {
			return fail("output differs", "output: "+shortDiff("", exp.Output, got), cmp.Diff(exp.Output, got))
		}
	}
	return Result{Result: "pass"}
}

// history reads the whole execution history as generic JSON values.
func history(ctx context.Context, api stepFunctions, arn string) ([]any, error) {
	var events []any
	token := ""
	for {
		out, err := api.GetExecutionHistory(ctx, &sfnlocal.GetExecutionHistoryInput{
			ExecutionArn: arn, MaxResults: 1000, NextToken: token,
		})
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out.Events)
		if err != nil {
			return nil, err
		}
		v, err := DecodeJSON(b)
		if err != nil {
			return nil, err
		}
		if l, ok := v.([]any); ok {
			events = append(events, l...)
		}
		if out.NextToken == "" {
			return events, nil
		}
		token = out.NextToken
	}
}

// historyDiff describes the first difference between two normalised
// histories: a grouping key (no case-specific values) and a short reason.
func historyDiff(want, got []any) (group, reason string) {
	n := min(len(want), len(got))
	for i := 0; i < n; i++ {
		if cmp.Equal(want[i], got[i]) {
			continue
		}
		wt, gt := evType(want[i]), evType(got[i])
		if wt != gt {
			return fmt.Sprintf("history: event type: want %s got %s", wt, gt),
				fmt.Sprintf("history[%d] (want %d events, got %d): type: want %s got %s", i, len(want), len(got), wt, gt)
		}
		path, w, g := firstDiff(want[i], got[i], "")
		return fmt.Sprintf("history: %s %s differs", wt, genericPath(path)),
			fmt.Sprintf("history[%d] %s %s: want %s got %s", i, wt, path, clip(pyJSONOrMissing(w)), clip(pyJSONOrMissing(g)))
	}
	if len(want) > len(got) {
		return fmt.Sprintf("history: missing event %s", evType(want[n])),
			fmt.Sprintf("history: want %d events, got %d; first missing: [%d] %s", len(want), len(got), n, evType(want[n]))
	}
	return fmt.Sprintf("history: extra event %s", evType(got[n])),
		fmt.Sprintf("history: want %d events, got %d; first extra: [%d] %s %s", len(want), len(got), n, evType(got[n]), clip(pyJSON(got[n])))
}

// typeTable lists want/got event types side by side when they differ.
func typeTable(want, got []any) string {
	n := max(len(want), len(got))
	same := len(want) == len(got)
	for i := 0; same && i < n; i++ {
		same = evType(want[i]) == evType(got[i])
	}
	if same {
		return ""
	}
	var b strings.Builder
	b.WriteString("event types (want | got):\n")
	for i := 0; i < n; i++ {
		w, g := "", ""
		if i < len(want) {
			w = evType(want[i])
		}
		if i < len(got) {
			g = evType(got[i])
		}
		mark := " "
		if w != g {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s %3d %-26s | %s\n", mark, i+1, w, g)
	}
	return b.String()
}

func evType(v any) string {
	if m, ok := v.(map[string]any); ok {
		if s, ok := m["type"].(string); ok {
			return s
		}
	}
	return "?"
}

// missing marks an absent value in diffs.
type missing struct{}

// firstDiff finds the first differing path between a and b.
func firstDiff(a, b any, path string) (string, any, any) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			av, ain := am[k]
			bv, bin := bm[k]
			switch {
			case !ain:
				return path + "." + k, missing{}, bv
			case !bin:
				return path + "." + k, av, missing{}
			case !cmp.Equal(av, bv):
				return firstDiff(av, bv, path+"."+k)
			}
		}
		return path, a, b
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			if !cmp.Equal(al[i], bl[i]) {
				return firstDiff(al[i], bl[i], fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	return path, a, b
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// genericPath drops list indices and keeps at most the first three
// segments, so that similar failures group together.
func genericPath(p string) string {
	p = indexRe.ReplaceAllString(p, "[]")
	segs := strings.Split(strings.TrimPrefix(p, "."), ".")
	if len(segs) > 3 {
		segs = segs[:3]
	}
	return "." + strings.Join(segs, ".")
}

func shortDiff(path string, want, got any) string {
	p, w, g := firstDiff(want, got, path)
	if p == "" {
		p = "(value)"
	}
	return fmt.Sprintf("%s: want %s got %s", p, clip(pyJSONOrMissing(w)), clip(pyJSONOrMissing(g)))
}

func pyJSONOrMissing(v any) string {
	if _, ok := v.(missing); ok {
		return "(absent)"
	}
	return pyJSON(v)
}

func clip(s string) string {
	const max = 240
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

var quotedRe = regexp.MustCompile(`'[^']*'|"[^"]*"|\$[.\w\[\]'"*]*|\d+`)

// errorGroup is err's message with case-specific parts (quoted names,
// paths, numbers) elided, to group refusals by cause.
func errorGroup(err error) string {
	msg := err.Error()
	var ae *sfnlocal.APIError
	if errors.As(err, &ae) {
		msg = ae.Code + ": " + ae.Message
	}
	msg = quotedRe.ReplaceAllString(msg, "…")
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return msg
}

func errCause(d *sfnlocal.DescribeExecutionOutput) string {
	if d.Error == nil && d.Cause == nil {
		return ""
	}
	return clip(fmt.Sprintf(" (error %s, cause %s)", strPtr(d.Error), strPtr(d.Cause)))
}

func strPtr(p *string) string {
	if p == nil {
		return "(none)"
	}
	return fmt.Sprintf("%q", *p)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// lastEvents describes the tail of a history, for executions that hang.
func lastEvents(ctx context.Context, api stepFunctions, arn string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	events, err := history(ctx, api, arn)
	if err != nil {
		return "history: " + err.Error()
	}
	var types []string
	for _, e := range events {
		types = append(types, evType(e))
	}
	if len(types) > 8 {
		types = append([]string{"…"}, types[len(types)-8:]...)
	}
	return "last events: " + strings.Join(types, ", ")
}

// runNames returns the state machine name and role ARN to use. Cases
// deployed through CloudFormation record none: take the literals the
// placeholders map to <state-machine-name> and <role-name>.
func runNames(c *Case) (name, role string) {
	name, role = c.Run.StateMachineName, c.Run.RoleArn
	for _, p := range c.Placeholders {
		switch p.Token {
		case "<state-machine-name>":
			if name == "" {
				name = p.Literal
			}
		case "<role-name>":
			if role == "" {
				role = "arn:aws:iam::" + orDefault(c.Run.Account, "111111111111") + ":role/" + p.Literal
			}
		}
	}
	if name == "" {
		name = "conformance-state-machine"
	}
	if role == "" {
		role = "arn:aws:iam::" + orDefault(c.Run.Account, "111111111111") + ":role/conformance"
	}
	return name, role
}

// extraTransformers are test-specific transformers the case files do not
// list (README: key/value-based transformers are left out; the recorded
// value shows their token).
var extraTransformers = map[string][]Transformer{
	// The test masks the generated UUID.
	"intrinsic_functions/test_uuid": {{Kind: "regex",
		Pattern:     `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
		Replacement: "generated-uuid"}},
}

// stopsExecution tells whether the recorded test called StopExecution on
// the execution while it ran.
func stopsExecution(c *Case) bool {
	for _, n := range c.Notes {
		if strings.Contains(n, "calls StopExecution") {
			return true
		}
	}
	return false
}

// watchClock is a virtual clock that reports when someone waits for a
// future moment (the engine arming a timer).
type watchClock struct {
	*clock.Virtual
	armed chan struct{}
}

func (w *watchClock) At(t time.Time) (<-chan struct{}, func()) {
	ch, stop := w.Virtual.At(t)
	if t.After(w.Virtual.Now()) {
		select {
		case w.armed <- struct{}{}:
		default:
		}
	}
	return ch, stop
}

// applyDynamicInput regenerates a time-dependent input field relative to
// now and maps the new literal onto the recorded token.
func applyDynamicInput(c *Case, n *Normalizer, now time.Time) (string, error) {
	d := c.DynamicInput
	at := now
	if rest, ok := strings.CutPrefix(d.Value, "now_utc"); ok {
		rest = strings.TrimSpace(rest)
		if rest != "" {
			var days int
			if _, err := fmt.Sscanf(rest, "+ %d days", &days); err != nil {
				return "", fmt.Errorf("dynamic value %q: %v", d.Value, err)
			}
			at = at.AddDate(0, 0, days)
		}
	} else {
		return "", fmt.Errorf("dynamic value %q not understood", d.Value)
	}
	lit, err := strftime(d.Format, at)
	if err != nil {
		return "", err
	}
	var in map[string]any
	if err := json.Unmarshal(c.Input, &in); err != nil {
		return "", fmt.Errorf("input: %w", err)
	}
	old, _ := in[d.Field].(string)
	in[d.Field] = lit
	b, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	for i, p := range n.placeholders {
		if p.Literal == old {
			ph := append([]Placeholder(nil), n.placeholders...)
			ph[i].Literal = lit
			n.placeholders = ph
		}
	}
	return string(b), nil
}

// strftime supports the directives the cases use.
func strftime(f string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("strftime: %%%c not supported", f[i])
		}
	}
	return b.String(), nil
}

// summarise prints the per-area table and the closing line, and writes the
// reports requested by the environment.
func summarise(t *testing.T, results []Result) {
	type counts struct{ pass, fail, unsup int }
	byArea := map[string]*counts{}
	var total counts
	for _, r := range results {
		if r.Name == "" {
			continue
		}
		a := byArea[r.area]
		if a == nil {
			a = &counts{}
			byArea[r.area] = a
		}
		switch r.Result {
		case "pass":
			a.pass++
			total.pass++
		case "fail":
			a.fail++
			total.fail++
		case "unsupported":
			a.unsup++
			total.unsup++
		}
	}
	areas := make([]string, 0, len(byArea))
	for a := range byArea {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %6s %6s %11s\n", "area", "passed", "failed", "unsupported")
	for _, a := range areas {
		c := byArea[a]
		fmt.Fprintf(&b, "%-22s %6d %6d %11d\n", a, c.pass, c.fail, c.unsup)
	}
	closing := fmt.Sprintf("conformance: %d passed, %d failed, %d unsupported", total.pass, total.fail, total.unsup)
	fmt.Print(b.String())
	fmt.Println(closing)

	if path := os.Getenv("ASL_CONFORMANCE_REPORT"); path != "" {
		out := make([]Result, 0, len(results))
		for _, r := range results {
			if r.Name != "" {
				out = append(out, r)
			}
		}
		data, err := json.MarshalIndent(out, "", "  ")
		if err == nil {
			err = os.WriteFile(path, append(data, '\n'), 0o644)
		}
		if err != nil {
			t.Errorf("write report: %v", err)
		}
	}
	if path := os.Getenv("ASL_CONFORMANCE_FAILURES"); path != "" {
		if err := os.WriteFile(path, []byte(failuresMarkdown(results, b.String(), closing)), 0o644); err != nil {
			t.Errorf("write failures summary: %v", err)
		}
	}
}

// knownLimitations is printed in every failures summary: what the harness
// or the case data cannot express, so engine authors do not chase it.
const knownLimitations = `## Read this first

- Lambda helpers are Go handlers (lambdas_test.go) that answer exactly what the
  Python 3.12 runtime sends back: json.dumps(result) (", " and ": "
  separators), errors as messages.InvokeResponse_Error with one stack frame
  {Path: "/var/task/handler.py", Line: N, Label: "handler\n    <code line>"}.
  AWS's cause document is compact JSON in this key order:
  {"errorMessage":…,"errorType":…,"requestId":"<invocation uuid>","stackTrace":["  File \"/var/task/handler.py\", line 2, in handler\n    raise Exception(\"Some exception was raised.\")\n"]}
  i.e. each frame printed as "  File \"<path>\", line <line>, in <label>\n".
- Case-data limits (fail, but not engine bugs):
  scenarios/test_wait_for_callback* and test_step_functions_calling_api_gateway
  use an SQS / API Gateway resource whose ARN holds a placeholder, so their
  "requires" misses the service and they count as in scope;
  context_object/test_result_selector records a Content-Length that depends on
  the real Lambda name used when recording.
- wait_60_seconds sleeps with sfnlocal.Sleep, on the engine's clock, which
  SkipIdle moves past.
- Most cases run on one shared engine with names suffixed "-c<index>"
  (mapped back to the recorded tokens); ASL_CONFORMANCE_ISOLATE=1 gives
  every case its own engine, to rule the sharing out.
- Input texts are passed as Python's json.dumps printed them (the tests did);
  AWS keeps input and unmodified values verbatim (spacing included).

`

// failuresMarkdown groups failures by cause, most frequent first.
func failuresMarkdown(results []Result, table, closing string) string {
	type group struct {
		key     string
		members []Result
	}
	groups := map[string]*group{}
	for _, r := range results {
		if r.Result != "fail" {
			continue
		}
		g := groups[r.group]
		if g == nil {
			g = &group{key: r.group}
			groups[r.group] = g
		}
		g.members = append(g.members, r)
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool {
		if len(list[i].members) != len(list[j].members) {
			return len(list[i].members) > len(list[j].members)
		}
		return list[i].key < list[j].key
	})
	var b strings.Builder
	b.WriteString("# ASL conformance failures\n\n")
	b.WriteString("Generated by `ASL_CONFORMANCE_FAILURES=<this file> go test ./infra/sfnlocal/conformance/ -run TestConformance`.\n")
	fmt.Fprintf(&b, "Run at %s (UTC).\n\n", time.Now().UTC().Format(time.DateTime))
	b.WriteString("```\n" + table + closing + "\n```\n\n")
	b.WriteString(knownLimitations)
	b.WriteString("## Failures by cause (most frequent first)\n\n")
	for _, g := range list {
		ex := g.members[0]
		fmt.Fprintf(&b, "### %s: %d case(s)\n\n", g.key, len(g.members))
		fmt.Fprintf(&b, "Example `%s`: %s\n\n", ex.Name, ex.Reason)
		if ex.detail != "" {
			d := ex.detail
			if len(d) > 3000 {
				d = d[:3000] + "\n… (truncated)"
			}
			b.WriteString("```\n" + d + "\n```\n\n")
		}
		if len(g.members) > 1 {
			names := make([]string, 0, len(g.members)-1)
			for _, m := range g.members[1:] {
				names = append(names, m.Name)
			}
			if len(names) > 15 {
				names = append(names[:15], fmt.Sprintf("… and %d more", len(names)-15))
			}
			b.WriteString("Also: " + strings.Join(names, ", ") + "\n\n")
		}
	}
	return b.String()
}

// knownFailuresFile lists in-scope cases that fail for a stated reason, one
// per line: "<case name>\t<reason>". They still count as failed in the
// closing line and the report; listing them only keeps the test green while
// the reason stands. A listed case that passes fails the test, so the list
// cannot go stale. Lines starting with # are comments.
const knownFailuresFile = "testdata/known_failures.txt"

func loadKnownFailures(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(knownFailuresFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, why, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(why) == "" {
			t.Fatalf("%s:%d: want <case name><TAB><reason>", knownFailuresFile, i+1)
		}
		known[name] = strings.TrimSpace(why)
	}
	return known
}
