package txnlog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotLog is a log with an aborted transaction and two open ones.
func snapshotLog(t *testing.T) *logOf {
	l := newLog(t)
	require.NoError(t, l.data(7, 0, true, 3)) // 0-2: 7 begins
	require.NoError(t, l.data(8, 2, true, 1)) // 3: 8 begins
	require.NoError(t, l.marker(7, 0, false)) // 4: 7 aborts
	require.NoError(t, l.data(9, 1, true, 1)) // 5: 9 begins
	return l
}

// TestSnapshotRoundTrip: a snapshot decodes to the tracker it was taken
// of, which then goes on as the original does.
func TestSnapshotRoundTrip(t *testing.T) {
	l := snapshotLog(t)
	got, end, err := UnmarshalSnapshot(l.tr.MarshalSnapshot(l.end))
	require.NoError(t, err)
	assert.Equal(t, l.end, end)
	assert.Equal(t, l.tr, got)
	empty, _, err := UnmarshalSnapshot(NewTracker().MarshalSnapshot(0))
	require.NoError(t, err)
	assert.Equal(t, NewTracker(), empty)

	for _, tests := range []struct {
		name string
		b    []byte
	}{
		{"an open transaction past the end", l.tr.MarshalSnapshot(5)},
		{"an abort past the end", func() []byte { tr := NewTracker(); tr.aborted = l.tr.aborted; return tr.MarshalSnapshot(4) }()},
		{"cut short", l.tr.MarshalSnapshot(l.end)[:30]},
		{"coordinator epochs out of order", func() []byte {
			tr := NewTracker()
			tr.coordinatorEpochs[3], tr.coordinatorEpochs[4] = 1, 2
			b := tr.MarshalSnapshot(0)
			_, body, err := snapshotFormat.Open(b)
			require.NoError(t, err)
			n := len(body)
			first, second := body[n-2*coordinatorSize:n-coordinatorSize], body[n-coordinatorSize:]
			swapped := append(append(append([]byte(nil), body[:n-2*coordinatorSize]...), second...), first...)
			return snapshotFormat.Seal(swapped)
		}()},
	} {
		_, _, err := UnmarshalSnapshot(tests.b)
		assert.Error(t, err, tests.name)
	}
}

// marshalSnapshotV1 returns tr's snapshot as version 1 wrote it, without
// coordinator epochs.
func marshalSnapshotV1(t testing.TB, tr *Tracker, end int64) []byte {
	_, body, err := snapshotFormat.Open(tr.MarshalSnapshot(end))
	require.NoError(t, err)
	v1 := snapshotFormat
	v1.Current = 1
	return v1.Seal(body[:len(body)-snapshotCountLen-len(tr.coordinatorEpochs)*coordinatorSize])
}

// TestSnapshotVersion1: a version 1 snapshot reads as the tracker it was
// taken of, but with no coordinator epochs known, so that the next
// marker of any coordinator is accepted.
func TestSnapshotVersion1(t *testing.T) {
	l := snapshotLog(t)
	require.NotEmpty(t, l.tr.coordinatorEpochs)
	got, end, err := UnmarshalSnapshot(marshalSnapshotV1(t, l.tr, l.end))
	require.NoError(t, err)
	assert.Equal(t, l.end, end)
	assert.Empty(t, got.coordinatorEpochs)
	want := *l.tr
	want.coordinatorEpochs = map[int64]int32{}
	assert.Equal(t, &want, got)
}

// FuzzSnapshot: any bytes give a tracker or an error, never a panic, and
// what decodes re-encodes to the same bytes, or for an older version to
// bytes that decode to the same tracker.
func FuzzSnapshot(f *testing.F) {
	seed := NewTracker()
	seed.open[8], seed.open[9] = openTxn{epoch: 2, first: 3}, openTxn{epoch: 1, first: 5}
	seed.aborted = []Aborted{{ProducerID: 7, FirstOffset: 0, LastOffset: 4, LastStable: 3}}
	seed.coordinatorEpochs[7], seed.coordinatorEpochs[10] = 4, 0
	f.Add(seed.MarshalSnapshot(6))
	f.Add(marshalSnapshotV1(f, seed, 6))
	f.Add(NewTracker().MarshalSnapshot(0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, end, err := UnmarshalSnapshot(b)
		if err != nil {
			return
		}
		again := tr.MarshalSnapshot(end)
		if version, _, _ := snapshotFormat.Open(b); version == snapshotVersion {
			assert.Equal(t, b, again, "what decodes re-encodes to the same bytes")
			return
		}
		tr2, end2, err := UnmarshalSnapshot(again)
		require.NoError(t, err)
		assert.Equal(t, [2]any{end, tr}, [2]any{end2, tr2}, "an older version re-encodes to the same tracker")
	})
}
