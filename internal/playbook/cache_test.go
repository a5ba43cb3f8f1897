package playbook_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordercare/ordercare/infra/sqlitestore"
	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/playbook"
	"github.com/ordercare/ordercare/workflows"
)

// countedTemplates counts the template reads that reach the store.
type countedTemplates struct {
	care.Templates
	reads atomic.Int64
}

func (c *countedTemplates) GetTemplate(ctx context.Context, shop string, wf care.Workflow, version int) (care.Template, error) {
	c.reads.Add(1)
	return c.Templates.GetTemplate(ctx, shop, wf, version)
}

// TestCacheLoadsOnce: a pinned version asked for by many at once (the due
// runs of a surge, with the cache cold after a restart) is read from the
// store and parsed once; the latest version is read every time.
func TestCacheLoadsOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "care.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	body, err := workflows.DefaultTemplate(care.UnpaidChase)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutTemplate(ctx, care.Template{ShopID: "s", Workflow: care.UnpaidChase, Version: 1, Body: body, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st := &countedTemplates{Templates: db}
	var c playbook.Cache
	got := make([]*playbook.Template, 50)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.Load(ctx, st, "s", care.UnpaidChase, 1, workflows.All().Params(care.UnpaidChase))
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	wg.Wait()
	if n := st.reads.Load(); n != 1 {
		t.Errorf("50 loads of version 1 at once read the store %d times, want once", n)
	}
	for i, p := range got {
		if p == nil || p != got[0] {
			t.Fatalf("load %d: %p, want the one parsed template %p", i, p, got[0])
		}
	}
	for range 2 {
		if _, err := c.Load(ctx, st, "s", care.UnpaidChase, 0, workflows.All().Params(care.UnpaidChase)); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.reads.Load(); n != 3 {
		t.Errorf("after two loads of the latest version: %d reads, want 3 (the latest is read each time)", n)
	}
}
