// Package chaos holds ordercare's crash-injection test (chaos_test.go; this
// package has no other code). It builds cmd/care, runs `care serve` as a
// real child process on a temporary data directory with the virtual clock
// and no demo shop, creates a shop through the admin API, and sends signed
// Standard Webhooks events (order.created, some order.paid; for about two
// thirds of the paid orders order.shipped with 1 or 2 parcels, the second
// sometimes in an order.shipped of its own, and 0-2 recent carrier scans
// per parcel as shipment.updated) and clock advances while killing the
// server at random points (SIGKILL, sometimes SIGTERM): during ingestion,
// routing, steps, fulfilment events and clock advances. After each
// kill it restarts the server on the same directory and repeats the
// interrupted request; at the end it delivers every event again and moves
// the clock past every pay deadline. Then it checks every order through the
// API: no duplicate message or event, no missed first reminder, no reminder
// sent after the payment, no run failed by the runtime (shipping_notice
// and stalled_parcel runs included), no ledger entry left pending; per
// parcel, exactly one shipping_notice entry, sent or skipped digested into
// a sent notice of its order that names it, no parcel named in two sent
// notices, at most one stall message. All must be 0; the figures line
// also counts parcels, notices sent and stall messages.
//
// `go test ./chaos/` runs the short version (40 orders, 5 kills, a random
// seed that the test prints); `make chaos` runs the long one. Environment:
// CHAOS_ORDERS, CHAOS_KILLS, CHAOS_SEED (reproduce a run), CHAOS_BIN (a
// built care binary; otherwise the test builds one).
package chaos
