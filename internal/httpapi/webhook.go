package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/source"
)

// WebhookResult is the default answer (202) to an accepted webhook delivery.
type WebhookResult struct {
	Accepted   int `json:"accepted"`   // events recorded now
	Duplicates int `json:"duplicates"` // events already recorded before: nothing changed
}

// webhook is POST /webhooks/{shop}/{source}. Checks run in this order, and
// the first failure answers: unknown shop or unconnected source 404, body over
// MaxBody 413, non-JSON 415 (but for WooCommerce's form-encoded creation
// ping), signature 401 (verified over the raw bytes by the source's adapter
// before anything is parsed), malformed or invalid
// payload 400 with the field, then one atomic write per event (a valid event
// the order cannot take is 422). Everything is checked before anything is
// written; in a multi-event delivery (Douyin) a 422 may follow events already
// recorded, and the platform's redelivery of the whole batch is deduplicated.
//
// Each delivery logs one line: "webhook received" with the shop, source,
// delivery, event and order ids, or "webhook refused" with the status, code
// and field (never the body, a name or a phone number). A 401 says the
// server's clock when a timestamp was refused (it is what they are checked
// against).
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	res, err := s.receive(r)
	if err != nil {
		if errors.Is(err, care.ErrUnauthorized) {
			msg := err.Error()
			if source.TimestampRefused(err) {
				// Only a timestamp is checked against the clock (the standard
				// source's): another refusal does not send anyone to it.
				now := s.now().UTC()
				msg += fmt.Sprintf(" (the server's clock reads %s, Unix %d)", now.Format(time.RFC3339), now.Unix())
			}
			err = &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
		}
		s.logRefused(r, err)
		s.writeError(w, r, err)
		return
	}
	s.logReceived(r, res)
	// A platform that expects its own answer (Douyin) gets it; the others
	// get the status their adapter chose (202 by default) and a summary.
	if len(res.Body) > 0 {
		w.Header().Set("Content-Type", res.ContentType)
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
		return
	}
	status := res.Status
	if status == 0 {
		status = http.StatusAccepted
	}
	writeJSON(w, status, res.summary)
}

type received struct {
	source.Result
	summary WebhookResult
	// what was ingested, for the log line: ids only
	deliveryIDs, eventIDs, types, orderIDs []string
}

func (s *Server) logReceived(r *http.Request, res received) {
	s.log.InfoContext(r.Context(), "webhook received", "shop", r.PathValue("shop"), "source", r.PathValue("source"),
		"delivery_ids", res.deliveryIDs, "event_ids", res.eventIDs, "types", res.types, "order_ids", res.orderIDs,
		"accepted", res.summary.Accepted, "duplicates", res.summary.Duplicates)
}

// logRefused logs a refused delivery by status, code and field; the
// message only for a 401 (the adapters' fixed reasons), since a 400 or 422
// reason may quote the payload.
func (s *Server) logRefused(r *http.Request, err error) {
	attrs := []any{"shop", r.PathValue("shop"), "source", r.PathValue("source")}
	var ae *apiError
	var fe *care.FieldError
	var re *care.RejectError
	switch {
	case errors.As(err, &ae):
		attrs = append(attrs, "status", ae.Status, "code", ae.Code)
		if ae.Status == http.StatusUnauthorized || ae.Status == http.StatusNotFound {
			attrs = append(attrs, "reason", ae.Message)
		}
	case errors.As(err, &fe):
		attrs = append(attrs, "status", http.StatusBadRequest, "code", "invalid", "field", fe.Field)
	case errors.As(err, &re):
		attrs = append(attrs, "status", http.StatusUnprocessableEntity, "code", "rejected")
	default:
		attrs = append(attrs, "status", http.StatusInternalServerError)
	}
	s.log.WarnContext(r.Context(), "webhook refused", attrs...)
}

func (s *Server) receive(r *http.Request) (received, error) {
	ctx := r.Context()
	shopID, name := r.PathValue("shop"), r.PathValue("source")
	adapter, ok := source.For(name)
	if !ok || name == care.ChannelWebhook { // the outbound channel's credentials are no source
		return received{}, &apiError{Status: 404, Code: "not_found", Reason: "unknown_source", Message: "unknown source " + name}
	}
	// One read on the hot path: a source exists only for an existing shop,
	// so the shop is looked up only to tell the two 404s apart.
	cred, err := s.store.GetSource(ctx, shopID, name)
	if errors.Is(err, care.ErrNotFound) {
		if _, serr := s.store.GetShop(ctx, shopID); errors.Is(serr, care.ErrNotFound) {
			return received{}, &apiError{Status: 404, Code: "not_found", Message: "unknown shop"}
		} else if serr != nil {
			return received{}, serr
		}
		return received{}, &apiError{Status: 404, Code: "not_found", Message: "source " + name + " is not connected for this shop"}
	}
	if err != nil {
		return received{}, err
	}
	body, err := readBody(r)
	if err != nil {
		return received{}, err
	}
	if err := requireJSON(r); err != nil && !isWooPing(name, r) {
		return received{}, err
	}
	res, err := adapter.Handle(cred, source.Request{Header: r.Header, Body: body}, s.now())
	if err != nil {
		return received{}, err
	}
	out := received{Result: res}
	for i, in := range res.Events {
		if in.MatchEmail != "" {
			id, err := s.matchBuyer(ctx, shopID, in.MatchEmail)
			if err != nil {
				return received{}, err
			}
			if id == "" {
				// A review of a buyer ordercare never saw: answered 2xx
				// so the platform does not retry, recorded nowhere.
				out.Result = ignoredResult("the review matches no shipped, delivered or completed order of this shop")
				out.Events = nil
				return out, nil
			}
			res.Events[i].Event.Order.ID = id
			in = res.Events[i]
		}
		d := care.Delivery{ShopID: shopID, Source: name, DeliveryID: in.DeliveryID, ReceivedAt: s.now().UTC()}
		ir, err := s.store.Ingest(ctx, d, in.Event, care.Apply)
		if err != nil {
			return received{}, err
		}
		if ir.Duplicate {
			out.summary.Duplicates++
		} else {
			out.summary.Accepted++
		}
		out.deliveryIDs = append(out.deliveryIDs, in.DeliveryID)
		out.eventIDs = append(out.eventIDs, in.Event.ID)
		out.types = append(out.types, string(in.Event.Type))
		out.orderIDs = append(out.orderIDs, in.Event.Order.ID)
	}
	return out, nil
}

// isWooPing tells WooCommerce's unsigned, form-encoded creation ping, which
// the woocommerce adapter answers with 200.
func isWooPing(source string, r *http.Request) bool {
	return source == care.SourceWooCommerce && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// matchBuyerScan bounds how many of a shop's most recent delivered and
// completed orders matchBuyer reads, per status.
const matchBuyerScan = 2000

// matchBuyer returns the id of the shop's most recently updated delivered
// (else completed, else shipped: a "never arrived" review) order whose
// buyer email is email (case-insensitive), "" when none of the
// matchBuyerScan most recent of each status is. Reviews are rare next to
// orders, so a bounded scan of recent orders is cheaper than an index on
// every order's email.
func (s *Server) matchBuyer(ctx context.Context, shopID, email string) (string, error) {
	for _, st := range []care.Status{care.StatusDelivered, care.StatusCompleted, care.StatusShipped} {
		cursor, seen := "", 0
		for seen < matchBuyerScan {
			page, next, err := s.store.ListOrders(ctx, shopID, care.OrderFilter{Status: st}, cursor, 500)
			if err != nil {
				return "", err
			}
			for _, o := range page {
				if b := o.Order.Buyer; b != nil && strings.EqualFold(strings.TrimSpace(b.Email), email) {
					return o.Order.ID, nil
				}
			}
			seen += len(page)
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return "", nil
}

func ignoredResult(reason string) source.Result {
	b, _ := json.Marshal(source.Ignored{Ignored: true, Reason: reason})
	return source.Result{Status: http.StatusOK, ContentType: "application/json", Body: b}
}
