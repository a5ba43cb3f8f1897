// Package router turns the change feed into workflow runs: it starts
// executions (deterministic names: a redelivered event never starts a
// second run), stops them when their reason goes away (paid stops the unpaid
// chase; cancelled stops everything and cancels open agent tasks), and
// resumes an execution waiting for the buyer's reply. It speaks the Step
// Functions API through the AWS SDK client, the same on AWS and on the
// local engine, and retries throttled calls with backoff, never dropping a
// change: Handle returns an error and the caller keeps the change to retry.
package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/internal/queue"
	"github.com/ordercare/ordercare/internal/steps"
)

// StepFunctions is the part of the Step Functions API the router calls;
// *sfn.Client implements it.
type StepFunctions interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

var _ StepFunctions = (*sfn.Client)(nil)

// Router handles feed changes. Store, SFN, Clock and StateMachines (the
// ARN of every care.Workflows entry) are required. Safe for concurrent use;
// changes of one order must be handled in feed order.
type Router struct {
	Store         care.CareStore
	SFN           StepFunctions
	Clock         clock.Clock
	StateMachines map[care.Workflow]string
	Workflows     steps.Workflows // the registered workflows (workflows.All)
	Logger        *slog.Logger    // nil discards
	// Backoff waits before retry n (1, 2, …) of a throttled call; nil
	// waits 100 ms × 2^(n-1), at most 5 s, in real time.
	Backoff func(ctx context.Context, n int) error

	templates playbook.Cache
}

// Attempts is how many times a throttled Step Functions call is tried
// before Handle gives up (the change is then retried by the caller).
const Attempts = 8

// Handle applies one change. It is idempotent: handling a change again
// (a redelivery, a replay after a crash) starts, stops or resumes nothing twice.
// A workflow the shop switched off ("enabled": false in its latest
// template) gets no run; the skip is logged with reason SkipWorkflowOff.
func (r *Router) Handle(ctx context.Context, c care.Change) error {
	o, err := r.Store.GetOrder(ctx, c.ShopID, c.OrderID)
	if errors.Is(err, care.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	switch c.Type {
	case care.OrderCreated:
		if err := r.start(ctx, o); err != nil {
			return err
		}
	case care.BuyerReplied:
		if err := r.reply(ctx, c); err != nil {
			return err
		}
	}
	switch {
	case o.Has(care.StatusCancelled):
		for _, wf := range care.Workflows {
			if err := r.stop(ctx, o, wf, steps.ReasonCancelled); err != nil {
				return err
			}
		}
	case o.Has(care.StatusPaid):
		return r.stop(ctx, o, care.UnpaidChase, steps.ReasonPaid)
	case o.Order.PaymentMethod == care.PayCOD:
		// Known as COD only now (Douyin says so after creation): confirm it,
		// never chase it for payment.
		return r.stop(ctx, o, care.UnpaidChase, steps.ReasonCOD)
	}
	return nil
}

// wants lists the workflows a newly created order qualifies for: none for
// a platform's test order, a cancelled one, or one already paid when created.
func wants(o care.OrderState) []care.Workflow {
	switch {
	case o.Order.Test, o.Has(care.StatusCancelled):
		return nil
	case o.Order.PaymentMethod == care.PayCOD:
		return []care.Workflow{care.CODConfirm}
	case !o.Has(care.StatusPaid):
		return []care.Workflow{care.UnpaidChase}
	}
	return nil
}

func (r *Router) start(ctx context.Context, o care.OrderState) error {
	now := r.Clock.Now()
	for _, wf := range wants(o) {
		tpl, err := steps.PinTemplate(ctx, r.Store, r.Workflows, o.ShopID, wf, now)
		if err != nil {
			return err
		}
		if p, perr := r.templates.Parse(tpl); perr == nil && !p.On() {
			// Switched off by the shop: no new run. A run created before
			// (this is a replay) is still started; a version that no longer
			// parses starts too, and fails in its step, as before.
			_, err := r.Store.GetRun(ctx, o.ShopID, o.Order.ID, wf)
			if errors.Is(err, care.ErrNotFound) {
				r.logSkip(ctx, o, wf, tpl.Version)
				continue
			} else if err != nil {
				return err
			}
		}
		ref := steps.RunRef{Shop: o.ShopID, Order: o.Order.ID, Workflow: wf, Version: tpl.Version}
		in := steps.State{Run: ref}
		if wf == care.CODConfirm {
			if in, err = r.codInput(ctx, o, ref, now); err != nil {
				return err
			}
		}
		fresh := care.Run{ShopID: o.ShopID, OrderID: o.Order.ID, Workflow: wf,
			Execution: ref.Execution(), TemplateVersion: tpl.Version, Status: care.RunRunning,
			StartedAt: now.UTC(), UpdatedAt: now.UTC()}
		if wf == care.CODConfirm {
			// The execution first waits (WaitToAsk) until in.At: say so on the run.
			fresh.Step, fresh.NextAt = WaitToAsk, in.At
		}
		run, _, err := r.Store.CreateRun(ctx, fresh)
		if err != nil {
			return err
		}
		if run.Status != care.RunRunning {
			continue
		}
		if run.TemplateVersion != ref.Version { // a replay keeps the version pinned first
			ref.Version = run.TemplateVersion
			in.Run = ref
			if wf == care.CODConfirm {
				if in, err = r.codInput(ctx, o, ref, now); err != nil {
					return err
				}
			}
		}
		input, _ := json.Marshal(in)
		err = r.retry(ctx, func() error {
			_, err := r.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(r.StateMachines[wf]),
				Name: aws.String(ref.Execution()), Input: aws.String(string(input))})
			return err
		})
		if err != nil && !isCode(err, "ExecutionAlreadyExists") {
			return fmt.Errorf("start %s: %w", ref.Execution(), err)
		}
	}
	return nil
}

// SkipWorkflowOff is the reason the router gives when it starts no run
// because the shop's latest template of the workflow says "enabled": false.
const SkipWorkflowOff = "workflow_off"

func (r *Router) logSkip(ctx context.Context, o care.OrderState, wf care.Workflow, version int) {
	if r.Logger == nil {
		return
	}
	r.Logger.InfoContext(ctx, "router: no run started: the workflow is switched off for the shop",
		"shop", o.ShopID, "order", o.Order.ID, "workflow", string(wf), "template_version", version, "reason", SkipWorkflowOff)
}

// WaitToAsk is the step a cod_confirm run shows (care.Run.Step) while its
// execution waits to send the ask (the WaitToAsk state), with NextAt the
// time it will.
const WaitToAsk = "wait_to_ask"

// codInput is a cod_confirm run's input: ask as soon as the template's
// quiet hours and minimum gap after the buyer's last message allow (the
// state machine waits until at), then wait reply_timeout for the answer.
func (r *Router) codInput(ctx context.Context, o care.OrderState, ref steps.RunRef, now time.Time) (steps.State, error) {
	t, err := r.template(ctx, ref)
	if err != nil {
		return steps.State{}, err
	}
	shop, err := r.Store.GetShop(ctx, o.ShopID)
	if err != nil {
		return steps.State{}, err
	}
	msgs, err := r.Store.ListOrderMessages(ctx, o.ShopID, o.Order.ID)
	if err != nil {
		return steps.State{}, err
	}
	tm := steps.Timing(o, shop, now)
	tm.LastSent = steps.LastSent(msgs, "") // a chase message just before: the ask keeps the gap
	at := now
	if next, _ := t.Plan("", tm); next != nil {
		at = next.At
	}
	return steps.State{Run: ref, Step: playbook.CODAsk, At: steps.WaitUntil(at), Timeout: int(t.ReplyTimeout.Std() / time.Second)}, nil
}

func (r *Router) template(ctx context.Context, ref steps.RunRef) (*playbook.Template, error) {
	return r.templates.Load(ctx, r.Store, ref.Shop, ref.Workflow, ref.Version)
}

// stop ends a running run of wf for the order and cancels its open agent
// tasks. A chase that sent something and ends paid (also after it ran out
// of steps) counts as recovered. A run already ended and accounted for is
// left alone: later events of the order cost a read, not a write.
func (r *Router) stop(ctx context.Context, o care.OrderState, wf care.Workflow, reason string) error {
	run, err := r.Store.GetRun(ctx, o.ShopID, o.Order.ID, wf)
	if errors.Is(err, care.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	recovers := wf == care.UnpaidChase && reason == steps.ReasonPaid && run.Outcome == ""
	if run.Status != care.RunRunning && !recovers {
		return nil
	}
	if run.Status == care.RunRunning {
		err := r.retry(ctx, func() error {
			_, err := r.SFN.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(r.executionArn(wf, run.Execution)),
				Error: aws.String("ReasonGone"), Cause: aws.String("order " + reason)})
			return err
		})
		if err != nil && !isCode(err, "ExecutionDoesNotExist") {
			return fmt.Errorf("stop %s: %w", run.Execution, err)
		}
		q := &queue.Queue{Store: r.Store, Clock: r.Clock}
		if _, err := q.Cancel(ctx, o.ShopID, o.Order.ID, wf, reason); err != nil {
			return err
		}
	}
	sent := 0
	if recovers {
		msgs, err := r.Store.ListOrderMessages(ctx, o.ShopID, o.Order.ID)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Workflow == wf && m.Status == care.MessageSent {
				sent++
			}
		}
		if sent == 0 && run.Status != care.RunRunning {
			return nil // ended without a message: nothing was recovered
		}
	}
	var value care.Decimal
	if sent > 0 {
		// The recovered value in the shop's currency only: an order in another
		// currency counts as recovered with no value, never mixed into GMV.
		shop, err := r.Store.GetShop(ctx, o.ShopID)
		if err != nil {
			return err
		}
		value, _ = o.Order.TotalIn(shop.Currency)
	}
	return steps.UpdateRun(ctx, r.Store, o.ShopID, o.Order.ID, wf, r.Clock.Now(), func(run *care.Run) {
		if run.Status == care.RunRunning {
			run.Status, run.Step, run.NextAt = care.RunStopped, "", nil
		}
		if sent > 0 && run.Outcome == "" {
			run.Sent, run.Outcome, run.Value, run.OutcomeAt = sent, "paid", value, paidAt(o)
		}
	})
}

func paidAt(o care.OrderState) *time.Time {
	for _, m := range o.History {
		if m.Status == care.StatusPaid {
			t := m.At.UTC()
			return &t
		}
	}
	return nil
}

// reply classifies a buyer's reply: an opt-out word records the opt-out;
// a running cod_confirm run gets the answer (now, or when it starts waiting).
func (r *Router) reply(ctx context.Context, c care.Change) error {
	ev, err := care.FindEvent(ctx, r.Store, c.ShopID, c.OrderID, c.EventID)
	if err != nil || ev.Reply == nil {
		return err
	}
	o, err := r.Store.GetOrder(ctx, c.ShopID, c.OrderID)
	if err != nil {
		return err
	}
	now := r.Clock.Now()
	run, err := r.Store.GetRun(ctx, c.ShopID, c.OrderID, care.CODConfirm)
	if err != nil && !errors.Is(err, care.ErrNotFound) {
		return err
	}
	tpl, err := r.replyTemplate(ctx, c.ShopID, run)
	if err != nil {
		return err
	}
	locale := ""
	if o.Order.Buyer != nil {
		locale = o.Order.Buyer.Locale
	}
	answer := tpl.Classify(ev.Reply.Text, locale)
	if answer == playbook.AnswerStop && o.Order.Buyer != nil {
		for _, contact := range []string{o.Order.Buyer.Phone, o.Order.Buyer.Email} {
			if contact != "" {
				if err := r.Store.OptOut(ctx, c.ShopID, care.ContactKey(contact), now); err != nil {
					return err
				}
			}
		}
	}
	if run.Status != care.RunRunning {
		return nil
	}
	out, _ := json.Marshal(steps.Answer{Answer: string(answer), EventID: ev.ID})
	token, found, err := r.Store.Deliver(ctx, c.ShopID, c.OrderID, steps.AwaitKey, out)
	if err != nil || !found {
		return err
	}
	return r.ResumeTask(ctx, token, out)
}

// replyTemplate is the template whose keywords classify a reply: the COD
// run's pinned version, else the shop's latest cod_confirm version, else the
// built-in default (not stored: a reply alone pins nothing).
func (r *Router) replyTemplate(ctx context.Context, shop string, run care.Run) (*playbook.Template, error) {
	version := run.TemplateVersion // 0 without a run: the latest
	t, err := r.Store.GetTemplate(ctx, shop, care.CODConfirm, version)
	if errors.Is(err, care.ErrNotFound) && version == 0 {
		body, derr := r.Workflows.DefaultTemplate(care.CODConfirm)
		if derr != nil {
			return nil, derr
		}
		return playbook.Parse(care.CODConfirm, body)
	}
	if err != nil {
		return nil, err
	}
	return r.templates.Parse(t)
}

// ResumeTask sends a waiting execution its result (SendTaskSuccess),
// retrying throttled calls. A token that is already closed (the execution
// moved on, was stopped or timed out) is not an error. It implements
// steps.Resumer and queue.Resumer.
func (r *Router) ResumeTask(ctx context.Context, token string, output []byte) error {
	err := r.retry(ctx, func() error {
		_, err := r.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(output))})
		return err
	})
	if isCode(err, "TaskTimedOut", "TaskDoesNotExist", "InvalidToken") {
		return nil
	}
	return err
}

func (r *Router) executionArn(wf care.Workflow, name string) string {
	return strings.Replace(r.StateMachines[wf], ":stateMachine:", ":execution:", 1) + ":" + name
}

// retry calls fn until it succeeds, fails with a non-throttling error, or
// Attempts tries were made.
func (r *Router) retry(ctx context.Context, fn func() error) error {
	var err error
	for n := 1; ; n++ {
		if err = fn(); err == nil || !throttled(err) || n == Attempts {
			return err
		}
		wait := r.Backoff
		if wait == nil {
			wait = realBackoff
		}
		if werr := wait(ctx, n); werr != nil {
			return err
		}
	}
}

func realBackoff(ctx context.Context, n int) error {
	d := min(100*time.Millisecond<<(n-1), 5*time.Second)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func throttled(err error) bool {
	return isCode(err, "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
		"ServiceUnavailable", "InternalFailure", "InternalServerError")
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
