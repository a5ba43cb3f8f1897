package dynamostore

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/clock"
)

// ingestKeyPatterns reads the partition keys template.yaml lets the ingest
// function write (its PutItem statement's dynamodb:LeadingKeys condition).
func ingestKeyPatterns(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Properties struct {
				Policies []struct {
					Statement []struct {
						Action    any                            `yaml:"Action"`
						Condition map[string]map[string][]string `yaml:"Condition"`
					} `yaml:"Statement"`
				} `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var patterns []string
	for _, p := range tpl.Resources["IngestFunction"].Properties.Policies {
		for _, s := range p.Statement {
			if s.Action == "dynamodb:PutItem" {
				patterns = append(patterns, s.Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]...)
			}
		}
	}
	if len(patterns) == 0 {
		t.Fatal("template.yaml: IngestFunction's PutItem has no dynamodb:LeadingKeys condition")
	}
	return patterns
}

// iamStringLike is IAM's StringLike: * matches any run of characters, ? one.
func iamStringLike(pattern, s string) bool {
	re := regexp.QuoteMeta(pattern)
	re = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(re)
	return regexp.MustCompile("^" + re + "$").MatchString(s)
}

// TestIngestWritesAllowed: every item Ingest's transaction writes has a
// partition key the ingest function's role may write, and the shop's own
// items (shop, keys, sources) do not.
func TestIngestWritesAllowed(t *testing.T) {
	patterns := ingestKeyPatterns(t)
	allowed := func(pk string) bool {
		for _, p := range patterns {
			if iamStringLike(p, pk) {
				return true
			}
		}
		return false
	}
	s := New(nil, nil, "t", clock.Real{})
	now := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	ev := care.Event{ID: "evt#1", Type: care.OrderPaid, OccurredAt: now, Order: care.Order{ID: "o#1"}}
	for _, d := range []care.Delivery{
		{ShopID: "s1", Source: "shopify", DeliveryID: "d#1", ReceivedAt: now},
		{ShopID: "s1", Source: "standard", ReceivedAt: now},
	} {
		for _, cur := range []*care.OrderState{nil, {ShopID: "s1", Version: 1}} {
			tx, err := s.ingestTx(d, ev, cur, care.OrderState{ShopID: "s1", Version: 2}, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range tx {
				if it.Put == nil {
					t.Fatalf("ingest transaction item is not a Put: the ingest role may only PutItem")
				}
				pk := it.Put.Item[attrPK].(*types.AttributeValueMemberS).Value
				if !allowed(pk) {
					t.Errorf("Ingest writes %s; the ingest role may write only %v", pk, patterns)
				}
			}
		}
	}
	for _, pk := range []string{shopPK("s1"), keyPK("abc")} {
		if allowed(pk) {
			t.Errorf("the ingest role may write %s", pk)
		}
	}
}

// TestIndexReadersMayBatchGet: the indexes project keys only, so a query of
// an index reads its items with BatchGetItem (hydrate): every function of
// template.yaml allowed to Query may BatchGetItem too.
func TestIndexReadersMayBatchGet(t *testing.T) {
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Properties struct {
				Policies []struct {
					Statement []struct {
						Action any `yaml:"Action"`
					} `yaml:"Statement"`
				} `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	queriers := 0
	for name, r := range tpl.Resources {
		actions := map[string]bool{}
		for _, p := range r.Properties.Policies {
			for _, s := range p.Statement {
				switch a := s.Action.(type) {
				case string:
					actions[a] = true
				case []any:
					for _, x := range a {
						actions[fmt.Sprint(x)] = true
					}
				}
			}
		}
		if actions["dynamodb:Query"] {
			queriers++
			if !actions["dynamodb:BatchGetItem"] {
				t.Errorf("%s may Query but not BatchGetItem: its index queries would be refused", name)
			}
		}
	}
	if queriers == 0 {
		t.Fatal("no function of template.yaml may Query: the template's shape changed")
	}
}
