// Package functions is the registry of ordercare's Lambda functions. Each
// function is a directory functions/<Dir>/ holding a thin main.go, a
// resource <LogicalID> of template.yaml (provided.al2023, arm64,
// BuildMethod makefile) and a Makefile target build-<LogicalID>, which
// `sam build` calls. A function the state machines invoke is named in their
// DefinitionSubstitutions by its Substitution, which is also the name the
// local runtime registers its handler under.
//
// registry_test.go cross-checks all of it: template.yaml, the Makefile,
// workflows/*/*.asl.json, the local runtime, the step handlers' error names,
// the table's schema and the functions' IAM permissions.
package functions

import (
	"strings"

	"github.com/ordercare/ordercare/internal/care"
)

// Function is one Lambda function.
type Function struct {
	LogicalID    string // its resource in template.yaml
	Dir          string // functions/<Dir>/main.go
	Substitution string // its ${Name} in workflows/*/*.asl.json; "" when no state machine invokes it
}

// Registry lists every Lambda function of the deployment.
var Registry = []Function{
	{LogicalID: "IngestFunction", Dir: "ingest"},
	{LogicalID: "ApiFunction", Dir: "api"},
	{LogicalID: "RouterFunction", Dir: "router"},
	{LogicalID: "StepFunction", Dir: "step", Substitution: "StepFunction"},
	{LogicalID: "ReceiptsFunction", Dir: "receipts"},
}

// StateMachineID is the resource in template.yaml of workflow wf's state
// machine, by one rule: the name in CamelCase followed by StateMachine
// (unpaid_chase: UnpaidChaseStateMachine). Its DefinitionUri is
// workflows/<wf>/<wf>.asl.json and its Name <stack>-<wf>.
func StateMachineID(wf care.Workflow) string {
	var b strings.Builder
	for _, part := range strings.Split(string(wf), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "StateMachine"
}

// StateMachinePrefixEnv is the environment variable that gives the router
// function the prefix of every state machine's ARN
// (router.Router.StateMachinePrefix).
const StateMachinePrefixEnv = "STATE_MACHINE_PREFIX"
