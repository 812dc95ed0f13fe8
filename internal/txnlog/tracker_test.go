package txnlog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
)

// logOf builds batches at consecutive offsets, as a partition appends
// them, and feeds a tracker.
type logOf struct {
	t       *testing.T
	tr      *Tracker
	end     int64
	batches [][]byte  // as appended
	aborted []Aborted // as Append returned them: the log's index
}

func newLog(t *testing.T) *logOf { return &logOf{t: t, tr: NewTracker()} }

// data appends n records of producer pid at epoch, transactional or not,
// and returns Append's error.
func (l *logOf) data(pid int64, epoch int16, transactional bool, n int) error {
	l.t.Helper()
	records := make([]batch.Record, n)
	for i := range records {
		records[i] = batch.Record{OffsetDelta: int32(i), Value: []byte("v")}
	}
	opts := batch.BuildOptions{Transactional: transactional}
	if pid >= 0 {
		opts.Idempotent, opts.ProducerID, opts.ProducerEpoch = true, pid, epoch
	}
	b, err := batch.Build(opts, records...)
	require.NoError(l.t, err)
	return l.append(b)
}

func (l *logOf) marker(pid int64, epoch int16, commit bool) error {
	l.t.Helper()
	return l.coordinatedMarker(pid, epoch, commit, 1)
}

// coordinatedMarker appends a marker written by the coordinator at
// coordinatorEpoch, checked as a leader checks it (Check) before it is
// appended, and returns the error.
func (l *logOf) coordinatedMarker(pid int64, epoch int16, commit bool, coordinatorEpoch int32) error {
	l.t.Helper()
	m := Marker{ProducerID: pid, Epoch: epoch, Commit: commit, CoordinatorEpoch: coordinatorEpoch}
	b, err := BuildMarker(m, 1)
	require.NoError(l.t, err)
	h, err := batch.ParseHeader(b)
	require.NoError(l.t, err)
	if err := l.tr.Check(h, &m); err != nil {
		return err
	}
	return l.append(b)
}

func (l *logOf) append(b []byte) error {
	l.t.Helper()
	h, err := batch.ParseHeader(b)
	require.NoError(l.t, err)
	h.BaseOffset = l.end
	b = append([]byte(nil), b...)
	batch.SetBaseOffset(b, l.end)
	a, aborted, err := l.tr.AppendBytes(b)
	if err != nil {
		return err
	}
	if aborted {
		l.aborted = append(l.aborted, a)
	}
	l.batches = append(l.batches, b)
	l.end = h.LastOffset() + 1
	return nil
}

// abortedIn returns the aborted transactions a read of [from, upTo) meets.
func (l *logOf) abortedIn(from, upTo int64) []Aborted {
	got, _ := Collect(nil, l.aborted, from, upTo)
	return got
}

func TestTrackerFollowsTransactions(t *testing.T) {
	l := newLog(t)
	require.NoError(t, l.data(-1, 0, false, 2)) // 0-1: no producer
	require.NoError(t, l.data(7, 0, true, 3))   // 2-4: 7 begins
	require.NoError(t, l.data(8, 0, true, 1))   // 5: 8 begins
	assert.Equal(t, int64(2), l.tr.LastStable(l.end), "the oldest open transaction's first offset")
	assert.Equal(t, int64(1), l.tr.LastStable(1), "never above the high watermark")
	require.NoError(t, l.data(7, 0, true, 2)) // 6-7
	require.NoError(t, l.marker(7, 0, false)) // 8: 7 aborts
	assert.Equal(t, int64(5), l.tr.LastStable(l.end))
	require.NoError(t, l.marker(8, 0, true)) // 9: 8 commits
	assert.Equal(t, l.end, l.tr.LastStable(l.end), "nothing open")
	assert.Equal(t, 0, l.tr.OpenCount())
	require.NoError(t, l.marker(9, 0, false), "a marker with nothing here") // 10
	require.NoError(t, l.data(8, 1, true, 1))                               // 11: 8 again
	require.NoError(t, l.marker(8, 1, false))                               // 12

	want := []Aborted{{ProducerID: 7, FirstOffset: 2, LastOffset: 8, LastStable: 5},
		{ProducerID: 8, FirstOffset: 11, LastOffset: 12, LastStable: 13}}
	assert.Equal(t, want, l.aborted)
	assert.Equal(t, want, l.abortedIn(0, l.end))
	assert.Equal(t, want[:1], l.abortedIn(0, 5), "the second began after the read")
	assert.Equal(t, want[:1], l.abortedIn(8, 9), "a read of the marker alone")
	assert.Equal(t, want[1:], l.abortedIn(9, l.end), "the first ended before the read")
	assert.Empty(t, l.abortedIn(9, 11))
}

// TestCollectStopsAtTheLastStableOffset: the lookup stops at the first
// entry whose last stable offset reaches the read's end, and says so, and
// still finds an older transaction aborted after a younger one.
func TestCollectStopsAtTheLastStableOffset(t *testing.T) {
	l := newLog(t)
	require.NoError(t, l.data(1, 0, true, 1)) // 0: 1 begins
	require.NoError(t, l.data(2, 0, true, 1)) // 1: 2 begins
	require.NoError(t, l.marker(2, 0, false)) // 2: 2 aborts; stable at 0 (1 is open)
	require.NoError(t, l.marker(1, 0, false)) // 3: 1 aborts
	got, done := Collect(nil, l.aborted, 0, 1+1)
	assert.Equal(t, []Aborted{{2, 1, 2, 0}, {1, 0, 3, 4}}, got)
	assert.True(t, done, "the second's last stable offset passes the read")
	got, done = Collect(nil, l.aborted, 3, 4)
	assert.Equal(t, []Aborted{{1, 0, 3, 4}}, got)
	assert.True(t, done)
	got, done = Collect(got[:0], l.aborted, 0, 5)
	assert.Len(t, got, 2)
	assert.False(t, done, "a later index may hold more")
	assert.Equal(t, 1, EndingFrom(l.aborted, 3))
}

func TestTrackerRefusesFencedAndStrayBatches(t *testing.T) {
	l := newLog(t)
	require.NoError(t, l.data(7, 2, true, 1))
	assert.ErrorIs(t, l.data(7, 1, true, 1), ErrFencedEpoch, "data from an older epoch")
	assert.ErrorIs(t, l.marker(7, 1, true), ErrFencedEpoch, "a marker from an older epoch")
	assert.ErrorIs(t, l.data(7, 2, false, 1), ErrNotTransactional)
	require.NoError(t, l.data(8, 0, false, 1), "another producer's idempotent batch")
	require.NoError(t, l.marker(7, 3, false), "an abort under a newer epoch fences the producer")
	require.NoError(t, l.data(7, 3, false, 1), "then it may write outside a transaction")
	h := batch.Header{ProducerID: 9, Attributes: 0x30} // control and transactional
	assert.Error(t, l.tr.Check(h, nil), "a control batch needs its marker")
}

// TestReplayRebuildsTheTracker: a tracker fed the log's batches again, as
// recovery does, knows what the one that followed the appends knew.
func TestReplayRebuildsTheTracker(t *testing.T) {
	l := newLog(t)
	require.NoError(t, l.data(7, 0, true, 2))
	require.NoError(t, l.data(8, 0, true, 2))
	require.NoError(t, l.marker(7, 0, false))
	require.NoError(t, l.data(-1, 0, false, 1))
	replayed := NewTracker()
	var aborted []Aborted
	for _, b := range l.batches {
		a, ok, err := replayed.AppendBytes(b)
		require.NoError(t, err)
		if ok {
			aborted = append(aborted, a)
		}
	}
	assert.Equal(t, l.aborted, aborted)
	assert.Equal(t, int64(2), replayed.LastStable(l.end))
	assert.Equal(t, 1, replayed.OpenCount())
}

// TestTrackerFencesOlderCoordinators: a marker whose coordinator epoch is
// below the producer's last marker's is refused by Check, the leader's
// check; equal or higher is accepted and kept, per producer. A replay
// (Append) takes the log as it is and keeps the highest.
func TestTrackerFencesOlderCoordinators(t *testing.T) {
	tests := []struct {
		name  string
		first int32 // the coordinator epoch of producer 7's first marker
		then  int32 // of its second
		want  error
	}{
		{"older", 5, 4, ErrCoordinatorFenced},
		{"the same", 5, 5, nil},
		{"newer", 5, 6, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLog(t)
			require.NoError(t, l.data(7, 0, true, 1))
			require.NoError(t, l.coordinatedMarker(7, 0, true, tc.first))
			require.NoError(t, l.data(7, 0, true, 1))
			err := l.coordinatedMarker(7, 0, false, tc.then)
			require.ErrorIs(t, err, tc.want)
			want := max(tc.first, tc.then)
			if err != nil {
				want = tc.first
				assert.Equal(t, 1, l.tr.OpenCount(), "the refused marker ends nothing")
			}
			assert.Equal(t, want, l.tr.Producers()[7].CoordinatorEpoch)
			require.NoError(t, l.coordinatedMarker(8, 0, true, 0), "another producer's coordinator is its own")
		})
	}

	t.Run("replay", func(t *testing.T) {
		l := newLog(t)
		for _, epoch := range []int32{5, 3} { // as a log written before the check may hold
			b, err := BuildMarker(Marker{ProducerID: 7, CoordinatorEpoch: epoch}, 1)
			require.NoError(t, err)
			require.NoError(t, l.append(b))
		}
		assert.Equal(t, int32(5), l.tr.Producers()[7].CoordinatorEpoch, "the highest is kept")
		l.tr.ForgetProducer(7)
		assert.Empty(t, l.tr.Producers())
	})
}
