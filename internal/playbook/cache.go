package playbook

import (
	"context"
	"sync"

	"github.com/ordercare/ordercare/internal/care"
)

// Cache keeps parsed template versions. A stored version never changes, so
// once loaded it is served without reading the store again, and a parse
// (milliseconds) happens once per version, also when many ask for it at
// the same moment (a surge of due runs after a restart). The zero Cache is
// ready; it is safe for concurrent use and grows with the versions in use
// (a few per shop).
type Cache struct {
	mu      sync.Mutex
	m       map[cacheKey]*Template
	loading sync.Mutex // held while Load reads and parses a numbered version not cached
}

type cacheKey struct {
	shop    string
	wf      care.Workflow
	version int
}

func (c *Cache) get(k cacheKey) *Template {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// Load returns the given version of a shop's template, parsed. Version 0
// (the latest) is always read from st; a numbered version only once. The
// store's errors are returned as they are (ErrNotFound), a stored body that
// no longer parses as Parse's error.
func (c *Cache) Load(ctx context.Context, st care.Templates, shop string, wf care.Workflow, version int, pp ParamsParser) (*Template, error) {
	if version > 0 {
		k := cacheKey{shop, wf, version}
		if p := c.get(k); p != nil {
			return p, nil
		}
		c.loading.Lock()
		defer c.loading.Unlock()
		if p := c.get(k); p != nil { // loaded by the caller that held loading before
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
	key := cacheKey{t.ShopID, t.Workflow, t.Version}
	if p := c.get(key); p != nil {
		return p, nil
	}
	p, err := ParseWith(t.Workflow, t.Body, pp)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[cacheKey]*Template{}
	}
	c.m[key] = p
	c.mu.Unlock()
	return p, nil
}
