// Package badreview is the bad_review workflow (domain.md 9): a review at
// or below the template's rating threshold, or with one of its problem
// words, opens an agent task at once, with the template's priority and
// SLA, tagged by what the review is about (logistics, quality, service:
// params.topics), carrying the order's whole story (steps.Storyteller:
// items, messages sent, the buyer's replies, parcels and their scans,
// reviews, earlier tasks and notes). The agent records what was done and
// an outcome. Asking the buyer to revise is a separate, optional step
// (params.revise_ask) that exists only where the platform allows it
// (care.RulesOf: never on Amazon or Trustpilot), only after an outcome in
// params.resolved, never offers anything (Lint), and is sent at most once
// (its ledger id is the run's). The run then watches the review until
// params.watch: the same review posted again with a higher rating stops it
// as revised, whether or not it was asked.
//
// An agent may mark the review malicious (POST /v1/tasks/{id}/malicious):
// the task then carries the appeal (care.Appeal) and its deadline is the
// task's SLA; the evidence pack is built on read (GET
// /v1/tasks/{id}/evidence).
//
// Runs are per review (steps.Subjects: the subject is the review id).
//
// The folder holds its state machine (bad_review.asl.json), its default
// template (template.json), its params schema (params.schema.json), its Go
// code and its tests.
package badreview

import (
	"context"
	_ "embed"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Name is the workflow's name.
const Name care.Workflow = "bad_review"

//go:embed bad_review.asl.json
var stateMachine []byte

//go:embed template.json
var defaultTemplate []byte

// Workflow is bad_review as the kernel sees it (steps.Workflow).
type Workflow struct{}

var _ interface {
	steps.Workflow
	steps.Trigger
	steps.Subjects
	steps.Starter
	steps.StopOutcomer
	steps.ParamsParser
	steps.Storyteller
	steps.CallExplainer
} = Workflow{}

// Name implements steps.Workflow.
func (Workflow) Name() care.Workflow { return Name }

// StateMachine implements steps.Workflow.
func (Workflow) StateMachine() []byte { return stateMachine }

// DefaultTemplate implements steps.Workflow.
func (Workflow) DefaultTemplate() []byte { return defaultTemplate }

// StartsOn implements steps.Trigger.
func (Workflow) StartsOn() []care.EventType { return []care.EventType{care.ReviewPosted} }

// Wants implements steps.Workflow: never an order-level run (runs are per
// review).
func (Workflow) Wants(care.OrderState) bool { return false }

// Pointless implements steps.Workflow: only cancellation (the kernel's)
// ends every run of the order.
func (Workflow) Pointless(care.OrderState) string { return "" }

// NoID is the subject of the order's review that has no platform id.
const NoID = "review"

// Subject is the run subject of a review id.
func Subject(id string) string {
	if id == "" {
		return NoID
	}
	return id
}

func reviewOf(o care.OrderState, subject string) *care.ReviewState {
	if subject == NoID {
		if r := o.ReviewByID(""); r != nil {
			return r
		}
	}
	return o.ReviewByID(subject)
}

// Subjects implements steps.Subjects: the review the event posted. Whether
// it is bad is the template's (Start): a good review's run ends at once,
// with no execution.
func (Workflow) Subjects(o care.OrderState, e care.Event) []string {
	if e.Type != care.ReviewPosted || e.Review == nil {
		return nil
	}
	return []string{Subject(e.Review.ID)}
}

// Reasons a run stops, and outcomes (care.Run.Outcome).
const (
	ReasonRevised  = "revised"   // the same review came again with a higher rating
	ReasonNoReview = "no_review" // the subject is no review of the order

	OutcomeNotBad     = "not_bad"      // above the threshold, no problem word: no task
	OutcomeRevised    = "revised"      // the buyer raised the rating
	OutcomeResolved   = "resolved"     // the agent's outcome is in params.resolved; not revised
	OutcomeUnresolved = "unresolved"   // another outcome; not revised
	OutcomeExpired    = "task_expired" // nobody finished the task in time
	OutcomeAppealWon  = "appeal_won"   // the platform removed the malicious review
	OutcomeAppealLost = "appeal_lost"  // the platform kept it
)

// Task outcomes with a meaning for the run (the template lists them).
const (
	TaskAppealWon  = care.TaskAppealWon
	TaskAppealLost = care.TaskAppealLost
)

// SubjectPointless implements steps.Subjects: a review posted again with a
// higher rating than first is revised.
func (Workflow) SubjectPointless(o care.OrderState, subject string) string {
	r := reviewOf(o, subject)
	switch {
	case r == nil:
		return ReasonNoReview
	case r.Revised():
		return ReasonRevised
	}
	return ""
}

// StopOutcome implements steps.StopOutcomer.
func (Workflow) StopOutcome(reason string) string {
	if reason == ReasonRevised {
		return OutcomeRevised
	}
	return ""
}

// Bad reports whether the review calls for a task under pp: its first
// rating at or below the threshold, or a problem word in its title or text.
func (pp Params) Bad(r care.ReviewState) bool {
	if r.FirstRating <= pp.Threshold || r.Rating <= pp.Threshold {
		return true
	}
	return pp.problem(r.Title + " " + r.Text)
}

func (pp Params) problem(text string) bool {
	t := strings.ToLower(text)
	for _, words := range pp.ProblemWords {
		for _, w := range words {
			if w = strings.ToLower(strings.TrimSpace(w)); w != "" && strings.Contains(t, w) {
				return true
			}
		}
	}
	return false
}

// Topic is what the review is about (a call step's tag): the first of
// params.topics whose words the review's title or text holds, else
// params.default_topic.
func (pp Params) Topic(r care.ReviewState) string {
	t := strings.ToLower(r.Title + " " + r.Text)
	for _, tp := range pp.Topics {
		for _, words := range tp.Words {
			for _, w := range words {
				if w = strings.ToLower(strings.TrimSpace(w)); w != "" && strings.Contains(t, w) {
					return tp.Tag
				}
			}
		}
	}
	return pp.DefaultTopic
}

// TaskStep is the call step of a topic: "task_" + the tag.
func TaskStep(tag string) string { return "task_" + tag }

// Start implements steps.Starter: a bad review's run starts at once with
// its task; any other ends at once (not_bad), with no execution.
func (Workflow) Start(ctx context.Context, s steps.StartEnv) (steps.Start, error) {
	r := reviewOf(s.Order, s.Ref.Subject)
	pp := params(s.Template)
	if r == nil || !pp.Bad(*r) {
		return steps.Start{Outcome: OutcomeNotBad}, nil
	}
	step := TaskStep(pp.Topic(*r))
	in := steps.State{Run: s.Ref, Step: step, Kind: steps.KindCall, At: steps.WaitUntil(s.Now),
		Timeout: int(pp.TaskWindow.Std() / time.Second)}
	return steps.Start{Input: in, Step: step}, nil
}

// rules are the revise rules of the review's platform.
func revisable(o care.OrderState, r *care.ReviewState, pp Params) bool {
	platform := r.Platform
	if platform == "" {
		platform = o.Order.ReviewPlatform(pp.Platform)
	}
	return pp.ReviseAsk && !care.RulesOf(platform).NoReviseAsk
}
