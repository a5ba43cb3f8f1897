package localruntime_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/httpapi"
)

// BenchmarkWebhookIngest measures signed Standard Webhooks ingested end to end
// by the local runtime over loopback TCP (verify + normalise + durable write +
// 202), with 1, 8 and 64 concurrent senders. It reports events/s and the
// p50/p99 latency of one delivery. With workflows=on every event is a new
// COD order, so the same two cores also route it and run its cod_confirm
// (ask sent, reply awaited) while ingesting; with workflows=off the events
// are payments of orders no workflow runs for, which the router passes over.
//
//	go test -run '^$' -bench WebhookIngest -benchtime 20000x ./infra/localruntime/
func BenchmarkWebhookIngest(b *testing.B) {
	for _, wf := range []bool{false, true} {
		for _, senders := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("workflows=%s/senders=%d", map[bool]string{false: "off", true: "on"}[wf], senders), func(b *testing.B) {
				benchIngest(b, senders, wf)
			})
		}
	}
}

func benchIngest(b *testing.B, senders int, workflows bool) {
	rt, err := localruntime.Open(context.Background(), localruntime.Options{DataDir: b.TempDir(), AdminToken: "bench-admin-token-0123456789"})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: rt.API}
	go srv.Serve(ln)
	defer srv.Close()
	shop, err := httpapi.CreateShop(context.Background(), rt.Store, time.Now(), httpapi.ShopRequest{ID: "bench", Name: "Bench", Timezone: "Asia/Shanghai", Locale: "zh-CN", Currency: "CNY"})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(shop.WebhookSecret, "whsec_"))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders, MaxConnsPerHost: senders}}
	url := "http://" + ln.Addr().String() + "/webhooks/bench/standard"

	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				body := fmt.Appendf(nil, `{"id":"e%d","type":"order.paid","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o%d","total":"129.90","currency":"CNY"}}`, i, i)
				if workflows {
					body = fmt.Appendf(nil, `{"id":"e%d","type":"order.created","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"o%d","placed_at":"2026-11-11T00:00:00Z","total":"129.90","currency":"CNY","payment_method":"cod","cod_fee":"5.00","buyer":{"name":"王芳","phone":"+8613800138000","locale":"zh-CN","timezone":"Asia/Shanghai"},"items":[{"sku":"TEA-1","title":"龙井","quantity":1,"price":"129.90"}]}}`, i, i)
				}
				id, ts := fmt.Sprint("d", i), fmt.Sprint(time.Now().Unix())
				mac := hmac.New(sha256.New, key)
				fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("webhook-id", id)
				req.Header.Set("webhook-timestamp", ts)
				req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
				t0 := time.Now()
				res, err := client.Do(req)
				lat[i] = time.Since(t0)
				if err != nil || res.StatusCode != http.StatusAccepted {
					failed.Add(1)
				}
				if res != nil {
					io.Copy(io.Discard, res.Body) // drained, so the connection is reused
					res.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d deliveries failed", n, b.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
