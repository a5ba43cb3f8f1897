package steps_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

func TestInputErrors(t *testing.T) {
	f, ref := bigOrder(t)
	cod := steps.RunRef{Shop: shopID, Order: ref.Order, Workflow: care.CODConfirm, Version: 1}
	tests := []struct {
		name string
		in   steps.Input
	}{
		{"unknown action", steps.Input{Action: "dance", State: steps.State{Run: ref}}},
		{"no action", steps.Input{State: steps.State{Run: ref}}},
		{"no shop", steps.Input{Action: unpaidchase.ActionChase, State: steps.State{Run: steps.RunRef{Order: ref.Order, Workflow: ref.Workflow, Version: 1}}}},
		{"no order", steps.Input{Action: unpaidchase.ActionChase, State: steps.State{Run: steps.RunRef{Shop: shopID, Workflow: ref.Workflow, Version: 1}}}},
		{"no version", steps.Input{Action: unpaidchase.ActionChase, State: steps.State{Run: steps.RunRef{Shop: shopID, Order: ref.Order, Workflow: ref.Workflow}}}},
		{"unknown shop", steps.Input{Action: unpaidchase.ActionChase, State: steps.State{Run: steps.RunRef{Shop: "other", Order: ref.Order, Workflow: ref.Workflow, Version: 1}}}},
		{"unknown order", steps.Input{Action: unpaidchase.ActionChase, State: steps.State{Run: steps.RunRef{Shop: shopID, Order: "nope", Workflow: ref.Workflow, Version: 1}}}},
		{"unknown template version", steps.Input{Action: unpaidchase.ActionChase, State: steps.State{Run: steps.RunRef{Shop: shopID, Order: ref.Order, Workflow: ref.Workflow, Version: 9}}}},
		{"step not in template", steps.Input{Action: unpaidchase.ActionChase, State: steps.State{Run: ref, Step: "dance"}}},
		{"escalate without token", steps.Input{Action: steps.ActionEscalate, State: steps.State{Run: ref, Step: "call"}}},
		{"escalate a message step", steps.Input{Action: steps.ActionEscalate, State: steps.State{Run: ref, Step: "nudge"}, Token: "tok"}},
		{"cod_ask without token", steps.Input{Action: codconfirm.ActionAsk, State: steps.State{Run: cod, Step: "ask"}}},
	}
	f.template(care.CODConfirm, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.h.Handle(f.ctx, tt.in)
			var ie *steps.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Handle = %v (%T), want *steps.InputError", err, err)
			}
			if name := reflect.TypeOf(err).Elem().Name(); name != "InputError" {
				t.Errorf("Lambda-visible error type %q, want InputError", name)
			}
		})
	}
	if calls := f.res.Calls(); len(calls) != 0 {
		t.Errorf("a refused input resumed an execution: %+v", calls)
	}
	if ts := f.tasks(ref.Order); len(ts) != 0 {
		t.Errorf("a refused input raised a task: %+v", ts)
	}
}

// A store failure (here: the run record is missing) is not the input's
// fault: the state machine must retry it.
func TestStoreFailureIsTransient(t *testing.T) {
	f := newFixture(t)
	v := f.template(care.UnpaidChase, nil)
	f.createOrder(orderSpec{id: "TB-4004", total: "99.00", deadline: 72 * time.Hour})
	ref := steps.RunRef{Shop: shopID, Order: "TB-4004", Workflow: care.UnpaidChase, Version: v} // no CreateRun
	_, err := f.handle(unpaidchase.ActionChase, steps.State{Run: ref}, "")
	var te *steps.TransientError
	if !errors.As(err, &te) || !errors.Is(err, care.ErrNotFound) {
		t.Errorf("Handle = %v (%T), want a *steps.TransientError wrapping ErrNotFound", err, err)
	}
}

// TestStateCarriesNoPersonalData walks both workflows through every action
// and checks that no returned execution state holds the buyer's phone or
// name, or the text of a message that was sent.
func TestStateCarriesNoPersonalData(t *testing.T) {
	var states []steps.State
	keep := func(s steps.State) { states = append(states, s) }

	f, ref := bigOrder(t)
	st := steps.State{Run: ref}
	for i := 0; i < 10 && st.Kind != steps.KindDone; i++ {
		if st.At != nil {
			if err := f.clk.Set(*st.At); err != nil {
				t.Fatal(err)
			}
		}
		if st.Kind == steps.KindCall {
			f.mustHandle(steps.ActionEscalate, st, "tok-call")
			st.Outcome = json.RawMessage(`{"outcome":"will_pay","agent":"agent-7"}`)
		}
		st = f.chase(st)
		keep(st)
	}
	if st.Kind != steps.KindDone {
		t.Fatalf("chase did not finish in 10 steps: %+v", st)
	}
	texts := sentTexts(t, f, ref)
	if len(texts) < 2 {
		t.Fatalf("the chase sent %d messages; the test needs some", len(texts))
	}

	g, cod := codOrder(t)
	g.mustHandle(codconfirm.ActionAsk, steps.State{Run: cod, Step: "ask"}, "tok-ask")
	call := g.mustHandle(codconfirm.ActionDecide, steps.State{Run: cod, Step: "ask", Reply: json.RawMessage(`{"answer":"unclear","event_id":"e"}`)}, "")
	keep(call)
	g.mustHandle(steps.ActionEscalate, call, "tok-call")
	call.Outcome = json.RawMessage(`{"outcome":"declined","agent":"agent-7"}`)
	keep(g.mustHandle(codconfirm.ActionOutcome, call, ""))
	texts = append(texts, sentTexts(t, g, cod)...)

	for _, s := range states {
		b, _ := json.Marshal(s)
		for _, secret := range append([]string{phone, strings.TrimPrefix(phone, "+"), buyerName}, texts...) {
			if strings.Contains(string(b), secret) {
				t.Errorf("execution state %s contains personal data or message text %q", b, secret)
			}
		}
	}
}

func sentTexts(t *testing.T, f *fixture, ref steps.RunRef) []string {
	t.Helper()
	msgs, err := f.db.ListOrderMessages(f.ctx, ref.Shop, ref.Order)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Status == care.MessageSent {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestLambdaJSONPath runs the handler the way Lambda and the local engine
// do (lambda.NewHandler(...).Invoke with the Task state's JSON payload) and
// checks the state JSON the Choice and Wait states read.
func TestLambdaJSONPath(t *testing.T) {
	f, ref := bigOrder(t)
	payload := fmt.Sprintf(`{"action":"chase","state":{"run":{"shop":%q,"order":%q,"workflow":"unpaid_chase","version":%d},"step":""}}`,
		ref.Shop, ref.Order, ref.Version)
	out, err := lambda.NewHandler(f.h.Handle).Invoke(f.ctx, []byte(payload))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	// The chase rests its run until the first reminder: the execution ends
	// (kind done), the run is the timer.
	want := map[string]any{
		"run":  map[string]any{"shop": ref.Shop, "order": ref.Order, "workflow": "unpaid_chase", "version": float64(ref.Version)},
		"step": "", "kind": "done",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state JSON (-want +got):\n%s", diff)
	}
	if r := f.getRun(ref); r.Step != "nudge" || r.NextAt == nil || !r.NextAt.Equal(start.Add(10*time.Minute)) || r.Gen != 1 {
		t.Errorf("run %+v, want resting at nudge until %v", r, start.Add(10*time.Minute))
	}

	_, err = lambda.NewHandler(f.h.Handle).Invoke(f.ctx, []byte(`{"action":"chase","state":{"run":{"shop":"tea"}}}`))
	if err == nil {
		t.Fatal("Invoke with an incomplete run: no error")
	}
	if name := reflect.TypeOf(err).Elem().Name(); name != "InputError" {
		t.Errorf("error type through Invoke %q (%v), want InputError", name, err)
	}
}
