package sfnhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/ordercare/ordercare/infra/sfnhttp"
	"github.com/ordercare/ordercare/infra/sfnlocal"
	"github.com/ordercare/ordercare/internal/clock"
)

// TestSigV4 drives a guarded handler with the real AWS SDK client: the
// right key pair works; another key id, a wrong secret, no signature or a
// signature dated outside the skew are refused with AWS's error codes and
// reach nothing.
func TestSigV4(t *testing.T) {
	eng, err := sfnlocal.Open(t.Context(), sfnlocal.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	creds := sfnhttp.NewCredentials()
	if !creds.Valid() || len(creds.AccessKeyID) != 20 || len(creds.SecretAccessKey) != 40 {
		t.Fatalf("NewCredentials = %+v", creds)
	}
	// The server's clock: the wall clock, or a virtual one far ahead.
	virtual := clock.NewVirtual(time.Now().Add(34*time.Hour), nil)
	guard := &sfnhttp.SigV4{Credentials: creds, Clocks: []clock.Clock{clock.Real{}}}
	srv := httptest.NewServer(guard.Wrap(sfnhttp.NewHandler(eng, nil)))
	t.Cleanup(srv.Close)
	client := func(id, secret string) *sfn.Client {
		return sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	}
	const def = `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	create := func(c *sfn.Client, name string) error {
		_, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: aws.String(name),
			Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::111111111111:role/r")})
		return err
	}

	if err := create(client(creds.AccessKeyID, creds.SecretAccessKey), "signed"); err != nil {
		t.Fatalf("right key: %v", err)
	}
	for _, tc := range []struct {
		name, id, secret, code string
	}{
		{"other key id", "AKIAOTHEROTHEROTHER1", creds.SecretAccessKey, sfnhttp.CodeUnrecognizedClient},
		{"wrong secret", creds.AccessKeyID, strings.Repeat("0", 40), sfnhttp.CodeInvalidSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := create(client(tc.id, tc.secret), "refused-"+strings.ReplaceAll(tc.name, " ", "-"))
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("error = %v, want %s", err, tc.code)
			}
		})
	}
	t.Run("no signature", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{"name":"x","definition":"{}","roleArn":"r"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.DeleteStateMachine")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || res.Header.Get("x-amzn-ErrorType") != sfnhttp.CodeMissingAuthenticationToken {
			t.Fatalf("unsigned: %d %s, want 403 %s", res.StatusCode, res.Header.Get("x-amzn-ErrorType"), sfnhttp.CodeMissingAuthenticationToken)
		}
	})
	t.Run("outside the skew", func(t *testing.T) {
		guard.Clocks = []clock.Clock{virtual}
		defer func() { guard.Clocks = []clock.Clock{clock.Real{}} }()
		err := create(client(creds.AccessKeyID, creds.SecretAccessKey), "late")
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != sfnhttp.CodeInvalidSignature || !strings.Contains(ae.ErrorMessage(), "expired") {
			t.Fatalf("error = %v, want %s (expired)", err, sfnhttp.CodeInvalidSignature)
		}
		// A runtime on a virtual clock lists the wall clock too: signers use it.
		guard.Clocks = []clock.Clock{virtual, clock.Real{}}
		if err := create(client(creds.AccessKeyID, creds.SecretAccessKey), "late"); err != nil {
			t.Fatalf("with the wall clock listed: %v", err)
		}
	})
	out, err := client(creds.AccessKeyID, creds.SecretAccessKey).ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range out.StateMachines {
		names = append(names, aws.ToString(m.Name))
	}
	if strings.Join(names, ",") != "late,signed" {
		t.Errorf("state machines = %v, want only those created with the right key", names)
	}
}

// TestSigV4AWSCLI: the AWS CLI (botocore, a second signer) gets in with the
// key pair and is refused with another secret.
func TestSigV4AWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the AWS CLI test in -short mode: each CLI call takes about a second")
	}
	clis := awsCLIs(t)
	if len(clis) == 0 {
		t.Skip("skipping: no AWS CLI installed (`aws` on PATH or /usr/bin/aws)")
	}
	eng, err := sfnlocal.Open(t.Context(), sfnlocal.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	creds := sfnhttp.NewCredentials()
	srv := httptest.NewServer((&sfnhttp.SigV4{Credentials: creds}).Wrap(sfnhttp.NewHandler(eng, nil)))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for _, cli := range clis {
		run := func(secret string) (string, error) {
			cmd := exec.CommandContext(t.Context(), cli, "stepfunctions", "--endpoint-url", srv.URL, "--output", "json", "list-state-machines")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "AWS_") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+secret,
				"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"),
				"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"), "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := run(creds.SecretAccessKey); err != nil {
			t.Errorf("%s with the key pair: %v\n%s", cli, err, out)
		}
		if out, err := run(strings.Repeat("0", 40)); err == nil || !strings.Contains(out, sfnhttp.CodeInvalidSignature) {
			t.Errorf("%s with a wrong secret: %v\n%s; want %s", cli, err, out, sfnhttp.CodeInvalidSignature)
		}
	}
}
