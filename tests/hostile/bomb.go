package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// BombRecords compresses, with codec (CodecGzip or CodecZstd), a records
// section of one record whose value is valueLen zero bytes, and returns
// the compressed bytes. Nothing of valueLen's size is held in memory.
func BombRecords(codec int16, valueLen int64) ([]byte, error) {
	var out bytes.Buffer
	var w io.WriteCloser
	switch codec {
	case CodecGzip:
		w = gzip.NewWriter(&out)
	case CodecZstd:
		zw, err := zstd.NewWriter(&out, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		w = zw
	default:
		return nil, fmt.Errorf("no bomb for codec %d", codec)
	}
	head := RecordHead(0, nil, valueLen)
	tail := RecordTail()
	record := binary.AppendVarint(nil, int64(len(head))+valueLen+int64(len(tail)))
	record = append(record, head...)
	if _, err := w.Write(record); err != nil {
		return nil, err
	}
	zeros := make([]byte, 1<<20)
	for left := valueLen; left > 0; {
		n := min(int64(len(zeros)), left)
		if _, err := w.Write(zeros[:n]); err != nil {
			return nil, err
		}
		left -= n
	}
	if _, err := w.Write(tail); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
