package dynamostore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/erasure"
)

// TestTextExpiry, on DynamoDB Local: a message of a shop with a retention
// policy carries its text's expiry (At + message_text_days) on its item;
// every read returns the text until then and erasure.Erased after (the
// item stays: the ledger entry outlives its text). A shop without a policy
// writes no expiry. (DynamoDB Local, like DynamoDB, would delete an item by
// TTL only later and only an item with the TTL attribute; the reads do not
// wait for it.)
func TestTextExpiry(t *testing.T) {
	ctx := context.Background()
	db, st := clients(t)
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	clk := clock.NewVirtual(t0, nil)
	s := New(db, st, newTable(t), clk)
	for _, id := range []string{"kept", "expiring"} {
		if err := s.CreateShop(ctx, care.Shop{ID: id, Name: id, Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY", CreatedAt: t0}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutSource(ctx, erasure.Retention{MessageTextDays: 30}.Source("expiring", t0)); err != nil {
		t.Fatal(err)
	}
	expiry := t0.Add(30 * 24 * time.Hour)
	for _, shop := range []string{"kept", "expiring"} {
		m := care.Message{ID: "run.nudge", ShopID: shop, OrderID: "o-1", Step: "nudge", Channel: "sms", Status: care.MessagePending, Text: "亲，记得付款哦", At: t0}
		if _, _, err := s.ReserveMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		m.Status = care.MessageSent
		if err := s.UpdateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		raw, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(messagePK(shop, m.ID), skMessage)})
		if err != nil || raw.Item == nil {
			t.Fatalf("%s: GetItem: %v", shop, err)
		}
		n, has := raw.Item[attrTextExpires].(*types.AttributeValueMemberN)
		if want := shop == "expiring"; has != want {
			t.Fatalf("%s: %s set %v, want %v", shop, attrTextExpires, has, want)
		}
		if has && n.Value != strconv.FormatInt(expiry.Unix(), 10) {
			t.Errorf("%s: %s = %s, want %d", shop, attrTextExpires, n.Value, expiry.Unix())
		}
	}
	read := func(shop string) []string {
		t.Helper()
		ms, err := s.ListOrderMessages(ctx, shop, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		page, _, err := s.ListMessages(ctx, shop, t0.Add(-time.Hour), t0.Add(time.Hour), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		recent, _, err := s.ListRecentMessages(ctx, shop, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		again, _, err := s.ReserveMessage(ctx, care.Message{ID: "run.nudge", ShopID: shop, OrderID: "o-1", Text: "x", At: t0})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range [][]care.Message{ms, page, recent, {again}} {
			for _, m := range l {
				out = append(out, m.Text)
			}
		}
		return out
	}
	clk.Advance(expiry.Sub(t0) - time.Second)
	for _, shop := range []string{"kept", "expiring"} {
		for _, text := range read(shop) {
			if text != "亲，记得付款哦" {
				t.Errorf("%s before expiry: %q", shop, text)
			}
		}
	}
	clk.Advance(time.Second)
	for shop, want := range map[string]string{"kept": "亲，记得付款哦", "expiring": erasure.Erased} {
		got := read(shop)
		if len(got) != 4 {
			t.Fatalf("%s: %d reads", shop, len(got))
		}
		for _, text := range got {
			if text != want {
				t.Errorf("%s at expiry: %q, want %q", shop, text, want)
			}
		}
	}
}
