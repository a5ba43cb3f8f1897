package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

// TestRoundTrip sends the sample API Gateway event through the same JSON path
// Lambda uses and checks the handler sees the raw body and headers.
func TestRoundTrip(t *testing.T) {
	sample, err := os.ReadFile("../../events/lambda/apigw-webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	var seen struct {
		method, path, query, sig string
		body                     []byte
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.method, seen.path, seen.query, seen.sig = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Shopify-Hmac-Sha256")
		seen.body, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"accepted":1}`)
	})
	out, err := lambda.NewHandler(Handler(h)).Invoke(context.Background(), sample)
	if err != nil {
		t.Fatal(err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(sample, &ev); err != nil {
		t.Fatal(err)
	}
	wantBody, _ := base64.StdEncoding.DecodeString(ev.Body)
	if seen.method != "POST" || seen.path != "/webhooks/demo/shopify" || seen.query != "x=1" || seen.sig == "" {
		t.Errorf("request seen = %+v", seen)
	}
	if d := cmp.Diff(wantBody, seen.body); d != "" {
		t.Errorf("body changed (-want +got):\n%s", d)
	}
	if res.StatusCode != 202 || res.Body != `{"accepted":1}` || res.Headers["Content-Type"] != "application/json" {
		t.Errorf("response = %+v", res)
	}
}

func TestBinaryResponseIsBase64(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte{0xff, 0xfe}) })
	res, _ := Handler(h)(context.Background(), events.APIGatewayV2HTTPRequest{RawPath: "/",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}})
	if !res.IsBase64Encoded || res.Body != "//4=" || res.StatusCode != 200 {
		t.Errorf("response = %+v", res)
	}
}
