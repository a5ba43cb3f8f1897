package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/workflows"
)

const adminToken = "test-admin-token-0123456789"

type env struct {
	t     *testing.T
	url   string
	clock *clock.Virtual
	logs  *syncBuffer
	store *sqlitestore.DB
	res   *fakeResumer
}

// syncBuffer collects the server's log output for leak checks.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, t.TempDir()+"/care.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	vc := clock.NewVirtual(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC), nil)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})) // the shape care serve and Lambda log in
	res := &fakeResumer{}
	srv, err := httpapi.New(httpapi.Config{Store: store, Clock: vc, AdminToken: adminToken, Logger: log, Resumer: res, Workflows: workflows.All(),
		SessionClock: vc, Unsubscribe: &unsubscribeSigner, Consents: store, Erasure: store})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, url: ts.URL, clock: vc, logs: logs, store: store, res: res}
	t.Cleanup(e.checkLogs)
	return e
}

// checkLogs fails the test if anything secret or personal reached the log:
// every test's buyers, addresses, secrets and keys are from this list.
func (e *env) checkLogs() {
	logs := e.logs.String()
	if !strings.Contains(logs, `"route":`) {
		e.t.Errorf("the request log is empty; the leak check would prove nothing")
	}
	for _, s := range []string{"+8613800138000", "+16135550101", "13800138000", "王芳", "jon@example.com", "杭州",
		"whsec_", "ock_", "shpss_", "sfn-token-", "shopify-client-secret", "douyin-app-secret", "woo-webhook-secret", adminToken} {
		if strings.Contains(logs, s) {
			e.t.Errorf("log leaks %q", s)
		}
	}
}

type response struct {
	Status int
	Body   []byte
	Header http.Header
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (e *env) do(method, path, token string, body []byte, header map[string]string) response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Body: b, Header: res.Header}
}

func (e *env) createShop(id string) httpapi.NewShopResponse {
	e.t.Helper()
	r := e.do("POST", "/v1/shops", adminToken, fmt.Appendf(nil, `{"id":%q,"name":"Tea %s","timezone":"Asia/Shanghai","locale":"zh-CN","currency":"CNY"}`, id, id), nil)
	if r.Status != 201 {
		e.t.Fatalf("create shop: %d %s", r.Status, r.Body)
	}
	var s httpapi.NewShopResponse
	r.json(e.t, &s)
	return s
}

// signStandard signs body exactly as the Standard Webhooks spec says.
func signStandard(secret, id string, ts time.Time, body []byte) map[string]string {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.%s", id, ts.Unix(), body)
	return map[string]string{"webhook-id": id, "webhook-timestamp": fmt.Sprint(ts.Unix()),
		"webhook-signature": "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))}
}

func (e *env) sendStandard(shop httpapi.NewShopResponse, deliveryID string, body []byte) response {
	e.t.Helper()
	return e.do("POST", "/webhooks/"+shop.ID+"/standard", "", body, signStandard(shop.WebhookSecret, deliveryID, e.clock.Now(), body))
}

func event(id, typ, extra string) []byte {
	order := `{"id":"1001"}`
	if typ == "order.created" {
		order = `{"id":"1001","placed_at":"2026-11-11T00:00:00Z","total":"129.90","currency":"CNY","payment_method":"online",
		"buyer":{"name":"王芳","phone":"+8613800138000","locale":"zh-CN","timezone":"Asia/Shanghai"},
		"items":[{"sku":"TEA-1","title":"龙井","quantity":1,"price":"129.90"}]}`
	}
	return fmt.Appendf(nil, `{"id":%q,"type":%q,"occurred_at":"2026-11-11T00:%02d:00Z","order":%s%s}`, id, typ, len(id), order, extra)
}

func TestShopsAuth(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	tests := []struct {
		name, method, path, token, body string
		want                            int
		field                           string
	}{
		{"no token", "POST", "/v1/shops", "", `{}`, 401, ""},
		{"ops key cannot create shops", "POST", "/v1/shops", shop.Keys[care.RoleOps], `{"name":"x","timezone":"UTC","locale":"en","currency":"USD"}`, 403, ""},
		{"bad timezone", "POST", "/v1/shops", adminToken, `{"name":"x","timezone":"Mars/Base","locale":"en","currency":"USD"}`, 400, "timezone"},
		{"unknown field", "POST", "/v1/shops", adminToken, `{"name":"x","timezone":"UTC","locale":"en","currency":"USD","plan":"gold"}`, 400, "plan"},
		{"duplicate id", "POST", "/v1/shops", adminToken, `{"id":"tea","name":"x","timezone":"UTC","locale":"en","currency":"USD"}`, 409, ""},
		{"agent cannot set sources", "PUT", "/v1/shops/tea/sources/shopify", shop.Keys[care.RoleAgent], `{"secret":"shpss_12345678"}`, 403, ""},
		{"douyin needs app key", "PUT", "/v1/shops/tea/sources/douyin", shop.Keys[care.RoleOps], `{"app_secret":"12345678"}`, 400, "app_key"},
		{"unknown source", "PUT", "/v1/shops/tea/sources/ebay", shop.Keys[care.RoleOps], `{"secret":"12345678"}`, 404, ""},
		{"ops sets shopify", "PUT", "/v1/shops/tea/sources/shopify", shop.Keys[care.RoleOps], `{"secret":"shpss_12345678"}`, 200, ""},
		{"other shop's path is 404", "PUT", "/v1/shops/other/sources/shopify", shop.Keys[care.RoleOps], `{"secret":"shpss_12345678"}`, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.token, []byte(tc.body), nil)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			var er struct{ Error struct{ Field string } }
			if tc.field != "" {
				r.json(t, &er)
				if er.Error.Field != tc.field {
					t.Errorf("field %q, want %q: %s", er.Error.Field, tc.field, r.Body)
				}
			}
		})
	}
	if r := e.do("PUT", "/v1/shops/tea/sources/shopify", shop.Keys[care.RoleOps], []byte(`{"secret":"shpss_12345678"}`), nil); strings.Contains(string(r.Body), "shpss_") {
		t.Errorf("a secret was echoed: %s", r.Body)
	}
}

func TestStandardWebhook(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	other := e.createShop("rival")
	ops := shop.Keys[care.RoleOps]

	created := event("e1", "order.created", "")
	if r := e.sendStandard(shop, "d1", created); r.Status != 202 || !strings.Contains(string(r.Body), `"accepted":1`) {
		t.Fatalf("created: %d %s", r.Status, r.Body)
	}
	// Redelivery of the same delivery, and the same event under a new delivery id: 2xx, nothing changes.
	for _, d := range []string{"d1", "d1-retry"} {
		if r := e.sendStandard(shop, d, created); r.Status != 202 || !strings.Contains(string(r.Body), `"duplicates":1`) {
			t.Fatalf("duplicate %s: %d %s", d, r.Status, r.Body)
		}
	}
	// Shipped before paid: kept, and the order converges.
	shipped := event("e3", "order.shipped", `,"shipment":{"carrier":"SF","tracking_numbers":["SF100","SF101"]}`)
	if r := e.sendStandard(shop, "d3", shipped); r.Status != 202 {
		t.Fatalf("shipped: %d %s", r.Status, r.Body)
	}
	if r := e.sendStandard(shop, "d2", event("e2", "order.paid", "")); r.Status != 202 {
		t.Fatalf("paid: %d %s", r.Status, r.Body)
	}
	var o care.OrderState
	r := e.do("GET", "/v1/orders/1001", ops, nil, nil)
	r.json(t, &o)
	if r.Status != 200 || o.Status != care.StatusShipped || o.Version != 3 || len(o.History) != 3 || o.Order.Total != "129.90" {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var page httpapi.EventsPage
	e.do("GET", "/v1/orders/1001/events?limit=2", shop.Keys[care.RoleAgent], nil, nil).json(t, &page)
	if len(page.Events) != 2 || page.Events[0].Event.ID != "e1" || page.Events[1].Event.ID != "e3" || page.Next == "" {
		t.Fatalf("events page 1: %+v", page)
	}
	var page2 httpapi.EventsPage
	e.do("GET", "/v1/orders/1001/events?cursor="+page.Next, ops, nil, nil).json(t, &page2)
	if len(page2.Events) != 1 || page2.Events[0].Event.ID != "e2" || page2.Next != "" || page2.Events[0].Event.Order.Total != "" {
		t.Fatalf("events page 2: %+v", page2)
	}
	// Tenant isolation: another shop's key sees nothing, as 404.
	if r := e.do("GET", "/v1/orders/1001", other.Keys[care.RoleOps], nil, nil); r.Status != 404 {
		t.Fatalf("other shop read: %d %s", r.Status, r.Body)
	}

	huge := append([]byte(`{"pad":"`), append(bytes.Repeat([]byte("x"), httpapi.MaxBody), '"', '}')...)
	tests := []struct {
		name   string
		path   string
		body   []byte
		header map[string]string
		want   int
		field  string
	}{
		{"unknown shop", "/webhooks/nope/standard", created, nil, 404, ""},
		{"unknown source", "/webhooks/tea/ebay", created, nil, 404, ""},
		{"unconnected source", "/webhooks/tea/douyin", created, nil, 404, ""},
		{"too large", "", huge, nil, 413, ""},
		{"not json", "", created, map[string]string{"Content-Type": "text/plain"}, 415, ""},
		{"no signature", "", created, map[string]string{"webhook-signature": ""}, 401, ""},
		{"wrong signature", "", created, map[string]string{"webhook-signature": "v1,AAAA"}, 401, ""},
		{"stale timestamp", "", event("e9", "order.paid", ""), map[string]string{"webhook-timestamp": "stale"}, 401, ""},
		{"malformed json", "", []byte(`{"id":`), nil, 400, ""},
		{"total as a number", "", bytes.Replace(created, []byte(`"total":"129.90"`), []byte(`"total":129.9`), 1), nil, 400, "order.total"},
		{"phone not E.164", "", bytes.Replace(event("e8", "order.created", ""), []byte(`+8613800138000`), []byte(`13800138000`), 1), nil, 400, "order.buyer.phone"},
		{"unknown field", "", []byte(`{"id":"e7","type":"order.paid","occurred_at":"2026-11-11T00:00:00Z","order":{"id":"1001"},"coupon":"X"}`), nil, 400, "coupon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/webhooks/tea/standard"
			}
			h := signStandard(shop.WebhookSecret, "bad-"+tc.name, e.clock.Now(), tc.body)
			for k, v := range tc.header {
				if k == "webhook-timestamp" {
					h = signStandard(shop.WebhookSecret, "bad-"+tc.name, e.clock.Now().Add(-6*time.Minute), tc.body)
					continue
				}
				h[k] = v
			}
			r := e.do("POST", path, "", tc.body, h)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.field != "" {
				var er struct{ Error struct{ Field string } }
				r.json(t, &er)
				if er.Error.Field != tc.field {
					t.Errorf("field %q, want %q: %s", er.Error.Field, tc.field, r.Body)
				}
			}
		})
	}
	// None of the bad deliveries changed the order.
	var after care.OrderState
	e.do("GET", "/v1/orders/1001", ops, nil, nil).json(t, &after)
	if after.Version != o.Version {
		t.Errorf("bad input changed the order: version %d -> %d", o.Version, after.Version)
	}

	// A valid event the order cannot take: 422 with the reason, nothing changes.
	e.sendStandard(shop, "d5", event("e5", "order.cancelled", ""))
	r = e.sendStandard(shop, "d6", event("e6xxxxxxxxx", "order.paid", ""))
	if r.Status != 422 || !strings.Contains(string(r.Body), "cancelled") {
		t.Fatalf("paid after cancel: %d %s", r.Status, r.Body)
	}
}

func TestShopifyAndDouyinWebhooks(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	ops := shop.Keys[care.RoleOps]
	e.do("PUT", "/v1/shops/tea/sources/shopify", ops, []byte(`{"secret":"shopify-client-secret"}`), nil)
	e.do("PUT", "/v1/shops/tea/sources/douyin", ops, []byte(`{"app_key":"7001","app_secret":"douyin-app-secret"}`), nil)
	e.do("PUT", "/v1/shops/tea/sources/woocommerce", ops, []byte(`{"secret":"woo-webhook-secret"}`), nil)

	body := []byte(`{"id":820982911946154508,"email":"jon@example.com","created_at":"2026-11-11T00:00:00-05:00","total_price":"199.00","currency":"USD","gateway":"manual","financial_status":"pending","line_items":[{"id":1,"sku":"TEA-1","title":"Tea","quantity":1,"price":"199.00"}],"customer":{"first_name":"Jon","last_name":"Snow","phone":"+16135550101"}}`)
	mac := hmac.New(sha256.New, []byte("shopify-client-secret"))
	mac.Write(body)
	h := map[string]string{"X-Shopify-Hmac-Sha256": base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		"X-Shopify-Shop-Domain": "tea.myshopify.com"}
	if r := e.do("POST", "/webhooks/tea/shopify", "", body, h); r.Status/100 != 2 {
		t.Fatalf("shopify: %d %s", r.Status, r.Body)
	}
	h["X-Shopify-Hmac-Sha256"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
	if r := e.do("POST", "/webhooks/tea/shopify", "", body, h); r.Status != 401 {
		t.Fatalf("shopify wrong hmac: %d %s", r.Status, r.Body)
	}
	var o care.OrderState
	if r := e.do("GET", "/v1/orders/820982911946154508", ops, nil, nil); r.Status != 200 {
		t.Fatalf("shopify order id not kept exactly: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &o)
	}
	if o.Order.ID != "820982911946154508" || o.Order.Total != "199.00" {
		t.Errorf("shopify order: %+v", o.Order)
	}

	dy := []byte(`[{"tag":"101","msg_id":"7000000000000000001","data":"{\"p_id\":4781320682406083640,\"s_ids\":[4781320682406083640],\"shop_id\":77977,\"order_status\":2,\"order_type\":0,\"pay_time\":1731254400,\"pay_type\":1,\"pay_amount\":12990,\"biz\":2}"}]`)
	sum := md5.Sum(append(append([]byte("7001"), dy...), []byte("douyin-app-secret")...))
	r := e.do("POST", "/webhooks/tea/douyin", "", dy, map[string]string{"event-sign": hex.EncodeToString(sum[:]), "app-id": "7001"})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"code":0`) {
		t.Fatalf("douyin: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/orders/4781320682406083640", ops, nil, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"needs_enrichment":true`) {
		t.Fatalf("douyin order: %d %s", r.Status, r.Body)
	}

	ping := e.do("POST", "/webhooks/tea/woocommerce", "", []byte("webhook_id=12"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if ping.Status != 200 {
		t.Fatalf("woocommerce ping: %d %s", ping.Status, ping.Body)
	}
}
