package localruntime_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/source"
)

// BenchmarkCareSurge is a Double 11 midnight on one box: b.N orders arrive
// at once (half online and unpaid, half cash on delivery), then time moves
// 10 minutes. It reports how fast the runtime turns them into workflow
// runs (router → StartExecution → first step: COD asks sent; chases
// scheduled for their first reminder, no execution yet) and then starts
// the chases and sends their first reminders, and checks that every order
// got exactly its one message: nothing lost, nothing twice.
//
//	go test -run '^$' -bench CareSurge -benchtime 2000x ./infra/localruntime/
func BenchmarkCareSurge(b *testing.B) {
	ctx := context.Background()
	rt, err := localruntime.Open(ctx, localruntime.Options{DataDir: b.TempDir(), Clock: localruntime.ClockVirtual, Start: start,
		AdminToken: "bench-admin-token-0123456789"})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	shop, err := httpapi.CreateShop(ctx, rt.Store, start, httpapi.ShopRequest{ID: "surge", Name: "Surge", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY"})
	if err != nil {
		b.Fatal(err)
	}
	send := signedPoster(b, rt, shop, start)
	post := func(i int) {
		pay := `"payment_method":"online","pay_deadline":"2026-11-14T01:00:00Z"`
		if i%2 == 1 {
			pay = `"payment_method":"cod","cod_fee":"8.00"`
		}
		send(fmt.Sprint("d", i), fmt.Appendf(nil, `{"id":"e%d","type":"order.created","occurred_at":"2026-11-11T01:00:00Z","order":{"id":"S%d","placed_at":"2026-11-11T01:00:00Z","total":"129.90","currency":"CNY",%s,"buyer":{"name":"王芳","phone":"+8613800138000","locale":"zh-CN","timezone":"Asia/Shanghai"},"items":[{"sku":"TEA-1","title":"龙井","quantity":1,"price":"129.90"}]}}`, i, i, pay))
	}
	b.ResetTimer()
	t0 := time.Now()
	fanout(b.N, post)
	ingested := time.Since(t0)
	if err := rt.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	started := time.Since(t0)
	t1 := time.Now()
	if err := rt.AdvanceTo(ctx, start.Add(10*time.Minute)); err != nil {
		b.Fatal(err)
	}
	reminded := time.Since(t1)
	b.StopTimer()

	msgs, cursor := 0, ""
	for {
		page, next, err := rt.Store.ListMessages(ctx, "surge", start, start.Add(time.Hour), cursor, 1000)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range page {
			if m.Status != care.MessageSent {
				b.Errorf("%s: %s %s", m.ID, m.Status, m.Reason)
			}
		}
		msgs += len(page)
		if next == "" {
			break
		}
		cursor = next
	}
	if msgs != b.N {
		b.Errorf("%d messages for %d orders, want exactly one each", msgs, b.N)
	}
	b.ReportMetric(float64(b.N)/ingested.Seconds(), "ingested/s")
	b.ReportMetric(float64(b.N)/started.Seconds(), "orders-running/s")
	b.ReportMetric(float64(b.N/2)/reminded.Seconds(), "reminders/s")
	b.ReportMetric(0, "ns/op")
}

// fanout calls send(i) for every i in [0, n) from 16 senders at once, as a
// surge of webhook deliveries arrives, and returns when all are done.
// signedPoster returns a function that POSTs a body to shop's standard
// webhook in process, signed as the shop's secret signs it at time at,
// with delivery id id, and fails b unless it is accepted (202).
func signedPoster(b *testing.B, rt *localruntime.Runtime, shop httpapi.NewShopResponse, at time.Time) func(id string, body []byte) {
	key, _ := source.StandardKey(shop.WebhookSecret)
	return func(id string, body []byte) {
		req := httptest.NewRequest("POST", "/webhooks/"+shop.ID+"/standard", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", fmt.Sprint(at.Unix()))
		req.Header.Set("webhook-signature", source.StandardSign(key, id, at, body))
		w := httptest.NewRecorder()
		rt.API.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Errorf("%s: %d %s", id, w.Code, w.Body)
		}
	}
}

func fanout(n int, send func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				send(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
