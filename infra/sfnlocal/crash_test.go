package sfnlocal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/clock"
)

const crashDef = `{"StartAt":"Step1","States":{
 "Step1":{"Type":"Pass","Result":"one","ResultPath":"$.step1","Next":"Fast"},
 "Fast":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:fast","ResultPath":"$.fast","Next":"Slow"},
 "Slow":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:slow","ResultPath":"$.slow","End":true}}}`

const waitDef = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"After"},"After":{"Type":"Pass","Result":"woke","ResultPath":"$.after","End":true}}}`

const shortDef = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}}`

// appendLine appends "tag id" to file (one write, O_APPEND: atomic enough
// for counting across a SIGKILL).
func appendLine(file, line string) {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	f.WriteString(line + "\n")
	f.Close()
}

type crashIn struct {
	ID string `json:"id"`
}

// TestCrashChild is the child process of TestCrashRecovery; it is skipped
// in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("SFNLOCAL_CRASH_DIR")
	if dir == "" {
		t.Skip("child process of TestCrashRecovery only")
	}
	log := filepath.Join(dir, "calls.log")
	var mu sync.Mutex
	slowEntered := 0
	entered := make(chan struct{}, 100)
	fns := map[string]any{
		"fast": func(ctx context.Context, in crashIn) (string, error) {
			appendLine(log, "fast "+in.ID)
			return "fast-done", nil
		},
		"notify": func(ctx context.Context, in tokenIn) (string, error) {
			appendLine(log, "token "+in.ID+" "+in.Token)
			entered <- struct{}{}
			return "sent", nil
		},
		"slow": func(ctx context.Context, in crashIn) (string, error) {
			appendLine(log, "slow-child "+in.ID)
			mu.Lock()
			slowEntered++
			mu.Unlock()
			entered <- struct{}{}
			<-ctx.Done() // blocks until the process is killed
			return "", ctx.Err()
		},
	}
	ctx := context.Background()
	e, err := Open(ctx, Config{Path: filepath.Join(dir, "sfn.db"), Clock: clock.NewVirtual(t0, nil), Functions: fns})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, def string) string {
		out, err := e.CreateStateMachine(ctx, &CreateStateMachineInput{Name: name, Definition: def, RoleArn: "arn:aws:iam::111111111111:role/r"})
		if err != nil {
			t.Fatal(err)
		}
		return out.StateMachineArn
	}
	crash, wait, short := mk("crash", crashDef), mk("wait", waitDef), mk("short", shortDef)
	// No HeartbeatSeconds: the restarted engine's clock is two hours later.
	tok := mk("tok", strings.Replace(tokenDef, `,"HeartbeatSeconds":60`, "", 1))
	if _, err := e.StartExecution(ctx, &StartExecutionInput{StateMachineArn: tok, Name: "t0", Input: `{"id":"t0"}`}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		for _, c := range []struct{ sm, prefix string }{{crash, "c"}, {wait, "w"}, {short, "s"}} {
			id := fmt.Sprintf("%s%d", c.prefix, i)
			if _, err := e.StartExecution(ctx, &StartExecutionInput{StateMachineArn: c.sm, Name: id, Input: `{"id":"` + id + `"}`}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; i < 6; i++ {
		<-entered
	}
	// Keep starting executions that call a Lambda function, acknowledging
	// each start once StartExecution returned, until killed.
	stream := mk("stream", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"T"},"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:fast","Next":"B"},"B":{"Type":"Pass","End":true}}}`)
	var outMu sync.Mutex
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; ; i++ {
				id := fmt.Sprintf("st%d-%d", g, i)
				if _, err := e.StartExecution(ctx, &StartExecutionInput{StateMachineArn: stream, Name: id, Input: `{"id":"` + id + `"}`}); err != nil {
					return
				}
				outMu.Lock()
				fmt.Println("ACK " + id)
				outMu.Unlock()
			}
		}(g)
	}
	outMu.Lock()
	fmt.Println("READY")
	outMu.Unlock()
	select {} // wait for SIGKILL
}

// TestCrashRecovery starts executions in a child process, kills it with
// SIGKILL while executions wait on timers and on in-flight Lambda
// invocations, reopens the store and checks that nothing is lost, that
// completed steps do not run again and that interrupted invocations run
// again.
func TestCrashRecovery(t *testing.T) {
	if os.Getenv("SFNLOCAL_CRASH_DIR") != "" {
		t.Skip("running as the child")
	}
	dir := t.TempDir()
	cmd := osexec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), "SFNLOCAL_CRASH_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 2)
	acked := make(chan string, 1<<16)
	enough := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			switch l := sc.Text(); {
			case l == "READY":
				ready <- true
			case strings.HasPrefix(l, "ACK "):
				acked <- strings.TrimPrefix(l, "ACK ")
				if n++; n == 300 {
					close(enough)
				}
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatal("child exited before READY")
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child not ready")
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("child did not acknowledge 300 stream executions")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-ready // the reader saw EOF: every acknowledgement is in acked
	cmd.Wait()
	close(acked)

	log := filepath.Join(dir, "calls.log")
	fns := map[string]any{
		"fast": func(ctx context.Context, in crashIn) (string, error) {
			appendLine(log, "fast "+in.ID)
			return "fast-done", nil
		},
		"slow": func(ctx context.Context, in crashIn) (string, error) {
			appendLine(log, "slow-parent "+in.ID)
			return "slow-done", nil
		},
		"notify": func(ctx context.Context, in tokenIn) (string, error) {
			appendLine(log, "token-again "+in.ID)
			return "sent", nil
		},
	}
	// Two hours later: the Wait timers are due.
	h := &harness{t: t, clk: clock.NewVirtual(t0.Add(2*time.Hour), nil), closed: map[string]chan string{}, commits: make(chan struct{}, 1)}
	e, err := Open(context.Background(), Config{Path: filepath.Join(dir, "sfn.db"), Clock: h.clk, Functions: fns, OnExecutionClosed: h.onClosed})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	defer e.Close()
	arn := func(sm, name string) string { return e.execArn(sm, name) }
	for i := 0; i < 5; i++ {
		for _, sm := range []string{"crash", "wait"} {
			a := arn(sm, fmt.Sprintf("%c%d", sm[0], i))
			d := h.wait(a)
			if d.Status != StatusSucceeded {
				t.Errorf("%s: status %s", a, d.Status)
			}
		}
		a := arn("short", fmt.Sprintf("s%d", i))
		d, err := e.DescribeExecution(context.Background(), &DescribeExecutionInput{ExecutionArn: a})
		if err != nil || d.Status != StatusSucceeded {
			t.Errorf("%s: %v %v", a, d, err)
		}
	}
	b, _ := os.ReadFile(log)
	counts := map[string]int{}
	token := ""
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(l, "token t0 ") {
			token = strings.TrimPrefix(l, "token t0 ")
			continue
		}
		counts[l]++
	}
	// Every acknowledged start survived, and finishes with one Lambda
	// success and gapless event ids.
	nAck := 0
	for id := range acked {
		nAck++
		a := arn("stream", id)
		if d := h.wait(a); d.Status != StatusSucceeded {
			t.Errorf("%s: %s", a, d.Status)
			continue
		}
		evs := h.history(a)
		succ := 0
		for j, ev := range evs {
			if ev.ID != int64(j+1) {
				t.Errorf("%s: event %d has id %d", a, j, ev.ID)
			}
			if ev.Type == EvLambdaFunctionSucceeded {
				succ++
			}
		}
		if succ != 1 {
			t.Errorf("%s: %d LambdaFunctionSucceeded events", a, succ)
		}
	}
	t.Logf("%d acknowledged stream executions checked after SIGKILL", nAck)
	if _, err := e.SendTaskSuccess(context.Background(), &SendTaskSuccessInput{TaskToken: token, Output: `"ok"`}); err != nil {
		t.Fatalf("token issued before the crash: %v", err)
	}
	if d := h.wait(arn("tok", "t0")); d.Status != StatusSucceeded {
		t.Errorf("token execution: %s", d.Status)
	}
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("c%d", i)
		if n := counts["fast "+id]; n != 1 {
			t.Errorf("fast ran %d times for %s, want 1 (completed step ran again)", n, id)
		}
		if counts["slow-child "+id] != 1 || counts["slow-parent "+id] != 1 {
			t.Errorf("slow for %s: child %d, parent %d; want 1 and 1 (re-invocation after crash)", id, counts["slow-child "+id], counts["slow-parent "+id])
		}
		evs := h.history(arn("crash", id))
		n := 0
		for _, ev := range evs {
			if ev.Type == "PassStateEntered" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: Step1 entered %d times", id, n)
		}
		for j, ev := range evs {
			if ev.ID != int64(j+1) {
				t.Errorf("%s: event %d has id %d", id, j, ev.ID)
			}
		}
	}
}
