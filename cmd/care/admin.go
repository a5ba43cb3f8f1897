package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// The admin commands talk to the running `care serve` through its HTTP API
// (with the admin token), not to the data directory's database: the server
// caches shops, keys and source credentials in memory, so only the server
// can make a re-issued key take effect at once. They need the server up.

const shopsUsage = `usage: care shops list   [--addr URL] [--data DIR] [--limit N]
       care shops create --name NAME --timezone ZONE --locale LOCALE --currency CUR [--id ID]
                         [--addr URL] [--data DIR]

list    prints every shop: id, name, timezone, locale, currency, created.
create  creates a shop and prints (once) its ops and agent keys, its
        Standard Webhooks secret and its webhook URLs, as JSON.

Both call the running 'care serve' (GET/POST /v1/shops) with the admin token:
CARE_ADMIN_TOKEN, else the file DATA/admin-token.
`

const keysUsage = `usage: care keys reissue --shop SHOP --role ops|agent [--addr URL] [--data DIR]

Re-issues a shop's ops or agent key: a new key is printed (once) and every
older key of that role stops working at once. Calls the running 'care serve'
(POST /v1/shops/{shop}/keys/{role}) with the admin token: CARE_ADMIN_TOKEN,
else the file DATA/admin-token.
`

// adminFlags are the flags every admin command takes.
type adminFlags struct {
	addr, data string
}

func (a *adminFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.addr, "addr", "http://127.0.0.1:8080", "the running server's API address (care serve --addr)")
	fs.StringVar(&a.data, "data", ".care", "the server's data directory, to read the admin token from (unless CARE_ADMIN_TOKEN is set)")
}

// token is CARE_ADMIN_TOKEN, else DATA/admin-token.
func (a *adminFlags) token() (string, error) {
	if t := os.Getenv("CARE_ADMIN_TOKEN"); t != "" {
		return t, nil
	}
	path := filepath.Join(a.data, "admin-token")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("no admin token: CARE_ADMIN_TOKEN is not set and %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// call sends one admin request and decodes a 2xx JSON answer into out; any
// other answer is returned as an error with the server's message.
func (a *adminFlags) call(ctx context.Context, method, path string, body, out any) error {
	tok, err := a.token()
	if err != nil {
		return err
	}
	base := a.addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w (is 'care serve' running at %s?)", err, base)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			if e.Error.Field != "" {
				return fmt.Errorf("%s %s: %d %s: %s: %s", method, path, res.StatusCode, e.Error.Code, e.Error.Field, e.Error.Message)
			}
			return fmt.Errorf("%s %s: %d %s: %s", method, path, res.StatusCode, e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("%s %s: %s", method, path, res.Status)
	}
	return json.Unmarshal(b, out)
}

// runShops runs `care shops list|create`.
func runShops(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, shopsUsage)
		if len(args) == 0 {
			return errors.New("care shops: want the subcommand list or create")
		}
		return nil
	}
	fs := flag.NewFlagSet("care shops "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stdout, shopsUsage) }
	var a adminFlags
	a.register(fs)
	switch args[0] {
	case "list":
		limit := fs.Int("limit", 0, "print at most N shops (0: all)")
		if err := parseNoArgs(fs, args[1:]); err != nil {
			return err
		}
		return shopsList(ctx, &a, *limit, stdout)
	case "create":
		var req struct {
			ID       string `json:"id,omitempty"`
			Name     string `json:"name"`
			Timezone string `json:"timezone"`
			Locale   string `json:"locale"`
			Currency string `json:"currency"`
		}
		fs.StringVar(&req.ID, "id", "", "the shop id (2-40 of a-z 0-9 - _); generated when empty")
		fs.StringVar(&req.Name, "name", "", "the shop's name (required)")
		fs.StringVar(&req.Timezone, "timezone", "", "IANA time zone, e.g. Asia/Shanghai (required)")
		fs.StringVar(&req.Locale, "locale", "", "default locale, e.g. zh-CN (required)")
		fs.StringVar(&req.Currency, "currency", "", "ISO 4217 currency, e.g. CNY (required)")
		if err := parseNoArgs(fs, args[1:]); err != nil {
			return err
		}
		var out json.RawMessage
		if err := a.call(ctx, http.MethodPost, "/v1/shops", req, &out); err != nil {
			return err
		}
		return printJSON(stdout, out)
	}
	fmt.Fprint(stderr, shopsUsage)
	return fmt.Errorf("care shops: unknown subcommand %q: want list or create", args[0])
}

func shopsList(ctx context.Context, a *adminFlags, limit int, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTIMEZONE\tLOCALE\tCURRENCY\tCREATED")
	cursor, n := "", 0
	for {
		var page struct {
			Shops []struct {
				ID, Name, Timezone, Locale, Currency string
				CreatedAt                            time.Time `json:"created_at"`
			}
			Next string `json:"next_cursor"`
		}
		if err := a.call(ctx, http.MethodGet, "/v1/shops?limit=1000&cursor="+url.QueryEscape(cursor), nil, &page); err != nil {
			return err
		}
		for _, s := range page.Shops {
			if limit > 0 && n == limit {
				return tw.Flush()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, s.Timezone, s.Locale, s.Currency, s.CreatedAt.UTC().Format(time.RFC3339))
			n++
		}
		if page.Next == "" {
			return tw.Flush()
		}
		cursor = page.Next
	}
}

// runKeys runs `care keys reissue`.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, keysUsage)
		if len(args) == 0 {
			return errors.New("care keys: want the subcommand reissue")
		}
		return nil
	}
	if args[0] != "reissue" {
		fmt.Fprint(stderr, keysUsage)
		return fmt.Errorf("care keys: unknown subcommand %q: want reissue", args[0])
	}
	fs := flag.NewFlagSet("care keys reissue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stdout, keysUsage) }
	var a adminFlags
	a.register(fs)
	shop := fs.String("shop", "", "the shop id (required)")
	role := fs.String("role", "", "ops or agent (required)")
	if err := parseNoArgs(fs, args[1:]); err != nil {
		return err
	}
	if *shop == "" {
		return errors.New("care keys reissue: --shop is required")
	}
	if *role != "ops" && *role != "agent" {
		return fmt.Errorf("care keys reissue: --role must be ops or agent, not %q", *role)
	}
	var out json.RawMessage
	if err := a.call(ctx, http.MethodPost, "/v1/shops/"+url.PathEscape(*shop)+"/keys/"+*role, nil, &out); err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}

func printJSON(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
