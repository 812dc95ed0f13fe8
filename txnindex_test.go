package creek

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/txnlog"
)

// abortAcrossSegments opens a node on fs with topic "t" of small segments
// and aborts a transaction of each of producers 1 to n, one after another,
// with idempotent batches between them that roll the segments; the last
// producer's abort comes after the last roll. It returns the node and t-0.
func abortAcrossSegments(t *testing.T, fs fsx.FS, n int) (*Node, *partition) {
	t.Helper()
	node, err := openNode(fs, "/n", Config{Logger: discardLogger()}, new(fakeClock).set(1e12).now)
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, node.CreateTopic(ctx, "t", TopicSpec{Configs: map[string]string{ConfigSegmentBytes: "1024"}}))
	p, err := node.partition("t", 0)
	require.NoError(t, err)
	seq := int32(0)
	for id := int64(1); id <= int64(n); id++ {
		if id == int64(n) {
			for rolls := p.log.rolls.Load(); p.log.rolls.Load() == rolls; seq += 10 {
				_, err := node.ProduceBatch(ctx, "t", 0, idempotentBatch(t, 100, 0, seq, 10))
				require.NoError(t, err)
			}
		}
		_, err := node.ProduceBatch(ctx, "t", 0, txnBatch(t, id, 0, 0, 2))
		require.NoError(t, err)
		_, err = node.ProduceBatch(ctx, "t", 0, idempotentBatch(t, 100, 0, seq, 10))
		require.NoError(t, err)
		seq += 10
		require.NoError(t, p.writeMarker(ctx, txnlog.Marker{ProducerID: id}))
	}
	return node, p
}

// segmentAborted returns, for each segment of p's log by base offset, the
// aborted transactions its .txnindex file holds.
func segmentAborted(t *testing.T, fs fsx.FS, p *partition) map[int64][]txnlog.Aborted {
	t.Helper()
	out := map[int64][]txnlog.Aborted{}
	dir := partitionDir("/n", "t", 0)
	names, err := fs.ReadDir(dir)
	require.NoError(t, err)
	for _, name := range names {
		base, ok := parseSegmentName(name, txnIndexSuffix)
		if !ok {
			continue
		}
		var b []byte
		editFile(t, fs, filepath.Join(dir, name), func(f []byte) []byte { b = append(b, f...); return f })
		entries, err := txnlog.ParseIndex(b)
		require.NoError(t, err)
		if len(entries) > 0 {
			out[base] = entries
		}
	}
	return out
}

// TestAbortedTransactionsIndexedPerSegment: each aborted transaction is
// in the .txnindex of the segment that holds its abort marker, as Kafka
// keeps it; the transaction snapshot no longer carries them, so it does
// not grow with every abort the log holds; retention deletes them with
// their segment; and read_committed reads find them across segments.
func TestAbortedTransactionsIndexedPerSegment(t *testing.T) {
	fs := fsx.NewMem()
	const aborts = 20
	n, p := abortAcrossSegments(t, fs, aborts)
	t.Cleanup(func() { n.Close() })

	_, all := txnState(p)
	require.Len(t, all, aborts)
	bySegment := segmentAborted(t, fs, p)
	var indexed []txnlog.Aborted
	p.log.segsMu.RLock()
	segments := append([]*segment(nil), p.log.segments...)
	p.log.segsMu.RUnlock()
	require.Greater(t, len(segments), aborts/2, "the aborts are spread over segments")
	for i, s := range segments {
		for _, a := range bySegment[s.base] {
			assert.GreaterOrEqual(t, a.LastOffset, s.base, "the marker is in the segment")
			if i+1 < len(segments) {
				assert.Less(t, a.LastOffset, segments[i+1].base, "the marker is in the segment")
			}
		}
		indexed = append(indexed, bySegment[s.base]...)
	}
	assert.Equal(t, all, indexed, "every abort is in one segment's file, in order")

	b, err := framefile.ReadFile(fs, filepath.Join(partitionDir("/n", "t", 0), txnSnapshotName), 1<<20)
	require.NoError(t, err)
	assert.Less(t, len(b), aborts*txnlog.EntrySize, "the snapshot holds no aborted transactions")

	// A read_committed fetch of everything is told of every abort.
	var told []int64
	for offset := int64(0); offset < p.log.EndOffset(); {
		res, next := committedFetch(t, n, offset)
		require.Greater(t, next, offset)
		for _, a := range res.Aborted {
			if len(told) == 0 || told[len(told)-1] != a.ProducerID {
				told = append(told, a.ProducerID)
			}
		}
		offset = next
	}
	assert.Len(t, told, aborts, "one fetch after another meets each abort")

	// Retention takes the first segments and their aborts with them.
	cut := segments[len(segments)/2].base
	require.NoError(t, p.log.DeleteRecordsBefore(cut))
	_, left := txnState(p)
	require.NotEmpty(t, left)
	for _, a := range left {
		assert.GreaterOrEqual(t, a.LastOffset, cut)
	}
	assert.Equal(t, all[len(all)-len(left):], left)
	for base := range segmentAborted(t, fs, p) {
		assert.GreaterOrEqual(t, base, segments[len(segments)/2].base, "the deleted segments' files are gone")
	}
}

// TestAbortedIndexRebuiltAfterACrash: the aborts after the last snapshot
// are in no synced file when the node crashes; the restart replays the
// log from the snapshot and indexes them again, and a damaged index file
// makes it replay the whole log.
func TestAbortedIndexRebuiltAfterACrash(t *testing.T) {
	fs := fsx.NewMem()
	n, p := abortAcrossSegments(t, fs, 6)
	crashed := n
	t.Cleanup(func() { crashed.Close() })
	wantLSO, want := txnState(p)
	require.Len(t, want, 6)

	reopen := func(fs fsx.FS) *partition {
		t.Helper()
		n, err := openNode(fs, "/n", Config{Logger: discardLogger()}, new(fakeClock).set(1e12).now)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, n.Close()) })
		p, err := n.partition("t", 0)
		require.NoError(t, err)
		return p
	}
	t.Run("crash", func(t *testing.T) {
		p := reopen(fs.CrashClone())
		lso, got := txnState(p)
		assert.Equal(t, [2]any{wantLSO, want}, [2]any{lso, got})
	})
	t.Run("damaged index", func(t *testing.T) {
		clone := fs.CrashClone()
		dir := partitionDir("/n", "t", 0)
		names, err := clone.ReadDir(dir)
		require.NoError(t, err)
		damaged := 0
		for _, name := range names {
			if strings.HasSuffix(name, txnIndexSuffix) && damaged == 0 {
				editFile(t, clone, filepath.Join(dir, name), func(b []byte) []byte {
					if len(b) > 0 {
						b[1] = 9 // an entry's version
						damaged++
					}
					return b
				})
			}
		}
		require.Equal(t, 1, damaged)
		require.True(t, fsx.Exists(clone, filepath.Join(dir, txnSnapshotName)))
		p := reopen(clone)
		lso, got := txnState(p)
		assert.Equal(t, [2]any{wantLSO, want}, [2]any{lso, got})
		assert.False(t, fsx.Exists(clone, filepath.Join(dir, txnSnapshotName)),
			"gone, so that a crash before the index is rebuilt replays the whole log again")
	})
}

// TestAbortedIndexFromAnOlderSnapshot: a transaction snapshot of version
// 2, which held the aborted transactions before the segments' indexes
// did, gives them to the indexes on a restart, and the replay goes on
// from its end.
func TestAbortedIndexFromAnOlderSnapshot(t *testing.T) {
	fs := fsx.NewMem()
	n, p := abortAcrossSegments(t, fs, 4)
	_, want := txnState(p)
	end := p.log.EndOffset()
	require.NoError(t, n.Close())

	dir := partitionDir("/n", "t", 0)
	b, err := framefile.ReadFile(fs, filepath.Join(dir, txnSnapshotName), 1<<20)
	require.NoError(t, err)
	snap, err := txnlog.UnmarshalSnapshot(b)
	require.NoError(t, err)
	require.Equal(t, end, snap.End)
	require.NoError(t, framefile.WriteAtomic(fs, dir, txnSnapshotName, olderTxnSnapshot(t, b, want)))
	names, err := fs.ReadDir(dir)
	require.NoError(t, err)
	for _, name := range names {
		if strings.HasSuffix(name, txnIndexSuffix) {
			require.NoError(t, fs.Remove(filepath.Join(dir, name))) // as a version before them left the log
		}
	}

	n, err = openNode(fs, "/n", Config{Logger: discardLogger()}, new(fakeClock).set(1e12).now)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	p, err = n.partition("t", 0)
	require.NoError(t, err)
	assert.Equal(t, want, p.abortedIn(0, math.MaxInt64))
}

// olderTxnSnapshot rewrites a version 3 transaction snapshot as version 2
// wrote it, with aborted after the open transactions.
func olderTxnSnapshot(t *testing.T, b []byte, aborted []txnlog.Aborted) []byte {
	t.Helper()
	v3 := framefile.Format{Name: "transaction snapshot", Magic: 0x63726b78, VersionWidth: framefile.Version16, Oldest: 3, Current: 3}
	_, body, err := v3.Open(b)
	require.NoError(t, err)
	openCount := int(body[8])<<24 | int(body[9])<<16 | int(body[10])<<8 | int(body[11])
	openEnd := 12 + openCount*(8+2+8)
	old := append([]byte(nil), body[:openEnd]...)
	old = append(old, 0, 0, 0, byte(len(aborted)))
	for _, a := range aborted {
		old = txnlog.AppendEntry(old, a)
	}
	old = append(old, body[openEnd:]...)
	v2 := v3
	v2.Oldest, v2.Current = 2, 2
	return v2.Seal(old)
}

// TestTxnIndexFile: an index file's torn last entry is cut off on load;
// a damaged one loads empty and stays on disk as it is, damaged, until
// cutFrom resets it; cutFrom keeps the entries whose markers are below
// its offset.
func TestTxnIndexFile(t *testing.T) {
	entries := []txnlog.Aborted{{ProducerID: 1, FirstOffset: 0, LastOffset: 3, LastStable: 4},
		{ProducerID: 2, FirstOffset: 5, LastOffset: 9, LastStable: 10}}
	var good []byte
	for _, a := range entries {
		good = txnlog.AppendEntry(good, a)
	}
	damaged := append([]byte(nil), good...)
	damaged[1] = 7 // a version
	for _, tc := range []struct {
		name        string
		file        []byte
		want        []txnlog.Aborted
		wantDamaged bool
		wantSize    int64
	}{
		{"whole", good, entries, false, int64(len(good))},
		{"a torn entry", append(append([]byte(nil), good...), 0, 0, 0), entries, false, int64(len(good))},
		{"damaged", damaged, nil, true, int64(len(damaged))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fsx.NewMem()
			f, err := fsx.Create(fs, "/x"+txnIndexSuffix)
			require.NoError(t, err)
			_, err = f.WriteAt(tc.file, 0)
			require.NoError(t, err)
			x := &txnIndex{file: f}
			require.NoError(t, x.load())
			assert.Equal(t, tc.want, x.all())
			assert.Equal(t, tc.wantDamaged, x.damaged)
			size, err := f.Size()
			require.NoError(t, err)
			assert.Equal(t, tc.wantSize, size)

			require.NoError(t, x.cutFrom(9))
			assert.False(t, x.damaged)
			kept := tc.want
			if len(kept) > 0 {
				kept = kept[:1]
			}
			assert.Equal(t, kept, x.all(), "the second's marker is at 9")
			size, err = f.Size()
			require.NoError(t, err)
			assert.Equal(t, int64(len(kept)*txnlog.EntrySize), size)
			require.NoError(t, x.append(txnlog.Aborted{ProducerID: 3, FirstOffset: 10, LastOffset: 12, LastStable: 13}))
			assert.ErrorContains(t, x.append(txnlog.Aborted{ProducerID: 4, FirstOffset: 10, LastOffset: 11, LastStable: 13}),
				"indexed after", "markers come in order")
		})
	}
}
