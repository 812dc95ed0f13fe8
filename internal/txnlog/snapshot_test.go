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
	} {
		_, _, err := UnmarshalSnapshot(tests.b)
		assert.Error(t, err, tests.name)
	}
}

// FuzzSnapshot: any bytes give a tracker or an error, never a panic, and
// what decodes re-encodes to the same bytes.
func FuzzSnapshot(f *testing.F) {
	seed := NewTracker()
	seed.open[8], seed.open[9] = openTxn{epoch: 2, first: 3}, openTxn{epoch: 1, first: 5}
	seed.aborted = []Aborted{{ProducerID: 7, FirstOffset: 0, LastOffset: 4, LastStable: 3}}
	f.Add(seed.MarshalSnapshot(6))
	f.Add(NewTracker().MarshalSnapshot(0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, end, err := UnmarshalSnapshot(b)
		if err != nil {
			return
		}
		again := tr.MarshalSnapshot(end)
		assert.Equal(t, b, again, "what decodes re-encodes to the same bytes")
	})
}
