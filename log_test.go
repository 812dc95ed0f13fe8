package creek

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

func TestAppendRead(t *testing.T) {
	forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
		l := mustOpen(t, fs, dir, cfg)
		want := appendN(t, l, 20, 5, 100)
		assert.Equal(t, int64(0), l.StartOffset())
		assert.Equal(t, int64(100), l.EndOffset())
		assert.Equal(t, want, readAll(t, l))

		// A read from inside a batch returns that whole batch.
		got, err := l.Read(nil, 7, 1)
		require.NoError(t, err)
		assert.Equal(t, want[1], got)

		// At the end: nothing, no error. Past it or below the start: out of range.
		got, err = l.Read(nil, 100, 1<<20)
		require.NoError(t, err)
		assert.Empty(t, got)
		_, err = l.Read(nil, 101, 1<<20)
		require.ErrorIs(t, err, ErrOffsetOutOfRange)
		_, err = l.Read(nil, -1, 1<<20)
		require.ErrorIs(t, err, ErrOffsetOutOfRange)
	})
}

func TestReadMaxBytes(t *testing.T) {
	l := mustOpen(t, fsx.NewMem(), "/log", LogConfig{})
	want := appendN(t, l, 4, 10, 100)
	size := len(want[0])

	got, err := l.Read(nil, 0, 2*size+size/2)
	require.NoError(t, err)
	assert.Equal(t, append(append([]byte(nil), want[0]...), want[1]...), got, "only whole batches")

	got, err = l.Read(nil, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, want[0], got, "a first batch over maxBytes comes whole")

	dst := []byte("prefix")
	got, err = l.Read(dst, 10, size)
	require.NoError(t, err)
	assert.Equal(t, append([]byte("prefix"), want[1]...), got, "Read appends to dst")
}

func TestAppendRejectsBadBatches(t *testing.T) {
	l := mustOpen(t, fsx.NewMem(), "/log", LogConfig{MaxBatchBytes: 2048})
	good := testBatch(t, 0, 1, 10, 1)

	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-1] ^= 0xff
	_, err := l.Append(flipped)
	require.ErrorIs(t, err, ErrCorrupt)

	_, err = l.Append(good[:len(good)-1])
	require.ErrorIs(t, err, ErrCorrupt)

	_, err = l.Append(testBatch(t, 0, 1, 4096, 1))
	require.ErrorIs(t, err, ErrMessageTooLarge)

	assert.Equal(t, int64(0), l.EndOffset(), "rejected batches take no offsets")
	base, err := l.Append(good)
	require.NoError(t, err)
	assert.Equal(t, int64(0), base)
}

func TestRollAndReopen(t *testing.T) {
	forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
		cfg.SegmentBytes = 4096
		cfg.IndexIntervalBytes = 512
		l, err := openLog(fs, dir, cfg)
		require.NoError(t, err)
		want := appendN(t, l, 100, 3, 100)
		assert.GreaterOrEqual(t, l.Stats().Segments, 10)
		assert.Equal(t, want, readAll(t, l))
		require.NoError(t, l.Close())
		require.NoError(t, l.Close(), "a second Close returns nil")

		l = mustOpen(t, fs, dir, cfg)
		assert.Equal(t, int64(300), l.EndOffset())
		assert.Equal(t, want, readAll(t, l))
		more := appendN(t, l, 5, 3, 100)
		assert.Equal(t, append(want, more...), readAll(t, l))
	})
}

func TestClosedLog(t *testing.T) {
	l, err := openLog(fsx.NewMem(), "/log", LogConfig{Logger: discardLogger()})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	_, err = l.Append(testBatch(t, 0, 1, 1, 1))
	require.ErrorIs(t, err, ErrClosed)
	_, err = l.Read(nil, 0, 100)
	require.ErrorIs(t, err, ErrClosed)
}

func TestConfigValidation(t *testing.T) {
	_, err := openLog(fsx.NewMem(), "/log", LogConfig{SegmentBytes: 10, Sync: 9, Retention: -1, MinCleanableRatio: 2})
	require.ErrorIs(t, err, ErrInvalidConfig)
	for _, field := range []string{"SegmentBytes", "Sync", "Retention", "MinCleanableRatio"} {
		assert.Contains(t, err.Error(), field, "every problem is reported at once")
	}
}

func TestKafkaCode(t *testing.T) {
	assert.Equal(t, int16(0), KafkaCode(nil))
	assert.Equal(t, int16(1), KafkaCode(ErrOffsetOutOfRange))
	assert.Equal(t, int16(2), KafkaCode(&CorruptError{}))
	assert.Equal(t, int16(10), KafkaCode(ErrMessageTooLarge))
	assert.Equal(t, int16(19), KafkaCode(fmt.Errorf("%w: 1 in sync of 2 required", ErrNotEnoughReplicas)))
	assert.Equal(t, int16(20), KafkaCode(fmt.Errorf("%w: 1 in sync of 2 required", ErrNotEnoughReplicasAfterAppend)))
	assert.Equal(t, int16(-1), KafkaCode(errors.New("other")))
}

func TestConcurrentAppendersShareSyncs(t *testing.T) {
	l := mustOpen(t, fsx.NewMem(), "/log", LogConfig{})
	const writers, each = 8, 200
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				if _, err := l.Append(testBatch(t, w*each+i, 1, 100, 1)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	// Readers run beside the appenders and only ever see whole, valid batches.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for l.EndOffset() < writers*each {
			got, err := l.Read(nil, l.StartOffset(), 1<<16)
			if err != nil {
				errs <- err
				return
			}
			for len(got) > 0 {
				one, rest, err := batch.Next(got)
				if err == nil {
					_, err = batch.Validate(one)
				}
				if err != nil {
					errs <- err
					return
				}
				got = rest
			}
		}
	}()
	for range writers {
		require.NoError(t, <-errs)
	}
	<-done
	select {
	case err := <-errs:
		require.NoError(t, err)
	default:
	}
	st := l.Stats()
	assert.Equal(t, int64(writers*each), st.Appends)
	assert.LessOrEqual(t, st.Syncs, st.Appends)
	t.Logf("%d appends, %d syncs", st.Appends, st.Syncs)
	assert.Len(t, readAll(t, l), writers*each)
}
