// Package httpapi is ordercare's public HTTP contract: webhooks in
// (POST /webhooks/{shop}/{source}) and the versioned API (/v1/...) used by the
// console, the CLI, ops and agents. The same handler runs in `care serve` and,
// behind API Gateway, in the api and ingest Lambda functions.
//
// Care routes (agent = ops or agent key): the task queue (GET /v1/tasks,
// POST /v1/tasks/{id}/claim|notes|complete, agent), the send ledger (GET
// /v1/orders/{id}/messages, agent; GET /v1/messages, ops), runs (GET
// /v1/runs?order=, agent), templates (GET /v1/templates/{workflow}, the
// bare document with its version in ETag, agent; PUT, ops, If-Match
// optional; GET .../versions and .../versions/{n}, agent), metrics (GET /v1/metrics, ops) and the outbound webhook channel
// (PUT /v1/shops/{shop}/channels/webhook, ops).
//
// Errors are JSON: {"error":{"code","message","field"?,"reason"?,"args"?}}
// with the status codes of the contract (400 invalid with the field, 401,
// 404, 409, 413, 415, 422). code (ErrorCodes) and reason (ErrorReasons, a
// finer cause such as conflict's task_held, with its values in args) are
// stable: clients translate by them and the field; message is English. Nothing logged here carries a secret, a phone number or an address:
// the request log holds method, route pattern, status and duration only.
package httpapi
