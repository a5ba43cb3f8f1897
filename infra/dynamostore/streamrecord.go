package dynamostore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ordercare/ordercare/internal/care"
)

// ChangeFromStreamRecord turns a DynamoDB Streams record as Lambda delivers
// it (the router function's event source) into a feed change. It reads the
// same attributes of an EVENT item that ReadFeed reads through the DynamoDB
// Streams API, so both paths yield identical changes.
//
// ok is false, with no error, for every record that is not a feed entry: a
// MODIFY or REMOVE, or an INSERT of any item other than an order's EVENT
// item. An INSERT of an EVENT item that lacks the feed attributes (a stream
// without NEW_IMAGE, or an item not written by Ingest) is an error: the
// change cannot be routed and must not be skipped silently.
func ChangeFromStreamRecord(rec events.DynamoDBEventRecord) (care.Change, bool, error) {
	sk := rec.Change.Keys[attrSK]
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) || sk.DataType() != events.DataTypeString ||
		!strings.HasPrefix(sk.String(), skEvent) {
		return care.Change{}, false, nil
	}
	img := rec.Change.NewImage
	s := func(name string) string {
		if a, ok := img[name]; ok && a.DataType() == events.DataTypeString {
			return a.String()
		}
		return ""
	}
	var version int64
	if a, ok := img[attrVersion]; ok && a.DataType() == events.DataTypeNumber {
		version, _ = strconv.ParseInt(a.Number(), 10, 64)
	}
	at, err := time.Parse(time.RFC3339Nano, s(attrAt))
	if err != nil || version < 1 || s(attrShopID) == "" {
		return care.Change{}, false, fmt.Errorf("stream record %s: event item without the feed attributes (NEW_IMAGE stream needed)", sk.String())
	}
	return care.Change{
		ShopID:  s(attrShopID),
		OrderID: s(attrOrderID),
		EventID: s(attrEventID),
		Type:    care.EventType(s(attrEventType)),
		Version: version,
		At:      at,
	}, true, nil
}
