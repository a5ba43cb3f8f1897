// Package workflows holds ordercare's care workflows: the state machines
// (*.asl.json, Amazon States Language, with SAM DefinitionSubstitutions such
// as ${StepFunctionArn}) that run unchanged on AWS Step Functions and on the
// local engine, and the default care templates they take their parameters
// from. The files are the single definition of every workflow.
package workflows
