package sfnhttp

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// InProcessClient returns the real AWS SDK Step Functions client wired to h
// without a network hop: each request is served by h in the calling
// goroutine, signed with creds (what a SigV4-guarded h requires). The
// local runtime's router and API use it, so they speak the same wire
// protocol to the local engine as they do to AWS.
func InProcessClient(h http.Handler, region string, creds Credentials) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:       region,
		BaseEndpoint: aws.String("http://sfn.local"),
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: inProcess{h}},
	})
}

type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := NewResponseBuffer()
	t.h.ServeHTTP(w, r)
	return w.Response(r), nil
}

// ResponseBuffer is an http.ResponseWriter that keeps the response in
// memory, for serving a request in process (no test helper in production
// code).
type ResponseBuffer struct {
	Code   int // the status; 200 when the handler set none
	header http.Header
	Body   bytes.Buffer
	wrote  bool
}

// NewResponseBuffer returns an empty ResponseBuffer.
func NewResponseBuffer() *ResponseBuffer {
	return &ResponseBuffer{Code: http.StatusOK, header: http.Header{}}
}

// Header implements http.ResponseWriter.
func (w *ResponseBuffer) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter; only the first call counts.
func (w *ResponseBuffer) WriteHeader(code int) {
	if !w.wrote {
		w.Code, w.wrote = code, true
	}
}

// Write implements http.ResponseWriter.
func (w *ResponseBuffer) Write(b []byte) (int, error) {
	w.wrote = true
	return w.Body.Write(b)
}

// Response is the buffered response as a client receives it, for r.
func (w *ResponseBuffer) Response(r *http.Request) *http.Response {
	body := w.Body.Bytes()
	return &http.Response{Status: http.StatusText(w.Code), StatusCode: w.Code, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header.Clone(), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}
}
