package conformance

import "testing"

// Expected values were printed by CPython 3.11: str(json.loads(in)).
func TestPyRepr(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"object", `{"b": 1, "a": [1.5, 1e16, 1e-05, 0.0001, 123456789012345678901234567890, -0, -0.0, 2.0, 1E3], "c": null, "d": true, "e": false}`,
			`{'b': 1, 'a': [1.5, 1e+16, 1e-05, 0.0001, 123456789012345678901234567890, 0, -0.0, 2.0, 1000.0], 'c': None, 'd': True, 'e': False}`},
		{"top-level string", `"it's"`, `it's`},
		{"single quote inside", `["it's"]`, `["it's"]`},
		{"both quotes", `["say \"hi\" it's"]`, `['say "hi" it\'s']`},
		{"escapes", `["tab\t nl\n bs\\ \u0001 \u007f \u00a0 \u00e9 \u4e2d \ud83d\ude00 \u200b"]`,
			`['tab\t nl\n bs\\ \x01 \x7f \xa0 é 中 😀 \u200b']`},
		{"empty list", `[]`, `[]`},
		{"empty object", `{}`, `{}`},
		{"max float", `[1.7976931348623157e308]`, `[1.7976931348623157e+308]`},
		{"tenth", `[0.1]`, `[0.1]`},
		{"hundred", `[100.0]`, `[100.0]`},
		{"1e15", `[1e15]`, `[1000000000000000.0]`},
		{"small", `[123.456e-10]`, `[1.23456e-08]`},
		{"nested", `{"Payload": {"k": [null, {"x": "y"}]}}`, `{'Payload': {'k': [None, {'x': 'y'}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PyRepr([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PyRepr(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
	if _, err := PyRepr([]byte(`{"a":`)); err == nil {
		t.Error("PyRepr accepted truncated JSON")
	}
}

// Expected values were printed by CPython 3.11: json.dumps(json.loads(in)).
func TestPyDumps(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":[1.0,2,"é"],"c":{"x":null,"y":true}}`, `{"b": 1, "a": [1.0, 2, "\u00e9"], "c": {"x": null, "y": true}}`},
		{`["Hello","World"]`, `["Hello", "World"]`},
		{`"str"`, `"str"`},
		{`[]`, `[]`},
		{`{}`, `{}`},
	}
	for _, tt := range tests {
		got, err := PyDumps([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("PyDumps(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
