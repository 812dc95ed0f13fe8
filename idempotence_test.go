package creek

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// idempotentBatch builds a batch of n records from producer id at epoch,
// starting at sequence seq.
func idempotentBatch(t testing.TB, id int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	records := make([]batch.Record, n)
	for i := range records {
		records[i] = batch.Record{OffsetDelta: int32(i), Value: []byte{byte(seq), byte(i)}}
	}
	b, err := batch.Build(batch.BuildOptions{Idempotent: true, ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq}, records...)
	require.NoError(t, err)
	return b
}

// produceCopy produces a copy of b, so that the caller can send the same
// bytes again, as a retrying producer does.
func produceCopy(t *testing.T, n *Node, topic string, b []byte) (int64, error) {
	return n.ProduceBatch(t.Context(), topic, 0, append([]byte(nil), b...))
}

func TestIdempotentProducer(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	id, epoch, err := n.InitProducerID(t.Context())
	require.NoError(t, err)

	first := idempotentBatch(t, id, epoch, 0, 3)
	second := idempotentBatch(t, id, epoch, 3, 2)
	for _, b := range [][]byte{first, second} {
		_, err := produceCopy(t, n, "t", b)
		require.NoError(t, err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want int64
	}{{"retry of the newest", second, 3}, {"retry of an older one", first, 0}} {
		offset, err := produceCopy(t, n, "t", tc.b)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, offset, "%s: acknowledged at its original offset", tc.name)
	}
	info, _ := n.DescribeTopic("t")
	assert.Equal(t, int64(5), info.Partitions[0].HighWatermark, "no duplicate stored")

	_, err = produceCopy(t, n, "t", idempotentBatch(t, id, epoch, 9, 1))
	require.ErrorIs(t, err, ErrOutOfOrderSequence, "a gap: a batch was lost")
	_, err = produceCopy(t, n, "t", idempotentBatch(t, id, epoch, 5, 1))
	require.NoError(t, err, "the next sequence")

	_, err = produceCopy(t, n, "t", idempotentBatch(t, id, epoch+1, 3, 1))
	require.ErrorIs(t, err, ErrOutOfOrderSequence, "a new epoch starts at 0")
	_, err = produceCopy(t, n, "t", idempotentBatch(t, id, epoch+1, 0, 1))
	require.NoError(t, err)
	_, err = produceCopy(t, n, "t", idempotentBatch(t, id, epoch, 6, 1))
	require.ErrorIs(t, err, ErrInvalidProducerEpoch, "the old epoch is fenced")

	other, _, err := n.InitProducerID(t.Context())
	require.NoError(t, err)
	assert.NotEqual(t, id, other)
	_, err = produceCopy(t, n, "t", idempotentBatch(t, other, 0, 1, 1))
	require.ErrorIs(t, err, ErrOutOfOrderSequence, "an unknown producer starts at 0")
}

func TestProducerWindow(t *testing.T) {
	n := newTestNode(t, Config{Logger: discardLogger()})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	var sent [][]byte
	for seq := range int32(7) {
		b := idempotentBatch(t, 1, 0, seq, 1)
		_, err := produceCopy(t, n, "t", b)
		require.NoError(t, err)
		sent = append(sent, b)
	}
	offset, err := produceCopy(t, n, "t", sent[2])
	require.NoError(t, err, "the fifth newest is remembered")
	assert.Equal(t, int64(2), offset)
	_, err = produceCopy(t, n, "t", sent[1])
	require.ErrorIs(t, err, ErrOutOfOrderSequence, "older ones are not")
}

func TestProducerStateSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, fs fsx.FS, path string)
	}{
		{"from the snapshot", func(*testing.T, fsx.FS, string) {}},
		{"replayed without a snapshot", func(t *testing.T, fs fsx.FS, path string) { require.NoError(t, fs.Remove(path)) }},
		{"replayed past a damaged snapshot", func(t *testing.T, fs fsx.FS, path string) { editFile(t, fs, path, flipByte(20)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fsx.NewMem()
			n, err := openNode(fs, "/n", Config{Logger: discardLogger()}, time.Now)
			require.NoError(t, err)
			require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Configs: map[string]string{ConfigSegmentBytes: "1024"}}))
			id, _, err := n.InitProducerID(t.Context())
			require.NoError(t, err)
			var last []byte
			for seq := int32(0); seq < 40; seq += 2 {
				last = idempotentBatch(t, id, 0, seq, 2)
				_, err := produceCopy(t, n, "t", last)
				require.NoError(t, err)
			}
			require.NoError(t, n.Close())
			tc.damage(t, fs, filepath.Join(partitionDir("/n", "t", 0), producerSnapshotName))

			n, err = openNode(fs, "/n", Config{Logger: discardLogger()}, time.Now)
			require.NoError(t, err)
			defer n.Close()
			offset, err := produceCopy(t, n, "t", last)
			require.NoError(t, err)
			assert.Equal(t, int64(38), offset, "the retry is still recognised")
			_, err = produceCopy(t, n, "t", idempotentBatch(t, id, 0, 41, 1))
			require.ErrorIs(t, err, ErrOutOfOrderSequence, "the sequence is still known")
			newID, _, err := n.InitProducerID(t.Context())
			require.NoError(t, err)
			assert.Greater(t, newID, id, "producer IDs are never reused")
		})
	}
}
