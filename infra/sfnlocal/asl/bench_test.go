package asl

import "testing"

// BenchmarkTaskDataFlow measures one Task state's pure data processing:
// InputPath + Parameters (paths, context path, intrinsic), ResultSelector,
// ResultPath merge and OutputPath, then a Choice decision.
func BenchmarkTaskDataFlow(b *testing.B) {
	m, err := Parse([]byte(`{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"C",
			"InputPath":"$.order","Parameters":{"FunctionName":"f","Payload":{"id.$":"$.id","exec.$":"$$.Execution.Id","msg.$":"States.Format('order {} of {}', $.id, $.customer.name)"}},
			"ResultSelector":{"status.$":"$.Payload.status"},"ResultPath":"$.result","OutputPath":"$"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.result.status","StringEquals":"ok","Next":"D"}],"Default":"D"},
		"D":{"Type":"Succeed"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	input, _ := DecodeJSON([]byte(`{"order":{"id":12345,"customer":{"name":"A"},"lines":[{"sku":"x","qty":1},{"sku":"y","qty":2}]}}`))
	result, _ := DecodeJSON([]byte(`{"Payload":{"status":"ok"},"StatusCode":200}`))
	env := &Env{Context: map[string]any{"Execution": map[string]any{"Id": "arn:aws:states:us-east-1:111111111111:execution:m:e"}}}
	task := m.States["T"].(*Task)
	choice := m.States["C"].(*Choice)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := task.EffectiveInput(input, env); err != nil {
			b.Fatal(err)
		}
		out, err := task.ApplyResult(input, result, env)
		if err != nil {
			b.Fatal(err)
		}
		if next, _, err := choice.Decide(out, env); err != nil || next != "D" {
			b.Fatal(next, err)
		}
	}
}
