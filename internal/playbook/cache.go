package playbook

import (
	"context"
	"fmt"
	"sync"

	"github.com/ordercare/ordercare/internal/care"
)

// Cache keeps parsed template versions. A stored version never changes, so
// once loaded it is served without reading the store again, and a parse
// (milliseconds) happens once per version. The zero Cache is ready; it is
// safe for concurrent use and grows with the versions in use (a few per shop).
type Cache struct {
	mu sync.Mutex
	m  map[string]*Template
}

func cacheKey(shop string, wf care.Workflow, version int) string {
	return fmt.Sprintf("%s/%s/%d", shop, wf, version)
}

// Load returns the given version of a shop's template, parsed. Version 0
// (the latest) is always read from st; a numbered version only once. The
// store's errors are returned as they are (ErrNotFound), a stored body that
// no longer parses as Parse's error.
func (c *Cache) Load(ctx context.Context, st care.Templates, shop string, wf care.Workflow, version int, pp ParamsParser) (*Template, error) {
	if version > 0 {
		c.mu.Lock()
		p := c.m[cacheKey(shop, wf, version)]
		c.mu.Unlock()
		if p != nil {
			return p, nil
		}
	}
	t, err := st.GetTemplate(ctx, shop, wf, version)
	if err != nil {
		return nil, err
	}
	return c.Parse(t, pp)
}

// Parse returns t parsed with ParseWith(pp, the params parser of t's
// workflow), from the cache when this (shop, workflow, version) was parsed
// before. Load takes pp the same way.
func (c *Cache) Parse(t care.Template, pp ParamsParser) (*Template, error) {
	key := cacheKey(t.ShopID, t.Workflow, t.Version)
	c.mu.Lock()
	p := c.m[key]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := ParseWith(t.Workflow, t.Body, pp)
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
