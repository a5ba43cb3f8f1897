package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ordercare/ordercare/infra/sfnbench"
)

const sfnUsage = `usage: care sfn bench [flags]

Runs executions on a fresh durable engine in a temporary directory and prints
one JSON line of figures.

  --definition FILE --executions N --concurrency C [--mode engine|api]
      N executions of FILE (input {"orderId":"o-<i>","amount":<i mod 200>}):
      {"executions","seconds","per_second","transitions_per_second"}.
      engine calls the engine's Go API; api drives the same through the
      Step Functions HTTP API with the AWS SDK for Go v2.
  --parked N [--due D] [--concurrency C]
      N executions parked on a Wait 30 days out, then D more that all come
      due at the same moment: creation rate, resident memory, and the lag
      between the due time and each execution's completion (p50/p99/max).
  --map ITEMS
      one execution of a single inline Map over ITEMS items: transitions/s.
  --timeout D
      give up after D (default 30m).
`

// runSFN runs `care sfn ...`. args excludes "sfn". Figures go to stdout as
// JSON lines; progress and usage go to stderr.
func runSFN(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, sfnUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "bench" {
		fmt.Fprint(stderr, sfnUsage)
		return errors.New("care sfn: want the subcommand bench")
	}
	fs := flag.NewFlagSet("care sfn bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, sfnUsage) }
	var o sfnbench.Options
	fs.StringVar(&o.Definition, "definition", "", "ASL definition file")
	fs.IntVar(&o.Executions, "executions", 10000, "number of executions")
	fs.IntVar(&o.Concurrency, "concurrency", 64, "concurrent StartExecution callers")
	fs.StringVar(&o.Mode, "mode", "engine", "engine or api")
	fs.IntVar(&o.Parked, "parked", 0, "run the parked-executions benchmark with this many executions")
	fs.IntVar(&o.Due, "due", 10000, "with --parked: executions coming due at once")
	fs.DurationVar(&o.DueMargin, "due-margin", 2*time.Second, "with --parked: slack added to the estimated creation time of the due executions")
	fs.IntVar(&o.MapItems, "map", 0, "run the Map benchmark over this many items")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("care sfn bench: unexpected arguments %q", fs.Args())
	}
	if o.Concurrency < 1 {
		return errors.New("care sfn bench: --concurrency must be at least 1")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if o.Parked == 0 && o.MapItems == 0 {
		if o.Definition == "" {
			return errors.New("care sfn bench: --definition is required (or --parked N, or --map ITEMS)")
		}
		if o.Executions < 1 {
			return errors.New("care sfn bench: --executions must be at least 1")
		}
		if o.Mode != "engine" && o.Mode != "api" {
			return fmt.Errorf("care sfn bench: --mode %q: want engine or api", o.Mode)
		}
	}
	res, err := sfnbench.Run(ctx, o, stderr)
	if err != nil {
		return err
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", line)
	return err
}
