package creek

import (
	"context"
	"errors"

	"github.com/creekmq/creek/internal/txnlog"
)

// writeMarker: TEMPORARY, replaced by the partition side's.
func (p *partition) writeMarker(ctx context.Context, m txnlog.Marker) error {
	return errors.New("not yet")
}
