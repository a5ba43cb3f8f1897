package localruntime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/sms"
)

// TestRefusalKeptInLedger: a marketing text to a Chinese mobile carries
// the refusal instruction (回T退订), and the ledger entry holds exactly the
// text that went out, suffix included, with the segments of that text; a
// transactional text to the same buyer gets no suffix.
func TestRefusalKeptInLedger(t *testing.T) {
	h, _ := channelHarness(t)
	h.editSteps(care.UnpaidChase, func(st map[string]any) {
		st["channels"] = []any{"sms"}
		if st["id"] == "coupon" {
			st["class"] = "marketing"
		}
	})
	h.must("POST", "/v1/shops/tea/consents", h.agent(), map[string]any{"contact": "+8613912345678", "channel": "sms", "state": "granted", "source": "checkout"}, 200, nil)
	// Placed at 09:00 Shanghai: the 6 h coupon falls inside China's marketing hours.
	h.webhook(h.shop, "", order("R1", "129.90", false, 72*time.Hour, start))
	h.advance("7h")
	seen := map[string]bool{}
	for _, m := range h.messages("R1") {
		if m.Status != care.MessageSent || m.Channel != "sms" {
			continue
		}
		seen[m.Step] = true
		c := sms.Segments(m.Text)
		if m.Segments != c.Segments || m.Encoding != c.Encoding {
			t.Errorf("%s: ledger says %d %s segments, its text is %d %s", m.Step, m.Segments, m.Encoding, c.Segments, c.Encoding)
		}
		hasRefusal := strings.HasSuffix(m.Text, sms.RefusalCN)
		if m.Class == "marketing" && !hasRefusal {
			t.Errorf("%s (marketing): ledger text %q lacks %s", m.Step, m.Text, sms.RefusalCN)
		}
		if m.Class != "marketing" && hasRefusal {
			t.Errorf("%s (transactional): ledger text %q carries %s", m.Step, m.Text, sms.RefusalCN)
		}
	}
	if !seen["coupon"] || !seen["nudge"] {
		t.Fatalf("sent by sms: %v, want the nudge and the coupon", seen)
	}
}
