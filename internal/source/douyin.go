package source

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ordercare/ordercare/internal/care"
)

// Douyin (抖店 open platform message push, 消息推送) headers.
const (
	HeaderDouyinSign       = "event-sign"
	HeaderDouyinAppID      = "app-id"
	HeaderDouyinSignMethod = "sign-method"
)

// The Douyin trade message tags (doudian_trade_*) ordercare maps.
const (
	DouyinTagTradeCreate          = "100" // 订单创建
	DouyinTagTradePaid            = "101" // 订单支付/确认
	DouyinTagTradeSellerShip      = "102" // 卖家发货
	DouyinTagTradeSuccess         = "103" // 交易完成 (buyer confirmed receipt)
	DouyinTagTradeLogisticsChange = "104" // 发货物流变更 (the seller changed a parcel's tracking number)
	DouyinTagTradeAddressChanged  = "105" // 买家收货信息变更
	DouyinTagTradeCanceled        = "106" // 订单取消
	// DouyinTagTradePartlySellerShip is 卖家部分发货
	// (doudian_trade_TradePartlySellerShip, message-docs 30/277). Its tag
	// number was not confirmed against the platform's tag list: a message
	// with this tag that carries no logistics_msg gives no event.
	DouyinTagTradePartlySellerShip = "108"
)

// douyinAnswer is the body the platform expects within 2 s; anything else is
// treated as a failed push and retried.
var douyinAnswer = []byte(`{"code":0,"msg":"success"}`)

// Douyin accepts 抖店 message pushes. event-sign is the lowercase hex MD5 of
// app_key + raw body + app_secret (cred.AppKey, cred.AppSecret); an app-id
// header, when present, must equal app_key; a sign-method other than md5 is
// refused. The body is a JSON array of {"tag","msg_id","data"} where data is a
// JSON string; each message with a mapped tag gives one event (DeliveryID =
// msg_id, event id "douyin:" + msg_id); unknown tags are skipped.
//
// Pushes carry ids and status only: every order is marked needs_enrichment
// and carries only what the message held (p_id as an exact string, pay_amount
// in fen as a CNY decimal, times). 101 for a cash-on-delivery order (pay_type
// 0) is the platform's confirmation, not a payment: it gives order.created
// with payment_method cod. 102 (full ship), 108 (partial ship) and 104
// (tracking number changed) give order.shipped with one parcel per
// logistics_code (carrier express_company_id, pack_id as ref, items from
// shipped_order_info); 104's parcels replace the earlier parcel of the same
// pack_id; a ship message without a tracking number gives none. 105 gives
// order.address_changed with only what the platform sends in plain text
// (area names, detail, name, an E.164 phone): encrypted fields are not
// stored. occurred_at is the
// message's own time, or now when it has none. Success answers 200
// {"code":0,"msg":"success"}.
type Douyin struct{}

// DouyinSign returns the event-sign value of body.
func DouyinSign(appKey, appSecret string, body []byte) string {
	h := md5.New()
	h.Write([]byte(appKey))
	h.Write(body)
	h.Write([]byte(appSecret))
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyDouyin checks event-sign and app-id; nil or a wrapped care.ErrUnauthorized.
func VerifyDouyin(appKey, appSecret string, h http.Header, body []byte) error {
	if appKey == "" || appSecret == "" {
		return unauthorized("no app key and secret are configured for this source")
	}
	if m := h.Get(HeaderDouyinSignMethod); m != "" && !strings.EqualFold(m, "md5") {
		return unauthorized("unsupported sign-method")
	}
	if id := h.Get(HeaderDouyinAppID); id != "" && subtle.ConstantTimeCompare([]byte(id), []byte(appKey)) != 1 {
		return unauthorized("app-id does not match the configured app key")
	}
	sig := strings.ToLower(h.Get(HeaderDouyinSign))
	if sig == "" {
		return unauthorized("missing event-sign header")
	}
	if subtle.ConstantTimeCompare([]byte(sig), []byte(DouyinSign(appKey, appSecret, body))) != 1 {
		return unauthorized("event-sign does not match the body")
	}
	return nil
}

type douyinMessage struct {
	Tag   json.RawMessage `json:"tag"`
	MsgID string          `json:"msg_id"`
	Data  json.RawMessage `json:"data"`
}

type douyinData struct {
	PID          json.RawMessage `json:"p_id"`
	PayType      json.RawMessage `json:"pay_type"`
	PayAmount    json.RawMessage `json:"pay_amount"`
	PayTime      json.RawMessage `json:"pay_time"`
	CreateTime   json.RawMessage `json:"create_time"`
	UpdateTime   json.RawMessage `json:"update_time"`
	CompleteTime json.RawMessage `json:"complete_time"`
	CancelTime   json.RawMessage `json:"cancel_time"`
	ReceiverMsg  *struct {
		Name string          `json:"name"`
		Tel  string          `json:"tel"`
		Addr json.RawMessage `json:"addr"`
	} `json:"receiver_msg"`
	LogisticsMsg json.RawMessage `json:"logistics_msg"`
}

type douyinArea struct {
	Name string `json:"name"`
}

type douyinAddr struct {
	Province douyinArea `json:"province"`
	City     douyinArea `json:"city"`
	Town     douyinArea `json:"town"`
	Street   douyinArea `json:"street"`
	Detail   string     `json:"detail"`
}

type douyinLogistics struct {
	ExpressCompanyID json.RawMessage `json:"express_company_id"`
	LogisticsCode    string          `json:"logistics_code"`
	PackID           json.RawMessage `json:"pack_id"`
	ShippedOrderInfo []struct {
		SKUID      json.RawMessage `json:"sku_id"`
		ShippedNum json.RawMessage `json:"shipped_num"`
	} `json:"shipped_order_info"`
}

// Handle implements Adapter.
func (Douyin) Handle(cred care.Source, req Request, now time.Time) (Result, error) {
	if err := VerifyDouyin(cred.AppKey, cred.AppSecret, req.Header, req.Body); err != nil {
		return Result{}, err
	}
	var msgs []douyinMessage
	if err := decodeJSON(req.Body, &msgs, false); err != nil {
		return Result{}, err
	}
	res := Result{Status: http.StatusOK, ContentType: "application/json", Body: douyinAnswer}
	for i, m := range msgs {
		p := "[" + itoa(i) + "]."
		tag, ok, err := flexDigits(m.Tag)
		if err != nil {
			return Result{}, care.Invalid(p+"tag", "must be a numeric tag")
		}
		if !ok || !douyinMapped[tag] {
			continue
		}
		if m.MsgID == "" {
			return Result{}, care.Invalid(p+"msg_id", "required")
		}
		id, err := eventID(p+"msg_id", "douyin:"+m.MsgID)
		if err != nil {
			return Result{}, err
		}
		raw := bytes.TrimSpace(m.Data)
		if len(raw) > 0 && raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return Result{}, care.Invalid(p+"data", "must be a JSON string")
			}
			raw = []byte(s)
		}
		var d douyinData
		if err := decodeJSON(raw, &d, false); err != nil {
			var fe *care.FieldError
			if !errors.As(err, &fe) {
				return Result{}, err
			}
			return Result{}, care.Invalid(strings.TrimSuffix(p+"data."+fe.Field, "."), "%s", fe.Reason)
		}
		ev, ok, err := d.event(tag, p+"data.", now)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			continue
		}
		ev.ID = id
		res.Events = append(res.Events, Incoming{DeliveryID: m.MsgID, Event: ev})
	}
	return validated(res)
}

var douyinMapped = map[string]bool{
	DouyinTagTradeCreate: true, DouyinTagTradePaid: true, DouyinTagTradeSellerShip: true,
	DouyinTagTradeSuccess: true, DouyinTagTradeAddressChanged: true, DouyinTagTradeCanceled: true,
	DouyinTagTradePartlySellerShip: true, DouyinTagTradeLogisticsChange: true,
}

// maxUnix is 10000-01-01T00:00:00Z: later times have no RFC 3339 form.
const maxUnix = 253402300800

// event normalises one message's data; false when the message gives no event.
func (d *douyinData) event(tag, p string, now time.Time) (care.Event, bool, error) {
	pid, ok, err := flexDigits(d.PID)
	if err != nil || !ok {
		return care.Event{}, false, care.Invalid(p+"p_id", "must be the order id (digits)")
	}
	ev := care.Event{Order: care.Order{ID: pid, NeedsEnrichment: true}, OccurredAt: now.UTC()}
	at := func(name string, raw json.RawMessage) error {
		sec, ok, err := flexInt(raw)
		if err != nil || (ok && (sec <= 0 || sec >= maxUnix)) {
			return care.Invalid(p+name, "must be Unix seconds")
		}
		if ok {
			ev.OccurredAt = time.Unix(sec, 0).UTC()
		}
		return nil
	}
	switch tag {
	case DouyinTagTradeCreate:
		ev.Type = care.OrderCreated
		if err := at("create_time", d.CreateTime); err != nil {
			return care.Event{}, false, err
		}
		if len(d.CreateTime) > 0 && string(d.CreateTime) != "null" {
			ev.Order.PlacedAt = utc(ev.OccurredAt)
		}
	case DouyinTagTradePaid:
		ev.Type = care.OrderPaid
		payType, ok, err := flexInt(d.PayType)
		if err != nil {
			return care.Event{}, false, care.Invalid(p+"pay_type", "must be an integer")
		}
		if ok && payType == 0 {
			// 货到付款: the platform confirms a cash-on-delivery order; nothing
			// was paid. It is where a Douyin order is known to be COD, so it
			// is an order.created carrying payment_method cod: the merge keeps
			// the first creation time, and the router starts cod_confirm (and
			// never chases a COD order for payment).
			ev.Type, ev.Order.PaymentMethod = care.OrderCreated, care.PayCOD
			if err := at("pay_time", d.PayTime); err != nil {
				return care.Event{}, false, err
			}
			return ev, true, nil
		}
		if ok {
			ev.Order.PaymentMethod = care.PayOnline
		}
		if err := at("pay_time", d.PayTime); err != nil {
			return care.Event{}, false, err
		}
		fen, ok, err := flexInt(d.PayAmount)
		if err != nil || (ok && fen < 0) {
			return care.Event{}, false, care.Invalid(p+"pay_amount", "must be a non-negative integer amount in fen")
		}
		if ok {
			ev.Order.Total, ev.Order.Currency = fenToYuan(fen), "CNY"
		}
	case DouyinTagTradeSellerShip, DouyinTagTradePartlySellerShip, DouyinTagTradeLogisticsChange:
		ev.Type = care.OrderShipped
		if err := at("update_time", d.UpdateTime); err != nil {
			return care.Event{}, false, err
		}
		ps, err := douyinParcels(p+"logistics_msg", d.LogisticsMsg, tag == DouyinTagTradeLogisticsChange)
		if err != nil {
			return care.Event{}, false, err
		}
		if len(ps) == 0 {
			return care.Event{}, false, nil
		}
		ev.Parcels = ps
	case DouyinTagTradeSuccess:
		ev.Type = care.OrderCompleted
		if err := at("complete_time", d.CompleteTime); err != nil {
			return care.Event{}, false, err
		}
	case DouyinTagTradeAddressChanged:
		ev.Type = care.OrderAddressChanged
		if err := at("update_time", d.UpdateTime); err != nil {
			return care.Event{}, false, err
		}
		addr, err := d.address(p + "receiver_msg")
		if err != nil {
			return care.Event{}, false, err
		}
		ev.Order.ShippingAddress = addr
	case DouyinTagTradeCanceled:
		ev.Type = care.OrderCancelled
		if err := at("cancel_time", d.CancelTime); err != nil {
			return care.Event{}, false, err
		}
	}
	return ev, true, nil
}

// address returns the new receiver as sent (names of the areas, the detail,
// the name; the phone only if already E.164). Douyin masks or encrypts most of
// it: what is masked stays masked, and the order is enriched later.
func (d *douyinData) address(field string) (*care.Address, error) {
	a := &care.Address{}
	r := d.ReceiverMsg
	if r == nil {
		return a, nil
	}
	a.Name = strings.TrimSpace(r.Name)
	if e, ok := e164(r.Tel); ok {
		a.Phone = e
	}
	raw := bytes.TrimSpace(r.Addr)
	if len(raw) > 0 && raw[0] == '"' { // addr is often itself a JSON string
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, care.Invalid(field+".addr", "must be an address object or string")
		}
		if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			raw = []byte(t)
		} else {
			a.Line1 = t
			return a, nil
		}
	}
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, care.Invalid(field+".addr", "must be an address object")
		}
		raw = nil
		if len(list) > 0 {
			raw = list[0]
		}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return a, nil
	}
	var s douyinAddr
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, care.Invalid(field+".addr", "must be an address object")
	}
	a.Province, a.City, a.District = s.Province.Name, s.City.Name, s.Town.Name
	a.Line1 = strings.TrimSpace(s.Street.Name + s.Detail)
	return a, nil
}

// douyinParcels reads logistics_msg (an object, or a list for split
// parcels): one parcel per tracking number (logistics_code), with the
// carrier (express_company_id), the package (pack_id) as ref and the
// shipped sku ids and counts as items; none when it holds no tracking
// number. replacement marks the parcels of a tracking-number change (104):
// they replace the earlier parcel of the same pack.
func douyinParcels(field string, raw json.RawMessage, replacement bool) ([]care.ParcelReport, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []douyinLogistics
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, care.Invalid(field, "must be a logistics object or list")
		}
	} else {
		var l douyinLogistics
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, care.Invalid(field, "must be a logistics object")
		}
		list = []douyinLogistics{l}
	}
	var out []care.ParcelReport
	seen := map[string]bool{}
	for i, l := range list {
		f := field
		if raw[0] == '[' {
			f += "[" + itoa(i) + "]"
		}
		n := strings.TrimSpace(l.LogisticsCode)
		if n == "" || seen[n] {
			continue
		}
		if len(n) > 64 || strings.IndexFunc(n, unicode.IsControl) >= 0 || !utf8.ValidString(n) {
			return nil, care.Invalid(f+".logistics_code", "must be at most 64 characters without control characters")
		}
		seen[n] = true
		p := care.ParcelReport{TrackingNumber: n, Carrier: flexText(l.ExpressCompanyID), Ref: cleanText(flexText(l.PackID), 128)}
		p.Replacement = replacement && p.Ref != ""
		for j, so := range l.ShippedOrderInfo {
			sku := flexText(so.SKUID)
			num, ok, err := flexInt(so.ShippedNum)
			if err != nil || (ok && (num < 0 || num > 1_000_000)) {
				return nil, care.Invalid(f+".shipped_order_info["+itoa(j)+"].shipped_num", "must be a non-negative integer")
			}
			if sku != "" && num > 0 {
				p.Items = append(p.Items, care.ParcelItem{SKU: sku, Quantity: int(num)})
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// flexDigits reads a non-negative integer id sent as a JSON number or a
// numeric string, as its exact decimal text; false when absent or null.
func flexDigits(raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, err
		}
	}
	if !digitsRE.MatchString(s) {
		return "", false, strconv.ErrSyntax
	}
	return s, true, nil
}

// flexInt reads an int64 sent as a JSON number or a numeric string.
func flexInt(raw json.RawMessage) (int64, bool, error) {
	s, ok, err := flexDigits(raw)
	if err != nil || !ok {
		return 0, ok, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil, err
}

// flexText reads a JSON string or number as text ("" otherwise).
func flexText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
		return ""
	}
	if digitsRE.Match(raw) {
		return string(raw)
	}
	return ""
}

// fenToYuan writes an amount in fen as an exact yuan decimal: 2990 → "29.90".
func fenToYuan(fen int64) care.Decimal {
	s := strconv.FormatInt(fen, 10)
	for len(s) < 3 {
		s = "0" + s
	}
	return care.Decimal(s[:len(s)-2] + "." + s[len(s)-2:])
}
