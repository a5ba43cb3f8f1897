package dynamostore

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
)

// A run item lives in its order's partition, so an order's runs are one
// consistent Query: PK SHOP#<shop>#ORDER#<order>, SK RUN#<workflow> (an
// order-level run) or RUN#<workflow>#<subject> (a per-subject run), data
// (care.Run without Rev), rev N; GSI1 (the shop's runs by start) GSI1PK
// SHOP#<shop>#RUNS, GSI1SK <started>#<workflow>#<order>, then #<subject>
// for a per-subject run; and while the run is scheduled (care.RunScheduled),
// GSI2 (runs waiting to start, by start time) GSI2PK DUE#<n>, n one of
// dueShards by a hash of the run's key, GSI2SK <next_at>#<shop>#<order>#
// <workflow>#<subject>: a sparse index that holds only scheduled runs, read
// by DueRuns, spread over shards so a surge of starts has no hot partition.
// Its stream records
// are not EVENT# items, so the feed and the router's filter skip them.

func runsGSI1PK(shopID string) string { return "SHOP#" + shopID + "#RUNS" }

// runSK is the sort key of a run: RUN#<workflow>, as before runs had
// subjects, for an order-level run; RUN#<workflow>#<subject> else (a
// workflow name has no '#').
func runSK(wf care.Workflow, subject string) string {
	if subject == "" {
		return skRun + string(wf)
	}
	return skRun + string(wf) + "#" + subject
}

// dueShards is how many GSI2 partitions scheduled runs spread over.
const dueShards = 8

func dueGSI2PK(n int) string { return "DUE#" + strconv.Itoa(n) }

func runItem(r care.Run) (map[string]types.AttributeValue, error) {
	gsk := timeKey(r.StartedAt) + "#" + string(r.Workflow) + "#" + r.OrderID
	if r.Subject != "" { // runs of one order and workflow started together page apart
		gsk += "#" + r.Subject
	}
	extra := map[string]types.AttributeValue{
		attrRev:    num(r.Rev),
		attrGSI1PK: str(runsGSI1PK(r.ShopID)),
		attrGSI1SK: str(gsk),
	}
	if at, ok := r.Due(); ok {
		key := r.ShopID + "#" + r.OrderID + "#" + string(r.Workflow) + "#" + r.Subject
		h := fnv.New32a()
		h.Write([]byte(key))
		extra[attrGSI2PK] = str(dueGSI2PK(int(h.Sum32() % dueShards)))
		extra[attrGSI2SK] = str(timeKey(at) + "#" + key)
	}
	return item(orderPK(r.ShopID, r.OrderID), runSK(r.Workflow, r.Subject), r, extra)
}

// DueRuns returns scheduled runs due at or before before, earliest first:
// one Query per GSI2 shard (GSI2SK <= timeKey(before)+"$", eventually
// consistent on AWS), merged by GSI2SK; each run listed is then read from
// the table strongly consistent, and left out if it has left the index
// since. The cursor is the last run's GSI2SK: the next page's Queries
// start there.
func (s *Store) DueRuns(ctx context.Context, before time.Time, after string, limit int) ([]care.Run, string, error) {
	if limit <= 0 {
		return nil, "", nil
	}
	to := timeKey(before) + "$" // "<before>#…" sorts before "<before>$": runs due at before are in.
	cond := "#pk = :pk AND #sk <= :to"
	values := map[string]types.AttributeValue{":to": str(to)}
	if after != "" {
		if len(after) <= timeKeyLen || after[timeKeyLen] != '#' {
			return nil, "", care.Invalid("after", "not a cursor DueRuns returned")
		}
		if after >= to {
			return nil, "", nil
		}
		cond = "#pk = :pk AND #sk BETWEEN :after AND :to" // the run at after itself is left out below
		values[":after"] = str(after)
	}
	type listed struct {
		sk  string
		run care.Run
	}
	var ls []listed
	for n := range dueShards {
		values[":pk"] = str(dueGSI2PK(n))
		res, err := s.queryRead(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(GSI2),
			KeyConditionExpression:    aws.String(cond),
			ExpressionAttributeNames:  map[string]string{"#pk": attrGSI2PK, "#sk": attrGSI2SK},
			ExpressionAttributeValues: values,
			Limit:                     aws.Int32(int32(min(limit+1, 1000))),
		}, true)
		if err != nil {
			return nil, "", fmt.Errorf("list due runs: %w", err)
		}
		for _, it := range res.Items {
			sk := strOf(it, attrGSI2SK)
			if sk == after {
				continue
			}
			r, err := decodeRun(it)
			if err != nil {
				return nil, "", fmt.Errorf("list due runs: %w", err)
			}
			ls = append(ls, listed{sk, r})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].sk < ls[j].sk })
	if len(ls) > limit {
		ls = ls[:limit]
	}
	rs := make([]care.Run, len(ls))
	for i, l := range ls {
		rs[i] = l.run
	}
	next := ""
	if len(ls) == limit {
		next = ls[len(ls)-1].sk
	}
	return rs, next, nil
}

func decodeRun(it map[string]types.AttributeValue) (care.Run, error) {
	var r care.Run
	if err := decode(it, &r); err != nil {
		return care.Run{}, err
	}
	r.Rev = numOf(it, attrRev)
	return r, nil
}

// CreateRun stores r with Rev 1 unless a run exists for (shop, order,
// workflow, subject) (one PutItem conditioned on attribute_not_exists); it returns
// the stored run and whether it was created now. ErrInvalid for an empty
// workflow or a shop id with '#'.
func (s *Store) CreateRun(ctx context.Context, r care.Run) (care.Run, bool, error) {
	if !validShopID(r.ShopID) {
		return care.Run{}, false, care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	}
	if r.Workflow == "" {
		return care.Run{}, false, care.Invalid("workflow", "empty")
	}
	r.Rev = 1
	it, err := runItem(r)
	if err != nil {
		return care.Run{}, false, err
	}
	old, created, err := s.putNew(ctx, it)
	if err != nil {
		return care.Run{}, false, fmt.Errorf("create run %s of order %s of shop %s: %w", r.Workflow, r.OrderID, r.ShopID, err)
	}
	if created {
		return r, true, nil
	}
	got, err := decodeRun(old)
	if err != nil {
		return care.Run{}, false, fmt.Errorf("create run %s of order %s of shop %s: %w", r.Workflow, r.OrderID, r.ShopID, err)
	}
	return got, false, nil
}

// GetRun returns a run (one consistent GetItem) or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, shopID, orderID string, wf care.Workflow, subject string) (care.Run, error) {
	if !validShopID(shopID) || wf == "" {
		return care.Run{}, fmt.Errorf("get run %s of order %s of shop %q: %w", wf, orderID, shopID, care.ErrNotFound)
	}
	it, err := s.getItem(ctx, orderPK(shopID, orderID), runSK(wf, subject))
	if err != nil {
		return care.Run{}, fmt.Errorf("get run %s of order %s of shop %s: %w", wf, orderID, shopID, err)
	}
	r, err := decodeRun(it)
	if err != nil {
		return care.Run{}, fmt.Errorf("get run %s of order %s of shop %s: %w", wf, orderID, shopID, err)
	}
	return r, nil
}

// UpdateRun replaces a run if its stored Rev equals r.Rev (a PutItem
// conditioned on attribute_exists and rev), storing it with Rev+1
// (returned); ErrConflict if the Rev moved, ErrNotFound if absent.
func (s *Store) UpdateRun(ctx context.Context, r care.Run) (care.Run, error) {
	if !validShopID(r.ShopID) || r.Workflow == "" {
		return care.Run{}, fmt.Errorf("update run %s of order %s of shop %q: %w", r.Workflow, r.OrderID, r.ShopID, care.ErrNotFound)
	}
	prev := r.Rev
	r.Rev = prev + 1
	it, err := runItem(r)
	if err != nil {
		return care.Run{}, err
	}
	if err := s.putRev(ctx, it, prev); err != nil {
		return care.Run{}, fmt.Errorf("update run %s of order %s of shop %s: %w", r.Workflow, r.OrderID, r.ShopID, err)
	}
	return r, nil
}

// ListOrderRuns returns an order's runs oldest first (StartedAt, then
// workflow, then subject): a consistent Query on the order's partition, SK begins_with RUN#.
func (s *Store) ListOrderRuns(ctx context.Context, shopID, orderID string) ([]care.Run, error) {
	if !validShopID(shopID) {
		return nil, nil
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orderPK(shopID, orderID)), ":prefix": str(skRun)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("list runs of order %s of shop %s: %w", orderID, shopID, err)
	}
	return decodeRuns(items, shopID)
}

// ListRuns returns a shop's runs started in [from, to), oldest first
// (StartedAt, then workflow, then order): a Query on GSI1 with GSI1SK
// BETWEEN timeKey(from) AND timeKey(to), eventually consistent on AWS.
func (s *Store) ListRuns(ctx context.Context, shopID string, from, to time.Time) ([]care.Run, error) {
	if !validShopID(shopID) {
		return nil, nil
	}
	items, err := s.queryWindow(ctx, GSI1, runsGSI1PK(shopID), from, to)
	if err != nil {
		return nil, fmt.Errorf("list runs of shop %s: %w", shopID, err)
	}
	return decodeRuns(items, shopID)
}

func decodeRuns(items []map[string]types.AttributeValue, shopID string) ([]care.Run, error) {
	rs := make([]care.Run, len(items))
	for i, it := range items {
		var err error
		if rs[i], err = decodeRun(it); err != nil {
			return nil, fmt.Errorf("list runs of shop %s: %w", shopID, err)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].StartedAt.Equal(rs[j].StartedAt) {
			return rs[i].StartedAt.Before(rs[j].StartedAt)
		}
		if rs[i].Workflow != rs[j].Workflow {
			return rs[i].Workflow < rs[j].Workflow
		}
		if rs[i].OrderID != rs[j].OrderID {
			return rs[i].OrderID < rs[j].OrderID
		}
		return rs[i].Subject < rs[j].Subject
	})
	return rs, nil
}
