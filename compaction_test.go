package creek

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

var compactConfig = LogConfig{
	SegmentBytes:       2048,
	IndexIntervalBytes: 256,
	Cleanup:            CleanupCompact,
	DeleteRetention:    time.Hour,
	MinCleanableRatio:  0.01,
}

// keyedWrite is one record of a compaction workload.
type keyedWrite struct {
	key   string
	value []byte // nil: a tombstone
}

// appendKeyed appends each write as its own batch of one record stamped
// ts, and returns the offset of each.
func appendKeyed(t *testing.T, l *Log, ts int64, writes ...keyedWrite) []int64 {
	t.Helper()
	var offsets []int64
	for _, w := range writes {
		b, err := batch.Build(batch.BuildOptions{BaseTimestamp: ts}, batch.Record{Key: []byte(w.key), Value: w.value})
		require.NoError(t, err)
		offset, err := l.Append(b)
		require.NoError(t, err)
		offsets = append(offsets, offset)
	}
	return offsets
}

// latestByKey reads the log and returns, for each key, the offsets of its
// records in order, and checks that offsets strictly increase.
func latestByKey(t *testing.T, l *Log) (map[string][]int64, map[int64]string) {
	t.Helper()
	offsetsOf := map[string][]int64{}
	values := map[int64]string{}
	last := int64(-1)
	for _, b := range readAll(t, l) {
		records, err := decodeRecords(b)
		require.NoError(t, err)
		h, err := batch.ParseHeader(b)
		require.NoError(t, err)
		for _, r := range records {
			off := r.Offset(h)
			require.Greater(t, off, last, "offsets strictly increase: nothing is duplicated")
			last = off
			offsetsOf[string(r.Key)] = append(offsetsOf[string(r.Key)], off)
			if r.Value == nil {
				values[off] = "<tombstone>"
			} else {
				values[off] = string(r.Value)
			}
		}
	}
	return offsetsOf, values
}

func TestCompaction(t *testing.T) {
	forEachEnv(t, func(t *testing.T, fs fsx.FS, dir string, cfg LogConfig) {
		clock := new(fakeClock).set(1_000_000)
		c := compactConfig
		c.Sync, c.Logger = cfg.Sync, cfg.Logger
		l, err := openLogAt(fs, dir, c, clock.now)
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })

		// Ten keys, each written ten times; key 3 ends with a tombstone.
		want := map[string]int64{}
		for round := range 10 {
			for k := range 10 {
				key := fmt.Sprintf("key-%d", k)
				value := fmt.Appendf(nil, "%s round %d %s", key, round, make([]byte, 40))
				if k == 3 && round == 9 {
					value = nil
				}
				want[key] = appendKeyed(t, l, clock.now().UnixMilli(), keyedWrite{key, value})[0]
			}
		}
		endBefore := l.EndOffset()
		require.NoError(t, l.Sync()) // compaction cleans only flushed segments
		st, err := l.compact(true)
		require.NoError(t, err)
		assert.Positive(t, st.RecordsRemoved)
		assert.Less(t, st.BytesAfter, st.BytesBefore)

		activeBase := l.activeBase()
		offsetsOf, values := latestByKey(t, l)
		for key, latest := range want {
			kept := offsetsOf[key]
			require.NotEmpty(t, kept, key)
			assert.Equal(t, latest, kept[len(kept)-1], "%s keeps its newest record", key)
			sealed := 0
			for _, off := range kept {
				if off < activeBase {
					sealed++
				}
			}
			assert.LessOrEqual(t, sealed, 1, "%s: the sealed segments hold one record per key", key)
		}
		assert.Equal(t, "<tombstone>", values[want["key-3"]], "a fresh tombstone stays")
		assert.Equal(t, endBefore, l.EndOffset(), "offsets are kept")

		// Reopen: the compacted log is what recovery finds.
		require.NoError(t, l.Close())
		l, err = openLogAt(fs, dir, c, clock.now)
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })
		again, _ := latestByKey(t, l)
		assert.Equal(t, offsetsOf, again)

		// An hour later the tombstone goes too, once its segment is sealed.
		appendKeyed(t, l, clock.now().UnixMilli(), make([]keyedWrite, 30)...)
		require.NoError(t, l.Sync())
		clock.advance(2 * time.Hour)
		_, err = l.compact(true)
		require.NoError(t, err)
		offsetsOf, _ = latestByKey(t, l)
		if want["key-3"] < l.activeBase() {
			assert.NotContains(t, offsetsOf, "key-3", "an expired tombstone is dropped")
		}
	})
}

func (l *Log) activeBase() int64 {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	return l.active.base
}

func TestCompactionRatio(t *testing.T) {
	c := compactConfig
	c.MinCleanableRatio = 0.9
	l := mustOpen(t, fsx.NewMem(), "/log", c)
	for i := range 100 {
		appendKeyed(t, l, 1, keyedWrite{fmt.Sprintf("k%d", i%5), make([]byte, 50)})
	}
	st, err := l.Compact()
	require.NoError(t, err)
	require.Positive(t, st.Segments, "every sealed byte is dirty at first")
	st, err = l.Compact()
	require.NoError(t, err)
	assert.Zero(t, st.Segments, "after a pass, too little is dirty to clean again")
}

// TestCompactionCrash fails each file operation of a compaction pass in
// turn, then crashes; the log that recovery finds must hold the newest
// record of every key and no offset twice, whether the swap committed or
// not.
func TestCompactionCrash(t *testing.T) {
	for i := int64(0); ; i++ {
		mem := fsx.NewMem()
		l := mustOpen(t, mem, "/log", compactConfig)
		want := map[string]int64{}
		for n := range 60 {
			key := fmt.Sprintf("k%d", n%7)
			want[key] = appendKeyed(t, l, 1, keyedWrite{key, make([]byte, 60)})[0]
		}
		before, _ := latestByKey(t, l)
		require.NoError(t, l.Close())

		inj := fsx.Inject(mem, fsx.FailAfter(i))
		c := compactConfig
		c.Logger = discardLogger()
		l, err := openLog(inj, "/log", c)
		if err == nil {
			_, err = l.compact(true)
			_ = l.Close()
		}
		if err != nil {
			require.ErrorIs(t, err, fsx.ErrInjected, "fault after op %d", i)
		}

		survivor := mustOpen(t, mem.CrashClone(), "/log", compactConfig)
		after, _ := latestByKey(t, survivor) // checks that offsets strictly increase
		for key, latest := range want {
			require.NotEmpty(t, after[key], "op %d: %s lost", i, key)
			assert.Equal(t, latest, after[key][len(after[key])-1], "op %d: %s keeps its newest", i, key)
			assert.Subset(t, before[key], after[key], "op %d: nothing new appears", i)
		}
		require.NoError(t, survivor.Close())
		if err == nil && inj.Ops() <= i {
			t.Logf("compaction ran clean after failing from each of its %d operations on", i)
			return
		}
	}
}
