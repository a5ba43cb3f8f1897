package events_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ordercare/ordercare/events"
	"github.com/ordercare/ordercare/internal/care"
)

const schemaURL = "https://github.com/ordercare/ordercare/events/event.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(events.Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

func schemaErr(s *jsonschema.Schema, b []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// decodeStrict decodes one event, rejecting unknown fields and trailing data.
func decodeStrict(b []byte) (care.Event, error) {
	var ev care.Event
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return care.Event{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return care.Event{}, fmt.Errorf("data after the event")
	}
	return ev, nil
}

func TestExamples(t *testing.T) {
	s := compileSchema(t)
	ex := events.Examples()
	var want, got []string
	for _, typ := range care.EventTypes {
		want = append(want, string(typ))
	}
	for name := range ex {
		got = append(got, name)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("examples must be exactly one per care.EventTypes entry (-want +got):\n%s", diff)
	}
	for name, b := range ex {
		t.Run(name, func(t *testing.T) {
			if err := schemaErr(s, b); err != nil {
				t.Fatalf("schema rejects the example: %v", err)
			}
			ev, err := decodeStrict(b)
			if err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			if string(ev.Type) != name {
				t.Fatalf("example %s has type %s", name, ev.Type)
			}
			if err := ev.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			enc, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decodeStrict(enc)
			if err != nil {
				t.Fatalf("decode re-encoded: %v", err)
			}
			if diff := cmp.Diff(ev, again); diff != "" {
				t.Fatalf("round trip changed the event (-first +second):\n%s", diff)
			}
			if err := schemaErr(s, enc); err != nil {
				t.Fatalf("schema rejects the Go encoding of the example: %v", err)
			}
		})
	}
}

// edit returns the example of typ with f applied to its generic JSON form.
func edit(t *testing.T, typ string, f func(ev map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(events.Examples()[typ], &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editLegacy is edit on a legacy example (examples/legacy: the shipment
// shape of order.shipped and shipment.updated, still accepted).
func editLegacy(t *testing.T, typ string, f func(ev map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("examples", "legacy", typ+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

func parcel0(m map[string]any) map[string]any { return m["parcels"].([]any)[0].(map[string]any) }

func item0(m map[string]any) map[string]any {
	return obj(m, "order")["items"].([]any)[0].(map[string]any)
}

// TestSchemaAgreesWithValidate: every event in the table is rejected by the
// schema and by care (strict decode, then Validate); the valid ones are
// accepted by both.
func TestSchemaAgreesWithValidate(t *testing.T) {
	s := compileSchema(t)
	invalid := []struct {
		name string
		body []byte
	}{
		{"empty id", edit(t, "order.paid", func(m map[string]any) { m["id"] = "" })},
		{"id with a space", edit(t, "order.paid", func(m map[string]any) { m["id"] = "evt 1" })},
		{"id of 129 characters", edit(t, "order.paid", func(m map[string]any) { m["id"] = string(bytes.Repeat([]byte("a"), 129)) })},
		{"unknown type", edit(t, "order.paid", func(m map[string]any) { m["type"] = "order.refunded" })},
		{"missing occurred_at", edit(t, "order.paid", func(m map[string]any) { delete(m, "occurred_at") })},
		{"zero occurred_at", edit(t, "order.paid", func(m map[string]any) { m["occurred_at"] = "0001-01-01T00:00:00Z" })},
		{"missing order id", edit(t, "order.paid", func(m map[string]any) { delete(obj(m, "order"), "id") })},
		{"order.created without items", edit(t, "order.created", func(m map[string]any) { delete(obj(m, "order"), "items") })},
		{"order.created with no items", edit(t, "order.created", func(m map[string]any) { obj(m, "order")["items"] = []any{} })},
		{"order.created without buyer", edit(t, "order.created", func(m map[string]any) { delete(obj(m, "order"), "buyer") })},
		{"order.created without placed_at", edit(t, "order.created", func(m map[string]any) { delete(obj(m, "order"), "placed_at") })},
		{"order.created without payment_method", edit(t, "order.created", func(m map[string]any) {
			delete(obj(m, "order"), "payment_method")
			delete(obj(m, "order"), "cod_fee")
		})},
		{"negative total", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["total"] = "-86.40" })},
		{"total not a decimal", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["total"] = "86,40" })},
		{"lowercase currency", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["currency"] = "gbp" })},
		{"unknown payment method", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["payment_method"] = "card" })},
		{"cod_fee on an online order", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["cod_fee"] = "2.00" })},
		{"cod_fee without payment method", edit(t, "order.created", func(m map[string]any) { delete(obj(m, "order"), "payment_method") })},
		{"buyer phone not E.164", edit(t, "order.created", func(m map[string]any) { obj(obj(m, "order"), "buyer")["phone"] = "13912345678" })},
		{"buyer email without @", edit(t, "order.paid", func(m map[string]any) { obj(obj(m, "order"), "buyer")["email"] = "olivia.example.co.uk" })},
		{"buyer locale", edit(t, "order.created", func(m map[string]any) { obj(obj(m, "order"), "buyer")["locale"] = "中文" })},
		{"buyer timezone Local", edit(t, "order.created", func(m map[string]any) { obj(obj(m, "order"), "buyer")["timezone"] = "Local" })},
		{"address phone not E.164", edit(t, "order.created", func(m map[string]any) {
			obj(obj(m, "order"), "shipping_address")["phone"] = "0512-6523 1234"
		})},
		{"item quantity 0", edit(t, "order.created", func(m map[string]any) { item0(m)["quantity"] = 0 })},
		{"item without sku and title", edit(t, "order.created", func(m map[string]any) { item0(m)["sku"], item0(m)["title"] = "", "" })},
		{"item price not a decimal", edit(t, "order.created", func(m map[string]any) { item0(m)["price"] = "368元" })},
		{"negative shelf life", edit(t, "order.created", func(m map[string]any) { item0(m)["shelf_life_hours"] = -1 })},
		{"legacy order.shipped without shipment", editLegacy(t, "order.shipped", func(m map[string]any) { delete(m, "shipment") })},
		{"legacy no tracking number", editLegacy(t, "order.shipped", func(m map[string]any) { obj(m, "shipment")["tracking_numbers"] = []any{} })},
		{"legacy blank tracking number", editLegacy(t, "order.shipped", func(m map[string]any) { obj(m, "shipment")["tracking_numbers"] = []any{"SF1", " \u3000"} })},
		{"legacy shipment.updated without status", editLegacy(t, "shipment.updated", func(m map[string]any) { delete(obj(m, "shipment"), "status") })},
		{"legacy unknown shipment status", editLegacy(t, "shipment.updated", func(m map[string]any) { obj(m, "shipment")["status"] = "lost" })},
		{"order.shipped without parcels", edit(t, "order.shipped", func(m map[string]any) { delete(m, "parcels") })},
		{"order.shipped with no parcels", edit(t, "order.shipped", func(m map[string]any) { m["parcels"] = []any{} })},
		{"order.shipped with parcel", edit(t, "order.shipped", func(m map[string]any) { m["parcel"] = m["parcels"].([]any)[0]; delete(m, "parcels") })},
		{"order.shipped with parcels and shipment", edit(t, "order.shipped", func(m map[string]any) {
			m["shipment"] = map[string]any{"carrier": "SF", "tracking_numbers": []any{"SF9"}}
		})},
		{"parcel without tracking number", edit(t, "order.shipped", func(m map[string]any) { delete(parcel0(m), "tracking_number") })},
		{"parcel tracking number with spaces", edit(t, "order.shipped", func(m map[string]any) { parcel0(m)["tracking_number"] = " SF1 " })},
		{"parcel tracking url not http", edit(t, "order.shipped", func(m map[string]any) { parcel0(m)["tracking_url"] = "javascript:alert(1)" })},
		{"parcel item quantity 0", edit(t, "order.shipped", func(m map[string]any) { parcel0(m)["items"] = []any{map[string]any{"sku": "A", "quantity": 0}} })},
		{"parcel item without sku", edit(t, "order.shipped", func(m map[string]any) { parcel0(m)["items"] = []any{map[string]any{"sku": "", "quantity": 1}} })},
		{"unknown split reason", edit(t, "order.shipped", func(m map[string]any) { parcel0(m)["split_reason"] = "mood" })},
		{"order.shipped parcel with a ref only", edit(t, "order.shipped", func(m map[string]any) {
			delete(parcel0(m), "tracking_number")
			parcel0(m)["ref"] = "5123456789"
		})},
		{"shipment.updated parcel with neither number nor ref", edit(t, "shipment.updated", func(m map[string]any) { delete(obj(m, "parcel"), "tracking_number") })},
		{"shipment.updated without parcel", edit(t, "shipment.updated", func(m map[string]any) { delete(m, "parcel") })},
		{"shipment.updated without status", edit(t, "shipment.updated", func(m map[string]any) { delete(obj(m, "parcel"), "status") })},
		{"unknown parcel status", edit(t, "shipment.updated", func(m map[string]any) { obj(m, "parcel")["status"] = "lost" })},
		{"shipment.updated with parcels", edit(t, "shipment.updated", func(m map[string]any) { m["parcels"] = []any{m["parcel"]} })},
		{"carrier message with a control character", edit(t, "shipment.updated", func(m map[string]any) { obj(m, "parcel")["message"] = "a\u0007b" })},
		{"last_scan_at not a time", edit(t, "shipment.updated", func(m map[string]any) { obj(m, "parcel")["last_scan_at"] = "today" })},
		{"parcels on order.paid", edit(t, "order.paid", func(m map[string]any) { m["parcels"] = []any{map[string]any{"tracking_number": "SF1"}} })},
		{"ship_by not a time", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["ship_by"] = "soon" })},
		{"country not alpha-2", edit(t, "order.address_changed", func(m map[string]any) {
			obj(obj(m, "order"), "shipping_address")["country"] = "China"
		})},
		{"rating 6", edit(t, "review.posted", func(m map[string]any) { obj(m, "review")["rating"] = 6 })},
		{"rating 0", edit(t, "review.posted", func(m map[string]any) { obj(m, "review")["rating"] = 0 })},
		{"review.posted without review", edit(t, "review.posted", func(m map[string]any) { delete(m, "review") })},
		{"blank reply", edit(t, "buyer.replied", func(m map[string]any) { obj(m, "reply")["text"] = " \t\u3000" })},
		{"buyer.replied without reply", edit(t, "buyer.replied", func(m map[string]any) { delete(m, "reply") })},
		{"address_changed without address", edit(t, "order.address_changed", func(m map[string]any) { delete(obj(m, "order"), "shipping_address") })},
		{"total as a number", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["total"] = 86.4 })},
		{"unknown field", edit(t, "order.paid", func(m map[string]any) { m["refund"] = "86.40" })},
		{"unknown order field", edit(t, "order.paid", func(m map[string]any) { obj(m, "order")["status"] = "paid" })},
		{"presentment_total without currency", edit(t, "order.created", func(m map[string]any) { obj(m, "order")["presentment_total"] = "18.00" })},
		{"negative presentment_total", edit(t, "order.created", func(m map[string]any) {
			obj(m, "order")["presentment_total"], obj(m, "order")["presentment_currency"] = "-18.00", "USD"
		})},
		{"paid_at not a time", edit(t, "order.created", func(m map[string]any) { obj(m, "order")["paid_at"] = "yesterday" })},
		{"order name of 65 characters", edit(t, "order.created", func(m map[string]any) { obj(m, "order")["name"] = strings.Repeat("#", 65) })},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			if err := schemaErr(s, tc.body); err == nil {
				t.Errorf("schema accepts %s", tc.body)
			}
			ev, err := decodeStrict(tc.body)
			if err == nil {
				err = ev.Validate()
			}
			if err == nil {
				t.Errorf("care accepts %s", tc.body)
			}
		})
	}

	valid := []struct {
		name string
		body []byte
	}{
		{"order.created marked needs_enrichment with only an id", []byte(`{"id":"douyin:m1","type":"order.created","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"4781320682406083640","needs_enrichment":true}}`)},
		{"legacy awaiting_pickup with a deadline only", editLegacy(t, "shipment.updated", func(m map[string]any) { delete(obj(m, "shipment"), "pickup_point") })},
		{"legacy stalled", editLegacy(t, "shipment.updated", func(m map[string]any) { obj(m, "shipment")["status"] = "stalled" })},
		{"available_for_pickup with a deadline only", edit(t, "shipment.updated", func(m map[string]any) { delete(obj(m, "parcel"), "pickup_point") })},
		{"shipment.updated naming the shipment (ref) only", edit(t, "shipment.updated", func(m map[string]any) {
			delete(obj(m, "parcel"), "tracking_number")
			obj(m, "parcel")["ref"] = "5123456789"
		})},
		{"parcel with a tracking number only", edit(t, "order.shipped", func(m map[string]any) { m["parcels"] = []any{map[string]any{"tracking_number": "SF1"}} })},
		{"every parcel status", func() []byte {
			var b []byte
			for _, st := range care.ShipmentStatuses {
				b = edit(t, "shipment.updated", func(m map[string]any) { obj(m, "parcel")["status"] = string(st) })
				if err := schemaErr(s, b); err != nil {
					t.Errorf("schema rejects status %s: %v", st, err)
				}
			}
			return b
		}()},
		{"item with a sku only", edit(t, "order.created", func(m map[string]any) { item0(m)["title"] = "" })},
		{"cod order without a fee", edit(t, "order.created", func(m map[string]any) { delete(obj(m, "order"), "cod_fee") })},
		{"rating 5", edit(t, "review.posted", func(m map[string]any) { obj(m, "review")["rating"] = 5 })},
		{"order.created already paid, named, test, in two currencies", edit(t, "order.created", func(m map[string]any) {
			o := obj(m, "order")
			o["paid_at"], o["name"], o["test"] = o["placed_at"], "#1043", true
			o["presentment_total"], o["presentment_currency"] = "18.00", "USD"
		})},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			if err := schemaErr(s, tc.body); err != nil {
				t.Errorf("schema rejects: %v", err)
			}
			ev, err := decodeStrict(tc.body)
			if err == nil {
				err = ev.Validate()
			}
			if err != nil {
				t.Errorf("care rejects: %v", err)
			}
		})
	}
}

func TestExamplesAreCopies(t *testing.T) {
	a := events.Examples()
	a["order.created"][0] = 'X'
	if events.Examples()["order.created"][0] == 'X' {
		t.Fatal("Examples returns shared slices")
	}
	s := events.Schema()
	s[0] = 'X'
	if events.Schema()[0] == 'X' {
		t.Fatal("Schema returns a shared slice")
	}
}

// TestLegacyExamples: the shipment shape of order.shipped and
// shipment.updated (before parcels) is still valid under the schema and care,
// and reads as one parcel report per tracking number with its status mapped.
func TestLegacyExamples(t *testing.T) {
	s := compileSchema(t)
	for _, typ := range []string{"order.shipped", "shipment.updated"} {
		t.Run(typ, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("examples", "legacy", typ+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := schemaErr(s, b); err != nil {
				t.Fatalf("schema rejects the legacy example: %v", err)
			}
			ev, err := decodeStrict(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := ev.Validate(); err != nil {
				t.Fatal(err)
			}
			ps := ev.ParcelReports()
			if len(ps) != len(ev.Shipment.TrackingNumbers) || ps[0].TrackingNumber != ev.Shipment.TrackingNumbers[0] {
				t.Fatalf("parcel reports %+v from %+v", ps, ev.Shipment)
			}
			if typ == "shipment.updated" && ps[0].Status != care.ShipAvailableForPickup {
				t.Errorf("awaiting_pickup read as %s, want available_for_pickup", ps[0].Status)
			}
		})
	}
}
