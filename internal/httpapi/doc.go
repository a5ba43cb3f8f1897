// Package httpapi is ordercare's public HTTP contract: webhooks in
// (POST /webhooks/{shop}/{source}) and the versioned API (/v1/...) used by the
// console, the CLI, ops and agents. The same handler runs in `care serve` and,
// behind API Gateway, in the api and ingest Lambda functions.
//
// Errors are JSON: {"error":{"code","message","field"?}} with the status
// codes of the contract (400 invalid with the field, 401, 404, 409, 413, 415,
// 422). Nothing logged here carries a secret, a phone number or an address:
// the request log holds method, route pattern, status and duration only.
package httpapi
