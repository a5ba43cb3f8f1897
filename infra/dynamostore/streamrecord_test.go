package dynamostore

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/router"
)

const streamSample = "../../events/lambda/dynamodb-stream.json"

// loadStreamSample decodes the sample stream event strictly (no unknown
// fields, nothing after it) and checks that it survives a round trip.
func loadStreamSample(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	raw, err := os.ReadFile(streamSample)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("strict decode of %s: %v", streamSample, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: data after the event", streamSample)
	}
	enc, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(enc, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("round trip changed the sample (-file +re-encoded):\n%s", diff)
	}
	return ev
}

func TestChangeFromStreamRecordSample(t *testing.T) {
	ev := loadStreamSample(t)
	var got []care.Change
	for _, rec := range ev.Records {
		c, ok, err := ChangeFromStreamRecord(rec)
		if err != nil {
			t.Fatalf("record %s: %v", rec.EventID, err)
		}
		if ok {
			got = append(got, c)
		}
	}
	want := []care.Change{{
		ShopID:  "demo",
		OrderID: "6921780453512345678",
		EventID: "evt_01JD8M6Q3K9V2Z7T4R5N0XWB1C",
		Type:    care.OrderCreated,
		Version: 1,
		At:      time.Date(2026, 11, 10, 16, 3, 13, 482915000, time.UTC),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	// The feed item's data is the recorded event, as Ingest writes it.
	var recorded care.RecordedEvent
	data := ev.Records[1].Change.NewImage[attrData].String()
	if err := json.Unmarshal([]byte(data), &recorded); err != nil {
		t.Fatalf("feed item data: %v", err)
	}
	if recorded.Event.ID != want[0].EventID || recorded.Seq != want[0].Version {
		t.Fatalf("feed item data names event %s seq %d", recorded.Event.ID, recorded.Seq)
	}
}

// TestChangeFromStreamRecordAgreesWithReadFeed: the Lambda path and the
// DynamoDB Streams API path (ReadFeed's toChange) decode the same record to
// the same change.
func TestChangeFromStreamRecordAgreesWithReadFeed(t *testing.T) {
	for _, rec := range loadStreamSample(t).Records {
		t.Run(rec.EventID, func(t *testing.T) {
			want, wantOK, wantErr := toChange(toStreamsRecord(t, rec))
			got, gotOK, gotErr := ChangeFromStreamRecord(rec)
			if gotOK != wantOK || (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("ok, err = %v, %v; ReadFeed decodes %v, %v", gotOK, gotErr, wantOK, wantErr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-ReadFeed +Lambda):\n%s", diff)
			}
		})
	}
}

// toStreamsRecord converts the string and number attributes of a Lambda
// stream record to the DynamoDB Streams API's types.
func toStreamsRecord(t *testing.T, rec events.DynamoDBEventRecord) stypes.Record {
	t.Helper()
	conv := func(m map[string]events.DynamoDBAttributeValue) map[string]stypes.AttributeValue {
		out := map[string]stypes.AttributeValue{}
		for k, v := range m {
			switch v.DataType() {
			case events.DataTypeString:
				out[k] = &stypes.AttributeValueMemberS{Value: v.String()}
			case events.DataTypeNumber:
				out[k] = &stypes.AttributeValueMemberN{Value: v.Number()}
			default:
				t.Fatalf("attribute %s: type %v not converted", k, v.DataType())
			}
		}
		return out
	}
	seq := rec.Change.SequenceNumber
	return stypes.Record{
		EventName: stypes.OperationType(rec.EventName),
		Dynamodb: &stypes.StreamRecord{
			Keys: conv(rec.Change.Keys), NewImage: conv(rec.Change.NewImage), SequenceNumber: &seq,
		},
	}
}

func TestChangeFromStreamRecord(t *testing.T) {
	s := func(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }
	n := func(v string) events.DynamoDBAttributeValue { return events.NewNumberAttribute(v) }
	feed := func() map[string]events.DynamoDBAttributeValue {
		return map[string]events.DynamoDBAttributeValue{
			attrPK: s("SHOP#s1#ORDER#o1"), attrSK: s("EVENT#00000000000000000003"),
			attrShopID: s("s1"), attrOrderID: s("o1"), attrEventID: s("e3"), attrEventType: s("order.paid"),
			attrVersion: n("3"), attrAt: s("2026-11-11T00:00:01.5Z"),
		}
	}
	record := func(name string, img map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		keys := map[string]events.DynamoDBAttributeValue{}
		for _, k := range []string{attrPK, attrSK} {
			if v, ok := img[k]; ok {
				keys[k] = v
			}
		}
		return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{Keys: keys, NewImage: img, SequenceNumber: "1"}}
	}
	without := func(attr string) map[string]events.DynamoDBAttributeValue {
		m := feed()
		delete(m, attr)
		return m
	}
	paid := care.Change{ShopID: "s1", OrderID: "o1", EventID: "e3", Type: care.OrderPaid, Version: 3,
		At: time.Date(2026, 11, 11, 0, 0, 1, 5e8, time.UTC)}
	tests := []struct {
		name    string
		rec     events.DynamoDBEventRecord
		want    care.Change
		ok      bool
		wantErr string
	}{
		{name: "feed entry", rec: record("INSERT", feed()), want: paid, ok: true},
		{name: "modify of an event item", rec: record("MODIFY", feed())},
		{name: "remove of an event item", rec: record("REMOVE", feed())},
		{name: "order state item", rec: record("INSERT", map[string]events.DynamoDBAttributeValue{
			attrPK: s("SHOP#s1#ORDER#o1"), attrSK: s("STATE"), attrVersion: n("3")})},
		{name: "shop item", rec: record("INSERT", map[string]events.DynamoDBAttributeValue{attrPK: s("SHOP#s1"), attrSK: s("SHOP")})},
		{name: "numeric sort key", rec: record("INSERT", map[string]events.DynamoDBAttributeValue{attrPK: s("X"), attrSK: n("1")})},
		{name: "no keys", rec: events.DynamoDBEventRecord{EventName: "INSERT"}},
		{name: "keys only stream", rec: record("INSERT", map[string]events.DynamoDBAttributeValue{
			attrPK: s("SHOP#s1#ORDER#o1"), attrSK: s("EVENT#00000000000000000003")}), wantErr: "NEW_IMAGE"},
		{name: "no version", rec: record("INSERT", without(attrVersion)), wantErr: "feed attributes"},
		{name: "no time", rec: record("INSERT", without(attrAt)), wantErr: "feed attributes"},
		{name: "no shop", rec: record("INSERT", without(attrShopID)), wantErr: "feed attributes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := ChangeFromStreamRecord(tt.rec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

type streamRouteFunc func(ctx context.Context, c care.Change) error

func (f streamRouteFunc) Handle(ctx context.Context, c care.Change) error { return f(ctx, c) }

// TestStreamSampleThroughRouter: the router function's handler, as wired in
// functions/router, routes the sample batch's one feed entry and skips the
// order's state item.
func TestStreamSampleThroughRouter(t *testing.T) {
	var routed []string
	h := &router.StreamHandler{Decode: ChangeFromStreamRecord, Router: streamRouteFunc(func(_ context.Context, c care.Change) error {
		routed = append(routed, string(c.Type)+" "+c.EventID)
		return nil
	})}
	resp, err := h.Handle(context.Background(), loadStreamSample(t))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if diff := cmp.Diff([]string{"order.created evt_01JD8M6Q3K9V2Z7T4R5N0XWB1C"}, routed); diff != "" {
		t.Fatalf("routed (-want +got):\n%s", diff)
	}
}
