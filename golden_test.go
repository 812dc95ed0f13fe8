package creek

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/epochs"
	"github.com/creekmq/creek/internal/idempotence"
	"github.com/creekmq/creek/internal/txnlog"
)

// The golden files below are the exact bytes creek's framed files held when
// each encoder framed its own bytes by hand. Every encoder must still write
// them and every decoder still read them: they are the on-disk format.
const (
	goldenCheckpoint = "63726b630001000001000000000300000000000000110000000000000009530cefdd"
	goldenRegistry   = "63726b740001000001037b22746f70696373223a5b7b226e616d65223a226f7264657273222c226964223a5b312c322c332c342c352c362c372c382c392c31302c31312c31322c31332c31342c31352c31365d2c22706172746974696f6e73223a332c22636f6e66696773223a7b22636c65616e75702e706f6c696379223a22636f6d70616374222c227365676d656e742e6279746573223a2231303234227d7d2c7b226e616d65223a226175646974222c226964223a5b302c302c302c302c302c302c302c302c302c302c302c302c302c302c302c305d2c22706172746974696f6e73223a312c2261646f7074223a747275657d5d2c226e65787450726f64756365724964223a343039367ddfe2712d"
	// goldenProducersV3 is what creek writes; goldenProducersV2 is the same
	// table as version 2 wrote it, goldenProducersV1 as version 1 did,
	// without the last-append times. goldenProducersV3Marker holds a
	// producer known only from a transaction marker, without batches,
	// which version 3 allows.
	goldenProducersV3       = "63726b700003000000000000002a00000001000000000000000700020000018bcfe56800030000000000000001000000000000001e0000000100000002000000030000000000000020000000010000000400000005000000000000002200000001187956ba"
	goldenProducersV3Marker = "63726b700003000000000000003200000001000000000000000900030000018bcfe56800002a130e88"
	goldenProducersV2       = "63726b700002000000000000002a00000001000000000000000700020000018bcfe56800030000000000000001000000000000001e00000001000000020000000300000000000000200000000100000004000000050000000000000022000000012b1c62d0"
	goldenProducersV1       = "63726b700001000000000000002a0000000100000000000000070002030000000000000001000000000000001e00000001000000020000000300000000000000200000000100000004000000050000000000000022000000018bca8345"
	// goldenTxns is the transaction snapshot of goldenTxnTracker at 5;
	// goldenTxnsV2 as version 2 wrote it, with the aborted transaction;
	// goldenTxnsV1 as version 1 wrote it, without coordinator epochs.
	goldenTxns       = "63726b78000300000000000000050000000100000000000000080002000000000000000300000001000000000000000700000003c2838391"
	goldenTxnsV2     = "63726b780002000000000000000500000001000000000000000800020000000000000003000000010000000000000000000700000000000000000000000000000004000000000000000300000001000000000000000700000003b15efbe8"
	goldenTxnsV1     = "63726b7800010000000000000005000000010000000000000008000200000000000000030000000100000000000000000007000000000000000000000000000000040000000000000003534d724b"
	goldenRaftStable = "63726b73017b2243757272656e745465726d223a2241414141414141414141673d222c224c617374566f746543616e64223a22626d396b5a533079222c22637265656b2e62617365223a2241414141414141414147513d227d626a082f"
)

func goldenBytes(t *testing.T, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	require.NoError(t, err)
	return b
}

func TestCheckpointGolden(t *testing.T) {
	want := checkpoint{recoveryPoint: 1<<40 + 3, logStartOffset: 17, cleanedOffset: 9}
	golden := goldenBytes(t, goldenCheckpoint)
	assert.Equal(t, golden, want.marshal())
	got, err := unmarshalCheckpoint(golden)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestRegistryGolden(t *testing.T) {
	want := registry{
		Topics: []registryTopic{
			{Name: "orders", ID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Partitions: 3,
				Configs: map[string]string{"cleanup.policy": "compact", "segment.bytes": "1024"}},
			{Name: "audit", Partitions: 1, Adopt: true},
		},
		NextProducerID: 4096,
	}
	golden := goldenBytes(t, goldenRegistry)
	b, err := want.marshal()
	require.NoError(t, err)
	assert.Equal(t, golden, b)
	got, err := unmarshalRegistry(golden)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestProducerSnapshotGolden(t *testing.T) {
	// One producer: a snapshot of several lists them in map order, which
	// no golden file can fix.
	table := func(lastAppend int64) *idempotence.Table {
		s := idempotence.NewTable()
		for i := range int32(3) {
			s.Record(batch.Header{ProducerID: 7, ProducerEpoch: 2, BaseSequence: i * 2, LastOffsetDelta: 1,
				BaseOffset: 30 + int64(i)*2}, lastAppend)
		}
		return s
	}
	s := table(1_700_000_000_000)
	assert.Equal(t, goldenBytes(t, goldenProducersV3), s.MarshalSnapshot(42))
	for _, golden := range []string{goldenProducersV3, goldenProducersV2} {
		got, end, err := idempotence.UnmarshalSnapshot(goldenBytes(t, golden))
		require.NoError(t, err)
		assert.Equal(t, int64(42), end)
		assert.Equal(t, s, got)
	}

	marker := idempotence.NewTable()
	marker.RecordMarker(9, 3, 1_700_000_000_000)
	assert.Equal(t, goldenBytes(t, goldenProducersV3Marker), marker.MarshalSnapshot(50))
	got, end, err := idempotence.UnmarshalSnapshot(goldenBytes(t, goldenProducersV3Marker))
	require.NoError(t, err)
	assert.Equal(t, int64(50), end)
	assert.Equal(t, marker, got)

	old, end, err := idempotence.UnmarshalSnapshot(goldenBytes(t, goldenProducersV1))
	require.NoError(t, err)
	assert.Equal(t, int64(42), end)
	assert.Equal(t, table(-1), old, "version 1 did not keep the last append")
}

// goldenTxnTracker is a partition's transactions: producer 7's aborted
// at 4 (begun at 0) by the coordinator at epoch 3, producer 8's open at
// 3 at epoch 2. It returns the aborted transaction too.
func goldenTxnTracker(t *testing.T) (*txnlog.Tracker, []txnlog.Aborted) {
	tr := txnlog.NewTracker()
	var aborted []txnlog.Aborted
	for _, a := range []struct {
		h batch.Header
		m *txnlog.Marker
	}{
		{batch.Header{ProducerID: 7, Attributes: 0x10, BaseOffset: 0, LastOffsetDelta: 2}, nil}, // transactional
		{batch.Header{ProducerID: 8, ProducerEpoch: 2, Attributes: 0x10, BaseOffset: 3}, nil},
		{batch.Header{ProducerID: 7, Attributes: 0x30, BaseOffset: 4}, &txnlog.Marker{ProducerID: 7, CoordinatorEpoch: 3}}, // and control
	} {
		ab, ok, err := tr.Append(a.h, a.m)
		require.NoError(t, err)
		if ok {
			aborted = append(aborted, ab)
		}
	}
	return tr, aborted
}

func TestTxnSnapshotGolden(t *testing.T) {
	tr, aborted := goldenTxnTracker(t)
	require.Len(t, aborted, 1)
	assert.Equal(t, goldenBytes(t, goldenTxns), tr.MarshalSnapshot(5))
	got, err := txnlog.UnmarshalSnapshot(goldenBytes(t, goldenTxns))
	require.NoError(t, err)
	assert.Equal(t, txnlog.Snapshot{Tracker: tr, End: 5, Version: 3}, got)

	v2, err := txnlog.UnmarshalSnapshot(goldenBytes(t, goldenTxnsV2))
	require.NoError(t, err)
	assert.Equal(t, txnlog.Snapshot{Tracker: tr, End: 5, Version: 2, Aborted: aborted}, v2)

	v1, err := txnlog.UnmarshalSnapshot(goldenBytes(t, goldenTxnsV1))
	require.NoError(t, err)
	assert.Equal(t, int64(5), v1.End)
	assert.Equal(t, aborted, v1.Aborted)
	assert.Equal(t, map[int64]txnlog.ProducerTxn{8: {Epoch: 2, FirstOffset: 3, CoordinatorEpoch: -1}}, v1.Tracker.Producers(),
		"version 1 did not keep coordinator epochs")
}

func TestRaftStableGolden(t *testing.T) {
	want := map[string][]byte{
		"CurrentTerm":  {0, 0, 0, 0, 0, 0, 0, 8},
		"LastVoteCand": []byte("node-2"),
		"creek.base":   {0, 0, 0, 0, 0, 0, 0, 100},
	}
	golden := goldenBytes(t, goldenRaftStable)
	assert.Equal(t, golden, encodeRaftStable(want))
	got, err := decodeRaftStable(golden)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// goldenEpochCheckpoint is a leader-epoch checkpoint as creek writes it:
// text, as Kafka's is, and not framed.
const goldenEpochCheckpoint = "0\n3\n0 0\n3 100\n7 1099511627776\n"

func TestEpochCheckpointGolden(t *testing.T) {
	var want epochs.List
	for _, e := range []epochs.Entry{{Epoch: 0, StartOffset: 0}, {Epoch: 3, StartOffset: 100}, {Epoch: 7, StartOffset: 1 << 40}} {
		_, err := want.Assign(e.Epoch, e.StartOffset)
		require.NoError(t, err)
	}
	assert.Equal(t, []byte(goldenEpochCheckpoint), want.MarshalCheckpoint())
	got, err := epochs.UnmarshalCheckpoint([]byte(goldenEpochCheckpoint))
	require.NoError(t, err)
	assert.Equal(t, want.Entries(), got.Entries())
}
