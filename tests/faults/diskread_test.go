package main

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// encodeBatch encodes an uncompressed RecordBatch v2 at base holding
// values, with attributes attrs, as a segment file holds it.
func encodeBatch(base int64, attrs int16, values ...string) []byte {
	var records []byte
	for i, v := range values {
		r := kmsg.Record{OffsetDelta: int32(i), Key: nil, Value: []byte(v)}
		body := r.AppendTo(nil)[1:] // without its (zero) length
		r.Length = int32(len(body))
		records = r.AppendTo(records)
	}
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, Attributes: attrs, LastOffsetDelta: int32(len(values) - 1),
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(values)), Records: records}
	b.Length = int32(49 + len(records))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:21], crc32.Checksum(out[21:], castagnoli))
	return out
}

func TestDecodeSegment(t *testing.T) {
	data := append(encodeBatch(0, 0, "a", "b"), encodeBatch(2, controlBatch, "marker")...)
	data = append(data, encodeBatch(3, 0, "c")...)
	got, tail := DecodeSegment(data)
	require.Empty(t, tail)
	require.Equal(t, []Record{{0, "a"}, {1, "b"}, {3, "c"}}, got)
}

func TestDecodeSegmentStopsAtAShortTail(t *testing.T) {
	next := encodeBatch(2, 0, "c", "d")
	for _, cut := range []int{1, 20, batchHeader, len(next) - 1} {
		data := append(encodeBatch(0, 0, "a", "b"), next[:cut]...)
		got, tail := DecodeSegment(data)
		require.NotEmpty(t, tail, "cut at %d", cut)
		require.Equal(t, []Record{{0, "a"}, {1, "b"}}, got, "cut at %d", cut)
	}
}

func TestDecodeSegmentStopsAtAGarbledBatch(t *testing.T) {
	next := encodeBatch(2, 0, "c")
	next[len(next)-1] ^= 0xff // the CRC no longer matches
	data := append(encodeBatch(0, 0, "a"), next...)
	data = append(data, encodeBatch(3, 0, "d")...)
	got, tail := DecodeSegment(data)
	require.Contains(t, tail, "CRC")
	require.Equal(t, []Record{{0, "a"}}, got)

	zeros := append(encodeBatch(0, 0, "a"), make([]byte, 100)...) // a preallocated, unwritten tail
	got, tail = DecodeSegment(zeros)
	require.NotEmpty(t, tail)
	require.Equal(t, []Record{{0, "a"}}, got)
}

func TestReadNodeFiles(t *testing.T) {
	dir := t.TempDir()
	p0 := filepath.Join(dir, "faults-0")
	require.NoError(t, os.MkdirAll(p0, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p0, "00000000000000000000.log"), encodeBatch(0, 0, "a", "b"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(p0, "00000000000000000002.log"), encodeBatch(2, 0, "c"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(p0, "00000000000000000000.index"), []byte("not a log"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "faults-1"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "faults-2.abc-stray"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "other-0"), 0o755))

	nf, err := ReadNodeFiles(dir)
	require.NoError(t, err)
	require.Equal(t, map[int32][]Record{0: {{0, "a"}, {1, "b"}, {2, "c"}}, 1: nil}, nf.Partitions)
	require.Equal(t, 1, nf.StrayDirs)
	require.Empty(t, nf.Tails)
}
