package idempotence

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
)

// FuzzProducerSnapshot: what decodes re-encodes to the same table. The
// golden files of every version are in the root package's golden_test.go.
func FuzzProducerSnapshot(f *testing.F) {
	s := NewTable()
	for i := range int32(7) {
		s.Record(batch.Header{ProducerID: int64(i % 3), BaseSequence: i, LastOffsetDelta: 1, BaseOffset: int64(i) * 2}, int64(i))
	}
	s.RecordMarker(5, 2, 9) // a producer without batches
	f.Add(s.MarshalSnapshot(14))
	f.Add(NewTable().MarshalSnapshot(0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, end, err := UnmarshalSnapshot(b)
		if err != nil {
			return
		}
		again, end2, err := UnmarshalSnapshot(s.MarshalSnapshot(end))
		require.NoError(t, err)
		assert.Equal(t, end, end2)
		assert.Equal(t, s.producers, again.producers, "what decodes re-encodes to the same table")
	})
}
