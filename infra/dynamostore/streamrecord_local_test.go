package dynamostore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// TestChangeFromStreamRecordOnDynamoDBLocal: the stream records Ingest
// really produces, in the JSON form Lambda hands the router function,
// decode through ChangeFromStreamRecord to exactly the changes ReadFeed
// returns, and every other record is skipped.
func TestChangeFromStreamRecordOnDynamoDBLocal(t *testing.T) {
	s := newStore(t, clock.Real{})
	ctx := t.Context()
	ingestForStream(t, s)
	want, _, err := s.ReadFeed(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []care.Change
	records := rawStreamRecords(t, s)
	for _, rec := range records {
		c, ok, err := ChangeFromStreamRecord(rec)
		if err != nil {
			t.Fatalf("record %s: %v", rec.Change.SequenceNumber, err)
		}
		if ok {
			got = append(got, c)
		}
	}
	t.Logf("%d stream records, %d feed changes", len(records), len(got))
	if len(records) <= len(got) {
		t.Fatalf("%d records, %d changes: expected the other items' records too", len(records), len(got))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("changes (-ReadFeed +ChangeFromStreamRecord):\n%s", diff)
	}
}

// ingestForStream ingests a few events into a new shop: two orders, one paid,
// one with '#' in its id.
func ingestForStream(t *testing.T, s *Store) {
	t.Helper()
	shop := mustShop(t, s)
	for _, ev := range []care.Event{createdEv("o-1"), paidEv("o-1", time.Minute), createdEv("o#2")} {
		if _, err := s.Ingest(t.Context(), deliv(shop), ev, care.Apply); err != nil {
			t.Fatalf("Ingest: %v", err)
		}
	}
}

// rawStreamRecords reads every record of the store's stream as the raw JSON
// of the DynamoDB Streams API, which is the record format Lambda delivers,
// decoded into the Lambda event type.
func rawStreamRecords(t *testing.T, s *Store) []events.DynamoDBEventRecord {
	t.Helper()
	ctx := t.Context()
	db, st := clients(t)
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := st.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: desc.Table.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	var out []events.DynamoDBEventRecord
	for _, sh := range stream.StreamDescription.Shards {
		it, err := st.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: desc.Table.LatestStreamArn,
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		next := aws.ToString(it.ShardIterator)
		for empty := 0; next != "" && empty < 3; {
			var page struct {
				Records           []json.RawMessage
				NextShardIterator string
			}
			getStreamRecords(t, next, &page)
			if len(page.Records) == 0 {
				empty++
			}
			for _, raw := range page.Records {
				var rec events.DynamoDBEventRecord
				if err := json.Unmarshal(withoutCreationTime(t, raw), &rec); err != nil {
					t.Fatalf("decode %s: %v", raw, err)
				}
				out = append(out, rec)
			}
			next = page.NextShardIterator
		}
	}
	return out
}

// withoutCreationTime drops dynamodb.ApproximateCreationDateTime, which the
// API may send as a fraction of seconds where Lambda sends an integer.
func withoutCreationTime(t *testing.T, raw []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(m["dynamodb"], &d); err != nil {
		t.Fatal(err)
	}
	delete(d, "ApproximateCreationDateTime")
	m["dynamodb"], _ = json.Marshal(d)
	b, _ := json.Marshal(m)
	return b
}

// getStreamRecords calls GetRecords over plain HTTP to keep the response's JSON
// (DynamoDB Local checks no signature).
func getStreamRecords(t *testing.T, iterator string, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"ShardIterator": iterator})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, os.Getenv("DYNAMODB_ENDPOINT"), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDBStreams_20120810.GetRecords")
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=local/%s/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
		time.Now().UTC().Format("20060102")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GetRecords: %s: %s", resp.Status, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GetRecords response: %v", err)
	}
}

// streamSFNCalls is a hand-written fake of the Step Functions API that records
// what the router asks of it.
type streamSFNCalls struct{ calls []string }

func (f *streamSFNCalls) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.calls = append(f.calls, "start "+aws.ToString(in.StateMachineArn)+" "+aws.ToString(in.Name))
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String("arn")}, nil
}

func (f *streamSFNCalls) StopExecution(_ context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	f.calls = append(f.calls, "stop "+aws.ToString(in.ExecutionArn))
	return &sfn.StopExecutionOutput{}, nil
}

func (f *streamSFNCalls) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	f.calls = append(f.calls, "resume "+aws.ToString(in.TaskToken))
	return &sfn.SendTaskSuccessOutput{}, nil
}

// TestRouterFunctionOnDynamoDBLocal runs the router function's handler as
// functions/router wires it (the DynamoDB store, ChangeFromStreamRecord)
// over the stream records real ingests produce: an unpaid order starts its
// chase, and its payment stops it.
func TestRouterFunctionOnDynamoDBLocal(t *testing.T) {
	s := newStore(t, clock.Real{})
	ctx := t.Context()
	shop := mustShop(t, s)
	api := &streamSFNCalls{}
	const machine = "arn:aws:states:us-east-1:111111111111:stateMachine:"
	h := &router.StreamHandler{Decode: ChangeFromStreamRecord, Router: &router.Router{Store: s, SFN: api, Clock: clock.Real{},
		StateMachinePrefix: machine, Workflows: workflows.All()}}
	seen := map[string]bool{}
	route := func(evs ...care.Event) {
		t.Helper()
		for _, ev := range evs {
			if _, err := s.Ingest(ctx, deliv(shop), ev, care.Apply); err != nil {
				t.Fatalf("Ingest: %v", err)
			}
		}
		var batch events.DynamoDBEvent
		for _, rec := range rawStreamRecords(t, s) {
			if !seen[rec.Change.SequenceNumber] {
				seen[rec.Change.SequenceNumber] = true
				batch.Records = append(batch.Records, rec)
			}
		}
		resp, err := h.Handle(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("Handle = %+v, %v", resp, err)
		}
	}
	exec := steps.ExecutionName(care.UnpaidChase, shop, "o-1")
	route(createdEv("o-1"))
	route(paidEv("o-1", time.Minute))
	want := []string{"start " + machine + string(care.UnpaidChase) + " " + exec, "stop arn:aws:states:us-east-1:111111111111:execution:" + string(care.UnpaidChase) + ":" + exec}
	var chase []string // the calls about the chase (the payment also starts other workflows)
	for _, c := range api.calls {
		if strings.Contains(c, exec) {
			chase = append(chase, c)
		}
	}
	if diff := cmp.Diff(want, chase); diff != "" {
		t.Fatalf("Step Functions calls (-want +got):\n%s", diff)
	}
	run, err := s.GetRun(ctx, shop, "o-1", care.UnpaidChase, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != care.RunStopped {
		t.Fatalf("run status %s, want %s", run.Status, care.RunStopped)
	}
}
