package playbook

import (
	"fmt"
	"sync"

	"github.com/ordercare/ordercare/internal/care"
)

// Cache parses each stored template version once: versions are immutable,
// and a parse costs milliseconds. The zero Cache is ready; it is safe for
// concurrent use and grows with the versions in use (a few per shop).
type Cache struct {
	mu sync.Mutex
	m  map[string]*Template
}

// Parse returns t parsed, from the cache when this (shop, workflow,
// version) was parsed before.
func (c *Cache) Parse(t care.Template) (*Template, error) {
	key := fmt.Sprintf("%s/%s/%d", t.ShopID, t.Workflow, t.Version)
	c.mu.Lock()
	p := c.m[key]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := Parse(t.Workflow, t.Body)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*Template{}
	}
	c.m[key] = p
	c.mu.Unlock()
	return p, nil
}
