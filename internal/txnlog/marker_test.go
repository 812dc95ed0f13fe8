package txnlog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
)

func TestMarkerRoundTrip(t *testing.T) {
	for _, m := range []Marker{
		{ProducerID: 7, Epoch: 3, Commit: true, CoordinatorEpoch: 2},
		{ProducerID: 0, Epoch: 0, Commit: false, CoordinatorEpoch: 0},
	} {
		b, err := BuildMarker(m, 1234)
		require.NoError(t, err)
		h, err := batch.ParseHeader(b)
		require.NoError(t, err)
		assert.True(t, h.Control() && h.Transactional())
		assert.Equal(t, [3]any{m.ProducerID, m.Epoch, int32(-1)}, [3]any{h.ProducerID, h.ProducerEpoch, h.BaseSequence})
		got, err := ParseMarker(b)
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
}

// TestMarkerIsKafkas: the control record is Kafka's key and value, as
// kmsg reads them.
func TestMarkerIsKafkas(t *testing.T) {
	b, err := BuildMarker(Marker{ProducerID: 7, Epoch: 3, Commit: true, CoordinatorEpoch: 2}, 1)
	require.NoError(t, err)
	var r batch.Reader
	require.NoError(t, r.Reset(b))
	var rec batch.Record
	require.NoError(t, r.Next(&rec))
	key := kmsg.NewControlRecordKey()
	require.NoError(t, key.ReadFrom(rec.Key))
	assert.Equal(t, kmsg.ControlRecordKeyTypeCommit, key.Type)
	value := kmsg.NewEndTxnMarker()
	require.NoError(t, value.ReadFrom(rec.Value))
	assert.Equal(t, int32(2), value.CoordinatorEpoch)
}

func TestParseMarkerRefusesOtherBatches(t *testing.T) {
	data, err := batch.Build(batch.BuildOptions{}, batch.Record{Value: []byte("v")})
	require.NoError(t, err)
	_, err = ParseMarker(data)
	assert.Error(t, err, "a data batch")

	key := kmsg.NewControlRecordKey()
	key.Type = kmsg.ControlRecordKeyTypeSnapshotHeader
	other, err := batch.Build(batch.BuildOptions{Idempotent: true, ProducerID: 1, BaseSequence: -1,
		Transactional: true, Control: true}, batch.Record{Key: key.AppendTo(nil), Value: []byte{0, 0}})
	require.NoError(t, err)
	_, err = ParseMarker(other)
	assert.ErrorIs(t, err, ErrNotMarker)
	tr := NewTracker()
	_, aborted, err := tr.AppendBytes(other)
	assert.NoError(t, err, "a replay steps over control batches that are not markers")
	assert.False(t, aborted)

	good, err := BuildMarker(Marker{ProducerID: 1, Commit: true}, 1)
	require.NoError(t, err)
	good[len(good)-1] ^= 1
	_, err = ParseMarker(good)
	assert.ErrorIs(t, err, batch.ErrCorrupt, "the CRC is checked")
}

// FuzzParseMarker: any bytes give a marker or an error, never a panic,
// and a marker parsed builds back to one that parses the same.
func FuzzParseMarker(f *testing.F) {
	b, err := BuildMarker(Marker{ProducerID: 7, Epoch: 3, Commit: true, CoordinatorEpoch: 2}, 1)
	require.NoError(f, err)
	f.Add(b)
	f.Add(b[:30])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMarker(b)
		if err != nil {
			return
		}
		again, err := BuildMarker(m, 1)
		require.NoError(t, err)
		got, err := ParseMarker(again)
		require.NoError(t, err)
		assert.Equal(t, m, got)
	})
}
