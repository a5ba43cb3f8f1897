package sfnhttp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// awsCLIs returns the AWS CLIs installed here: the first `aws` on PATH (v1
// on these machines) and Debian's v2 at /usr/bin/aws, each once.
func awsCLIs(t *testing.T) []string {
	var found []string
	seen := map[string]bool{}
	for _, c := range []string{"aws", "/usr/bin/aws"} {
		p, err := exec.LookPath(c)
		if err != nil {
			t.Logf("AWS CLI %s not installed: %v", c, err)
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			real = p
		}
		if !seen[real] {
			seen[real] = true
			found = append(found, p)
		}
	}
	return found
}

// TestAWSCLI drives the endpoint with the AWS CLI (any version installed),
// using dummy credentials from the environment and no config file.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the AWS CLI test in -short mode: each CLI call takes about a second")
	}
	clis := awsCLIs(t)
	if len(clis) == 0 {
		t.Skip("skipping: no AWS CLI installed (`aws` on PATH or /usr/bin/aws)")
	}
	for _, cli := range clis {
		t.Run(cli, func(t *testing.T) {
			e := newEnv(t)
			dir := t.TempDir()
			defFile := filepath.Join(dir, "bench.asl.json")
			if err := os.WriteFile(defFile, []byte(passDefinition), 0o600); err != nil {
				t.Fatal(err)
			}
			run := func(args ...string) (map[string]any, string, error) {
				t.Helper()
				cmd := exec.CommandContext(t.Context(), cli, append([]string{"stepfunctions", "--endpoint-url", e.url, "--output", "json"}, args...)...)
				// The caller's environment without its AWS settings (the CLI
				// may be a pyenv shim that needs the rest), then dummy ones.
				for _, kv := range os.Environ() {
					if !strings.HasPrefix(kv, "AWS_") {
						cmd.Env = append(cmd.Env, kv)
					}
				}
				cmd.Env = append(cmd.Env,
					"AWS_ACCESS_KEY_ID=AKIDLOCAL",
					"AWS_SECRET_ACCESS_KEY=local-secret",
					"AWS_DEFAULT_REGION=us-east-1",
					"AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"),
					"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
					"AWS_PAGER=",
				)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				if err != nil {
					return nil, stderr.String(), err
				}
				var out map[string]any
				if s := strings.TrimSpace(stdout.String()); s != "" {
					if err := json.Unmarshal([]byte(s), &out); err != nil {
						t.Fatalf("aws %v: output %q: %v", args, s, err)
					}
				}
				return out, stderr.String(), nil
			}
			mustRun := func(args ...string) map[string]any {
				t.Helper()
				out, stderr, err := run(args...)
				if err != nil {
					t.Fatalf("aws stepfunctions %s: %v\n%s", strings.Join(args, " "), err, stderr)
				}
				return out
			}

			created := mustRun("create-state-machine", "--name", "bench", "--definition", "file://"+defFile, "--role-arn", roleArn)
			machine, _ := created["stateMachineArn"].(string)
			if machine == "" {
				t.Fatalf("create-state-machine output %v has no stateMachineArn", created)
			}
			list := mustRun("list-state-machines")
			if ms, _ := list["stateMachines"].([]any); len(ms) != 1 {
				t.Errorf("list-state-machines = %v, want one machine", list)
			}
			started := mustRun("start-execution", "--state-machine-arn", machine, "--name", "cli-1", "--input", `{"orderId":"o1","amount":500}`)
			execArn, _ := started["executionArn"].(string)
			if status := e.closed.wait(t, execArn); status != "SUCCEEDED" {
				t.Fatalf("execution closed %s", status)
			}
			desc := mustRun("describe-execution", "--execution-arn", execArn)
			if desc["status"] != "SUCCEEDED" {
				t.Errorf("describe-execution status = %v, want SUCCEEDED", desc["status"])
			}
			// CLI v1 prints timestamps as received (epoch seconds), v2 as ISO 8601.
			switch d := desc["startDate"].(type) {
			case float64:
				if d < 1e9 {
					t.Errorf("describe-execution startDate = %v, want epoch seconds", d)
				}
			case string:
				if !strings.HasPrefix(d, "2026-11-11T00:00:00") {
					t.Errorf("describe-execution startDate = %q, want 2026-11-11T00:00:00", d)
				}
			default:
				t.Errorf("describe-execution startDate = %v, want a date", desc["startDate"])
			}
			hist := mustRun("get-execution-history", "--execution-arn", execArn, "--reverse-order", "--max-items", "1")
			if evs, _ := hist["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["type"] != "ExecutionSucceeded" {
				t.Errorf("get-execution-history --reverse-order --max-items 1 = %v", hist)
			}
			execs := mustRun("list-executions", "--state-machine-arn", machine)
			if xs, _ := execs["executions"].([]any); len(xs) != 1 {
				t.Errorf("list-executions = %v, want one", execs)
			}

			_, stderr, err := run("describe-execution", "--execution-arn", machine[:strings.LastIndex(machine, ":stateMachine:")]+":execution:bench:missing")
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || !strings.Contains(stderr, "ExecutionDoesNotExist") {
				t.Errorf("describe-execution of a missing execution: err %v stderr %q, want ExecutionDoesNotExist", err, stderr)
			}
		})
	}
}
