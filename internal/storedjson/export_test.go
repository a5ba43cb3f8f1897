package storedjson

// Fast is the fast path alone: false where Unmarshal hands the input to
// encoding/json.
var Fast = fast
