package dynamostore

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"

	"github.com/ordercare/ordercare/internal/clock"
)

// routerFilters reads the event filter patterns of the router function's
// DynamoDB stream trigger in template.yaml.
func routerFilters(t *testing.T) []any {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						FilterCriteria struct {
							Filters []struct {
								Pattern string `yaml:"Pattern"`
							} `yaml:"Filters"`
						} `yaml:"FilterCriteria"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var patterns []any
	for _, ev := range tpl.Resources["RouterFunction"].Properties.Events {
		if ev.Type != "DynamoDB" {
			continue
		}
		for _, f := range ev.Properties.FilterCriteria.Filters {
			var p any
			if err := json.Unmarshal([]byte(f.Pattern), &p); err != nil {
				t.Fatalf("filter pattern %s: %v", f.Pattern, err)
			}
			patterns = append(patterns, p)
		}
	}
	return patterns
}

// filterMatches evaluates the subset of Lambda's filter rule syntax the template
// uses: nested objects, and leaf lists of exact strings, {"prefix": s} and
// {"exists": b}. Anything else fails the test rather than guessing.
func filterMatches(t *testing.T, pattern, event any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		e, _ := event.(map[string]any)
		for k, sub := range p {
			var v any
			if e != nil {
				v = e[k]
			}
			if !filterMatches(t, sub, v) {
				return false
			}
		}
		return true
	case []any:
		for _, alt := range p {
			s, isString := event.(string)
			switch a := alt.(type) {
			case string:
				if isString && s == a {
					return true
				}
			case map[string]any:
				if pre, ok := a["prefix"].(string); ok && len(a) == 1 {
					if isString && strings.HasPrefix(s, pre) {
						return true
					}
				} else if ex, ok := a["exists"].(bool); ok && len(a) == 1 {
					if (event != nil) == ex {
						return true
					}
				} else {
					t.Fatalf("filter rule %v: not understood by this test", a)
				}
			default:
				t.Fatalf("filter rule %v: not understood by this test", a)
			}
		}
		return false
	}
	t.Fatalf("filter pattern %v: not understood by this test", pattern)
	return false
}

// filterDelivers reports whether Lambda passes rec to the function: with no
// filters every record, else one matching any filter.
func filterDelivers(t *testing.T, filters []any, rec events.DynamoDBEventRecord) bool {
	if len(filters) == 0 {
		return true
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for _, f := range filters {
		if filterMatches(t, f, generic) {
			return true
		}
	}
	return false
}

// checkStreamFilter: the trigger's filter never withholds a record
// ChangeFromStreamRecord would route or reject, and it returns how many
// records it withholds.
func checkStreamFilter(t *testing.T, filters []any, records []events.DynamoDBEventRecord) (withheld int) {
	t.Helper()
	for _, rec := range records {
		_, ok, err := ChangeFromStreamRecord(rec)
		if filterDelivers(t, filters, rec) {
			continue
		}
		withheld++
		if ok || err != nil {
			t.Errorf("the router's stream filter withholds record %s (keys %v), a feed entry", rec.Change.SequenceNumber, rec.Change.Keys)
		}
	}
	return withheld
}

func TestRouterStreamFilterSample(t *testing.T) {
	filters := routerFilters(t)
	if n := checkStreamFilter(t, filters, loadStreamSample(t).Records); len(filters) > 0 && n != 1 {
		t.Errorf("the filter withholds %d of the sample's records, want 1 (the order's state item)", n)
	}
}

func TestRouterStreamFilterOnDynamoDBLocal(t *testing.T) {
	s := newStore(t, clock.Real{})
	ingestForStream(t, s)
	records := rawStreamRecords(t, s)
	n := checkStreamFilter(t, routerFilters(t), records)
	t.Logf("the filter withholds %d of %d records", n, len(records))
	if n == 0 {
		t.Error("the filter withholds nothing")
	}
}
