package care

import (
	"strings"
	"time"
)

// ReviewRules are what a platform allows a shop around reviews (peers
// workflows.md §0, §6, §7). Zero values allow everything.
type ReviewRules struct {
	// NoCareMessage: the platform forbids proactive "thank you / here to
	// help" messages (Amazon's communication guidelines).
	NoCareMessage bool
	// OneAsk: at most one review request per order, no reminders (Amazon's
	// Request a Review / Solicitations API).
	OneAsk bool
	// NoReviseAsk: the platform forbids asking a buyer to change or remove
	// a review, even after the problem is solved (Amazon, Trustpilot).
	NoReviseAsk bool
	// AskFrom and AskUntil bound the review request after delivery when
	// the platform has a window (Amazon: 5 to 30 days; Taobao: 15 days);
	// zero AskUntil: no window.
	AskFrom, AskUntil time.Duration
	// Policy names the rule, for skip reasons and refusals.
	Policy string
}

// RulesOf returns the review rules of a platform (ReviewPlatforms; any
// other name allows everything).
func RulesOf(platform string) ReviewRules {
	switch strings.ToLower(platform) {
	case PlatformAmazon:
		return ReviewRules{NoCareMessage: true, OneAsk: true, NoReviseAsk: true,
			AskFrom: 5 * 24 * time.Hour, AskUntil: 30 * 24 * time.Hour,
			Policy: "Amazon seller communication guidelines and Communication Guidelines for review requests"}
	case PlatformTrustpilot:
		return ReviewRules{NoReviseAsk: true, Policy: "Trustpilot guidelines for businesses (no request to amend or remove a review)"}
	case PlatformTaobao:
		return ReviewRules{AskUntil: 15 * 24 * time.Hour, Policy: "Taobao rating window (15 days after the trade ends)"}
	}
	return ReviewRules{}
}

// ReviewPlatform is where the order's buyer reviews: the marketplace the
// order was placed on when it has one (Amazon, Taobao, Douyin, eBay…),
// else def (the shop's review app, e.g. judgeme, from its template).
func (o Order) ReviewPlatform(def string) string {
	if o.FromAmazon() {
		return PlatformAmazon
	}
	if m := strings.ToLower(strings.TrimSpace(o.Marketplace)); m != "" {
		return m
	}
	return def
}

// ReachedAt returns when the order reached status s, false if it has not.
func (s *OrderState) ReachedAt(st Status) (time.Time, bool) {
	if m := s.milestone(st); m != nil {
		return m.At, true
	}
	return time.Time{}, false
}

// Story is the order's whole story as an agent handling a bad review reads
// it (OrderSummary.Story): parcels and their scans, what the buyer wrote,
// the reviews, and earlier tasks with their notes. No phone number and no
// address.
type Story struct {
	Parcels []string `json:"parcels,omitempty"` // "SF123 (SF Express): delivered 11-12 14:05, last scan …"
	Replies []string `json:"replies,omitempty"` // the buyer's messages, oldest first: "11-12 15:00 text"
	Reviews []string `json:"reviews,omitempty"` // "judgeme 418552901 ★1 (first ★1): title — text"
	Tasks   []string `json:"tasks,omitempty"`   // earlier tasks: "workflow/step tag: outcome; notes"
}

// Appeal is an agent's mark that a review is malicious, and what the
// platform's appeal needs (Task.Appeal). The evidence pack is built from it
// and the order on read.
type Appeal struct {
	ReviewID string    `json:"review_id"` // "" for a review without a platform id
	Platform string    `json:"platform"`
	Reason   string    `json:"reason"` // one of AppealReasons(Platform)
	Kind     string    `json:"kind"`   // AppealKinds: extortion, competitor, no_purchase
	Deadline time.Time `json:"deadline"`
	// QuoteEvents are the buyer.replied event ids whose text the pack
	// quotes (the extortion message); all of the buyer's messages are in
	// the pack, these are marked.
	QuoteEvents []string     `json:"quote_events,omitempty"`
	Statement   string       `json:"statement,omitempty"` // the agent's explanation for the platform
	Files       []Attachment `json:"files,omitempty"`
	Agent       string       `json:"agent"`
	MarkedAt    time.Time    `json:"marked_at"`
	// Result is the platform's decision on the appeal as an agent recorded
	// it (AppealWon, AppealLost; queue.SetAppealResult), "" until then.
	// The decision often comes after the task ended, so it is recorded on
	// the task whatever its status.
	Result     string     `json:"result,omitempty"`
	ResultNote string     `json:"result_note,omitempty"`
	ResultBy   string     `json:"result_by,omitempty"`
	ResultAt   *time.Time `json:"result_at,omitempty"`
}

// Appeal results (Appeal.Result).
const (
	AppealWon  = "won"  // the platform removed the review
	AppealLost = "lost" // the platform kept it
)

// Task outcomes that also say an appeal's result: an agent who finishes a
// marked task with one of them recorded the result that way.
const (
	TaskAppealWon  = "appeal_won"
	TaskAppealLost = "appeal_lost"
)

// AppealResult is the appeal's result of task t and when it was
// recorded: Appeal.Result, else the outcome the task was finished with
// (TaskAppealWon, TaskAppealLost); "" when none.
func (t Task) AppealResult() (string, *time.Time) {
	if t.Appeal == nil {
		return "", nil
	}
	if t.Appeal.Result != "" {
		return t.Appeal.Result, t.Appeal.ResultAt
	}
	if t.Status == TaskDone {
		switch t.Outcome {
		case TaskAppealWon:
			return AppealWon, t.DoneAt
		case TaskAppealLost:
			return AppealLost, t.DoneAt
		}
	}
	return "", nil
}

// Attachment is a file an agent attached to an appeal, stored inline
// (base64 in JSON) within MaxAttachmentBytes each and
// MaxAttachmentsBytes together.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Attachment limits: the task row holds them, and a DynamoDB item is at
// most 400 KB.
const (
	MaxAttachments      = 4
	MaxAttachmentBytes  = 96 << 10
	MaxAttachmentsBytes = 192 << 10
)

// AppealKinds are why a review is malicious.
var AppealKinds = []string{"extortion", "competitor", "no_purchase"}

// AppealReasons lists the report reasons a platform's appeal form offers
// (peers workflows.md §7), as ordercare names them.
func AppealReasons(platform string) []string {
	switch strings.ToLower(platform) {
	case PlatformTrustpilot:
		return []string{"harmful_or_illegal", "personal_information", "advertising_or_promotional", "about_a_different_business", "not_based_on_genuine_experience"}
	case PlatformAmazon:
		return []string{"obscene_or_profane", "seller_personal_information", "entirely_product_review", "review_guideline_violation"}
	case PlatformEbay:
		return []string{"feedback_extortion", "outside_seller_control", "buyer_did_not_pay"}
	case PlatformTaobao, PlatformDouyin:
		// 以差评谋求不正当利益, 同行恶意评价, 泄露隐私, 不文明用语, 广告或垃圾信息
		return []string{"extortion_for_gain", "competitor_malicious", "privacy_leak", "abusive_language", "advertising_or_spam"}
	}
	return []string{"extortion", "competitor", "not_based_on_genuine_experience", "personal_information", "abusive_language"}
}

// AppealWindow is how long after a review the platform accepts an appeal:
// Amazon's 90 days for seller feedback, else DefaultAppealWindow (no
// platform window is documented: ordercare's own default, which an agent
// may shorten with the platform's date).
func AppealWindow(platform string) time.Duration {
	if strings.ToLower(platform) == PlatformAmazon {
		return 90 * 24 * time.Hour
	}
	return DefaultAppealWindow
}

// DefaultAppealWindow: see AppealWindow.
const DefaultAppealWindow = 14 * 24 * time.Hour
