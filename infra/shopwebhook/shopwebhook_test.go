package shopwebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/steps"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

type sources map[string]care.Source

func (s sources) GetSource(_ context.Context, shop, name string) (care.Source, error) {
	if src, ok := s[shop+"/"+name]; ok {
		return src, nil
	}
	return care.Source{}, care.ErrNotFound
}

// TestSend checks the request against the Standard Webhooks reference
// verifier and the status mapping.
func TestSend(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second) // the reference verifier checks the timestamp against the real clock
	var got []string
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wh, _ := standardwebhooks.NewWebhook(secret)
		if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("signature does not verify: %v", err)
		}
		got = append(got, r.Header.Get("webhook-id")+" "+string(body))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	c := &Channel{Sources: sources{"s1/" + care.ChannelWebhook: {URL: srv.URL, Secret: secret}}, Clock: clock.NewVirtual(now, nil)}
	d := steps.Envelope{Event: "message", Shop: care.Shop{ID: "s1"},
		Order:   care.OrderState{Order: care.Order{ID: "o1", Buyer: &care.Buyer{Phone: "+8613800138000"}}},
		Message: care.Message{ID: "unpaid_chase-abc.nudge", ShopID: "s1", OrderID: "o1", Step: "nudge", Text: "hi", At: now}}
	if err := c.Send(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "unpaid_chase-abc.nudge {") || strings.Contains(got[0], "138001") {
		t.Fatalf("request %q: want webhook-id = message id and no phone number", got)
	}
	for _, tc := range []struct {
		status int
		want   error // nil: transient (not rejected)
	}{{400, care.ErrRejected}, {410, care.ErrRejected}, {429, nil}, {503, nil}} {
		status = tc.status
		err := c.Send(t.Context(), d)
		if err == nil || (tc.want != nil) != errors.Is(err, care.ErrRejected) {
			t.Errorf("status %d: err %v, want rejected=%v", tc.status, err, tc.want != nil)
		}
	}
	d.Shop.ID = "s2"
	if err := c.Send(t.Context(), d); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("unconfigured shop: %v, want ErrNotFound", err)
	}
}

// TestSamplePayloads decodes every sample in events/channel strictly into
// Payload and round-trips it: the contract a shop's receiver codes against.
func TestSamplePayloads(t *testing.T) {
	files, err := filepath.Glob("../../events/channel/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in events/channel (%v)", err)
	}
	noticed := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var p Payload
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil || p.ID == "" || p.Type == "" || p.At.IsZero() {
			t.Fatalf("%s: %+v %v", f, p, err)
		}
		if p.Type == "notice" {
			if !slices.Contains(codconfirm.NoticeSteps, p.Step) || !strings.HasSuffix(p.ID, "."+p.Step) {
				t.Errorf("%s: notice step %q (id %s), want one of %q, the id's suffix", f, p.Step, p.ID, codconfirm.NoticeSteps)
			}
			noticed[p.Step] = true
		}
		out, _ := json.Marshal(p)
		var a, c any
		json.Unmarshal(b, &a)
		json.Unmarshal(out, &c)
		if ja, jc := mustJSON(a), mustJSON(c); !bytes.Equal(ja, jc) {
			t.Errorf("%s round trip:\n got  %s\n want %s", f, jc, ja)
		}
	}
	// A shop codes against these samples: every notice it can receive has one.
	for _, step := range codconfirm.NoticeSteps {
		if !noticed[step] {
			t.Errorf("no sample in events/channel for the %q notice", step)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
