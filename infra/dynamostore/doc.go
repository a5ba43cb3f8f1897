// Package dynamostore is the DynamoDB implementation of care.CareStore (and
// so of care.Store): one table (single-table design), DynamoDB Streams as the
// change feed. It passes the conformance suites in infra/storetest against
// DynamoDB Local.
//
// # Table
//
// Key attributes PK (S, partition) and SK (S, sort); billing PAY_PER_REQUEST;
// stream NEW_IMAGE. Items (the domain value is its JSON in "data", or gzipped
// JSON in "dataz" above 32 KiB; README.md has the attributes):
//
//	PK                                            SK                  item
//	SHOP#<shop>                                   SHOP                care.Shop
//	SHOP#<shop>                                   SOURCE#<source>     care.Source (credentials: secrets)
//	KEY#<hash>                                    KEY                 care.APIKey (only the hash of the secret)
//	SHOP#<shop>#ORDER#<order>                     STATE               care.OrderState, attribute version
//	SHOP#<shop>#ORDER#<order>                     EVENT#<seq:020d>    care.RecordedEvent + the feed fields
//	SHOP#<shop>#DELIVERY#<source>#<delivery id>   DEDUPE              order_id (dedupe by delivery id)
//	SHOP#<shop>#EVENTID#<event id>                DEDUPE              order_id (dedupe by event id)
//	SHOP#<shop>                                   TPL#<wf>#<v:010d>   care.Template (one item per version)
//	SHOP#<shop>                                   OPTOUT#<contact>    opt-out (contact = care.ContactKey)
//	SHOP#<shop>#MSG#<id>                          MSG                 care.Message, GSI1 + GSI2 keys
//	SHOP#<shop>#TASK#<id>                         TASK                care.Task, rev, token, resumed, GSI1 + GSI2 keys
//	SHOP#<shop>#ORDER#<order>                     RUN#<workflow>      care.Run, rev, GSI1 keys (+ GSI2 while scheduled)
//	SHOP#<shop>#ORDER#<order>                     RUN#<workflow>#<subject> a per-subject care.Run, same
//	SHOP#<shop>#ORDER#<order>                     WAIT#<key>          token or answer
//	SHOP#<shop>                                   KEYREF#<role>#<hash> a key's reference (ReplaceKeys finds a role's keys)
//	SHOP#<shop>                                   KEYGEN#<role>       replacements of a role's keys, attribute gen
//
// The SHOP item carries GSI1 keys (SHOPS, <shop>: ListShops); an order's
// STATE carries GSI1 (SHOP#<shop>#ORDERS) and GSI2 (SHOP#<shop>#ORDERS#<status>)
// keys sorted by update time (ListOrders); browse.go has the details.
//
// Shop ids never contain '#' (CreateShop refuses them, every other method
// answers ErrNotFound); order, delivery and event ids may, as they always
// come last in their key.
//
// Access patterns: GetShop, GetSource, KeyByHash and GetOrder are one
// consistent GetItem each. ListEvents is a Query on the order's partition,
// SK begins_with EVENT#, in seq order. Ingest reads the order's STATE
// (consistent; for a new order also the SHOP), runs apply, and writes in one
// TransactWriteItems: STATE conditioned on the version it read
// (attribute_not_exists for a new order), the EVENT item, and the DEDUPE
// items conditioned on attribute_not_exists. A failed dedupe condition is a
// duplicate; a failed version condition is a lost race, retried after a short
// jitter on the state the failure returned; conflicts and throttling are
// retried after a jittered backoff; at most 25 attempts.
//
// The care items: creates are PutItem conditioned on attribute_not_exists
// (returning the stored entity when it exists), versioned updates PutItem
// conditioned on the stored rev, a template version a transaction that also
// checks the previous version exists. Two overloaded secondary indexes serve
// the lists: GSI1 the shop-wide ones (messages and runs by time, tasks by
// status, priority and due), GSI2 the per-order ones (messages, tasks). Waits
// move one item between absent, token and answer by conditional writes.
// Sort keys hold times in a fixed-width UTC form, so key order is time order.
// README.md has every access pattern.
//
// # Change feed
//
// Every EVENT item is written once, so its stream record (INSERT, NEW_IMAGE)
// is the feed entry; the other records are skipped. All items of one order
// share a partition key, so their records reach the same shard lineage in
// write order: the per-order apply order the contract asks for. ReadFeed is
// for tools and tests; on AWS the router is a Lambda triggered by the stream.
package dynamostore
