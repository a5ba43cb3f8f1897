package sms

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Why a number cannot take a text message (Check's reasons, recorded as
// ledger skip reasons).
const (
	ReasonNoPhone     = "no_phone"
	ReasonInvalid     = "invalid_phone"
	ReasonNotMobile   = "not_mobile"
	ReasonUnsupported = "unsupported_region"
)

// Number is a checked phone number.
type Number struct {
	E164   string // +8613800138000
	Region string // ISO 3166-1 alpha-2, e.g. CN, US
	// Mobile is true for a mobile number, and for a number the plan cannot
	// tell from a fixed line (US, CA: FIXED_LINE_OR_MOBILE).
	Mobile bool
	// Zones are the IANA zones the number's prefix lies in (one for most
	// countries; several for the US).
	Zones []string
}

// Check parses raw (E.164 or national, read in defaultRegion, e.g. the
// shop's market) and says why it cannot take a text ("" when it can): no
// number, not a valid number, or not a mobile one. It does no I/O.
func Check(raw, defaultRegion string) (Number, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Number{}, ReasonNoPhone
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(defaultRegion))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Number{}, ReasonInvalid
	}
	num := Number{E164: phonenumbers.Format(n, phonenumbers.E164), Region: phonenumbers.GetRegionCodeForNumber(n)}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		num.Mobile = true
	}
	if zones, err := phonenumbers.GetTimezonesForNumber(n); err == nil {
		for _, z := range zones {
			if z != "Etc/Unknown" {
				num.Zones = append(num.Zones, z)
			}
		}
	}
	if !num.Mobile {
		return num, ReasonNotMobile
	}
	return num, ""
}

// RegionOf is the region of a BCP 47 locale ("zh-CN" → "CN"; "" when it
// names none): where a national number is read.
func RegionOf(locale string) string {
	parts := strings.FieldsFunc(locale, func(r rune) bool { return r == '-' || r == '_' })
	for _, p := range parts[min(1, len(parts)):] {
		if len(p) == 2 {
			return strings.ToUpper(p)
		}
	}
	return ""
}

// RefusalCN is the refusal instruction China requires in every marketing
// text (an easy way to refuse: reply T, which consent.OptOutScope reads).
const RefusalCN = "回T退订"

// WithRefusal returns text as it must go to a number of region: a
// marketing text to China gets RefusalCN unless it already says how to
// refuse (退订 or 拒收); anything else is returned as it is.
func WithRefusal(text, region string, marketing bool) string {
	if !marketing || region != "CN" || strings.Contains(text, "退订") || strings.Contains(text, "拒收") {
		return text
	}
	return strings.TrimRight(text, " ") + " " + RefusalCN
}
