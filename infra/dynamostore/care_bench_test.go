package dynamostore

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// BenchmarkCare measures the care items' calls against DynamoDB Local.
func BenchmarkCare(b *testing.B) {
	s := newStore(b, clock.Real{})
	c := b.Context()
	shop := mustShop(b, s)
	b.Run("ReserveMessage", func(b *testing.B) {
		for i := range b.N {
			m := care.Message{ShopID: shop, ID: fmt.Sprintf("m-%d", i), OrderID: fmt.Sprintf("o-%d", i%50),
				Status: care.MessagePending, Text: "您好，您的订单尚未付款。", At: t0.Add(time.Duration(i) * time.Second)}
			if _, _, err := s.ReserveMessage(c, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListMessages100", func(b *testing.B) {
		for range b.N {
			if _, _, err := s.ListMessages(c, shop, t0, t0.Add(24*time.Hour), "", 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UpdateTask", func(b *testing.B) {
		tk, _, err := s.CreateTask(c, care.Task{ShopID: shop, ID: "t", OrderID: "o", Status: care.TaskOpen, Token: "tok", CreatedAt: t0, DueAt: t0})
		if err != nil {
			b.Fatal(err)
		}
		for range b.N {
			if tk, err = s.UpdateTask(c, tk); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AwaitThenDeliver", func(b *testing.B) {
		for i := range b.N {
			o := fmt.Sprintf("w-%d", i)
			if _, _, err := s.Await(c, shop, o, "k", "tok"); err != nil {
				b.Fatal(err)
			}
			if _, found, err := s.Deliver(c, shop, o, "k", json.RawMessage(`{"ok":true}`)); err != nil || !found {
				b.Fatal(found, err)
			}
		}
	})
}
