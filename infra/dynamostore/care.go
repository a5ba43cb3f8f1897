package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/ordercare/ordercare/internal/care"
)

// This file holds what the care.CareStore methods (care.go, messages.go,
// tasks.go, runs.go, waits.go) share: attribute names, key builders and the
// single-item conditional writes.

var _ care.CareStore = (*Store)(nil)

// Attributes of the care items besides PK, SK and data.
const (
	attrRev     = "rev"     // N: optimistic version of tasks and runs (json:"-" on the type)
	attrToken   = "token"   // S: a task's or a wait's Step Functions task token (json:"-" on Task)
	attrResumed = "resumed" // BOOL: Task.Resumed (json:"-")
	attrAnswer  = "answer"  // B: an answer delivered before its Await
	attrGSI1PK  = GSI1 + "PK"
	attrGSI1SK  = GSI1 + "SK"
	attrGSI2PK  = GSI2 + "PK"
	attrGSI2SK  = GSI2 + "SK"
)

// Sort keys and key prefixes of the care items (README.md, Items).
const (
	skTemplate = "TPL#"    // PK SHOP#<shop>, SK TPL#<workflow>#<version:010d>
	skOptOut   = "OPTOUT#" // PK SHOP#<shop>, SK OPTOUT#<contact key>
	skMessage  = "MSG"     // PK SHOP#<shop>#MSG#<id>
	skTask     = "TASK"    // PK SHOP#<shop>#TASK#<id>
	skRun      = "RUN#"    // PK SHOP#<shop>#ORDER#<order>, SK RUN#<workflow>
	skWait     = "WAIT#"   // PK SHOP#<shop>#ORDER#<order>, SK WAIT#<key>
)

func templateSK(wf care.Workflow, version int) string {
	return fmt.Sprintf("%s%s#%010d", skTemplate, wf, version)
}
func messagePK(shopID, id string) string { return "SHOP#" + shopID + "#MSG#" + id }
func taskPK(shopID, id string) string    { return "SHOP#" + shopID + "#TASK#" + id }

// timeKey is the fixed-width UTC form of t used in sort keys, so that string
// order is time order (years 0001-9999).
func timeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// timeKeyLen is len(timeKey(t)) for every t in years 0001-9999.
const timeKeyLen = len("2006-01-02T15:04:05.000000000Z")

func boolAttr(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }

// numOf reads an N attribute (0 when absent or malformed).
func numOf(it map[string]types.AttributeValue, name string) int64 {
	a, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(a.Value, 10, 64)
	return n
}

// strOf reads an S attribute ("" when absent).
func strOf(it map[string]types.AttributeValue, name string) string {
	a, _ := it[name].(*types.AttributeValueMemberS)
	if a == nil {
		return ""
	}
	return a.Value
}

func asCondFailed(err error) (*types.ConditionalCheckFailedException, bool) {
	var ccf *types.ConditionalCheckFailedException
	ok := errors.As(err, &ccf)
	return ccf, ok
}

const (
	condNotExists = "attribute_not_exists(" + attrPK + ")"
	condExists    = "attribute_exists(" + attrPK + ")"
)

// putNew writes it unless an item with its key exists. It returns whether it
// was written, and otherwise the existing item (the ALL_OLD image of the
// failed condition, or a consistent read when the image is missing).
func (s *Store) putNew(ctx context.Context, it map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, error) {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                it,
		ConditionExpression:                 aws.String(condNotExists),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil, true, nil
	}
	ccf, ok := asCondFailed(err)
	if !ok {
		return nil, false, err
	}
	if len(ccf.Item) > 0 {
		return ccf.Item, false, nil
	}
	old, err := s.getItem(ctx, strOf(it, attrPK), strOf(it, attrSK))
	if err != nil {
		return nil, false, fmt.Errorf("read existing item: %w", err)
	}
	return old, false, nil
}

// putRev replaces an existing item whose rev attribute is rev: ErrConflict
// when the rev moved, ErrNotFound when there is no item.
func (s *Store) putRev(ctx context.Context, it map[string]types.AttributeValue, rev int64) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.table,
		Item:                                it,
		ConditionExpression:                 aws.String(condExists + " AND #rev = :rev"),
		ExpressionAttributeNames:            map[string]string{"#rev": attrRev},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":rev": num(rev)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil
	}
	ccf, ok := asCondFailed(err)
	if !ok {
		return err
	}
	if len(ccf.Item) > 0 {
		return fmt.Errorf("stored rev %d, not %d: %w", numOf(ccf.Item, attrRev), rev, care.ErrConflict)
	}
	// No image: tell a missing item from a moved rev by reading it.
	switch _, err := s.getItem(ctx, strOf(it, attrPK), strOf(it, attrSK)); {
	case errors.Is(err, care.ErrNotFound):
		return care.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("rev %d moved: %w", rev, care.ErrConflict)
}

// getItem reads one item consistently; ErrNotFound when absent.
func (s *Store) getItem(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if res.Item == nil {
		return nil, care.ErrNotFound
	}
	return res.Item, nil
}

// queryAll runs in to the end, page after page.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for {
		res, err := s.query(ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, res.Items...)
		if res.LastEvaluatedKey == nil {
			return items, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// queryIndex returns every item of index whose partition key is pk, in sort
// key order; with prefix non-empty only sort keys beginning with it. Index
// reads are eventually consistent on AWS (DynamoDB Local updates indexes
// synchronously).
func (s *Store) queryIndex(ctx context.Context, index, pk, prefix string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": index + "PK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :prefix)")
		in.ExpressionAttributeNames["#sk"] = index + "SK"
		in.ExpressionAttributeValues[":prefix"] = str(prefix)
	}
	return s.queryAll(ctx, in)
}

// queryWindow returns every item of index under pk whose sort key lies in
// [timeKey(from), timeKey(to)): sort keys that start with a timeKey, so the
// window holds exactly the items with from <= t < to. Nothing when to is not
// after from.
func (s *Store) queryWindow(ctx context.Context, index, pk string, from, to time.Time) ([]map[string]types.AttributeValue, error) {
	if !from.Before(to) {
		return nil, nil
	}
	return s.queryAll(ctx, windowQuery(s.table, index, pk, from, to))
}

func windowQuery(table, index, pk string, from, to time.Time) *dynamodb.QueryInput {
	// "<to>#…" sorts after "<to>", so BETWEEN (inclusive) excludes t == to.
	return &dynamodb.QueryInput{
		TableName:                &table,
		IndexName:                aws.String(index),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#pk": index + "PK", "#sk": index + "SK"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":from": str(timeKey(from)), ":to": str(timeKey(to)),
		},
	}
}

// ---- templates ----

// PutTemplate stores t as a new version in one transaction: the version item
// conditioned on attribute_not_exists, and (from version 2) a condition
// check that version-1 exists. ErrConflict when t.Version is not exactly one
// more than the latest stored version; nothing is written then. A
// transaction cancelled by a conflict with another transaction or by
// throttling is retried after a backoff (ErrConflict after maxAttempts).
// ErrInvalid for a shop id or workflow that is empty or contains '#'.
func (s *Store) PutTemplate(ctx context.Context, t care.Template) error {
	if !validShopID(t.ShopID) {
		return care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	}
	if t.Workflow == "" || strings.Contains(string(t.Workflow), "#") {
		return care.Invalid("workflow", "a workflow name is not empty and has no '#'")
	}
	if t.Version < 1 {
		return fmt.Errorf("put template %s v%d of shop %s: versions start at 1: %w", t.Workflow, t.Version, t.ShopID, care.ErrConflict)
	}
	it, err := item(shopPK(t.ShopID), templateSK(t.Workflow, t.Version), t, nil)
	if err != nil {
		return err
	}
	tx := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: aws.String(condNotExists)}}}
	if t.Version > 1 {
		tx = append(tx, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table,
			Key: key(shopPK(t.ShopID), templateSK(t.Workflow, t.Version-1)), ConditionExpression: aws.String(condExists)}})
	}
	// Conflicts with other transactions and throttling are retried after a
	// backoff; a failed condition is the answer.
	for attempt := 1; ; attempt++ {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: tx,
			// One token per attempt: an SDK retry of a transaction that did
			// commit succeeds instead of failing on its own new item.
			ClientRequestToken: aws.String(uuid.NewString()),
		})
		tce, ok := asCanceled(err)
		if !ok {
			break
		}
		if hasCode(tce, "ConditionalCheckFailed") {
			return fmt.Errorf("put template %s v%d of shop %s: not the next version: %w", t.Workflow, t.Version, t.ShopID, care.ErrConflict)
		}
		if !retryable(tce) {
			return fmt.Errorf("put template %s v%d of shop %s: transaction cancelled (%s): %w", t.Workflow, t.Version, t.ShopID, reasonCodes(tce), err)
		}
		if attempt >= maxAttempts {
			return fmt.Errorf("put template %s v%d of shop %s: still conflicting after %d attempts (%s): %w", t.Workflow, t.Version, t.ShopID, attempt, reasonCodes(tce), care.ErrConflict)
		}
		if err := s.pause(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("put template %s v%d of shop %s: %w", t.Workflow, t.Version, t.ShopID, err)
		}
	}
	if err != nil {
		return fmt.Errorf("put template %s v%d of shop %s: %w", t.Workflow, t.Version, t.ShopID, err)
	}
	return nil
}

func hasCode(tce *types.TransactionCanceledException, code string) bool {
	for _, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// retryable: the transaction was cancelled only by conflicts with other
// transactions or throttling, so trying again may succeed.
func retryable(tce *types.TransactionCanceledException) bool {
	found := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "None", "":
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			found = true
		default:
			return false
		}
	}
	return found
}

// GetTemplate returns one version (one consistent GetItem), or the latest
// when version is 0 (a consistent Query, descending, Limit 1); ErrNotFound
// when there is none.
func (s *Store) GetTemplate(ctx context.Context, shopID string, wf care.Workflow, version int) (care.Template, error) {
	if !validShopID(shopID) || wf == "" || strings.Contains(string(wf), "#") || version < 0 {
		return care.Template{}, fmt.Errorf("get template %s v%d of shop %q: %w", wf, version, shopID, care.ErrNotFound)
	}
	var t care.Template
	if version > 0 {
		if err := s.get(ctx, shopPK(shopID), templateSK(wf, version), &t); err != nil {
			return care.Template{}, fmt.Errorf("get template %s v%d of shop %s: %w", wf, version, shopID, err)
		}
		return t, nil
	}
	res, err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                &s.table,
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(shopPK(shopID)), ":prefix": str(skTemplate + string(wf) + "#"),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(1),
		ConsistentRead:   aws.Bool(true),
	})
	if err != nil {
		return care.Template{}, fmt.Errorf("get latest template %s of shop %s: %w", wf, shopID, err)
	}
	if len(res.Items) == 0 {
		return care.Template{}, fmt.Errorf("get latest template %s of shop %s: %w", wf, shopID, care.ErrNotFound)
	}
	if err := decode(res.Items[0], &t); err != nil {
		return care.Template{}, fmt.Errorf("get latest template %s of shop %s: %w", wf, shopID, err)
	}
	return t, nil
}

// ---- opt-outs ----

type optOut struct {
	At time.Time `json:"at"`
}

// OptOut records the opt-out (idempotent: a PutItem conditioned on
// attribute_not_exists keeps the first time). ErrInvalid for a shop id with
// '#' or an empty contact.
func (s *Store) OptOut(ctx context.Context, shopID, contact string, at time.Time) error {
	if !validShopID(shopID) {
		return care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	}
	if contact == "" {
		return care.Invalid("contact", "empty")
	}
	it, err := item(shopPK(shopID), skOptOut+contact, optOut{At: at}, nil)
	if err != nil {
		return err
	}
	if _, _, err := s.putNew(ctx, it); err != nil {
		return fmt.Errorf("opt out of shop %s: %w", shopID, err)
	}
	return nil
}

// OptedOut reports whether the contact opted out of the shop's messages
// (one consistent GetItem).
func (s *Store) OptedOut(ctx context.Context, shopID, contact string) (bool, error) {
	if !validShopID(shopID) || contact == "" {
		return false, nil
	}
	switch _, err := s.getItem(ctx, shopPK(shopID), skOptOut+contact); {
	case err == nil:
		return true, nil
	case errors.Is(err, care.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("read opt-out of shop %s: %w", shopID, err)
	}
}
