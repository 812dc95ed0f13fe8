// Reading committed records: the batches of aborted transactions, told
// from the aborted list a read_committed fetch returns, as Kafka's
// consumer tells them.

package creek

import (
	"cmp"
	"slices"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/kafka"
)

// abortedFilter tells which batches of a read_committed read belong to
// aborted transactions, walking the batches in offset order as Kafka's
// consumer does (its fetcher's abortedProducerIds): an aborted
// transaction is reached at its first offset, and from then on every
// transactional batch of its producer is skipped until that producer's
// marker. A nil filter skips nothing.
type abortedFilter struct {
	pending []kafka.AbortedTxn // not reached yet, by first offset
	skip    map[int64]bool     // producers inside an aborted transaction
}

// newAbortedFilter returns the filter of a read that met aborted, or nil
// when it met none.
func newAbortedFilter(aborted []kafka.AbortedTxn) *abortedFilter {
	if len(aborted) == 0 {
		return nil
	}
	pending := slices.Clone(aborted)
	slices.SortFunc(pending, func(a, b kafka.AbortedTxn) int { return cmp.Compare(a.FirstOffset, b.FirstOffset) })
	return &abortedFilter{pending: pending, skip: map[int64]bool{}}
}

// skips reports whether the batch with header h, the next in offset
// order, is to be skipped. A control batch is always skipped: a marker
// ends its producer's aborted transaction.
func (f *abortedFilter) skips(h batch.Header) bool {
	if f == nil {
		return h.Control()
	}
	for len(f.pending) > 0 && f.pending[0].FirstOffset <= h.LastOffset() {
		f.skip[f.pending[0].ProducerID] = true
		f.pending = f.pending[1:]
	}
	if h.Control() {
		delete(f.skip, h.ProducerID)
		return true
	}
	return h.Transactional() && f.skip[h.ProducerID]
}
