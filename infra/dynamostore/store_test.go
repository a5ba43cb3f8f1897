package dynamostore

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/google/uuid"

	"github.com/ordercare/ordercare/infra/storetest"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

var (
	clientsOnce sync.Once
	localDB     *dynamodb.Client
	localSt     *dynamodbstreams.Client
)

// clients returns DynamoDB Local clients, or skips the test when
// DYNAMODB_ENDPOINT is not set.
func clients(t testing.TB) (*dynamodb.Client, *dynamodbstreams.Client) {
	t.Helper()
	ep := os.Getenv("DYNAMODB_ENDPOINT")
	if ep == "" {
		t.Skip("DYNAMODB_ENDPOINT not set: run make test, which starts DynamoDB Local")
	}
	clientsOnce.Do(func() { localDB, localSt = LocalClients(ep) })
	return localDB, localSt
}

// newTable creates a table with a unique name, deleted when the test ends.
func newTable(t testing.TB) string {
	t.Helper()
	db, _ := clients(t)
	name := "ordercare-test-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if err := CreateTable(t.Context(), db, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		if err := DeleteTable(context.Background(), db, name); err != nil {
			t.Errorf("DeleteTable: %v", err)
		}
	})
	return name
}

// newStore returns a store on a fresh table.
func newStore(t testing.TB, clk clock.Clock) *Store {
	t.Helper()
	db, st := clients(t)
	return New(db, st, newTable(t), clk)
}

func TestConformance(t *testing.T) {
	db, st := clients(t)
	storetest.Run(t, func(t *testing.T) care.Store {
		h := &hookDB{DynamoDB: db} // counts transactions: retries show up here
		t.Cleanup(func() { t.Logf("%d TransactWriteItems calls: %v", h.calls, h.outcomes) })
		return New(h, st, newTable(t), clock.Real{})
	})
}

var t0 = time.Date(2026, 11, 10, 16, 0, 0, 123456789, time.UTC)

func order(id string) care.Order {
	placed := t0
	return care.Order{ID: id, PlacedAt: &placed, Total: "59.90", Currency: "CNY", PaymentMethod: care.PayOnline,
		Buyer: &care.Buyer{Name: "李雷"}, Items: []care.Item{{SKU: "TEA-1", Title: "白茶", Quantity: 1, Price: "59.90"}}}
}

func createdEv(orderID string) care.Event {
	return care.Event{ID: "evt-" + uuid.NewString(), Type: care.OrderCreated, OccurredAt: t0, Order: order(orderID)}
}

func paidEv(orderID string, d time.Duration) care.Event {
	return care.Event{ID: "evt-" + uuid.NewString(), Type: care.OrderPaid, OccurredAt: t0.Add(d), Order: care.Order{ID: orderID}}
}

func deliv(shopID string) care.Delivery {
	return care.Delivery{ShopID: shopID, Source: care.SourceStandard, DeliveryID: "msg-" + uuid.NewString(), ReceivedAt: t0}
}

func mustShop(t testing.TB, s *Store) string {
	t.Helper()
	id := "shop-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if err := s.CreateShop(t.Context(), care.Shop{ID: id, Name: "Tea", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY", CreatedAt: t0}, nil); err != nil {
		t.Fatalf("CreateShop: %v", err)
	}
	return id
}

// hookDB runs before before each TransactWriteItems; a non-nil error from it
// is returned instead of calling DynamoDB Local.
type hookDB struct {
	DynamoDB
	mu       sync.Mutex
	calls    int
	outcomes map[string]int // transaction outcome → count
	before   func(n int) error
}

func (h *hookDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opt ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	h.mu.Lock()
	h.calls++
	n := h.calls
	h.mu.Unlock()
	if h.before != nil {
		if err := h.before(n); err != nil {
			return nil, err
		}
	}
	out, err := h.DynamoDB.TransactWriteItems(ctx, in, opt...)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.outcomes == nil {
		h.outcomes = map[string]int{}
	}
	switch tce, ok := asCanceled(err); {
	case err == nil:
		h.outcomes["ok"]++
	case ok:
		h.outcomes[reasonCodes(tce)]++
	default:
		h.outcomes["error"]++
	}
	return out, err
}

func canceled(codes ...string) error {
	r := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		r[i] = types.CancellationReason{Code: aws.String(c)}
	}
	return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: r}
}

// TestIngestCancellation drives Ingest's handling of a cancelled transaction:
// real version races and duplicates against DynamoDB Local, injected
// throttling and failures.
func TestIngestCancellation(t *testing.T) {
	db, st := clients(t)
	table := newTable(t)
	plain := New(db, st, table, clock.Real{})
	noPause := func(context.Context, time.Duration) error { return nil }

	tests := []struct {
		name string
		// before runs before the n-th transaction of the hooked store;
		// shop and orderID name an order that has one event (version 1).
		before      func(t *testing.T, shop, orderID string) func(n int) error
		reuseID     bool // ingest the first event's id again (to another order)
		wantErr     error
		wantErrText string
		wantDup     bool
		wantVersion int64
		wantCalls   int
		wantApplies int
	}{
		{
			name: "lost version race is read again and retried",
			before: func(t *testing.T, shop, orderID string) func(int) error {
				return func(n int) error {
					if n == 1 { // another writer commits first
						if _, err := plain.Ingest(t.Context(), deliv(shop), paidEv(orderID, time.Minute), care.Apply); err != nil {
							t.Errorf("concurrent Ingest: %v", err)
						}
					}
					return nil
				}
			},
			wantVersion: 3, wantCalls: 2, wantApplies: 2,
		},
		{
			name: "throttled transaction is retried",
			before: func(*testing.T, string, string) func(int) error {
				return func(n int) error {
					if n == 1 {
						return canceled("None", "None", "None", "ThrottlingError")
					}
					return nil
				}
			},
			wantVersion: 2, wantCalls: 2, wantApplies: 2,
		},
		{
			name: "transaction conflict is retried",
			before: func(*testing.T, string, string) func(int) error {
				return func(n int) error {
					if n <= 2 {
						return canceled("TransactionConflict", "None", "None", "None")
					}
					return nil
				}
			},
			wantVersion: 2, wantCalls: 3, wantApplies: 3,
		},
		{
			name: "dedupe condition wins over a version condition",
			before: func(_ *testing.T, _, orderID string) func(int) error {
				return func(int) error {
					err := canceled("ConditionalCheckFailed", "None", "ConditionalCheckFailed", "None")
					err.(*types.TransactionCanceledException).CancellationReasons[txEventID].Item =
						map[string]types.AttributeValue{attrOrderID: str(orderID)}
					return err
				}
			},
			wantDup: true, wantVersion: 1, wantCalls: 1, wantApplies: 1,
		},
		{
			name: "a dedupe failure without a dedupe item is an error",
			before: func(*testing.T, string, string) func(int) error {
				return func(int) error { return canceled("None", "None", "ConditionalCheckFailed", "None") }
			},
			wantErrText: "dedupe condition failed but no dedupe item found", wantCalls: 1, wantApplies: 1,
		},
		{
			name:    "event id recorded for another order: duplicate with that order's state",
			reuseID: true,
			wantDup: true, wantVersion: 1, wantCalls: 1, wantApplies: 1,
		},
		{
			name: "validation error is not retried",
			before: func(*testing.T, string, string) func(int) error {
				return func(int) error { return canceled("ValidationError", "None", "None", "None") }
			},
			wantErrText: "ValidationError", wantCalls: 1, wantApplies: 1,
		},
		{
			name: "other errors are returned",
			before: func(*testing.T, string, string) func(int) error {
				return func(int) error { return errors.New("connection reset") }
			},
			wantErrText: "connection reset", wantCalls: 1, wantApplies: 1,
		},
		{
			name: "endless races give ErrConflict",
			before: func(*testing.T, string, string) func(int) error {
				return func(int) error { return canceled("ConditionalCheckFailed", "None", "None", "None") }
			},
			wantErr: care.ErrConflict, wantCalls: maxAttempts, wantApplies: maxAttempts,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shop := mustShop(t, plain)
			orderID := "order-" + uuid.NewString()[:8]
			first := createdEv(orderID)
			if _, err := plain.Ingest(t.Context(), deliv(shop), first, care.Apply); err != nil {
				t.Fatalf("first Ingest: %v", err)
			}
			h := &hookDB{DynamoDB: db}
			if tc.before != nil {
				h.before = tc.before(t, shop, orderID)
			}
			s := New(h, st, table, clock.Real{})
			s.pause = noPause
			applies := 0
			apply := func(cur *care.OrderState, ev care.Event, now time.Time) (care.OrderState, error) {
				applies++
				return care.Apply(cur, ev, now)
			}
			ev := paidEv(orderID, 2*time.Minute)
			if tc.reuseID {
				ev = createdEv("another-" + orderID)
				ev.ID = first.ID
			}
			res, err := s.Ingest(t.Context(), deliv(shop), ev, apply)
			switch {
			case tc.wantErr != nil || tc.wantErrText != "":
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("Ingest error = %v, want %v", err, tc.wantErr)
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErrText) {
					t.Errorf("Ingest error = %v, want one mentioning %q", err, tc.wantErrText)
				}
			case err != nil:
				t.Fatalf("Ingest: %v", err)
			default:
				if res.Duplicate != tc.wantDup || res.Order.Version != tc.wantVersion {
					t.Errorf("Ingest = duplicate %v version %d, want %v %d", res.Duplicate, res.Order.Version, tc.wantDup, tc.wantVersion)
				}
				if res.Order.Order.ID != orderID {
					t.Errorf("result is order %s, want %s", res.Order.Order.ID, orderID)
				}
				got, err := plain.GetOrder(t.Context(), shop, orderID)
				if err != nil || got.Version != tc.wantVersion {
					t.Errorf("GetOrder = version %d, %v; want %d", got.Version, err, tc.wantVersion)
				}
			}
			if h.calls != tc.wantCalls || applies != tc.wantApplies {
				t.Errorf("%d transactions, %d applies; want %d, %d", h.calls, applies, tc.wantCalls, tc.wantApplies)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	r := func(codes ...string) []types.CancellationReason {
		out := make([]types.CancellationReason, len(codes))
		for i, c := range codes {
			out[i] = types.CancellationReason{Code: aws.String(c)}
		}
		return out
	}
	withOld := r("ConditionalCheckFailed", "None", "None", "ConditionalCheckFailed")
	withOld[txDelivery].Item = map[string]types.AttributeValue{attrOrderID: str("A-1")}
	tests := []struct {
		name    string
		reasons []types.CancellationReason
		want    outcome
		order   string
	}{
		{"event id dedupe", r("None", "None", "ConditionalCheckFailed", "None"), outDuplicate, ""},
		{"delivery dedupe", r("None", "None", "None", "ConditionalCheckFailed"), outDuplicate, ""},
		{"event id dedupe, no delivery id", r("None", "None", "ConditionalCheckFailed"), outDuplicate, ""},
		{"dedupe with old image, version too", withOld, outDuplicate, "A-1"},
		{"version race", r("ConditionalCheckFailed", "ConditionalCheckFailed", "None", "None"), outRetry, ""},
		{"version race, no delivery id", r("ConditionalCheckFailed", "ConditionalCheckFailed", "None"), outRetry, ""},
		{"event item exists", r("None", "ConditionalCheckFailed", "None", "None"), outRetry, ""},
		{"conflict", r("TransactionConflict", "None", "None", "None"), outRetry, ""},
		{"throttled", r("ThrottlingError", "None", "None", "None"), outRetry, ""},
		{"over capacity", r("None", "ProvisionedThroughputExceeded", "None", "None"), outRetry, ""},
		{"validation", r("None", "ValidationError", "None", "None"), outFail, ""},
		{"item too large and a race", r("ConditionalCheckFailed", "ItemCollectionSizeLimitExceeded", "None", "None"), outFail, ""},
		{"no reasons", nil, outFail, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, order := classify(tc.reasons)
			if got != tc.want || order != tc.order {
				t.Errorf("classify = %v %q, want %v %q", got, order, tc.want, tc.order)
			}
		})
	}
}

// TestIngestWithoutDeliveryID: a delivery without an id is deduplicated by
// its event id only.
func TestIngestWithoutDeliveryID(t *testing.T) {
	s := newStore(t, clock.Real{})
	shop := mustShop(t, s)
	noID := care.Delivery{ShopID: shop, Source: care.SourceDouyin, ReceivedAt: t0}
	first := createdEv("dy-1")
	steps := []struct {
		name        string
		ev          care.Event
		wantDup     bool
		wantVersion int64
	}{
		{"first event", first, false, 1},
		{"another event, also without delivery id", paidEv("dy-1", time.Minute), false, 2},
		{"first event again", first, true, 2},
	}
	for _, st := range steps {
		res, err := s.Ingest(t.Context(), noID, st.ev, care.Apply)
		if err != nil {
			t.Fatalf("%s: Ingest: %v", st.name, err)
		}
		if res.Duplicate != st.wantDup || res.Order.Version != st.wantVersion {
			t.Errorf("%s: duplicate %v version %d, want %v %d", st.name, res.Duplicate, res.Order.Version, st.wantDup, st.wantVersion)
		}
	}
}

// TestHashInShopID: order ids may contain '#', shop ids may not; a shop id
// built to look like another shop's order key reaches nothing.
func TestHashInShopID(t *testing.T) {
	s := newStore(t, clock.Real{})
	c := t.Context()
	shop := mustShop(t, s)
	const trickOrder = "x#ORDER#o" // shop's order: PK SHOP#<shop>#ORDER#x#ORDER#o
	if _, err := s.Ingest(c, deliv(shop), createdEv(trickOrder), care.Apply); err != nil {
		t.Fatalf("Ingest(order with '#'): %v", err)
	}
	evil := shop + "#ORDER#x" // the same PK with order "o"
	if _, err := s.GetOrder(c, evil, "o"); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("GetOrder(%q, o) = %v, want ErrNotFound", evil, err)
	}
	if _, _, err := s.ListEvents(c, evil, "o", "", 10); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("ListEvents(%q, o) = %v, want ErrNotFound", evil, err)
	}
	if _, err := s.Ingest(c, deliv(evil), paidEv("o", time.Minute), care.Apply); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("Ingest(shop %q) = %v, want ErrNotFound", evil, err)
	}
	if o, err := s.GetOrder(c, shop, trickOrder); err != nil || o.Version != 1 {
		t.Errorf("GetOrder(%s, %s) = version %d, %v; want untouched version 1", shop, trickOrder, o.Version, err)
	}
	err := s.CreateShop(c, care.Shop{ID: "a#b", Name: "x"}, nil)
	if !errors.Is(err, care.ErrInvalid) {
		t.Errorf("CreateShop(a#b) = %v, want ErrInvalid", err)
	}
	if _, err := s.GetShop(c, "a#b"); !errors.Is(err, care.ErrNotFound) {
		t.Errorf("GetShop(a#b) = %v, want ErrNotFound", err)
	}
}
