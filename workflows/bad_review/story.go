package badreview

import (
	"context"

	"github.com/ordercare/ordercare/internal/care"
	"github.com/ordercare/ordercare/internal/steps"
)

// Story implements steps.Storyteller: the task carries the order's whole
// story (parcels and their scans, the buyer's replies, the reviews, earlier
// tasks and notes; the messages sent are the summary's Said).
func (Workflow) Story(ctx context.Context, h *steps.Handler, e *steps.Env) (*care.Story, error) {
	hist, err := care.ReadHistory(ctx, h.Store, e.Order)
	if err != nil {
		return nil, err
	}
	return hist.Story(e.ShopZone()), nil
}
