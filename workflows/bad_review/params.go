package badreview

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
)

//go:embed params.schema.json
var paramsSchemaDoc []byte

var paramsSchema = playbook.MustParamsSchema("https://ordercare.dev/schemas/bad_review.params.schema.json", paramsSchemaDoc)

// Params are the params of a bad_review template (params.schema.json).
type Params struct {
	Platform     string              `json:"platform"`
	Threshold    int                 `json:"threshold"`
	ProblemWords map[string][]string `json:"problem_words"`
	Topics       []Topic             `json:"topics"`
	DefaultTopic string              `json:"default_topic"`
	TaskWindow   playbook.Duration   `json:"task_window"`
	Resolved     []string            `json:"resolved"`
	ReviseAsk    bool                `json:"revise_ask"`
	ReviseAfter  playbook.Duration   `json:"revise_after"`
	Watch        playbook.Duration   `json:"watch"`
}

// Topic maps words of a review (per locale) to a task tag.
type Topic struct {
	Tag   string              `json:"tag"`
	Words map[string][]string `json:"words"`
}

// Topics are the tags a bad review's task may carry.
var Topics = []string{care.TagLogistics, care.TagQuality, care.TagService}

// ParseParams implements steps.ParamsParser: the durations are positive;
// each topic's tag and default_topic are logistics, quality or service,
// with a call step task_<tag> tagged so; resolved names outcomes of those
// steps; a revise step, when present, is a message step; then the
// workflow's own compliance rules (Lint).
func (w Workflow) ParseParams(raw json.RawMessage, t *playbook.Template) (any, error) {
	var p Params
	if err := paramsSchema.Decode(raw, &p); err != nil {
		return nil, err
	}
	for f, d := range map[string]playbook.Duration{"task_window": p.TaskWindow, "revise_after": p.ReviseAfter, "watch": p.Watch} {
		if d <= 0 {
			return nil, care.Invalid("params."+f, "must be positive")
		}
	}
	tags := []string{p.DefaultTopic}
	for _, tp := range p.Topics {
		tags = append(tags, tp.Tag)
	}
	for i, tag := range tags {
		path := "params.default_topic"
		if i > 0 {
			path = fmt.Sprintf("params.topics[%d].tag", i-1)
		}
		if !slices.Contains(Topics, tag) {
			return nil, care.Invalid(path, "must be one of %v", Topics)
		}
		s, _, ok := t.Step(TaskStep(tag))
		if !ok || s.Action != playbook.ActionCall || s.Tag != tag {
			return nil, care.Invalid(path, "the template needs a call step %q with tag %q", TaskStep(tag), tag)
		}
		for j, o := range p.Resolved {
			if !slices.Contains(s.Outcomes, o) {
				return nil, care.Invalid(fmt.Sprintf("params.resolved[%d]", j), "%q is no outcome of step %s", o, s.ID)
			}
		}
		for _, o := range []string{TaskAppealWon, TaskAppealLost} {
			if !slices.Contains(s.Outcomes, o) {
				return nil, care.Invalid(path, "step %s must offer outcome %q (the malicious review's appeal)", s.ID, o)
			}
		}
	}
	if s, _, ok := t.Step(StepRevise); ok && s.Action != playbook.ActionMessage {
		return nil, care.Invalid("steps", "step %q must be a message step", StepRevise)
	}
	if errs := w.lint(t, p); len(errs) > 0 {
		return nil, errs[0]
	}
	return p, nil
}

// params returns the parsed params of t; zero when t was parsed without them.
func params(t *playbook.Template) Params {
	p, _ := t.ParsedParams().(Params)
	return p
}

// ParamsSchema implements steps.ParamsSchemer: params.schema.json.
func (Workflow) ParamsSchema() []byte { return paramsSchemaDoc }
