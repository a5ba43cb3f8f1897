package httpapi

import (
	"net/http"
	"strings"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/erasure"
)

// ErasureResponse answers DELETE /v1/buyers/{id}: what was erased (never
// the contact itself).
type ErasureResponse = erasure.Record

// eraseBuyer answers DELETE /v1/buyers/{id} (ops): id is the buyer's phone
// (E.164) or email address, path-escaped. Every order of the shop whose
// buyer has it loses the buyer's personal data, with its events, ledger
// texts and tasks; counts stay; the erasure is recorded. 200 with the
// counts (zero when nothing matched).
func (s *Server) eraseBuyer(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, "", care.RoleOps)
	id := strings.TrimSpace(r.PathValue("id"))
	if err == nil && (id == "" || len(id) > 254 || (!strings.HasPrefix(id, "+") && !strings.Contains(id, "@"))) {
		err = care.Invalid("id", "the buyer's phone in E.164 or email address")
	}
	var rec erasure.Record
	if err == nil {
		rec, err = s.erasure.EraseBuyer(r.Context(), shopID, care.ContactKey(id), s.now().UTC())
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// putRetention stores the shop's retention policy (ops): body
// erasure.Retention; message texts older than it are replaced by
// erasure.Erased by the runtime's daily sweep.
func (s *Server) putRetention(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	var req erasure.Retention
	if err == nil {
		err = decodeStrict(r, &req)
	}
	if err == nil {
		err = req.Validate()
	}
	if err == nil {
		err = s.store.PutSource(r.Context(), req.Source(shopID, s.now().UTC()))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}
