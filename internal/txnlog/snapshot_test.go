package txnlog

import (
	"encoding/binary"
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
	got, err := UnmarshalSnapshot(l.tr.MarshalSnapshot(l.end))
	require.NoError(t, err)
	assert.Equal(t, Snapshot{Tracker: l.tr, End: l.end, Version: snapshotVersion}, got)
	empty, err := UnmarshalSnapshot(NewTracker().MarshalSnapshot(0))
	require.NoError(t, err)
	assert.Equal(t, NewTracker(), empty.Tracker)

	for _, tests := range []struct {
		name string
		b    []byte
	}{
		{"an open transaction past the end", l.tr.MarshalSnapshot(5)},
		{"an abort past the end", marshalSnapshotAt(t, NewTracker(), 4, l.aborted, 2)},
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
		_, err := UnmarshalSnapshot(tests.b)
		assert.Error(t, err, tests.name)
	}
}

// marshalSnapshotAt returns tr's snapshot as version 1 or 2 wrote it: with
// aborted, the log's aborted transactions, after the open ones, and from
// version 2 the coordinator epochs.
func marshalSnapshotAt(t testing.TB, tr *Tracker, end int64, aborted []Aborted, version uint16) []byte {
	_, body, err := snapshotFormat.Open(tr.MarshalSnapshot(end))
	require.NoError(t, err)
	openEnd := 8 + snapshotCountLen + len(tr.open)*openSize
	old := append([]byte(nil), body[:openEnd]...)
	old = binary.BigEndian.AppendUint32(old, uint32(len(aborted)))
	for _, a := range aborted {
		old = AppendEntry(old, a)
	}
	if version >= 2 {
		old = append(old, body[openEnd:]...)
	}
	f := snapshotFormat
	f.Current = version
	return f.Seal(old)
}

// TestSnapshotOlderVersions: a snapshot of version 1 or 2 reads as the
// tracker it was taken of, with the aborted transactions it held for the
// segments' indexes; version 1 knows no coordinator epochs, so that the
// next marker of any coordinator is accepted.
func TestSnapshotOlderVersions(t *testing.T) {
	l := snapshotLog(t)
	require.NotEmpty(t, l.tr.coordinatorEpochs)
	require.Len(t, l.aborted, 1)
	for _, version := range []uint16{1, 2} {
		got, err := UnmarshalSnapshot(marshalSnapshotAt(t, l.tr, l.end, l.aborted, version))
		require.NoError(t, err)
		want := *l.tr
		if version == 1 {
			want.coordinatorEpochs = map[int64]int32{}
		}
		assert.Equal(t, Snapshot{Tracker: &want, End: l.end, Version: version, Aborted: l.aborted}, got)
	}
}

// FuzzSnapshot: any bytes give a tracker or an error, never a panic, and
// what decodes re-encodes to the same bytes, or for an older version to
// bytes that decode to the same tracker.
func FuzzSnapshot(f *testing.F) {
	seed := NewTracker()
	seed.open[8], seed.open[9] = openTxn{epoch: 2, first: 3}, openTxn{epoch: 1, first: 5}
	seed.coordinatorEpochs[7], seed.coordinatorEpochs[10] = 4, 0
	aborted := []Aborted{{ProducerID: 7, FirstOffset: 0, LastOffset: 4, LastStable: 3}}
	f.Add(seed.MarshalSnapshot(6))
	f.Add(marshalSnapshotAt(f, seed, 6, aborted, 2))
	f.Add(marshalSnapshotAt(f, seed, 6, aborted, 1))
	f.Add(NewTracker().MarshalSnapshot(0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalSnapshot(b)
		if err != nil {
			return
		}
		again := s.Tracker.MarshalSnapshot(s.End)
		if s.Version == snapshotVersion {
			assert.Equal(t, b, again, "what decodes re-encodes to the same bytes")
			return
		}
		s2, err := UnmarshalSnapshot(again)
		require.NoError(t, err)
		assert.Equal(t, [2]any{s.End, s.Tracker}, [2]any{s2.End, s2.Tracker}, "an older version re-encodes to the same tracker")
	})
}
