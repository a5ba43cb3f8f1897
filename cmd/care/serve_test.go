package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/ordercare/ordercare/internal/source"
)

// TestServeChild is not a test: it is the `care serve` process that
// TestServeSurvivesKill starts and kills.
func TestServeChild(t *testing.T) {
	if os.Getenv("CARE_SERVE_CHILD") == "" {
		t.Skip("helper process for TestServeSurvivesKill; runs only as its child")
	}
	args := strings.Fields(os.Getenv("CARE_SERVE_CHILD"))
	if err := run(context.Background(), args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type child struct {
	cmd   *exec.Cmd
	api   string
	sfn   string
	sfnID string // the Step Functions API's key pair, as printed
	sfnSK string
	admin string
	demo  map[string]string
}

var (
	apiRE    = regexp.MustCompile(`ordercare API on (http://\S+)`)
	sfnRE    = regexp.MustCompile(`Step Functions API on (http://\S+)`)
	sfnKeyRE = regexp.MustCompile(`AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)`)
	adminRE  = regexp.MustCompile(`admin token: (\S+)`)
	demoRE   = regexp.MustCompile(`(ops key|agent key|standard webhook secret):\s+(\S+)`)
)

func startServe(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), "CARE_SERVE_CHILD=serve --addr 127.0.0.1:0 --sfn-addr 127.0.0.1:0 --clock virtual --demo --data "+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, demo: map[string]string{}}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() && (c.api == "" || len(c.demo) < 3) {
		line := sc.Text()
		if m := apiRE.FindStringSubmatch(line); m != nil {
			c.api = m[1]
		}
		if m := sfnRE.FindStringSubmatch(line); m != nil {
			c.sfn = m[1]
		}
		if m := sfnKeyRE.FindStringSubmatch(line); m != nil {
			c.sfnID, c.sfnSK = m[1], m[2]
		}
		if m := adminRE.FindStringSubmatch(line); m != nil {
			c.admin = m[1]
		}
		if m := demoRE.FindStringSubmatch(line); m != nil {
			c.demo[m[1]] = m[2]
		}
	}
	go io.Copy(io.Discard, out)
	if c.sfn != "" && c.sfnID == "" { // printed on the first start only
		b, err := os.ReadFile(filepath.Join(dir, "sfn-credentials"))
		if err != nil {
			t.Fatal(err)
		}
		var k struct {
			ID     string `json:"access_key_id"`
			Secret string `json:"secret_access_key"`
		}
		if err := json.Unmarshal(b, &k); err != nil {
			t.Fatal(err)
		}
		c.sfnID, c.sfnSK = k.ID, k.Secret
	}
	if c.admin == "" { // printed on the first start only
		b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
		if err != nil {
			t.Fatal(err)
		}
		c.admin = strings.TrimSpace(string(b))
	}
	if c.api == "" || len(c.demo) < 3 {
		t.Fatalf("serve did not announce itself (api %q, demo %v)", c.api, c.demo)
	}
	res, err := http.Get(c.api + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	return c
}

func (c *child) call(t *testing.T, method, path, token string, body []byte, h map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, c.api+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (c *child) now(t *testing.T) time.Time {
	t.Helper()
	_, b := c.call(t, "GET", "/v1/dev/clock", c.admin, nil, nil)
	var v struct{ Now time.Time }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("clock: %s", b)
	}
	return v.Now
}

func TestServeSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts care serve processes; skipped in -short mode")
	}
	dir := filepath.Join(t.TempDir(), "data")
	c := startServe(t, dir)
	if st, b := c.call(t, "POST", "/v1/dev/clock", c.admin, []byte(`{"advance":"90m"}`), nil); st != 200 {
		t.Fatalf("advance clock: %d %s", st, b)
	}
	moved := c.now(t)
	const n = 50
	for i := range n {
		body := fmt.Appendf(nil, `{"id":"e%d","type":"order.paid","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o%d"}}`, i, i%5)
		if st := c.webhook(t, fmt.Sprint("d", i), body); st != 202 {
			t.Fatalf("webhook %d: %d", i, st)
		}
	}
	// kill -9: every acknowledged event must survive.
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()

	c2 := startServe(t, dir)
	if c2.admin != c.admin || c2.demo["ops key"] != c.demo["ops key"] {
		t.Errorf("admin token or demo keys changed across restart")
	}
	if info, err := os.Stat(filepath.Join(dir, "admin-token")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("admin-token file: %v %v", info, err)
	}
	if got := c2.now(t); !got.Equal(moved) {
		t.Errorf("virtual time after restart = %s, want %s", got, moved)
	}
	for o := range 5 {
		st, b := c2.call(t, "GET", fmt.Sprintf("/v1/orders/o%d/events?limit=1000", o), c2.demo["ops key"], nil, nil)
		var page struct{ Events []json.RawMessage }
		json.Unmarshal(b, &page)
		if st != 200 || len(page.Events) != n/5 {
			t.Errorf("order o%d after kill -9: %d, %d events, want %d", o, st, len(page.Events), n/5)
		}
	}
	if st, _ := c2.call(t, "POST", "/v1/dev/clock", c2.admin, []byte(`{"to":"2000-01-01T00:00:00Z"}`), nil); st != 409 {
		t.Errorf("moving the clock back: %d, want 409", st)
	}
	if st, _ := c2.call(t, "POST", "/v1/dev/clock", c2.demo["ops key"], []byte(`{"advance":"1m"}`), nil); st != 403 {
		t.Errorf("clock with an ops key: %d, want 403 (a valid key without the admin role)", st)
	}
}

func sfnClient(c *child) *sfn.Client {
	return sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.sfn),
		Credentials: credentials.NewStaticCredentialsProvider(c.sfnID, c.sfnSK, "")})
}

// TestServeExecutionSurvivesKill parks an execution on a Wait state through
// the real Step Functions SDK client, kills care serve with SIGKILL mid-wait,
// restarts it and moves the virtual clock: the execution resumes and
// succeeds, with one history.
func TestServeExecutionSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts care serve processes; skipped in -short mode")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	c := startServe(t, dir)
	def := `{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"Next":"Done"},
		"Done":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('paid {}', $.order)"},"End":true}}}`
	if c.sfnID == "" || c.sfnSK == "" {
		t.Fatal("care serve printed no Step Functions key pair")
	}
	// The port refuses anyone without the key pair (issue 9, point 18).
	intruder := sfnClient(&child{sfn: c.sfn, sfnID: "AKIAINTRUDER00000000", sfnSK: strings.Repeat("x", 40)})
	if _, err := intruder.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{
		StateMachineArn: aws.String("arn:aws:states:us-east-1:111111111111:stateMachine:unpaid_chase")}); err == nil ||
		!strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Fatalf("DeleteStateMachine with a foreign key: %v, want UnrecognizedClientException", err)
	}
	cl := sfnClient(c)
	sm, err := cl.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("wait-then-pass"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::111111111111:role/care")})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := cl.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("order-1001"), Input: aws.String(`{"order":"1001"}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(cl *sfn.Client, status sfntypes.ExecutionStatus) *sfn.DescribeExecutionOutput {
		t.Helper()
		// Polls the other process over HTTP, each call paced by its round trip.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			d, err := cl.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status == status {
				return d
			}
		}
		t.Fatalf("execution never reached %s", status)
		return nil
	}
	hist := func(cl *sfn.Client) []string {
		h, err := cl.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range h.Events {
			types = append(types, string(e.Type))
		}
		return types
	}
	waitFor(cl, sfntypes.ExecutionStatusRunning)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if h := hist(cl); len(h) >= 2 && h[len(h)-1] == "WaitStateEntered" {
			break
		}
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()

	c2 := startServe(t, dir)
	cl2 := sfnClient(c2)
	if st, b := c2.call(t, "POST", "/v1/dev/clock", c2.admin, []byte(`{"advance":"59m"}`), nil); st != 200 {
		t.Fatalf("advance: %d %s", st, b)
	}
	if d := waitFor(cl2, sfntypes.ExecutionStatusRunning); d.StopDate != nil {
		t.Fatalf("finished before its time: %+v", d)
	}
	c2.call(t, "POST", "/v1/dev/clock", c2.admin, []byte(`{"advance":"1m"}`), nil)
	d := waitFor(cl2, sfntypes.ExecutionStatusSucceeded)
	if aws.ToString(d.Output) != `{"greeting":"paid 1001"}` {
		t.Errorf("output = %s", aws.ToString(d.Output))
	}
	want := []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if got := hist(cl2); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history = %v, want %v", got, want)
	}
}

// webhook posts body to the demo shop's standard webhook, signed at the
// child's virtual time.
func (c *child) webhook(t *testing.T, id string, body []byte) int {
	t.Helper()
	key, _ := source.StandardKey(c.demo["standard webhook secret"])
	now := c.now(t)
	st, b := c.call(t, "POST", "/webhooks/demo/standard", "", body, map[string]string{"webhook-id": id,
		"webhook-timestamp": fmt.Sprint(now.Unix()), "webhook-signature": source.StandardSign(key, id, now, body)})
	if st != 202 {
		t.Logf("webhook %s: %d %s", id, st, b)
	}
	return st
}

// TestServeChaseSurvivesKill: kill -9 between two steps of a chase, then a
// redelivery of the order: every step happens once, none twice, none missed.
func TestServeChaseSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts care serve processes; skipped in -short mode")
	}
	dir := filepath.Join(t.TempDir(), "data")
	c := startServe(t, dir)
	// 10:00 in Shanghai the next morning: clear of the quiet hours.
	placed := c.now(t).Truncate(24 * time.Hour).Add(26 * time.Hour)
	if st, b := c.call(t, "POST", "/v1/dev/clock", c.admin, fmt.Appendf(nil, `{"to":%q}`, placed.Format(time.RFC3339)), nil); st != 200 {
		t.Fatalf("clock: %d %s", st, b)
	}
	created := fmt.Appendf(nil, `{"id":"k1-created","type":"order.created","occurred_at":%q,"order":{"id":"K1","placed_at":%q,
		"pay_deadline":%q,"total":"129.90","currency":"CNY","payment_method":"online","buyer":{"name":"陈晓燕","locale":"zh-CN"},
		"items":[{"sku":"LJ","title":"龙井","quantity":1,"price":"129.90"}]}}`,
		placed.Format(time.RFC3339), placed.Format(time.RFC3339), placed.Add(72*time.Hour).Format(time.RFC3339))
	if st := c.webhook(t, "k1-d1", created); st != 202 {
		t.Fatalf("order.created: %d", st)
	}
	if st, b := c.call(t, "POST", "/v1/dev/clock", c.admin, []byte(`{"advance":"10m"}`), nil); st != 200 {
		t.Fatalf("advance: %d %s", st, b)
	}
	type entry struct {
		Step, Status, Reason string
		SentAt               *time.Time `json:"sent_at"`
	}
	ledger := func(c *child) []entry {
		t.Helper()
		st, b := c.call(t, "GET", "/v1/orders/K1/messages", c.demo["ops key"], nil, nil)
		var page struct{ Messages []entry }
		if err := json.Unmarshal(b, &page); err != nil || st != 200 {
			t.Fatalf("messages: %d %s", st, b)
		}
		return page.Messages
	}
	before := ledger(c)
	if len(before) != 1 || before[0].Step != "nudge" || before[0].Status != "sent" {
		t.Fatalf("ledger before the kill: %+v", before)
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()

	c2 := startServe(t, dir)
	if st := c2.webhook(t, "k1-d1", created); st != 202 { // the platform redelivers
		t.Fatalf("redelivery: %d", st)
	}
	if st, b := c2.call(t, "POST", "/v1/dev/clock", c2.admin, []byte(`{"advance":"72h"}`), nil); st != 200 {
		t.Fatalf("advance: %d %s", st, b)
	}
	seen := map[string]int{}
	for _, e := range ledger(c2) {
		seen[e.Step]++
		if e.Step == "nudge" && !e.SentAt.Equal(*before[0].SentAt) {
			t.Errorf("nudge sent again at %s", e.SentAt)
		}
		if e.Status == "pending" {
			t.Errorf("%s left pending", e.Step)
		}
	}
	want := map[string]int{"nudge": 1, "ships_today": 1, "coupon": 1, "call": 1}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("ledger steps after kill -9 and redelivery: %v, want each once: %v", seen, want)
	}
}
