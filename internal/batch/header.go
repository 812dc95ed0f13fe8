package batch

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// RecordBatch v2 header offsets. Part of the format: never change them.
const (
	batchBaseOffset           = 0  // int64, set by the leader; outside the CRC
	batchLength               = 8  // int32, bytes after this field
	batchPartitionLeaderEpoch = 12 // int32, set by the leader; outside the CRC
	batchMagic                = 16 // int8, must be 2
	batchCRC                  = 17 // uint32, CRC-32C over [batchAttributes:]
	batchAttributes           = 21 // int16
	batchLastOffsetDelta      = 23 // int32
	batchBaseTimestamp        = 27 // int64
	batchMaxTimestamp         = 35 // int64
	batchProducerID           = 43 // int64
	batchProducerEpoch        = 51 // int16
	batchBaseSequence         = 53 // int32
	batchNumRecords           = 57 // int32
)

const (
	// HeaderSize is the size of a RecordBatch v2 header; records follow it.
	HeaderSize = 61
	// LengthFieldEnd is the number of bytes before those the Length field
	// counts: a batch is LengthFieldEnd + Length bytes long.
	LengthFieldEnd = 12
	// MagicV2 is the only magic (format version) this package reads.
	MagicV2 = 2
	// MaxLength is the largest Length accepted, so that a batch's size fits
	// an int32 like every other Kafka size.
	MaxLength = math.MaxInt32 - LengthFieldEnd

	// minLength is the Length of a batch with no record bytes.
	minLength = HeaderSize - LengthFieldEnd
)

// Attribute bits. Bits 7-15 are unused and kept as sent.
const (
	attrCompression   = 0x07 // bits 0-2: Compression
	attrLogAppendTime = 0x08 // bit 3: TimestampType
	attrTransactional = 0x10 // bit 4
	attrControl       = 0x20 // bit 5
	attrDeleteHorizon = 0x40 // bit 6: KIP-534
)

// castagnoli is the CRC-32C table; crc32 uses the CPU's instruction for it
// where there is one.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// TimestampType says what a batch's timestamps mean (attribute bit 3).
type TimestampType int8

const (
	// CreateTime timestamps are set by the producer, per record.
	CreateTime TimestampType = 0
	// LogAppendTime means the broker stamped the batch on append: every
	// record's timestamp is the batch's MaxTimestamp.
	LogAppendTime TimestampType = 1
)

// String returns Kafka's name for t.
func (t TimestampType) String() string {
	switch t {
	case CreateTime:
		return "CreateTime"
	case LogAppendTime:
		return "LogAppendTime"
	}
	return fmt.Sprintf("TimestampType(%d)", int8(t))
}

// Header is the 61-byte header of a batch, decoded. Field comments give
// Kafka's names where they differ.
type Header struct {
	BaseOffset           int64  // offset of the first record
	Length               int32  // batchLength: bytes after the Length field
	PartitionLeaderEpoch int32  // leader epoch of the leader that appended it
	Magic                int8   // format version; 2
	CRC                  uint32 // CRC-32C over the bytes from Attributes on
	Attributes           int16  // see the accessors
	LastOffsetDelta      int32  // BaseOffset + LastOffsetDelta is the last offset
	BaseTimestamp        int64  // timestamp record deltas are relative to
	MaxTimestamp         int64  // largest record timestamp, or the append time
	ProducerID           int64  // -1 when the producer is not idempotent
	ProducerEpoch        int16  // -1 when the producer is not idempotent
	BaseSequence         int32  // sequence of the first record, or -1
	NumRecords           int32  // recordCount
}

// Compression returns the codec of the records (attribute bits 0-2).
func (h Header) Compression() Compression { return Compression(h.Attributes & attrCompression) }

// TimestampType returns what the batch's timestamps mean (attribute bit 3).
func (h Header) TimestampType() TimestampType {
	if h.Attributes&attrLogAppendTime != 0 {
		return LogAppendTime
	}
	return CreateTime
}

// Transactional reports whether the batch belongs to a transaction
// (attribute bit 4).
func (h Header) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds control records such as
// transaction commit and abort markers (attribute bit 5).
func (h Header) Control() bool { return h.Attributes&attrControl != 0 }

// HasDeleteHorizon reports whether compaction has set BaseTimestamp to the
// time after which tombstones and abort markers may go (attribute bit 6,
// KIP-534).
func (h Header) HasDeleteHorizon() bool { return h.Attributes&attrDeleteHorizon != 0 }

// LastOffset returns the offset of the batch's last record, which is also
// the offset it covers last when compaction has removed records.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset returns the offset that follows the batch: LastOffset() + 1.
func (h Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Size returns the total size of the batch in bytes: LengthFieldEnd + Length.
func (h Header) Size() int { return LengthFieldEnd + int(h.Length) }

// ParseHeader decodes the header at the start of b without checking the CRC
// or reading past HeaderSize. It does not retain b.
//
// ParseHeader returns a *CorruptError if b is shorter than HeaderSize (its
// Err is io.ErrUnexpectedEOF), if the magic is not 2, or if Length is below
// the header's own size or above MaxLength.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, short(len(b), "short header")
	}
	if magic := int8(b[batchMagic]); magic != MagicV2 {
		return Header{}, corruptf(batchMagic, "magic %d, want %d", magic, MagicV2)
	}
	length := int32(binary.BigEndian.Uint32(b[batchLength:]))
	if err := checkLength(length); err != nil {
		return Header{}, err
	}
	return Header{
		BaseOffset:           int64(binary.BigEndian.Uint64(b[batchBaseOffset:])),
		Length:               length,
		PartitionLeaderEpoch: int32(binary.BigEndian.Uint32(b[batchPartitionLeaderEpoch:])),
		Magic:                MagicV2,
		CRC:                  binary.BigEndian.Uint32(b[batchCRC:]),
		Attributes:           int16(binary.BigEndian.Uint16(b[batchAttributes:])),
		LastOffsetDelta:      int32(binary.BigEndian.Uint32(b[batchLastOffsetDelta:])),
		BaseTimestamp:        int64(binary.BigEndian.Uint64(b[batchBaseTimestamp:])),
		MaxTimestamp:         int64(binary.BigEndian.Uint64(b[batchMaxTimestamp:])),
		ProducerID:           int64(binary.BigEndian.Uint64(b[batchProducerID:])),
		ProducerEpoch:        int16(binary.BigEndian.Uint16(b[batchProducerEpoch:])),
		BaseSequence:         int32(binary.BigEndian.Uint32(b[batchBaseSequence:])),
		NumRecords:           int32(binary.BigEndian.Uint32(b[batchNumRecords:])),
	}, nil
}

// checkLength rejects a Length that cannot belong to a batch.
func checkLength(length int32) error {
	if length < minLength {
		return corruptf(batchLength, "length %d below the header's %d", length, minLength)
	}
	if length > MaxLength {
		return corruptf(batchLength, "length %d above %d", length, MaxLength)
	}
	return nil
}

// Validate checks that b holds exactly one whole batch whose bytes are
// intact, and returns its header. It does not decode records, does not
// retain b and does not allocate unless it fails.
//
// Beyond ParseHeader's checks it requires that len(b) == Size(), the CRC-32C
// matches, the codec is known, LastOffsetDelta >= 0, and 0 <= NumRecords <=
// LastOffsetDelta+1 (compaction leaves gaps, so fewer records than offsets
// is fine). Uncompressed, the records must have room for NumRecords minimal
// records and be empty when there are none; compressed, they must be
// non-empty when NumRecords > 0. Errors are *CorruptError; b shorter than
// the batch gives one whose Err is io.ErrUnexpectedEOF.
func Validate(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Header{}, err
	}
	size := h.Size()
	if len(b) < size {
		return Header{}, short(len(b), "short batch")
	}
	if len(b) > size {
		return Header{}, corruptf(size, "%d bytes after the batch", len(b)-size)
	}
	if crc := crc32.Checksum(b[batchAttributes:], castagnoli); crc != h.CRC {
		return Header{}, corruptf(batchCRC, "crc %#08x, computed %#08x", h.CRC, crc)
	}
	if c := h.Compression(); !c.known() {
		return Header{}, corruptf(batchAttributes, "unknown compression %d", int8(c))
	}
	if h.LastOffsetDelta < 0 {
		return Header{}, corruptf(batchLastOffsetDelta, "negative last offset delta %d", h.LastOffsetDelta)
	}
	if h.NumRecords < 0 {
		return Header{}, corruptf(batchNumRecords, "negative record count %d", h.NumRecords)
	}
	if int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
		return Header{}, corruptf(batchNumRecords, "%d records in %d offsets", h.NumRecords, int64(h.LastOffsetDelta)+1)
	}
	payload := size - HeaderSize
	switch {
	case h.Compression() == None && int64(h.NumRecords)*minRecordSize > int64(payload):
		return Header{}, corruptf(batchNumRecords, "%d records cannot fit in %d bytes", h.NumRecords, payload)
	case h.Compression() == None && h.NumRecords == 0 && payload > 0:
		return Header{}, corruptf(HeaderSize, "%d record bytes for no records", payload)
	case h.NumRecords > 0 && payload == 0:
		return Header{}, corruptf(HeaderSize, "no record bytes for %d records", h.NumRecords)
	}
	return h, nil
}

// Next splits the first batch off b, a run of concatenated batches such as a
// segment holds or a fetch returns. batch and rest alias b; batch's capacity
// ends with it, so appending to batch cannot overwrite rest. Next checks the
// length and magic but not the CRC: call Validate for that.
//
// Next returns io.EOF if b is empty. If b ends inside the batch — a torn
// write, or a fetch cut at its byte limit — it returns a *CorruptError
// whose Err is io.ErrUnexpectedEOF (Reason "short batch"), so callers can
// tell it apart with errors.Is(err, io.ErrUnexpectedEOF). Other errors are
// *CorruptError too. A short batch also matches ErrCorrupt, so test for
// io.ErrUnexpectedEOF first.
func Next(b []byte) (batch, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, io.EOF
	}
	if len(b) < LengthFieldEnd {
		return nil, b, short(len(b), "short batch")
	}
	length := int32(binary.BigEndian.Uint32(b[batchLength:]))
	if err := checkLength(length); err != nil {
		return nil, b, err
	}
	if len(b) > batchMagic {
		if magic := int8(b[batchMagic]); magic != MagicV2 {
			return nil, b, corruptf(batchMagic, "magic %d, want %d", magic, MagicV2)
		}
	}
	size := LengthFieldEnd + int(length)
	if len(b) < size {
		return nil, b, short(len(b), "short batch")
	}
	return b[:size:size], b[size:], nil
}

// SetBaseOffset sets the batch's base offset in place, as a leader does on
// append. The CRC does not cover it, so the batch stays valid. b must hold
// at least a header (it panics otherwise, like binary.BigEndian.PutUint64).
func SetBaseOffset(b []byte, offset int64) {
	binary.BigEndian.PutUint64(b[batchBaseOffset:batchBaseOffset+8], uint64(offset))
}

// SetPartitionLeaderEpoch sets the batch's partition leader epoch in place,
// as a leader does on append. The CRC does not cover it. b must hold at
// least a header (it panics otherwise).
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[batchPartitionLeaderEpoch:batchPartitionLeaderEpoch+4], uint32(epoch))
}

// SetLogAppendTime stamps the batch in place for a topic whose
// message.timestamp.type is LogAppendTime: it sets attribute bit 3 and
// MaxTimestamp to ts, so that every record's timestamp reads as ts. Both
// fields are inside the CRC, so unlike SetBaseOffset it recomputes the CRC
// over the whole batch; the records themselves are not touched.
//
// b must hold one whole batch as Validate accepts (it may be followed by
// other bytes, which are not read); it panics if b is shorter than the
// Length field says.
func SetLogAppendTime(b []byte, ts int64) {
	size := LengthFieldEnd + int(int32(binary.BigEndian.Uint32(b[batchLength:])))
	b = b[:size]
	attrs := binary.BigEndian.Uint16(b[batchAttributes:])
	binary.BigEndian.PutUint16(b[batchAttributes:], attrs|attrLogAppendTime)
	binary.BigEndian.PutUint64(b[batchMaxTimestamp:], uint64(ts))
	putCRC(b)
}

// putHeader writes h into b[:HeaderSize], CRC excluded: the CRC is computed
// once the records follow it.
func putHeader(b []byte, h *Header) {
	_ = b[HeaderSize-1]
	binary.BigEndian.PutUint64(b[batchBaseOffset:], uint64(h.BaseOffset))
	binary.BigEndian.PutUint32(b[batchLength:], uint32(h.Length))
	binary.BigEndian.PutUint32(b[batchPartitionLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[batchMagic] = byte(h.Magic)
	binary.BigEndian.PutUint16(b[batchAttributes:], uint16(h.Attributes))
	binary.BigEndian.PutUint32(b[batchLastOffsetDelta:], uint32(h.LastOffsetDelta))
	binary.BigEndian.PutUint64(b[batchBaseTimestamp:], uint64(h.BaseTimestamp))
	binary.BigEndian.PutUint64(b[batchMaxTimestamp:], uint64(h.MaxTimestamp))
	binary.BigEndian.PutUint64(b[batchProducerID:], uint64(h.ProducerID))
	binary.BigEndian.PutUint16(b[batchProducerEpoch:], uint16(h.ProducerEpoch))
	binary.BigEndian.PutUint32(b[batchBaseSequence:], uint32(h.BaseSequence))
	binary.BigEndian.PutUint32(b[batchNumRecords:], uint32(h.NumRecords))
}

// putCRC computes and stores the CRC of the batch in b.
func putCRC(b []byte) {
	binary.BigEndian.PutUint32(b[batchCRC:], crc32.Checksum(b[batchAttributes:], castagnoli))
}
