package httpapi

import (
	"net/http"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
	"github.com/ordercare/ordercare/internal/receipts"
)

// ReceiptResponse answers POST /v1/receipts/ses.
type ReceiptResponse struct {
	Applied bool   `json:"applied"`           // false: not a receipt, or not about an ordercare message
	Outcome string `json:"outcome,omitempty"` // delivered, bounced, complained or failed
}

type receiptStore struct {
	care.CareStore
	consent.Store
}

// sesReceipt answers POST /v1/receipts/ses (admin): an SES event, bare or
// as the detail of an EventBridge event (an API destination with the admin
// token), applied to its ledger entry (receipts.Apply). Idempotent. 404
// when the entry it names is unknown.
func (s *Server) sesReceipt(w http.ResponseWriter, r *http.Request) {
	p, err := s.authenticate(r)
	if err == nil && p.Role != care.RoleAdmin {
		err = errForbidden
	}
	var body []byte
	if err == nil {
		body, err = readBody(r)
	}
	var rec receipts.Receipt
	ok := false
	if err == nil {
		rec, ok, err = receipts.FromSES(body)
	}
	if err == nil && ok {
		err = receipts.Apply(r.Context(), receiptStore{s.store, s.consents}, rec)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ReceiptResponse{Applied: ok, Outcome: rec.Outcome})
}
