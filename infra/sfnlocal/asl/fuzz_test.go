package asl

import "testing"

// FuzzIntrinsic checks that parsing and evaluating arbitrary intrinsic text
// never panics. `go test` runs only the seeds.
func FuzzIntrinsic(f *testing.F) {
	for _, s := range []string{
		`States.Format('a {} b', $.x)`, `States.Array(1, 'x\'', $$.Execution.Id)`,
		`States.ArrayGetItem(States.StringSplit($.s, ','), 0)`, `States.MathAdd(1.5, -2)`,
		`States.JsonMerge($.a, States.StringToJson('{"b":1}'), false)`, `States.Hash($.s, 'MD5')`,
		`States.ArrayRange(0, 10, 3)`, `States.Format('\{\}')`, `States.Array($.items[?(@.a == 'x,)')])`,
	} {
		f.Add(s)
	}
	input := map[string]any{"x": "1", "s": "a,b", "a": map[string]any{}, "items": []any{map[string]any{"a": "x"}}}
	env := &Env{Random: func() float64 { return 0.9 }, UUID: func() string { return "u" }}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := compileIntrinsic(s)
		if err != nil {
			return
		}
		_, _ = c.eval(input, env)
	})
}

// FuzzParse checks that Parse never panics on arbitrary definitions.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`,
		`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true},"Next":"C"}]}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Fail"}}}],"End":true}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Parse([]byte(s))
	})
}
