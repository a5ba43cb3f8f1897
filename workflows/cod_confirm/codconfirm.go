// Package codconfirm is the cod_confirm workflow (domain.md 2): ask the
// buyer of a cash-on-delivery order to confirm it, read the reply, have an
// agent call when the reply is not a clear yes, and tell the shop whether it
// may ship. The folder holds its state machine (cod_confirm.asl.json), its
// default template (template.json), its Go code and its tests.
package codconfirm

import (
	_ "embed"

	"context"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/steps"
	"time"
)

// Name is the workflow's name.
const Name care.Workflow = "cod_confirm"

//go:embed cod_confirm.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is cod_confirm as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ steps.Workflow = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// Wants implements steps.Workflow: every cash-on-delivery order is confirmed.
func (Workflow) Wants(o care.OrderState) bool { return o.Order.PaymentMethod == care.PayCOD }

// Pointless implements steps.Workflow: only cancellation (the kernel's)
// ends a confirmation early.
func (Workflow) Pointless(care.OrderState) string { return "" }

// WaitToAsk is the step a cod_confirm run shows (care.Run.Step) while its
// execution waits to send the ask (the WaitToAsk state), with NextAt the
// time it will.
const WaitToAsk = "wait_to_ask"

// Start implements steps.Starter: ask as soon as the minimum gap after the
// buyer's last message, the template's quiet hours and the market's
// sending hours allow (steps.StartEnv.MessageAt; the state machine waits
// until then), then wait reply_timeout for the answer.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	at, err := s.MessageAt(ctx, s.Now)
	if err != nil {
		return steps.Start{}, err
	}
	in := steps.State{Run: s.Ref, Step: StepAsk, At: steps.WaitUntil(at),
		Timeout: int(params(s.Template).ReplyTimeout.Std() / time.Second)}
	return steps.Start{Input: in, Step: WaitToAsk, NextAt: in.At}, nil
}

// AwaitKey implements steps.Awaiter: the run waits for the buyer's reply
// to the ask.
func (Workflow) AwaitKey() string { return AwaitKey }

// Interpret implements steps.Awaiter: yes, no, unclear or stop, by the
// template's reply words in the buyer's and the default locale.
func (Workflow) Interpret(tpl *playbook.Template, text, locale string) playbook.Answer {
	return params(tpl).words.Classify(text, locale)
}
