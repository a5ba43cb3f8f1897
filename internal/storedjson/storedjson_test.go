package storedjson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/storedjson"
)

// same decodes data with storedjson and with encoding/json into new values
// of v's type and fails unless both give the same value, or both an error.
func same(t *testing.T, data []byte, v any) {
	t.Helper()
	typ := reflect.TypeOf(v).Elem()
	fast, slow := reflect.New(typ), reflect.New(typ)
	ferr := storedjson.Unmarshal(data, fast.Interface())
	serr := json.Unmarshal(data, slow.Interface())
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("%s: storedjson error %v, encoding/json error %v", data, ferr, serr)
	}
	if ferr != nil {
		if ferr.Error() != serr.Error() {
			t.Fatalf("%s: storedjson error %q, encoding/json %q", data, ferr, serr)
		}
		return
	}
	if reflect.DeepEqual(slow.Interface(), fast.Interface()) {
		return
	}
	if diff := cmp.Diff(slow.Interface(), fast.Interface(), cmp.AllowUnexported(outer{})); diff != "" {
		t.Fatalf("%s: storedjson differs from encoding/json (-json +storedjson):\n%s", data, diff)
	}
}

// sameValue fails unless storedjson.Value gives what a json.Decoder with
// UseNumber gives for data, one value with nothing after it, or leaves it
// to the Decoder.
func sameValue(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := storedjson.Value(data)
	if !ok {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var slow any
	if err := dec.Decode(&slow); err != nil {
		t.Fatalf("%s: storedjson decoded %v, encoding/json failed: %v", data, fast, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: storedjson decoded %v, encoding/json finds more after the value (%v)", data, fast, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s: storedjson decoded %#v, encoding/json %#v", data, fast, slow)
	}
}

// shapes are the types the stores decode with storedjson, and some with
// the cases it leaves to encoding/json.
type (
	// plainOrder is an order's state without its UnmarshalJSON, which
	// calls storedjson: encoding/json decodes it on its own.
	plainOrder care.OrderState
	embedded   struct {
		A string `json:"a"`
		B int
	}
	outer struct {
		embedded
		B      string            `json:"B"` // shadows embedded.B
		C      *embedded         `json:"c,omitempty"`
		M      map[string]int64  `json:"m"`
		S      []uint8           `json:"s"` // []byte: base64, left to encoding/json
		F      float64           `json:"f"`
		U      uint16            `json:"u"`
		Any    any               `json:"any"` // left to encoding/json
		Raw    json.RawMessage   `json:"raw"`
		Nested map[string][]bool `json:"nested"`
		skip   int
		Dash   int `json:"-"`
		Str    int `json:"str,string"` // ",string": the type is left to encoding/json
	}
	plain struct {
		A string            `json:"a"`
		N int8              `json:"n"`
		P *int              `json:"p"`
		L []string          `json:"l"`
		M map[string]string `json:"m"`
		T time.Time         `json:"t"`
		Q *time.Time        `json:"q,omitempty"`
	}
)

func TestSameAsEncodingJSON(t *testing.T) {
	cases := []string{
		`{}`, ` { } `, `null`, `{"a":"x","n":-5,"p":7,"l":["a","b"],"m":{"k":"v"},"t":"2026-11-11T01:00:00Z","q":"2026-11-11T09:00:00+08:00"}`,
		`{"a":null,"n":null,"p":null,"l":null,"m":null,"t":null,"q":null}`,
		`{"l":[],"m":{}}`,
		`{"a":"\u003ctag\u003e \u0026 \"q\" \\ \/ \b\f\n\r\t é 龙井 \ud83d\ude00"}`,
		`{"a":"\ud83d"}`, `{"a":"\ud83dx"}`, `{"a":"bad \x"}`, "{\"a\":\"raw\xff\"}", "{\"a\":\"ctl\x01\"}",
		`{"A":"case"}`, `{"unknown":1}`, `{"a":"x","a":"y"}`, `{"l":["a"],"l":["b"]}`,
		`{"n":128}`, `{"n":-129}`, `{"n":1.5}`, `{"n":1e2}`, `{"n":01}`, `{"n":-}`, `{"n":"1"}`, `{"n":+1}`,
		`{"p":99999999999999999999}`, `{"a":1}`, `{"l":"x"}`, `{"m":[]}`, `{"t":"yesterday"}`, `{"t":1}`,
		`{"a":"x",}`, `{"a":"x"`, `{"a" "x"}`, `{"a":"x"} x`, `[]`, `"x"`, ``, `{"l":["a",]}`, `{"l":["a" "b"]}`,
		`{"m":{"k":1}}`, `{"m":{"k":"v","k":"w"}}`,
	}
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			same(t, []byte(c), &plain{})
			sameValue(t, []byte(c))
		})
	}
	for _, c := range []string{`1`, `-0.5e+3`, `"s"`, `true`, `false`, `null`, ` [ 1 , {"a":[]} ] `, `{"a":1,"a":2}`, `[1,]`, `nul`, `tru`, `1 2`, `{"a":{}}`} {
		t.Run(c, func(t *testing.T) {
			if _, ok := storedjson.Value([]byte(c)); !ok && json.Valid([]byte(c)) {
				t.Errorf("%s: valid, and left the fast path", c)
			}
			sameValue(t, []byte(c))
		})
	}
	outers := []string{
		`{"a":"x","B":"shadow","c":{"a":"y","B":3},"m":{"x":-9223372036854775808},"f":1.5e-3,"u":65535,"raw":{"x":[1,2]},"nested":{"k":[true,false]}}`,
		`{"u":65536}`, `{"u":-1}`, `{"f":1e400}`, `{"s":"AAE="}`, `{"any":{"x":1}}`, `{"str":"5"}`, `{"Dash":1}`, `{"skip":1}`,
		`{"raw":nul}`, `{"raw":[1,]}`,
	}
	for _, c := range outers {
		t.Run(c, func(t *testing.T) { same(t, []byte(c), &outer{}) })
	}
}

// TestMarshalledValues round-trips random values of the types the stores
// keep (an order, a run) through json.Marshal: storedjson must decode each
// exactly as encoding/json does.
func TestMarshalledValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		for _, v := range []any{&plainOrder{}, &care.Run{}, &outer{}} {
			fill(r, reflect.ValueOf(v).Elem(), 0)
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%d %T", i, v), func(t *testing.T) { same(t, data, v) })
		}
	}
}

// fill sets v to a random value: strings with escapes, non-ASCII and
// control characters, nil and empty slices and maps, nil pointers.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	if !v.CanSet() {
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(2)*int64(r.IntN(1e9))).In(time.FixedZone("", 3600*(r.IntN(25)-12)))))
		return
	}
	if v.Type() == reflect.TypeFor[care.Decimal]() {
		v.SetString(fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)))
		return
	}
	if v.Type() == reflect.TypeFor[json.RawMessage]() {
		v.SetBytes([]byte(`{"k":[1,"\u003c"]}`))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(r.Int64() >> (64 - v.Type().Bits()) * int64(1-2*r.IntN(2)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(r.Uint64() >> (64 - v.Type().Bits()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(r.NormFloat64() * 1e6)
	case reflect.Pointer:
		if depth > 3 || r.IntN(3) == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(r, v.Elem(), depth+1)
	case reflect.Slice:
		if depth > 3 || r.IntN(4) == 0 {
			return
		}
		n := r.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth > 3 || r.IntN(4) == 0 {
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range r.IntN(3) {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString(randString(r))
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e, depth+1)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(r, v.Field(i), depth+1)
		}
	}
}

func randString(r *rand.Rand) string {
	parts := []string{"", "a", "龙井", "O'Brien & Sons", "<b>", "\"q\"", `back\slash`, "tab\t", "\u2028", "😀", "\x01", "é", "YT00000001"}
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

// FuzzUnmarshal: on any input, storedjson and encoding/json agree
// (Unmarshal, and Value against a json.Decoder with UseNumber).
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"a":"x","n":-5,"p":7,"l":["a","b"],"m":{"k":"v"},"t":"2026-11-11T01:00:00Z"}`))
	f.Add([]byte(`{"a":"\u003c\ud83d\ude00","l":[],"m":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		same(t, data, &plain{})
		same(t, data, &care.Run{})
		sameValue(t, data)
	})
}

// stored is an order as the local store keeps it (the stall benchmark's).
const stored = `{"shop_id":"stall","order":{"id":"S5","placed_at":"2026-11-11T01:00:00Z","total":"40.00","currency":"CNY","payment_method":"online","buyer":{"name":"王芳","phone":"+8613800138000","locale":"zh-CN","timezone":"Asia/Shanghai"},"items":[{"sku":"LJ","title":"龙井","quantity":1,"price":"40.00"}],"paid_at":"2026-11-11T01:00:00Z"},"status":"shipped","history":[{"status":"created","at":"2026-11-11T01:00:00Z","event_id":"c5"},{"status":"paid","at":"2026-11-11T01:00:00Z","event_id":"c5"},{"status":"shipped","at":"2026-11-11T01:00:00Z","event_id":"s5"}],"shipments":[{"tracking_number":"YT00000005","carrier":"YTO","status":"in_transit","last_scan_at":"2026-11-11T01:00:00Z","reported_at":"2026-11-11T01:00:00Z","status_stamp":{"at":"2026-11-11T01:00:00Z","event_id":"s5"},"field_stamps":{"carrier":{"at":"2026-11-11T01:00:00Z","event_id":"s5"}},"first_seen":{"at":"2026-11-11T01:00:00Z","event_id":"s5"}}],"version":2,"field_stamps":{"buyer":{"at":"2026-11-11T01:00:00Z","event_id":"c5"},"currency":{"at":"2026-11-11T01:00:00Z","event_id":"c5"},"items":{"at":"2026-11-11T01:00:00Z","event_id":"c5"},"paid_at":{"at":"2026-11-11T01:00:00Z","event_id":"c5"},"payment_method":{"at":"2026-11-11T01:00:00Z","event_id":"c5"},"placed_at":{"at":"2026-11-11T01:00:00Z","event_id":"c5"},"total":{"at":"2026-11-11T01:00:00Z","event_id":"c5"}},"updated_at":"2026-11-11T01:00:00Z"}`

// TestStoredOrder: a stored order takes the fast path.
func TestStoredOrder(t *testing.T) {
	same(t, []byte(stored), &plainOrder{})
	var o plainOrder
	if !storedjson.Fast([]byte(stored), &o) {
		t.Fatal("a stored order left the fast path")
	}
	if o.Parcels[0].TrackingNumber != "YT00000005" || len(o.FieldStamps) != 7 || o.History[2].Status != care.StatusShipped {
		t.Errorf("stored order read as %+v", o)
	}
}

// BenchmarkOrder decodes a stored order (the stall benchmark's) with
// storedjson and with encoding/json.
//
//	go test -run '^$' -bench Order ./internal/storedjson/
func BenchmarkOrder(b *testing.B) {
	for _, dec := range []struct {
		name string
		fn   func([]byte, any) error
	}{{"storedjson", storedjson.Unmarshal}, {"encoding-json", json.Unmarshal}} {
		b.Run(dec.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var o plainOrder
				if err := dec.fn([]byte(stored), &o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDeep: a value nested deeper than the fast path goes is encoding/json's.
func TestDeep(t *testing.T) {
	type tree struct {
		Kids []tree          `json:"kids"`
		Raw  json.RawMessage `json:"raw"`
	}
	for _, n := range []int{999, 1001, 20000} {
		same(t, []byte(strings.Repeat(`{"kids":[`, n)+strings.Repeat(`]}`, n)), &tree{})
		same(t, []byte(`{"raw":`+strings.Repeat(`[`, n)+strings.Repeat(`]`, n)+`}`), &tree{})
	}
}
