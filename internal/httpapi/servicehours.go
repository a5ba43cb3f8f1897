package httpapi

import (
	"net/http"

	"github.com/ordercare/ordercare/internal/care"
)

// ServiceHoursResponse is the answer to GET, PUT and DELETE
// /v1/shops/{shop}/service-hours: the hours call tasks and their SLAs count
// in, in the shop's timezone. Default is true when the shop set none (the
// hours shown are then care.DefaultServiceHours). A closed day is [].
type ServiceHoursResponse struct {
	ShopID   string            `json:"shop_id"`
	Timezone string            `json:"timezone"`
	Default  bool              `json:"default"`
	Hours    care.ServiceHours `json:"hours"`
}

func serviceHoursResponse(shop care.Shop) ServiceHoursResponse {
	h := shop.HoursOf()
	for _, d := range []*[]care.Period{&h.Mon, &h.Tue, &h.Wed, &h.Thu, &h.Fri, &h.Sat, &h.Sun} {
		if *d == nil {
			*d = []care.Period{}
		}
	}
	return ServiceHoursResponse{ShopID: shop.ID, Timezone: shop.Timezone, Default: shop.ServiceHours == nil, Hours: h}
}

// getServiceHours is GET /v1/shops/{shop}/service-hours (ops, agent, admin).
func (s *Server) getServiceHours(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps, care.RoleAgent)
	var shop care.Shop
	if err == nil {
		shop, err = s.store.GetShop(r.Context(), shopID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, serviceHoursResponse(shop))
}

// putServiceHours is PUT /v1/shops/{shop}/service-hours (ops, admin): the
// body is the week, {"mon":[{"from":"09:00","to":"21:00"}],…}; a day left
// out or [] is closed. A bad body is a 400 naming the field (e.g.
// "tue[1].from") and changes nothing.
func (s *Server) putServiceHours(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	var h care.ServiceHours
	if err == nil {
		err = decodeStrict(r, &h)
	}
	if err == nil {
		err = h.Validate("")
	}
	var shop care.Shop
	if err == nil {
		shop, err = s.store.SetServiceHours(r.Context(), shopID, &h)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, serviceHoursResponse(shop))
}

// deleteServiceHours is DELETE /v1/shops/{shop}/service-hours (ops, admin):
// back to the default hours.
func (s *Server) deleteServiceHours(w http.ResponseWriter, r *http.Request) {
	shopID, err := s.shopScope(r, r.PathValue("shop"), care.RoleOps)
	var shop care.Shop
	if err == nil {
		shop, err = s.store.SetServiceHours(r.Context(), shopID, nil)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, serviceHoursResponse(shop))
}
