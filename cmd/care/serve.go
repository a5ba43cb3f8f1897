package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/infra/sfnhttp"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stdout, serveUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	addr := fs.String("addr", "127.0.0.1:8080", "address of the HTTP API and webhooks")
	sfnAddr := fs.String("sfn-addr", "127.0.0.1:8083", "address of the Step Functions API (AWS JSON 1.0, SigV4 with the key pair in DATA/sfn-credentials or CARE_SFN_ACCESS_KEY_ID/CARE_SFN_SECRET_ACCESS_KEY; loopback by default); empty to disable")
	data := fs.String("data", ".care", "data directory (SQLite databases, admin token, virtual clock)")
	clockMode := fs.String("clock", "real", "clock: real, virtual (moved by POST /v1/dev/clock) or skip (virtual, jumps to the next timer when idle)")
	demo := fs.Bool("demo", false, "create the demo shop on first start and print its webhooks and keys")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	localruntime.TuneGC()
	// One JSON object per line, the shape the Lambda functions log in.
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	rt, err := localruntime.Open(ctx, localruntime.Options{DataDir: *data, Clock: *clockMode,
		AdminToken: os.Getenv("CARE_ADMIN_TOKEN"), Logger: log,
		SFNCredentials: sfnhttp.Credentials{AccessKeyID: os.Getenv("CARE_SFN_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("CARE_SFN_SECRET_ACCESS_KEY")}})
	if err != nil {
		return err
	}
	defer rt.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	servers := []*http.Server{{Handler: rt.API, ReadHeaderTimeout: 10 * time.Second}}
	if c, ok := rt.API.(interface{ CloseStreams() }); ok {
		servers[0].RegisterOnShutdown(c.CloseStreams) // the console's task streams never go idle by themselves
	}
	listeners := []net.Listener{ln}
	fmt.Fprintf(stdout, "ordercare API on http://%s (clock %s, data %s)\n", ln.Addr(), *clockMode, *data)
	if *sfnAddr != "" {
		sln, err := net.Listen("tcp", *sfnAddr)
		if err != nil {
			ln.Close()
			return err
		}
		servers = append(servers, &http.Server{Handler: rt.SFN, ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, sln)
		fmt.Fprintf(stdout, "Step Functions API on http://%s  (aws stepfunctions --endpoint-url http://%s ...)\n", sln.Addr(), sln.Addr())
		// SigV4 with this key pair only; the secret is printed once, when
		// it is generated (and stored in the data dir), never when given.
		switch {
		case rt.SFNCredentialsGenerated:
			fmt.Fprintf(stdout, "  sign with AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s  (stored in %s)\n",
				rt.SFNCredentials.AccessKeyID, rt.SFNCredentials.SecretAccessKey, rt.SFNCredentialsFile)
		case rt.SFNCredentialsFile != "":
			fmt.Fprintf(stdout, "  sign with the key pair in %s\n", rt.SFNCredentialsFile)
		default:
			fmt.Fprintf(stdout, "  sign with AWS_ACCESS_KEY_ID=%s and the secret in CARE_SFN_SECRET_ACCESS_KEY\n", rt.SFNCredentials.AccessKeyID)
		}
	}
	printAdminToken(stdout, rt, *data)
	if *demo {
		d, created, err := rt.EnsureDemoShop(ctx, *data)
		if err != nil {
			return err
		}
		switch {
		case created && rt.Virtual != nil:
			fmt.Fprintln(stdout, "replaying a demo day of orders into the demo shop (virtual clock)…")
			if err := rt.ReplayDemoDay(ctx, d); err != nil {
				return err
			}
		case created:
			fmt.Fprintln(stdout, "demo day not replayed: it needs --clock virtual (make run's default)")
		}
		fmt.Fprintf(stdout, "demo shop %q:\n  ops key:   %s\n  agent key: %s\n  standard webhook secret: %s\n",
			d.ID, d.Keys["ops"], d.Keys["agent"], d.WebhookSecret)
		for _, src := range []string{"standard", "shopify", "woocommerce", "douyin"} {
			fmt.Fprintf(stdout, "  %-12s POST http://%s%s\n", src, ln.Addr(), d.Webhooks[src])
		}
		fmt.Fprintf(stdout, "console: http://%s/\n  agents: sign in with the agent key and your name (e.g. xiao-wang), or a personal key ops issue in Settings\n  ops:    sign in with the ops key\n", ln.Addr())
	}
	printClock(stdout, rt)

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case <-ctx.Done():
		log.Info("shutdown", "reason", "signal")
	case err = <-errc:
		log.Error("shutdown", "reason", "server failed", "err", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(shutdown)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

const serveUsage = `usage: care serve [flags]

Runs the local runtime in one process: the HTTP API and webhooks (--addr), the
durable Step Functions engine and its API (--sfn-addr), on an embedded SQLite
store in --data. Logs go to stderr as JSON lines. The admin token is
CARE_ADMIN_TOKEN, else DATA/admin-token (generated and printed on first start).

Flags:
`

// printAdminToken shows the admin token only when it was generated now;
// otherwise it says where the token is.
func printAdminToken(w io.Writer, rt *localruntime.Runtime, data string) {
	switch rt.AdminTokenFrom {
	case localruntime.AdminTokenGenerated:
		fmt.Fprintf(w, "admin token: %s (new; saved in %s, mode 0600)\n", rt.AdminToken, filepath.Join(data, "admin-token"))
	case localruntime.AdminTokenGiven:
		fmt.Fprintln(w, "admin token from CARE_ADMIN_TOKEN")
	default:
		fmt.Fprintf(w, "admin token in %s\n", filepath.Join(data, "admin-token"))
	}
}

// printClock shows the runtime's time, which webhook timestamps are checked
// against: with a virtual clock it is not the wall clock.
func printClock(w io.Writer, rt *localruntime.Runtime) {
	now := rt.Clock.Now().UTC()
	if rt.Virtual == nil {
		fmt.Fprintf(w, "clock: real, now %s\n", now.Format(time.RFC3339))
		return
	}
	d := now.Sub(time.Now()).Round(time.Minute)
	rel := "at the wall clock"
	switch {
	case d > 0:
		rel = d.String() + " ahead of the wall clock"
	case d < 0:
		rel = (-d).String() + " behind the wall clock"
	}
	fmt.Fprintf(w, "clock: virtual, now %s (unix %d, %s); sign webhooks with this time: GET /healthz gives it\n",
		now.Format(time.RFC3339), now.Unix(), rel)
}
