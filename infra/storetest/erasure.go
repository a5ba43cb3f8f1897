package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
)

// ErasureStore is a care store that erases buyers.
type ErasureStore interface {
	care.CareStore
	erasure.Store
}

// RunErasure runs the conformance suite of erasure.Store: a buyer's orders,
// events, ledger texts and tasks lose every personal datum while their
// counts, statuses and totals stay; another buyer's order is untouched;
// the erasure is recorded; erasing again finds nothing.
func RunErasure(t *testing.T, newStore func(t *testing.T) ErasureStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	s := newStore(t)
	shop := fmt.Sprintf("erase-%d", time.Now().UnixNano())
	if err := s.CreateShop(ctx, care.Shop{ID: shop, Name: shop, Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY", CreatedAt: t0}, nil); err != nil {
		t.Fatal(err)
	}
	const phone, email, name, street, reply = "+8613800138000", "wang@example.com", "王芳", "西湖区文三路 90 号", "我是王芳，别打电话"
	ingest := func(id, orderID string, ev care.Event) {
		t.Helper()
		ev.ID, ev.OccurredAt, ev.Order.ID = id, t0, orderID
		if _, err := s.Ingest(ctx, care.Delivery{ShopID: shop, Source: care.SourceStandard, DeliveryID: id, ReceivedAt: t0}, ev, care.Apply); err != nil {
			t.Fatalf("Ingest %s: %v", id, err)
		}
	}
	created := func(phone, email string) care.Event {
		return care.Event{Type: care.OrderCreated, Order: care.Order{PlacedAt: &t0, Total: "99.00", Currency: "CNY", PaymentMethod: care.PayCOD,
			Buyer:           &care.Buyer{Name: name, Phone: phone, Email: email, Locale: "zh-CN"},
			ShippingAddress: &care.Address{Name: name, Phone: phone, Line1: street, City: "杭州", Country: "CN"},
			Items:           []care.Item{{SKU: "a", Title: "龙井", Quantity: 1, Price: "99.00"}}}}
	}
	ingest("e1", "o1", created(phone, email))
	ingest("e2", "o1", care.Event{Type: care.BuyerReplied, Reply: &care.Reply{Text: reply}})
	ingest("e3", "o2", created(phone, ""))
	ingest("e4", "o3", created("+8613900139000", "li@example.com")) // another buyer
	for _, o := range []string{"o1", "o3"} {
		if _, _, err := s.ReserveMessage(ctx, care.Message{ID: o + ".ask", ShopID: shop, OrderID: o, Step: "ask", Channel: "sms",
			Text: name + "您好，请确认订单", Status: care.MessageSent, Segments: 1, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateTask(ctx, care.Task{ID: "o1.call", ShopID: shop, OrderID: "o1", Step: "call", Reason: "买家说：" + reply,
		Script: "请致电" + name, Tag: care.TagLogistics, Priority: 2, Outcomes: []string{"cod_confirmed"}, Status: care.TaskOpen,
		Order: care.OrderSummary{OrderID: "o1", BuyerName: name, BuyerPhone: phone, Said: []string{name + "您好"}}, CreatedAt: t0, DueAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	rec, err := s.EraseBuyer(ctx, shop, care.ContactKey(email), t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("EraseBuyer: %v", err)
	}
	// By email: o1 only (o2 has no email; its phone is the same, so erase by phone next).
	if rec.Orders != 1 || rec.Events != 2 || rec.Messages != 1 || rec.Tasks != 1 {
		t.Errorf("erasure by email = %+v; want 1 order, 2 events, 1 message, 1 task", rec)
	}
	rec2, err := s.EraseBuyer(ctx, shop, care.ContactKey(phone), t0.Add(2*time.Hour))
	if err != nil || rec2.Orders != 1 || rec2.Events != 1 {
		t.Errorf("erasure by phone = %+v, %v; want o2 (1 order, 1 event)", rec2, err)
	}
	leaks := func(what string, v any) {
		t.Helper()
		j, err := json.Marshal(v) // %v would print nested pointers as addresses
		if err != nil {
			t.Fatal(err)
		}
		b := string(j)
		for _, p := range []string{phone, email, name, street, reply} {
			if strings.Contains(b, p) {
				t.Errorf("%s still holds %q after the erasure", what, p)
			}
		}
	}
	for _, o := range []string{"o1", "o2"} {
		st, err := s.GetOrder(ctx, shop, o)
		if err != nil {
			t.Fatal(err)
		}
		leaks("order "+o, st)
		if st.Order.Total != "99.00" || st.Status == "" {
			t.Errorf("order %s lost what happened: %+v", o, st)
		}
		evs, _, err := s.ListEvents(ctx, shop, o, "", 100)
		if err != nil || len(evs) == 0 {
			t.Fatalf("events of %s: %v, %v", o, evs, err)
		}
		leaks("events of "+o, evs)
		msgs, _ := s.ListOrderMessages(ctx, shop, o)
		leaks("ledger of "+o, msgs)
	}
	if msgs, _ := s.ListOrderMessages(ctx, shop, "o1"); len(msgs) != 1 || msgs[0].Status != care.MessageSent || msgs[0].Segments != 1 {
		t.Errorf("the ledger entry lost its status: %+v", msgs)
	}
	task, err := s.GetTask(ctx, shop, "o1.call")
	if err != nil {
		t.Fatal(err)
	}
	leaks("task", task)
	if task.Status != care.TaskOpen || task.Rev < 1 {
		t.Errorf("task after erasure: %+v", task)
	}
	other, _ := s.GetOrder(ctx, shop, "o3")
	if other.Order.Buyer == nil || other.Order.Buyer.Name != name || other.Order.ShippingAddress == nil {
		t.Errorf("another buyer's order was erased: %+v", other.Order)
	}
	if msgs, _ := s.ListOrderMessages(ctx, shop, "o3"); len(msgs) != 1 || !strings.Contains(msgs[0].Text, name) {
		t.Errorf("another buyer's ledger was erased: %+v", msgs)
	}
	again, err := s.EraseBuyer(ctx, shop, care.ContactKey(email), t0.Add(3*time.Hour))
	if err != nil || again.Orders != 0 {
		t.Errorf("erasing again = %+v, %v; want nothing found", again, err)
	}
	list, err := s.ListErasures(ctx, shop)
	if err != nil || len(list) != 3 || list[0].Contact != care.ContactKey(email) || list[0].Orders != 1 {
		t.Errorf("ListErasures = %+v, %v", list, err)
	}
}
