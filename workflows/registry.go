package workflows

import (
	"fmt"
	"regexp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
	badreview "github.com/ordercare/ordercare/workflows/bad_review"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
	deliverycare "github.com/ordercare/ordercare/workflows/delivery_care"
	pickupnudge "github.com/ordercare/ordercare/workflows/pickup_nudge"
	preshipcheck "github.com/ordercare/ordercare/workflows/preship_check"
	reviewrequest "github.com/ordercare/ordercare/workflows/review_request"
	shippingnotice "github.com/ordercare/ordercare/workflows/shipping_notice"
	stalledparcel "github.com/ordercare/ordercare/workflows/stalled_parcel"
	unpaidchase "github.com/ordercare/ordercare/workflows/unpaid_chase"
)

// All lists every care workflow, in a fixed order. Adding a workflow is its
// folder, one line here and one state machine resource in template.yaml.
func All() steps.Workflows {
	return steps.Workflows{
		unpaidchase.Workflow{},
		codconfirm.Workflow{},
		preshipcheck.Workflow{},
		shippingnotice.Workflow{},
		stalledparcel.Workflow{},
		pickupnudge.Workflow{},
		deliverycare.Workflow{},
		reviewrequest.Workflow{},
		badreview.Workflow{},
	}
}

// DefaultTemplate returns a fresh copy of the default care template of a
// workflow (workflows/<name>/template.json, which internal/playbook.Parse
// accepts). An unknown workflow is a *care.FieldError (care.ErrInvalid).
func DefaultTemplate(wf care.Workflow) ([]byte, error) { return All().DefaultTemplate(wf) }

// Definition returns the state machine of wf as written, with its
// DefinitionSubstitutions (${Name}) in place. The slice is a fresh copy.
func Definition(wf care.Workflow) ([]byte, error) {
	w, ok := All().Get(wf)
	if !ok {
		return nil, fmt.Errorf("no state machine for workflow %q", wf)
	}
	return append([]byte(nil), w.StateMachine()...), nil
}

var placeholder = regexp.MustCompile(`\$\{(\w+)\}`)

// Substitutions lists the DefinitionSubstitutions names the definition of wf uses.
func Substitutions(wf care.Workflow) ([]string, error) {
	b, err := Definition(wf)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, m := range placeholder.FindAllSubmatch(b, -1) {
		if n := string(m[1]); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, nil
}

// Substitute replaces every ${Name} in the definition of wf by subs[Name],
// as SAM's DefinitionSubstitutions does; a name missing from subs is an error.
func Substitute(wf care.Workflow, subs map[string]string) ([]byte, error) {
	b, err := Definition(wf)
	if err != nil {
		return nil, err
	}
	var missing error
	out := placeholder.ReplaceAllFunc(b, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		v, ok := subs[name]
		if !ok {
			missing = fmt.Errorf("workflow %s: no substitution for ${%s}", wf, name)
		}
		return []byte(v)
	})
	return out, missing
}
