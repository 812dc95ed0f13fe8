package creek

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

// TestCheckAndRepairADamagedLog: CheckLog finds nothing wrong with a sound
// log, and names the segment, position and bytes lost of a damaged one
// without changing it; RepairLog cuts the segment there, and the log then
// opens and reads everything before the damage and every later segment,
// and takes appends.
func TestCheckAndRepairADamagedLog(t *testing.T) {
	dir := t.TempDir()
	fs := fsx.OS()
	cfg := LogConfig{SegmentBytes: 1024}
	l := mustOpen(t, fs, dir, cfg)
	batches := appendN(t, l, 20, 2, 100)
	require.NoError(t, l.Close())

	check, err := CheckLog(dir)
	require.NoError(t, err)
	assert.Empty(t, check.Damage)
	assert.Equal(t, int64(20), check.Batches)
	segments := check.Segments
	require.Greater(t, segments, 3)

	// Damage the base offset of the second batch of the first segment.
	at := len(batches[0])
	editFile(t, fs, segmentPath(dir, 0, logSuffix), func(b []byte) []byte { b[at+7] ^= 0x40; return b })
	check, err = CheckLog(dir)
	require.NoError(t, err)
	require.Len(t, check.Damage, 1)
	d := check.Damage[0]
	assert.Equal(t, segmentPath(dir, 0, logSuffix), d.Path)
	assert.Equal(t, int64(at), d.Position)
	assert.Equal(t, int64(0), d.Base)
	again, err := CheckLog(dir)
	require.NoError(t, err)
	assert.Equal(t, check, again, "checking changes nothing")

	repaired, err := RepairLog(dir)
	require.NoError(t, err)
	assert.Equal(t, check, repaired)
	check, err = CheckLog(dir)
	require.NoError(t, err)
	assert.Empty(t, check.Damage, "sound after the repair")

	l = mustOpen(t, fs, dir, cfg)
	got := readAll(t, l)
	require.Equal(t, batches[0], got[0], "the batch before the damage")
	lost := 0
	for _, b := range batches[1:] {
		if int64(binary.BigEndian.Uint64(b)) < l.segments[1].base {
			lost++
		}
	}
	assert.Equal(t, batches[1+lost:], got[1:], "every later segment")
	appendN(t, l, 1, 2, 100)
}
