// Command care is ordercare's local runtime and CLI.
//
//	care serve [flags]            run the local runtime (HTTP API, webhooks, Step Functions engine and API)
//	care shops list|create ...    list or create shops (admin; talks to the running server)
//	care keys reissue ...         re-issue a shop's ops or agent key (admin; the old key stops working)
//	care sfn bench [flags]        benchmark the local Step Functions engine
//
// Run `care <command> -h` for a command's flags; help exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: care <command> [flags]

Commands:
  serve           run the local runtime: HTTP API and webhooks, the Step Functions
                  engine and its API, on an embedded SQLite store (care serve -h)
  shops list      list the shops (admin)                            (care shops -h)
  shops create    create a shop and print its keys and webhook secret (admin)
  keys reissue    re-issue a shop's ops or agent key; the old key stops working (care keys -h)
  sfn bench       benchmark the local Step Functions engine           (care sfn -h)
  help            this text

The admin commands (shops, keys) talk to the running 'care serve' over its
HTTP API with the admin token (CARE_ADMIN_TOKEN, else DATA/admin-token).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "care:", err)
		os.Exit(1)
	}
}

// run runs one command. Asking for help (-h, --help, help) prints the usage
// to stdout and is not an error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given: want serve, shops, keys or sfn")
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "shops":
		return runShops(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], stdout, stderr)
	case "sfn":
		return runSFN(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: want serve, shops, keys or sfn", args[0])
}

// isHelp tells a request for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
