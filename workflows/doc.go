// Package workflows lists ordercare's care workflows (All). Each workflow is
// one folder, workflows/<name>/, and one Go package: its state machine
// (<name>.asl.json, Amazon States Language with SAM DefinitionSubstitutions
// such as ${StepFunctionArn}, run unchanged on AWS Step Functions and on the
// local engine), its default care template (template.json), its Go code
// (a steps.Workflow: what starts it, what makes it pointless, its step
// actions and outcomes) and its tests. What every workflow does the same
// way is the kernel, internal/steps. Only the wiring (cmd/care,
// infra/localruntime, functions/*) imports this package: the router, the
// step handler, metrics and the HTTP API receive the list.
package workflows
