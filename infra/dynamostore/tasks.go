package dynamostore

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
)

// A task item: PK SHOP#<shop>#TASK#<id>, SK TASK, data (the JSON of
// care.Task, without Token, Resumed and Rev), rev N, resumed BOOL, token S
// (when set), status S; GSI1 (the agent queue) GSI1PK
// SHOP#<shop>#TASKS#<status>, GSI1SK <priority:02d>#<due>#<id>; GSI2 (the
// order's tasks) GSI2PK SHOP#<shop>#ORDER#<order>, GSI2SK TASK#<id>.

const gsi2Task = "TASK#"

func tasksGSI1PK(shopID string, st care.TaskStatus) string {
	return "SHOP#" + shopID + "#TASKS#" + string(st)
}

func taskItem(t care.Task) (map[string]types.AttributeValue, error) {
	prio := min(max(t.Priority, 0), 99)
	extra := map[string]types.AttributeValue{
		attrRev:     num(t.Rev),
		attrResumed: boolAttr(t.Resumed),
		attrStatus:  str(string(t.Status)),
		attrGSI1PK:  str(tasksGSI1PK(t.ShopID, t.Status)),
		attrGSI1SK:  str(fmt.Sprintf("%02d#%s#%s", prio, timeKey(t.DueAt), t.ID)),
		attrGSI2PK:  str(orderPK(t.ShopID, t.OrderID)),
		attrGSI2SK:  str(gsi2Task + t.ID),
	}
	if t.Token != "" {
		extra[attrToken] = str(t.Token)
	}
	return item(taskPK(t.ShopID, t.ID), skTask, t, extra)
}

func decodeTask(it map[string]types.AttributeValue) (care.Task, error) {
	var t care.Task
	if err := decode(it, &t); err != nil {
		return care.Task{}, err
	}
	t.Rev = numOf(it, attrRev)
	t.Token = strOf(it, attrToken)
	if b, ok := it[attrResumed].(*types.AttributeValueMemberBOOL); ok {
		t.Resumed = b.Value
	}
	return t, nil
}

// CreateTask stores t with Rev 1 unless a task with t.ID exists for the shop
// (one PutItem conditioned on attribute_not_exists); it returns the stored
// task and whether it was created now. ErrInvalid for an empty id or a shop
// id with '#'.
func (s *Store) CreateTask(ctx context.Context, t care.Task) (care.Task, bool, error) {
	if !validShopID(t.ShopID) {
		return care.Task{}, false, care.Invalid("shop_id", "a shop id is not empty and has no '#'")
	}
	if t.ID == "" {
		return care.Task{}, false, care.Invalid("id", "empty")
	}
	t.Rev = 1
	it, err := taskItem(t)
	if err != nil {
		return care.Task{}, false, err
	}
	old, created, err := s.putNew(ctx, it)
	if err != nil {
		return care.Task{}, false, fmt.Errorf("create task %s of shop %s: %w", t.ID, t.ShopID, err)
	}
	if created {
		return t, true, nil
	}
	got, err := decodeTask(old)
	if err != nil {
		return care.Task{}, false, fmt.Errorf("create task %s of shop %s: %w", t.ID, t.ShopID, err)
	}
	return got, false, nil
}

// GetTask returns a task (one consistent GetItem) or ErrNotFound.
func (s *Store) GetTask(ctx context.Context, shopID, id string) (care.Task, error) {
	if !validShopID(shopID) {
		return care.Task{}, fmt.Errorf("get task %s of shop %q: %w", id, shopID, care.ErrNotFound)
	}
	it, err := s.getItem(ctx, taskPK(shopID, id), skTask)
	if err != nil {
		return care.Task{}, fmt.Errorf("get task %s of shop %s: %w", id, shopID, err)
	}
	t, err := decodeTask(it)
	if err != nil {
		return care.Task{}, fmt.Errorf("get task %s of shop %s: %w", id, shopID, err)
	}
	return t, nil
}

// UpdateTask replaces a task if its stored Rev equals t.Rev (a PutItem
// conditioned on attribute_exists and rev), storing it with Rev+1
// (returned); ErrConflict if the Rev moved, ErrNotFound if absent.
func (s *Store) UpdateTask(ctx context.Context, t care.Task) (care.Task, error) {
	if !validShopID(t.ShopID) || t.ID == "" {
		return care.Task{}, fmt.Errorf("update task %s of shop %q: %w", t.ID, t.ShopID, care.ErrNotFound)
	}
	prev := t.Rev
	t.Rev = prev + 1
	it, err := taskItem(t)
	if err != nil {
		return care.Task{}, err
	}
	if err := s.putRev(ctx, it, prev); err != nil {
		return care.Task{}, fmt.Errorf("update task %s of shop %s: %w", t.ID, t.ShopID, err)
	}
	return t, nil
}

// allTaskStatuses is what an empty TaskFilter.Statuses stands for.
var allTaskStatuses = []care.TaskStatus{care.TaskOpen, care.TaskClaimed, care.TaskDone, care.TaskCancelled}

// ListTasks returns a shop's tasks matching f, in no particular order. With
// an OrderID it is one Query on GSI2 (the order's tasks), filtered by status
// here; otherwise one Query on GSI1 per status (every status when none is
// given), each in (priority, due) order. Eventually consistent on AWS.
func (s *Store) ListTasks(ctx context.Context, shopID string, f care.TaskFilter) ([]care.Task, error) {
	if !validShopID(shopID) {
		return nil, nil
	}
	var items []map[string]types.AttributeValue
	if f.OrderID != "" {
		all, err := s.queryIndex(ctx, GSI2, orderPK(shopID, f.OrderID), gsi2Task)
		if err != nil {
			return nil, fmt.Errorf("list tasks of order %s of shop %s: %w", f.OrderID, shopID, err)
		}
		for _, it := range all {
			if len(f.Statuses) == 0 || slices.Contains(f.Statuses, care.TaskStatus(strOf(it, attrStatus))) {
				items = append(items, it)
			}
		}
	} else {
		statuses := f.Statuses
		if len(statuses) == 0 {
			statuses = allTaskStatuses
		}
		seen := map[care.TaskStatus]bool{}
		for _, st := range statuses {
			if seen[st] {
				continue
			}
			seen[st] = true
			got, err := s.queryIndex(ctx, GSI1, tasksGSI1PK(shopID, st), "")
			if err != nil {
				return nil, fmt.Errorf("list %s tasks of shop %s: %w", st, shopID, err)
			}
			items = append(items, got...)
		}
	}
	ts := make([]care.Task, len(items))
	for i, it := range items {
		var err error
		if ts[i], err = decodeTask(it); err != nil {
			return nil, fmt.Errorf("list tasks of shop %s: %w", shopID, err)
		}
	}
	return ts, nil
}
