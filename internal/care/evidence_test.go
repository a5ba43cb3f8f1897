package care

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestEvidenceHoldsNoPersonalData: the pack quotes the buyer's messages
// with their name, phone, email and address lines blanked (and anything
// shaped like a phone number), marks the quoted ones, and keeps the trail.
func TestEvidenceHoldsNoPersonalData(t *testing.T) {
	o := applyAll(t, []Event{created("e1", 0), ev("s1", OrderShipped, 10), ev("d1", ShipmentUpdated, 60)})
	o.Order.Buyer.Email = "wang@example.com"
	o.Order.ShippingAddress = &Address{Name: "王芳", Phone: "+8613800138000", Line1: "文三路 1 号", City: "杭州"}
	reply := ev("r1", BuyerReplied, 70)
	reply.Reply = &Reply{Text: "我是王芳，不返 50 元就差评，电话 138 0013 8000，邮箱 wang@example.com，地址文三路 1 号"}
	h := OrderHistory{Order: o, Events: []Event{created("e1", 0), ev("s1", OrderShipped, 10), ev("d1", ShipmentUpdated, 60), reply},
		Tasks: []Task{{ID: "t1", Workflow: "bad_review", Step: "task_quality", Status: TaskOpen, CreatedAt: at(80),
			Notes: []Note{{Agent: "xiaoli", Text: "called +8613800138000, no answer", At: at(90)}}}}}
	task := Task{ID: "t1", Appeal: &Appeal{Platform: PlatformDouyin, Reason: "extortion_for_gain", Kind: "extortion",
		Deadline: at(10000), QuoteEvents: []string{"r1"}, Agent: "xiaoli", MarkedAt: at(100), Statement: "买家王芳要挟"}}
	p := h.Evidence(Shop{ID: "tea", Name: "Tea"}, task, ReviewState{Review: Review{ID: "dy-1", Rating: 1}, FirstRating: 1, FirstAt: at(75)})
	b, _ := json.Marshal(p)
	for _, leak := range []string{"王芳", "13800138000", "138 0013 8000", "wang@example.com", "文三路", "杭州"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("pack leaks %q: %s", leak, b)
		}
	}
	if len(p.BuyerMessage) != 1 || !p.BuyerMessage[0].Quoted || !strings.Contains(p.BuyerMessage[0].Text, "不返 50 元就差评") {
		t.Errorf("buyer messages %+v", p.BuyerMessage)
	}
	if len(p.CarrierTrail) != 2 || len(p.Timeline) < 2 || len(p.AgentNotes) != 2 {
		t.Errorf("trail %+v, timeline %+v, notes %+v", p.CarrierTrail, p.Timeline, p.AgentNotes)
	}
	s := h.Story(time.UTC)
	if len(s.Parcels) != 2 || len(s.Replies) != 1 || len(s.Tasks) != 2 {
		t.Errorf("story %+v", s)
	}
}

// TestEvidenceBlanksReviewAndLooseAddress: the review's own text and title
// are blanked like every other free text (a reviewer naming the buyer or a
// phone number), and an address line is blanked however its spaces are
// written ("文三路1号" for "文三路 1 号").
func TestEvidenceBlanksReviewAndLooseAddress(t *testing.T) {
	o := applyAll(t, []Event{created("e1", 0)})
	o.Order.ShippingAddress = &Address{Name: "王芳", Phone: "+8613800138000", Line1: "文三路 1 号"}
	reply := ev("r1", BuyerReplied, 70)
	reply.Reply = &Reply{Text: "不退款就差评，地址文三路1号，找王 芳"}
	h := OrderHistory{Order: o, Events: []Event{created("e1", 0), reply}}
	task := Task{ID: "t1", Appeal: &Appeal{Platform: PlatformTaobao, Reason: "extortion_for_gain", Kind: "extortion",
		Deadline: at(10000), QuoteEvents: []string{"r1"}, Agent: "xiaoli", MarkedAt: at(100)}}
	r := ReviewState{Review: Review{ID: "tb-1", Rating: 1, Title: "王芳的差评", Text: "垃圾店，打13800138000找王芳"}, FirstRating: 1}
	p := h.Evidence(Shop{ID: "tea", Name: "Tea"}, task, r)
	b, _ := json.Marshal(p)
	for _, leak := range []string{"王芳", "王 芳", "13800138000", "文三路"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("pack leaks %q: %s", leak, b)
		}
	}
	if !strings.Contains(p.Review.Text, "垃圾店") || p.Review.Rating != 1 || !strings.Contains(p.BuyerMessage[0].Text, "不退款就差评") {
		t.Errorf("pack lost what the appeal needs: %+v %+v", p.Review, p.BuyerMessage)
	}
}
