package sms

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, raw, region string
		want              Number
		reason            string
	}{
		{"china mobile e164", "+8613800138000", "", Number{E164: "+8613800138000", Region: "CN", Mobile: true, Zones: []string{"Asia/Shanghai"}}, ""},
		{"china mobile national", "138 0013 8000", "cn", Number{E164: "+8613800138000", Region: "CN", Mobile: true, Zones: []string{"Asia/Shanghai"}}, ""},
		{"china landline", "+861088888888", "", Number{E164: "+861088888888", Region: "CN"}, ReasonNotMobile},
		{"us number", "+1 201-555-0123", "", Number{E164: "+12015550123", Region: "US", Mobile: true}, ""},
		{"too short", "+86138", "", Number{}, ReasonInvalid},
		{"letters", "call me", "CN", Number{}, ReasonInvalid},
		{"national without region", "13800138000", "", Number{}, ReasonInvalid},
		{"empty", " ", "CN", Number{}, ReasonNoPhone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := Check(tc.raw, tc.region)
			if reason != tc.reason {
				t.Errorf("reason %q, want %q", reason, tc.reason)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Number{}, "Zones")); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
			if tc.want.Zones != nil && !cmp.Equal(tc.want.Zones, got.Zones) {
				t.Errorf("zones %v, want %v", got.Zones, tc.want.Zones)
			}
		})
	}
}

func TestWithRefusal(t *testing.T) {
	for _, tc := range []struct {
		text, region string
		marketing    bool
		want         string
	}{
		{"【茶屋】新茶上市，满200减30", "CN", true, "【茶屋】新茶上市，满200减30 回T退订"},
		{"【茶屋】新茶上市，拒收请回复R", "CN", true, "【茶屋】新茶上市，拒收请回复R"},
		{"【茶屋】您的订单已发货", "CN", false, "【茶屋】您的订单已发货"},
		{"New tea is in", "US", true, "New tea is in"},
	} {
		if got := WithRefusal(tc.text, tc.region, tc.marketing); got != tc.want {
			t.Errorf("WithRefusal(%q, %s, %v) = %q, want %q", tc.text, tc.region, tc.marketing, got, tc.want)
		}
	}
}
