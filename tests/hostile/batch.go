package hostile

import (
	"encoding/binary"
	"hash/crc32"
	"time"
)

// Record batch v2 layout: the offsets of its header's fields and the
// header's size.
const (
	BatchBaseOffsetAt      = 0  // int64
	BatchLengthAt          = 8  // int32: bytes after this field
	BatchCRCAt             = 17 // uint32: CRC-32C of the bytes from attributes on
	BatchAttributesAt      = 21 // int16
	BatchLastOffsetDeltaAt = 23 // int32
	BatchRecordCountAt     = 57 // int32
	BatchHeaderBytes       = 61 // the records start here
)

// Compression codecs in a batch's attributes.
const (
	CodecNone int16 = 0
	CodecGzip int16 = 1
	CodecZstd int16 = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Batch is a record batch (magic 2) whose every field the caller may set,
// true or not; AppendTo only computes its length and CRC.
type Batch struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordCount          int32
	// Records is the records section as sent: encoded records, or their
	// compressed bytes.
	Records []byte
}

// ValuesBatch is an honest, uncompressed, non-idempotent batch of one
// record (no key) per value.
func ValuesBatch(values ...[]byte) Batch {
	var records []byte
	for i, v := range values {
		records = AppendRecord(records, int32(i), nil, v)
	}
	now := time.Now().UnixMilli()
	return Batch{
		PartitionLeaderEpoch: -1,
		LastOffsetDelta:      int32(len(values) - 1),
		FirstTimestamp:       now,
		MaxTimestamp:         now,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		BaseSequence:         -1,
		RecordCount:          int32(len(values)),
		Records:              records,
	}
}

// AppendTo appends the batch's bytes, with its length and a correct CRC.
func (b Batch) AppendTo(dst []byte) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.BaseOffset))
	dst = binary.BigEndian.AppendUint32(dst, 0) // length, below
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.PartitionLeaderEpoch))
	dst = append(dst, 2)                        // magic
	dst = binary.BigEndian.AppendUint32(dst, 0) // CRC, below
	dst = binary.BigEndian.AppendUint16(dst, uint16(b.Attributes))
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.LastOffsetDelta))
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.FirstTimestamp))
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.MaxTimestamp))
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.ProducerID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(b.ProducerEpoch))
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.BaseSequence))
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.RecordCount))
	dst = append(dst, b.Records...)
	binary.BigEndian.PutUint32(dst[start+BatchLengthAt:], uint32(len(dst)-start-12))
	binary.BigEndian.PutUint32(dst[start+BatchCRCAt:], crc32.Checksum(dst[start+BatchAttributesAt:], castagnoli))
	return dst
}

// Bytes is AppendTo(nil).
func (b Batch) Bytes() []byte { return b.AppendTo(nil) }

// AppendRecord appends one record: its varint length, attributes 0, a
// zero timestamp delta, offsetDelta, key (nil for none), value and no
// headers.
func AppendRecord(dst []byte, offsetDelta int32, key, value []byte) []byte {
	body := RecordHead(offsetDelta, key, int64(len(value)))
	body = append(body, value...)
	body = append(body, RecordTail()...)
	dst = binary.AppendVarint(dst, int64(len(body)))
	return append(dst, body...)
}

// RecordHead is the start of a record's body, after its length: the
// attributes, timestamp and offset deltas, key and the value's length,
// for a value of valueLen bytes that follows it, then RecordTail.
func RecordHead(offsetDelta int32, key []byte, valueLen int64) []byte {
	b := []byte{0}                // attributes
	b = binary.AppendVarint(b, 0) // timestamp delta
	b = binary.AppendVarint(b, int64(offsetDelta))
	if key == nil {
		b = binary.AppendVarint(b, -1)
	} else {
		b = binary.AppendVarint(b, int64(len(key)))
		b = append(b, key...)
	}
	return binary.AppendVarint(b, valueLen)
}

// RecordTail ends a record's body: a header count of zero.
func RecordTail() []byte { return binary.AppendVarint(nil, 0) }
