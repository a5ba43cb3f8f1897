// Package mototest starts moto_server (moto, the AWS emulator that ships
// with the machine's Python) for tests of the AWS adapters that moto
// emulates: SES v2 and SNS. Each call starts its own server on a free port
// and stops it when the test ends.
package mototest

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region tests send to.
const Region = "us-east-1"

var running = regexp.MustCompile(`Running on (http://[0-9.]+:[0-9]+)`)

// Start starts moto_server on a free loopback port and returns its URL. It
// skips the test, saying why, when moto_server is not installed or does not
// come up within 20 s. The server is killed (by its own pid) at cleanup.
func Start(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not installed (moto ships with the machine's Python; see ../shared/toolchain.md): " + err.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, "-H", "127.0.0.1", "-p", "0")
	out, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Skip("moto_server did not start: " + err.Error())
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := running.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case url := <-found:
		return url
	case <-time.After(20 * time.Second):
		t.Skip("moto_server did not report its port within 20 s")
	}
	return ""
}

// Config is an AWS SDK configuration with static test credentials for
// Region; point a client at the server with its BaseEndpoint option.
func Config() aws.Config {
	return aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
}
