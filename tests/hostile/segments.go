package hostile

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// PartitionDir is where a node with data directory data keeps topic's
// partition: <data>/<topic>-<partition>.
func PartitionDir(data, topic string, partition int32) string {
	return filepath.Join(data, fmt.Sprintf("%s-%d", topic, partition))
}

// LogFiles lists the segment .log files in dir, oldest (lowest base
// offset, which names them zero-padded) first.
func LogFiles(dir string) ([]string, error) {
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, err
	}
	slices.Sort(logs)
	return logs, nil
}

// SegmentBatch is one batch's place in a segment file, as its header
// says.
type SegmentBatch struct {
	Pos             int64 // where it starts in the file
	BaseOffset      int64
	Length          int32 // bytes after the length field
	LastOffsetDelta int32
	RecordCount     int32
}

// End is the position after the batch.
func (b SegmentBatch) End() int64 { return b.Pos + 12 + int64(b.Length) }

// LastOffset is the offset of the batch's last record.
func (b SegmentBatch) LastOffset() int64 { return b.BaseOffset + int64(b.LastOffsetDelta) }

// SegmentBatches walks a segment file's batches by their length fields.
func SegmentBatches(path string) ([]SegmentBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []SegmentBatch
	var head [BatchHeaderBytes]byte
	for pos := int64(0); ; {
		if _, err := f.ReadAt(head[:], pos); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, fmt.Errorf("%s at %d: %w", path, pos, err)
		}
		b := SegmentBatch{
			Pos:             pos,
			BaseOffset:      int64(binary.BigEndian.Uint64(head[BatchBaseOffsetAt:])),
			Length:          int32(binary.BigEndian.Uint32(head[BatchLengthAt:])),
			LastOffsetDelta: int32(binary.BigEndian.Uint32(head[BatchLastOffsetDeltaAt:])),
			RecordCount:     int32(binary.BigEndian.Uint32(head[BatchRecordCountAt:])),
		}
		if b.Length < BatchHeaderBytes-12 {
			return out, fmt.Errorf("%s at %d: batch length %d", path, pos, b.Length)
		}
		out = append(out, b)
		pos = b.End()
	}
}

// FlipByte XORs the byte at pos in path with mask and returns the byte's
// value before and after.
func FlipByte(path string, pos int64, mask byte) (before, after byte, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], pos); err != nil {
		return 0, 0, err
	}
	before = b[0]
	b[0] ^= mask
	if _, err := f.WriteAt(b[:], pos); err != nil {
		return 0, 0, err
	}
	return before, b[0], f.Sync()
}
