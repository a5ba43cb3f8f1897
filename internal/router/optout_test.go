package router_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/consent"
	codconfirm "github.com/ordercare/ordercare/workflows/cod_confirm"
)

// TestReplyOptOutScope: with consents recorded, an opt-out reply is
// recorded with its scope for the buyer's phone and address: the opt-out
// words stop everything (the older opt-out of everything is recorded too),
// unless the reply names marketing ("退订营销", "STOP PROMOS"); a sentence
// with such a word is no opt-out.
func TestReplyOptOutScope(t *testing.T) {
	tests := []struct {
		text      string
		wantState string // "" = nothing recorded
		wantAll   bool   // the older all-stopping opt-out is recorded
	}{
		{"退订", consent.OptedOutAll, true},
		{"TD", consent.OptedOutAll, true},
		{"退订营销", consent.OptedOutMarketing, false},
		{"STOP PROMOS", consent.OptedOutMarketing, false},
		{"STOP", consent.OptedOutAll, true},
		{"Quit", consent.OptedOutAll, true},
		{"END", consent.OptedOutAll, true},
		{"revoke", consent.OptedOutAll, true},
		{"OPT OUT", consent.OptedOutAll, true},
		{"CANCEL", consent.OptedOutAll, true},
		{"unsubscribe", consent.OptedOutAll, true},
		{"cancel my order please", "", false},
		{"是的", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			f := newFixture(t)
			f.r.Consents = f.db
			f.handle(f.created("TB-1", "199.00", care.PayCOD))
			if _, _, err := f.db.Await(f.ctx, shopID, "TB-1", codconfirm.AwaitKey, "tok-ask"); err != nil {
				t.Fatal(err)
			}
			f.handle(f.reply("TB-1", tt.text))
			for _, contact := range []string{phone, email} {
				recs, err := f.db.ListConsents(f.ctx, shopID, care.ContactKey(contact))
				if err != nil {
					t.Fatal(err)
				}
				state := ""
				if len(recs) == 1 && recs[0].Channel == consent.AllChannels && recs[0].Source == consent.SourceReply {
					state = recs[0].State
				} else if len(recs) > 1 {
					t.Fatalf("%d statements", len(recs))
				}
				if state != tt.wantState {
					t.Errorf("%s: state %q, want %q", contactKind(contact), state, tt.wantState)
				}
				if all, _ := f.db.OptedOut(f.ctx, shopID, care.ContactKey(contact)); all != tt.wantAll {
					t.Errorf("%s: opted out of all %v, want %v", contactKind(contact), all, tt.wantAll)
				}
			}
		})
	}
}
