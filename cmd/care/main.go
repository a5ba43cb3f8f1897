// Command care is ordercare's local runtime and CLI.
//
//	care serve [flags]      run the local runtime (HTTP API, webhooks, Step Functions engine and API)
//	care sfn bench [flags]  benchmark the local Step Functions engine
//
// Run `care <command> -h` for a command's flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "care:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: care serve|sfn ... (care <command> -h for help)")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "sfn":
		return runSFN(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q: want serve or sfn", args[0])
}
