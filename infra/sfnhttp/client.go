package sfnhttp

import (
	"net/http"
	"net/http/httptest"

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
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}
