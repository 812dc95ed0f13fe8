package idempotence

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
)

// header is an idempotent batch of n records from producer id at epoch,
// starting at sequence seq, stored at base.
func header(id int64, epoch int16, seq int32, n int32, base int64) batch.Header {
	return batch.Header{ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: n - 1, BaseOffset: base}
}

// TestRecordMarker: a transaction marker at a newer epoch fences the
// older one, and the producer starts again at sequence 0 (Kafka's
// appendEndTxnMarker bumps the producer's epoch); one at the producer's
// own epoch leaves its sequences going on; an older one is refused.
func TestRecordMarker(t *testing.T) {
	tests := []struct {
		name        string
		markerEpoch int16
		h           batch.Header
		wantErr     error
	}{
		{"own epoch: the sequence goes on", 2, header(1, 2, 4, 1, 0), nil},
		{"own epoch: not from 0", 2, header(1, 2, 0, 1, 0), ErrOutOfOrderSequence},
		{"bumped: the new epoch from 0", 3, header(1, 3, 0, 1, 0), nil},
		{"bumped: the new epoch not past 0", 3, header(1, 3, 4, 1, 0), ErrOutOfOrderSequence},
		{"bumped: the old epoch is fenced", 3, header(1, 2, 4, 1, 0), ErrInvalidProducerEpoch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewTable()
			tb.Record(header(1, 2, 0, 4, 0), 0)
			require.NoError(t, tb.CheckEpoch(1, tc.markerEpoch))
			tb.RecordMarker(1, tc.markerEpoch, 0)
			_, err := tb.Check(tc.h)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
	tb := NewTable()
	tb.RecordMarker(1, 3, 0)
	require.ErrorIs(t, tb.CheckEpoch(1, 2), ErrInvalidProducerEpoch, "a marker older than the producer's epoch")
	require.NoError(t, tb.CheckEpoch(2, 0), "a producer the table does not know")
}

// TestCheck: a batch is appended when it is the producer's next, answered
// with the stored batch when it repeats one of the newest Window, and
// refused when its sequence leaves a gap or its epoch is fenced.
func TestCheck(t *testing.T) {
	stored := func() *Table { // producer 1, epoch 2: seven batches of two records at offsets 0, 2, ... 12
		tb := NewTable()
		for i := range int32(7) {
			tb.Record(header(1, 2, i*2, 2, int64(i)*2), 0)
		}
		return tb
	}
	tests := []struct {
		name    string
		h       batch.Header
		wantDup *Batch
		wantErr error
	}{
		{"an unknown producer at 0", header(9, 0, 0, 1, 0), nil, nil},
		{"an unknown producer past 0", header(9, 0, 1, 1, 0), nil, ErrOutOfOrderSequence},
		{"the next sequence", header(1, 2, 14, 3, 0), nil, nil},
		{"a gap", header(1, 2, 15, 1, 0), nil, ErrOutOfOrderSequence},
		{"a retry of the newest", header(1, 2, 12, 2, 0), &Batch{FirstSeq: 12, LastSeq: 13, BaseOffset: 12, LastOffsetDelta: 1}, nil},
		{"a retry of the fifth newest", header(1, 2, 4, 2, 0), &Batch{FirstSeq: 4, LastSeq: 5, BaseOffset: 4, LastOffsetDelta: 1}, nil},
		{"a retry older than the window", header(1, 2, 2, 2, 0), nil, ErrOutOfOrderSequence},
		{"a retry of other length", header(1, 2, 12, 1, 0), nil, ErrOutOfOrderSequence},
		{"a new epoch at 0", header(1, 3, 0, 1, 0), nil, nil},
		{"a new epoch past 0", header(1, 3, 14, 1, 0), nil, ErrOutOfOrderSequence},
		{"an older epoch", header(1, 1, 14, 1, 0), nil, ErrInvalidProducerEpoch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dup, err := stored().Check(tc.h)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDup, dup)
		})
	}
}

// TestRecordNewEpoch: a producer's new epoch replaces what the table
// remembered of the old one, so the old epoch is fenced.
func TestRecordNewEpoch(t *testing.T) {
	tb := NewTable()
	tb.Record(header(1, 0, 0, 3, 0), 0)
	tb.Record(header(1, 1, 0, 1, 3), 0)
	_, err := tb.Check(header(1, 0, 3, 1, 0))
	require.ErrorIs(t, err, ErrInvalidProducerEpoch)
	_, err = tb.Check(header(1, 1, 1, 1, 0))
	require.NoError(t, err, "the new epoch's next sequence")
	assert.Equal(t, []Batch{{FirstSeq: 0, LastSeq: 0, BaseOffset: 3}}, tb.producers[1].batches)
}

func TestIncrementSequenceWraps(t *testing.T) {
	tests := []struct {
		seq, by, want int32
	}{
		{2, 3, 5},
		{math.MaxInt32, 1, 0},
		{math.MaxInt32 - 1, 4, 2},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, IncrementSequence(tc.seq, tc.by), "%d + %d", tc.seq, tc.by)
	}
}

func TestIdempotent(t *testing.T) {
	tests := []struct {
		name string
		h    batch.Header
		want bool
	}{
		{"sequenced", batch.Header{ProducerID: 1, BaseSequence: 0}, true},
		{"no producer", batch.Header{ProducerID: -1, BaseSequence: 0}, false},
		{"no sequence", batch.Header{ProducerID: 1, BaseSequence: -1}, false},
		{"control", batch.Header{ProducerID: 1, BaseSequence: 0, Attributes: 0x20}, false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Idempotent(tc.h), tc.name)
	}
}

// never keeps no producer from expiring.
func never(int64) bool { return false }

// TestAProducerWithATransactionOpenIsKept: Expire spares a producer its
// caller keeps (one with a transaction open), however idle, as Kafka
// never expires a producer with an ongoing transaction.
func TestAProducerWithATransactionOpenIsKept(t *testing.T) {
	const expiry = time.Hour
	s := NewTable()
	s.Record(batch.Header{ProducerID: 1, BaseOffset: 0}, 0)
	s.Record(batch.Header{ProducerID: 2, BaseOffset: 1}, 0)
	later := 10 * expiry.Milliseconds()
	assert.Equal(t, []int64{2}, s.Expire(later, expiry, func(id int64) bool { return id == 1 }))
	assert.Contains(t, s.producers, int64(1))
}

// TestIdleProducersAreForgotten: a producer that has not appended for
// producer.id.expiration.ms is forgotten at the next sweep, one that has
// is kept, and a snapshot keeps when each last appended (an older
// snapshot's producers start counting when it is read).
func TestIdleProducersAreForgotten(t *testing.T) {
	const expiry = time.Hour
	s := NewTable()
	s.Record(batch.Header{ProducerID: 1, BaseOffset: 0}, 0)
	s.Record(batch.Header{ProducerID: 2, BaseOffset: 1}, expiry.Milliseconds())

	assert.Empty(t, s.Expire(expiry.Milliseconds(), expiry, never))
	assert.Contains(t, s.producers, int64(1), "idle for the expiry, not longer")
	assert.Empty(t, s.Expire(expiry.Milliseconds()+SweepEvery.Milliseconds()-1, expiry, never))
	assert.Contains(t, s.producers, int64(1), "no sweep within a minute of the last")
	assert.Equal(t, []int64{1}, s.Expire(expiry.Milliseconds()+SweepEvery.Milliseconds(), expiry, never), "the IDs forgotten")
	assert.NotContains(t, s.producers, int64(1), "idle for more than the expiry")
	assert.Contains(t, s.producers, int64(2))
	_, err := s.Check(batch.Header{ProducerID: 1, BaseSequence: 1})
	require.ErrorIs(t, err, ErrOutOfOrderSequence, "a forgotten producer starts again at sequence 0")

	again, _, err := UnmarshalSnapshot(s.MarshalSnapshot(2))
	require.NoError(t, err)
	assert.Equal(t, expiry.Milliseconds(), again.producers[2].lastAppend)

	v1 := s.MarshalSnapshot(2)
	head := 4 + 2 + snapshotHeader // magic, version, then the body's header
	v1 = append(v1[:head+10:head+10], v1[head+18:len(v1)-4]...)
	binary.BigEndian.PutUint16(v1[4:], 1)
	v1 = binary.BigEndian.AppendUint32(v1, crc32.Checksum(v1, crc32.MakeTable(crc32.Castagnoli)))
	old, _, err := UnmarshalSnapshot(v1)
	require.NoError(t, err)
	assert.Equal(t, int64(-1), old.producers[2].lastAppend)
	old.Expire(10*expiry.Milliseconds(), expiry, never)
	assert.Contains(t, old.producers, int64(2), "an unknown last append starts counting at the sweep")
}
