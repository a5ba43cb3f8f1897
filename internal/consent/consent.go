package consent

import (
	"context"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"
)

// States of a consent record.
const (
	Granted           = "granted"             // marketing consent given
	OptedOutMarketing = "opted_out_marketing" // no more marketing; transactional still goes
	OptedOutAll       = "opted_out_all"       // nothing more
)

// AllChannels is Record.Channel for a statement about every channel.
const AllChannels = "*"

// Sources of a consent record.
const (
	SourceReply       = "reply"             // an SMS or IM reply (buyer.replied)
	SourceUnsubscribe = "email_unsubscribe" // the one-click link
	SourceAPI         = "api"               // an agent or the shop through the API
	SourceCheckout    = "checkout"          // the order said the buyer agreed
)

// Record is a buyer's latest statement about one channel (or every
// channel) of one shop. Contact is care.ContactKey of the phone or
// address: a hash, never the value.
type Record struct {
	ShopID  string    `json:"shop_id"`
	Contact string    `json:"contact"`
	Channel string    `json:"channel"` // "sms", "email", "webhook", or AllChannels
	State   string    `json:"state"`
	Source  string    `json:"source"`
	At      time.Time `json:"at"`
}

// Store keeps consent records. Both stores implement it and pass
// storetest.RunConsent.
type Store interface {
	// PutConsent stores r as the statement for (shop, contact, channel),
	// unless the stored one is newer (a later At): statements arriving out
	// of order keep the latest. ErrInvalid for an empty shop, contact or
	// channel, or an unknown state.
	PutConsent(ctx context.Context, r Record) error
	// ListConsents returns the statements about contact at the shop, by
	// channel; empty (no error) when there are none.
	ListConsents(ctx context.Context, shopID, contact string) ([]Record, error)
	// DeleteConsents removes every statement about contact at the shop
	// (erasure); no error when there are none.
	DeleteConsents(ctx context.Context, shopID, contact string) error
}

// ValidState reports whether s is one of the states.
func ValidState(s string) bool { return s == Granted || s == OptedOutMarketing || s == OptedOutAll }

// Reasons Decide gives (ledger skip reasons).
const (
	ReasonOptedOut          = "opted_out"
	ReasonOptedOutMarketing = "opted_out_marketing"
	ReasonNoConsent         = "no_marketing_consent"
)

// Decide says why a message on channel may not go to a contact whose
// statements are records ("" when it may): for each of the channel's own
// statement and the every-channel one, the latest wins. An opt-out of all
// stops everything; an opt-out of marketing stops marketing; marketing
// where the market requires consent (required) needs a Granted statement
// later than any opt-out.
func Decide(records []Record, channel string, marketing, required bool) string {
	var latest *Record
	for i := range records {
		r := &records[i]
		if r.Channel != channel && r.Channel != AllChannels {
			continue
		}
		if latest == nil || r.At.After(latest.At) {
			latest = r
		}
	}
	state := ""
	if latest != nil {
		state = latest.State
	}
	switch {
	case state == OptedOutAll:
		return ReasonOptedOut
	case !marketing:
		return ""
	case state == OptedOutMarketing:
		return ReasonOptedOutMarketing
	case required && state != Granted:
		return ReasonNoConsent
	}
	return ""
}

// RequiresConsent reports whether marketing on channel to a buyer in
// region (ISO 3166-1, "" unknown) needs recorded consent: SMS everywhere
// (TCPA in the US, MIIT rules in China, most others alike); email
// everywhere except the US (CAN-SPAM is opt-out); the shop's own IM bridge
// and the outbox never (the platform holds that consent).
func RequiresConsent(channel, region string) bool {
	switch channel {
	case "sms":
		return true
	case "email":
		return region != "US"
	}
	return false
}

// Opt-out words. Every one stops every message unless the reply names
// marketing: STOP, QUIT, END, REVOKE, OPT OUT, CANCEL and UNSUBSCRIBE are
// the CTIA words; 退订, TD and T China's reply to a text (回T退订). The
// stricter reading is the default because most care messages are
// transactional: a buyer who says 退订 to a payment reminder wants no more
// reminders. "退订营销", "退订广告", "STOP PROMO", "UNSUBSCRIBE MARKETING"
// and the like stop marketing only.
var (
	optOutWords    = []string{"stop", "quit", "end", "revoke", "opt out", "optout", "cancel", "unsubscribe", "退订", "td", "t"}
	marketingWords = []string{"营销", "广告", "促销", "推广", "marketing", "promo", "promos", "promotion", "promotions", "ads", "offers"}
)

// OptOutScope says what an opt-out reply asks to stop: ScopeAll or
// ScopeMarketing, "" when text is not an opt-out. The reply must be an
// opt-out word, optionally followed or preceded by "all"/全部/所有 or a
// marketing word (退订 may also come with polite words: "退订，谢谢"), so
// "cancel my order" or "the end" is no opt-out.
func OptOutScope(text string) string {
	t := normalize(text)
	if t == "" {
		return ""
	}
	rest, found := "", false
	for _, w := range optOutWords {
		if t == w {
			return ScopeAll
		}
		if r, ok := strings.CutPrefix(t, w+" "); ok && len(w) > 1 {
			rest, found = r, true
		} else if r, ok := strings.CutSuffix(t, " "+w); ok && len(w) > 1 {
			rest, found = r, true
		}
	}
	if !found && strings.Contains(t, "退订") {
		rest, found = strings.ReplaceAll(t, "退订", " "), true
	}
	if !found {
		return ""
	}
	rest = strings.TrimSpace(rest)
	for _, m := range marketingWords {
		if strings.Contains(rest, m) {
			return ScopeMarketing
		}
	}
	switch rest {
	case "all", "全部", "所有", "谢谢", "please", "now", "":
		return ScopeAll
	}
	if strings.ContainsAny(rest, "全所谢") || !isLatin(rest) {
		return ScopeAll // 退订 with Chinese words around it
	}
	return ""
}

func isLatin(s string) bool {
	for _, r := range s {
		if r > unicode.MaxLatin1 {
			return false
		}
	}
	return true
}

// normalize folds width, lowers case, drops punctuation and symbols and
// collapses spaces.
func normalize(s string) string {
	s = strings.ToLower(width.Fold.String(s))
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// Confirmation is the one message that confirms an opt-out of scope to a
// buyer of shop, in locale (zh-* in Chinese, else English).
func Confirmation(locale, shop, scope string) string {
	zh := strings.HasPrefix(strings.ToLower(locale), "zh")
	switch {
	case zh && scope == ScopeMarketing:
		return "您已退订" + shop + "的营销消息，订单通知照常发送。"
	case zh:
		return "您已退订" + shop + "的全部消息，我们不会再联系您。"
	case scope == ScopeMarketing:
		return "You have unsubscribed from " + shop + "'s marketing messages. Order updates will still reach you."
	}
	return "You have unsubscribed from all messages from " + shop + ". We will not contact you again."
}
