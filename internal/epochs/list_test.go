package epochs

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// three is a partition that had epochs 2, 4 and 7.
func three() List { return List{entries: []Entry{{2, 10}, {4, 30}, {7, 55}}} }

func TestLatest(t *testing.T) {
	tests := []struct {
		name string
		list List
		want int32
	}{
		{"empty", List{}, -1},
		{"one", List{entries: []Entry{{0, 0}}}, 0},
		{"the newest of several", three(), 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.list.Latest())
		})
	}
}

// TestAssign: a new epoch is appended, the newest again is no change, and
// an epoch or a start that goes back is refused, leaving the list as it was.
func TestAssign(t *testing.T) {
	tests := []struct {
		name        string
		epoch       int32
		start       int64
		wantChanged bool
		wantErr     bool
		want        []Entry
	}{
		{"a newer epoch", 9, 60, true, false, []Entry{{2, 10}, {4, 30}, {7, 55}, {9, 60}}},
		{"a newer epoch at the newest's start", 8, 55, true, false, []Entry{{2, 10}, {4, 30}, {7, 55}, {8, 55}}},
		{"the newest again, at any offset", 7, 99, false, false, []Entry{{2, 10}, {4, 30}, {7, 55}}},
		{"an older epoch", 4, 60, false, true, []Entry{{2, 10}, {4, 30}, {7, 55}}},
		{"an epoch between", 5, 60, false, true, []Entry{{2, 10}, {4, 30}, {7, 55}}},
		{"a newer epoch before the newest's start", 8, 54, false, true, []Entry{{2, 10}, {4, 30}, {7, 55}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := three()
			changed, err := l.Assign(tc.epoch, tc.start)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantChanged, changed)
			assert.Equal(t, tc.want, l.Entries())
		})
	}
	t.Run("the first epoch", func(t *testing.T) {
		var l List
		changed, err := l.Assign(3, 12)
		require.NoError(t, err)
		assert.True(t, changed)
		assert.Equal(t, []Entry{{3, 12}}, l.Entries())
	})
}

// TestEndOffsetFor: Kafka's answers for epochs newer, older and between
// the ones a partition had.
func TestEndOffsetFor(t *testing.T) {
	tests := []struct {
		name      string
		list      List
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{"the newest: the log end", three(), 7, 7, 90},
		{"a known one ends where the next begins", three(), 4, 4, 55},
		{"between: the largest epoch not above it", three(), 5, 4, 55},
		{"between the first two", three(), 3, 2, 30},
		{"older than all: where the first begins", three(), 1, 1, 10},
		{"newer than all", three(), 8, -1, -1},
		{"none", three(), -1, -1, -1},
		{"an empty list", List{}, 0, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			epoch, end := tc.list.EndOffsetFor(tc.epoch, 90)
			assert.Equal(t, tc.wantEpoch, epoch)
			assert.Equal(t, tc.wantEnd, end)
		})
	}
}

// TestTruncateFrom: the epochs that begin at or after the cut go.
func TestTruncateFrom(t *testing.T) {
	tests := []struct {
		name        string
		end         int64
		wantChanged bool
		want        []Entry
	}{
		{"past every epoch", 56, false, []Entry{{2, 10}, {4, 30}, {7, 55}}},
		{"at the newest's start", 55, true, []Entry{{2, 10}, {4, 30}}},
		{"inside an epoch", 31, true, []Entry{{2, 10}, {4, 30}}},
		{"at the first's start", 10, true, []Entry{}},
		{"at zero", 0, true, []Entry{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := three()
			assert.Equal(t, tc.wantChanged, l.TruncateFrom(tc.end))
			assert.Equal(t, tc.want, l.Entries())
		})
	}
}

// TestForgetAfter: the epochs past the cut go, and those at it newer
// than the leader's epoch that ends there.
func TestForgetAfter(t *testing.T) {
	withEmpty := func() List { return List{entries: []Entry{{2, 10}, {4, 30}, {5, 30}, {7, 30}}} }
	tests := []struct {
		name        string
		list        List
		end         int64
		keep        int32
		wantChanged bool
		want        []Entry
	}{
		{"past every epoch", three(), 56, 7, false, []Entry{{2, 10}, {4, 30}, {7, 55}}},
		{"inside the newest", three(), 60, 2, false, []Entry{{2, 10}, {4, 30}, {7, 55}}},
		{"before the newest", three(), 54, 4, true, []Entry{{2, 10}, {4, 30}}},
		{"at the newest's start, the leader's epoch older", three(), 55, 4, true, []Entry{{2, 10}, {4, 30}}},
		{"at the newest's start, the leader's epoch the same", three(), 55, 7, false, []Entry{{2, 10}, {4, 30}, {7, 55}}},
		{"empty epochs at the cut newer than the leader's", withEmpty(), 30, 4, true, []Entry{{2, 10}, {4, 30}}},
		{"empty epochs at the cut up to the leader's kept", withEmpty(), 30, 5, true, []Entry{{2, 10}, {4, 30}, {5, 30}}},
		{"keep MaxInt32: only those past end", withEmpty(), 30, math.MaxInt32, false, []Entry{{2, 10}, {4, 30}, {5, 30}, {7, 30}}},
		{"keep MaxInt32 past a shortened log", three(), 40, math.MaxInt32, true, []Entry{{2, 10}, {4, 30}}},
		{"before every epoch", three(), 5, 0, true, []Entry{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantChanged, tc.list.ForgetAfter(tc.end, tc.keep))
			assert.Equal(t, tc.want, tc.list.Entries())
		})
	}
}
