package httpapi_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/httpapi"
	"github.com/ordercare/ordercare/internal/queue"
)

// apiErr is an error answer's body as clients read it.
type apiErr struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field"`
	Reason  string            `json:"reason"`
	Args    map[string]string `json:"args"`
}

// TestErrorReasons: refusals a client must explain to a person carry a
// stable code and, where the code alone does not say why, a reason with
// its values, beside the English message (kept, so old clients still read
// code and message); every code and reason answered is a listed one.
func TestErrorReasons(t *testing.T) {
	e := newEnv(t)
	shop := e.createShop("tea")
	agent, ops := shop.Keys[care.RoleAgent], shop.Keys[care.RoleOps]
	e.task("tea", "t1", "1001", 3, 2*time.Hour)
	e.task("tea", "t2", "1002", 3, 2*time.Hour)
	e.task("tea", "t3", "1003", 3, 2*time.Hour)
	lease := e.clock.Now().Add(15 * time.Minute).UTC().Format(time.RFC3339)
	must := func(method, path, token, body string) {
		t.Helper()
		if r := e.do(method, path, token, []byte(body), nil); r.Status != 200 {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
	}
	must("POST", "/v1/tasks/t1/claim", agent, `{"agent":"li"}`)
	must("POST", "/v1/tasks/t2/complete", agent, `{"agent":"li","outcome":"will_pay"}`)
	if ok, err := (&queue.Queue{Store: e.store, Clock: e.clock}).CancelTask(t.Context(), "tea", "t3", "order cancelled"); !ok || err != nil {
		t.Fatalf("cancel t3: %v %v", ok, err)
	}

	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		want                            apiErr
	}{
		{"claim held by another agent", "POST", "/v1/tasks/t1/claim", agent, `{"agent":"wang"}`, 409,
			apiErr{Code: "conflict", Reason: "task_held", Args: map[string]string{"agent": "li", "until": lease}}},
		{"complete held by another agent", "POST", "/v1/tasks/t1/complete", agent, `{"agent":"wang","outcome":"declined"}`, 409,
			apiErr{Code: "conflict", Reason: "task_held", Args: map[string]string{"agent": "li", "until": lease}}},
		{"claim a done task", "POST", "/v1/tasks/t2/claim", agent, `{"agent":"wang"}`, 409,
			apiErr{Code: "conflict", Reason: "task_done", Args: map[string]string{"agent": "li", "outcome": "will_pay"}}},
		{"note on a cancelled task", "POST", "/v1/tasks/t3/notes", agent, `{"agent":"wang","text":"x"}`, 409,
			apiErr{Code: "conflict", Reason: "task_cancelled"}},
		{"bad outcome", "POST", "/v1/tasks/t1/complete", agent, `{"agent":"li","outcome":"nope"}`, 400,
			apiErr{Code: "invalid", Field: "outcome"}},
		{"unknown workflow", "GET", "/v1/templates/nope", ops, "", 404,
			apiErr{Code: "not_found", Field: "workflow", Reason: "unknown_workflow", Args: map[string]string{"workflow": "nope"}}},
		{"stale template", "PUT", "/v1/templates/unpaid_chase", ops, "", 412,
			apiErr{Code: "precondition_failed", Field: "If-Match", Reason: "stale_version"}},
		{"no session", "GET", "/v1/session", "", "", 401,
			apiErr{Code: "unauthorized", Reason: "not_signed_in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			header := map[string]string{}
			if tc.body != "" {
				body = []byte(tc.body)
			}
			if tc.name == "stale template" {
				def := e.do("GET", "/v1/templates/unpaid_chase", ops, nil, nil)
				body, header["If-Match"], header["Content-Type"] = def.Body, `"7"`, "application/json"
			}
			r := e.do(tc.method, tc.path, tc.token, body, header)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			var got struct{ Error apiErr }
			r.json(t, &got)
			if got.Error.Message == "" {
				t.Errorf("no English message: %s", r.Body)
			}
			got.Error.Message = ""
			if diff := cmp.Diff(tc.want, got.Error); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if !slices.Contains(httpapi.ErrorCodes, got.Error.Code) {
				t.Errorf("code %q is not in ErrorCodes", got.Error.Code)
			}
			if got.Error.Reason != "" && !slices.Contains(httpapi.ErrorReasons, got.Error.Code+"."+got.Error.Reason) {
				t.Errorf("reason %s.%s is not in ErrorReasons", got.Error.Code, got.Error.Reason)
			}
		})
	}
}
