package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	seg0 = "00000000000000000000.log"
	seg9 = "00000000000000000009.log"
)

func TestCompareSnapshotsSameFilesAndNewSegments(t *testing.T) {
	prev := NodeSnapshot{Label: "a", Dirs: map[int32]DirSnapshot{0: {Files: map[string]uint64{seg0: 5}, LogStart: 0}}}
	cur := NodeSnapshot{Label: "b", Dirs: map[int32]DirSnapshot{
		0: {Files: map[string]uint64{seg0: 5, seg9: 6}, LogStart: 0}, // rolled a segment
		1: {Files: map[string]uint64{seg0: 7}, LogStart: 0},          // a new partition
	}}
	require.Empty(t, CompareSnapshots(1, prev, cur))
}

func TestCompareSnapshotsNewInode(t *testing.T) {
	prev := NodeSnapshot{Dirs: map[int32]DirSnapshot{3: {Files: map[string]uint64{seg0: 5}, LogStart: -1}}}
	cur := NodeSnapshot{Dirs: map[int32]DirSnapshot{3: {Files: map[string]uint64{seg0: 8}, LogStart: -1}}}
	found := CompareSnapshots(2, prev, cur)
	require.Len(t, found, 1)
	require.Equal(t, KindRecreated, found[0].Kind)
	require.Equal(t, int32(3), found[0].Partition)
}

func TestCompareSnapshotsLowestSegmentGone(t *testing.T) {
	prev := NodeSnapshot{Dirs: map[int32]DirSnapshot{0: {Files: map[string]uint64{seg0: 5, seg9: 6}, LogStart: 0}}}
	gone := NodeSnapshot{Dirs: map[int32]DirSnapshot{0: {Files: map[string]uint64{seg9: 6}, LogStart: 0}}}
	require.Len(t, CompareSnapshots(1, prev, gone), 1)

	unknown := NodeSnapshot{Dirs: map[int32]DirSnapshot{0: {Files: map[string]uint64{seg9: 6}, LogStart: -1}}}
	require.Len(t, CompareSnapshots(1, prev, unknown), 1, "an unknown log start counts as unmoved")

	moved := NodeSnapshot{Dirs: map[int32]DirSnapshot{0: {Files: map[string]uint64{seg9: 6}, LogStart: 9}}}
	require.Empty(t, CompareSnapshots(1, prev, moved), "retention may delete it")

	dirGone := NodeSnapshot{Dirs: map[int32]DirSnapshot{}}
	require.Len(t, CompareSnapshots(1, prev, dirGone), 1)
}

func TestSnapshotNodeSeesARecreatedFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "faults-4")
	require.NoError(t, os.MkdirAll(p, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p, seg0), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(p, "creek.checkpoint"), []byte("x"), 0o644))
	before, err := SnapshotNode(dir, "before", map[int32]int64{4: 0})
	require.NoError(t, err)
	require.Len(t, before.Dirs[4].Files, 1)
	require.Equal(t, int64(0), before.Dirs[4].LogStart)

	same, err := SnapshotNode(dir, "same", nil)
	require.NoError(t, err)
	require.Empty(t, CompareSnapshots(1, before, same))

	// A new file renamed over the old one: both exist at once, so the
	// inodes differ.
	require.NoError(t, os.WriteFile(filepath.Join(p, "new"), []byte("y"), 0o644))
	require.NoError(t, os.Rename(filepath.Join(p, "new"), filepath.Join(p, seg0)))
	after, err := SnapshotNode(dir, "after", nil)
	require.NoError(t, err)
	require.Len(t, CompareSnapshots(1, before, after), 1)

	missing, err := SnapshotNode(filepath.Join(dir, "absent"), "absent", nil)
	require.NoError(t, err)
	require.Empty(t, missing.Dirs)
}
