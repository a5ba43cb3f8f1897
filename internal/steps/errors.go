package steps

import (
	"errors"

	"github.com/ordercare/ordercare/internal/care"
)

func isNotFound(err error) bool { return errors.Is(err, care.ErrNotFound) }
func isConflict(err error) bool { return errors.Is(err, care.ErrConflict) }
