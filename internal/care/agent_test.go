package care_test

import (
	"testing"

	"github.com/ordercare/ordercare/internal/care"
)

func TestAgentKey(t *testing.T) {
	key := care.NewAgentKey("tea-shop", "li-na")
	if shop, id, ok := care.ParseAgentKey(key); !ok || shop != "tea-shop" || id != "li-na" {
		t.Fatalf("ParseAgentKey(NewAgentKey) = %q, %q, %v", shop, id, ok)
	}
	if care.NewAgentKey("tea-shop", "li-na") == key {
		t.Errorf("two keys of one agent are equal")
	}
	for _, bad := range []string{"", "ock_agent_x", "oca_tea-shop.li-na", "oca_tea-shop.li-na.short", "oca_Tea.li-na.0123456789abcdefghij",
		"oca_tea.li.na.0123456789abcdefghij", "oca_tea.x.0123456789abcdefghij", "oca_tea..0123456789abcdefghij"} {
		if _, _, ok := care.ParseAgentKey(bad); ok {
			t.Errorf("ParseAgentKey(%q) accepted", bad)
		}
	}
}
