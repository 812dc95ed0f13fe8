package creek

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// fillableDisk fails every write with ENOSPC, writing nothing, while full
// is set: a disk that fills up, and that an operator then clears.
type fillableDisk struct{ full atomic.Bool }

func (d *fillableDisk) Inject(op fsx.Op) fsx.Fault {
	if op.Kind == fsx.OpWrite && d.full.Load() {
		return fsx.Fault{Err: syscall.ENOSPC, ShortWrite: op.Len / 2}
	}
	return fsx.Fault{}
}

// TestPartitionHealsOnceTheDiskHasRoom: a partition whose disk filled up
// refuses appends with ErrLogFailed, and takes them again, by itself, once
// the disk has room; every batch acknowledged before and after is there
// once, at its offset. Before, the partition stayed failed until the
// process restarted.
func TestPartitionHealsOnceTheDiskHasRoom(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), probeInFlight) // what earlier tests left is theirs
	disk := new(fillableDisk)
	n, err := openNode(fsx.Inject(fsx.NewMem(), disk), "/n", Config{Logger: discardLogger(),
		TopicDefaults: map[string]string{"creek.sync": "every-append"}}, time.Now)
	require.NoError(t, err)
	defer n.Close()
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))

	acked := map[int64][]byte{}
	produce := func(i int) error {
		b := testBatch(t, 0, 2, 100, int64(i))
		base, err := n.ProduceBatch(t.Context(), "t", 0, append([]byte(nil), b...))
		if err == nil {
			acked[base] = b
		}
		return err
	}
	for i := range 5 {
		require.NoError(t, produce(i))
	}
	disk.full.Store(true)
	require.ErrorIs(t, produce(5), ErrLogFailed)
	require.ErrorIs(t, produce(6), ErrLogFailed, "failed until the disk has room")
	disk.full.Store(false)

	deadline := time.Now().Add(time.Minute) // a bound for a hang, not a wait standing in for an event
	for err := produce(7); err != nil; err = produce(7) {
		require.ErrorIs(t, err, ErrLogFailed)
		require.True(t, time.Now().Before(deadline), "the partition never healed")
		<-time.After(10 * time.Millisecond)
	}
	for i := 8; i < 12; i++ {
		require.NoError(t, produce(i))
	}

	var got []byte
	for offset := int64(0); ; {
		b, err := n.FetchBatches(t.Context(), nil, "t", 0, offset, FetchOptions{MaxBytes: 1 << 20})
		require.NoError(t, err)
		if len(b) == 0 {
			break
		}
		got = append(got, b...)
		offset = lastOffsetIn(b) + 1
	}
	seen := 0
	for len(got) > 0 {
		one, rest, err := batch.Next(got)
		require.NoError(t, err)
		h, err := batch.Validate(one)
		require.NoError(t, err)
		want, ok := acked[h.BaseOffset]
		require.True(t, ok, "a batch at %d that was not acknowledged", h.BaseOffset)
		assert.Equal(t, want[batch.HeaderSize:], one[batch.HeaderSize:], "the batch at %d", h.BaseOffset)
		seen++
		got = rest
	}
	assert.Equal(t, len(acked), seen, "every acknowledged batch, once")
}
