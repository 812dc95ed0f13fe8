package batch

import (
	"errors"
	"fmt"
	"math"
)

// noProducer is Kafka's ProducerID, ProducerEpoch and BaseSequence for a
// batch from a producer that is not idempotent.
const noProducer = -1

// BuildOptions says how to build a batch. The zero value builds an
// uncompressed data batch from a producer that is neither idempotent nor
// transactional. The built batch has BaseOffset 0 and PartitionLeaderEpoch
// -1, for the leader to set, and the CreateTime timestamp type (see
// SetLogAppendTime).
type BuildOptions struct {
	// Compression is the codec for the records; default None.
	Compression Compression
	// CompressionLevel is the codec's level, in the range Kafka accepts:
	// gzip 1-9, lz4 1-17 (levels past 9 compress as 9), zstd -131072 to 22.
	// Zero, the default, means the codec's default. Snappy and None take
	// none.
	CompressionLevel int
	// BaseTimestamp is the timestamp that records' TimestampDelta is
	// relative to. For Builder.Add, zero means the first record's
	// timestamp, as Kafka's producer does.
	BaseTimestamp int64
	// LastOffsetDelta is the least LastOffsetDelta to write; the last
	// record's OffsetDelta is used if greater. Compaction sets it to keep a
	// batch's offset range when it drops the batch's last records, as Kafka
	// does so that producer sequence numbers stay consistent. Default 0.
	LastOffsetDelta int32
	// Idempotent stamps ProducerID, ProducerEpoch and BaseSequence into the
	// batch. Without it all three are written as -1 (Kafka's "no producer")
	// and must be left zero. A transaction marker carries BaseSequence -1.
	Idempotent    bool
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	// Transactional marks the batch as part of a transaction (bit 4).
	Transactional bool
	// Control marks a batch of control records such as transaction
	// markers (bit 5).
	Control bool
}

// validate reports every problem with o.
func (o BuildOptions) validate() error {
	var errs []error
	if !o.Compression.known() {
		errs = append(errs, fmt.Errorf("batch: unknown compression %d", int8(o.Compression)))
	} else if err := o.Compression.checkLevel(o.CompressionLevel); err != nil {
		errs = append(errs, err)
	}
	if o.LastOffsetDelta < 0 {
		errs = append(errs, fmt.Errorf("batch: negative LastOffsetDelta %d", o.LastOffsetDelta))
	}
	if !o.Idempotent && (o.ProducerID != 0 || o.ProducerEpoch != 0 || o.BaseSequence != 0) {
		errs = append(errs, errors.New("batch: ProducerID, ProducerEpoch and BaseSequence need Idempotent"))
	}
	return errors.Join(errs...)
}

// attributes returns the attribute bits o asks for.
func (o BuildOptions) attributes() int16 {
	a := int16(o.Compression) & attrCompression
	if o.Transactional {
		a |= attrTransactional
	}
	if o.Control {
		a |= attrControl
	}
	return a
}

// BuildOptions returns the options that rebuild a batch like the one with
// header h: same codec (at its default level), base timestamp, last offset
// delta, producer and flags. Compaction uses it to rewrite a batch without
// some of its records. The timestamp type is not an option: call
// SetLogAppendTime on the result if h has LogAppendTime.
func (h Header) BuildOptions() BuildOptions {
	o := BuildOptions{
		Compression:     h.Compression(),
		BaseTimestamp:   h.BaseTimestamp,
		LastOffsetDelta: h.LastOffsetDelta,
		Transactional:   h.Transactional(),
		Control:         h.Control(),
	}
	if h.ProducerID != noProducer || h.ProducerEpoch != noProducer || h.BaseSequence != noProducer {
		o.Idempotent = true
		o.ProducerID, o.ProducerEpoch, o.BaseSequence = h.ProducerID, h.ProducerEpoch, h.BaseSequence
	}
	return o
}

// Builder builds one batch at a time from records added in order. The zero
// value builds with the zero BuildOptions; Reset starts a new batch and
// keeps the Builder's memory, so a reused Builder allocates little. A
// Builder is not safe for concurrent use.
type Builder struct {
	opts      BuildOptions
	buf       []byte // HeaderSize bytes for the header, then the records uncompressed
	out       []byte // the batch when compressed
	n         int32  // records added
	lastDelta int64  // OffsetDelta of the last record; -1 before the first
	base      int64  // BaseTimestamp, once baseSet
	baseSet   bool
	maxTS     int64 // largest record timestamp
	err       error // sticky: bad options or a batch too large
}

// Reset starts a new batch with opts, dropping any records added. A problem
// with opts is reported by Build (and AddRecord).
func (b *Builder) Reset(opts BuildOptions) {
	b.opts = opts
	b.buf = grow(b.buf[:0], HeaderSize)[:HeaderSize]
	b.n, b.lastDelta, b.base, b.baseSet, b.maxTS = 0, -1, 0, false, 0
	b.err = opts.validate()
}

// Grow makes room for n more bytes of records, so that adding them does
// not grow the buffer record by record.
func (b *Builder) Grow(n int) {
	b.start()
	b.buf = grow(b.buf, n)
}

// Cap returns the bytes the Builder holds on to, for a pool to decide
// whether to keep it.
func (b *Builder) Cap() int { return cap(b.buf) + cap(b.out) }

// start makes a zero Builder ready, as Reset with zero options.
func (b *Builder) start() {
	if len(b.buf) < HeaderSize {
		b.Reset(b.opts)
	}
}

// setBase fixes the batch's base timestamp when the first record arrives.
func (b *Builder) setBase(first int64) {
	if b.baseSet {
		return
	}
	b.base, b.baseSet = b.opts.BaseTimestamp, true
	if b.base == 0 {
		b.base = first
	}
}

// Add appends a record with the next offset delta (0, 1, 2...) and the
// absolute timestamp in milliseconds. A nil key or value is null; headers
// may be nil. Add copies what it needs and does not retain its arguments.
// A batch grown past MaxLength makes Build fail.
func (b *Builder) Add(key, value []byte, headers []RecordHeader, timestamp int64) {
	b.start()
	if b.err != nil {
		return
	}
	if b.lastDelta == math.MaxInt32 {
		b.err = errors.New("batch: more than 2^31 offsets in a batch")
		return
	}
	b.setBase(timestamp)
	r := Record{
		TimestampDelta: timestamp - b.base,
		OffsetDelta:    int32(b.lastDelta + 1),
		Key:            key,
		Value:          value,
		Headers:        headers,
	}
	b.add(&r, timestamp)
}

// AddRecord appends r as it is: its TimestampDelta is relative to the
// batch's base timestamp (BuildOptions.BaseTimestamp, or the first Add's
// timestamp) and its OffsetDelta must exceed the previous record's.
// Compaction uses it to copy records unchanged. It returns an error, without
// adding r, if r's offset delta is out of order or the options are bad.
func (b *Builder) AddRecord(r Record) error {
	b.start()
	if b.err != nil {
		return b.err
	}
	if r.OffsetDelta < 0 || int64(r.OffsetDelta) <= b.lastDelta {
		return fmt.Errorf("batch: record offset delta %d after %d", r.OffsetDelta, b.lastDelta)
	}
	b.setBase(b.opts.BaseTimestamp)
	b.add(&r, b.base+r.TimestampDelta)
	return b.err
}

// add appends r, whose absolute timestamp is ts.
func (b *Builder) add(r *Record, ts int64) {
	body := recordBodySize(r)
	if body < 0 || len(b.buf)-LengthFieldEnd+varintSize(int64(body))+body > MaxLength {
		b.err = fmt.Errorf("batch: records past the %d-byte limit", MaxLength)
		return
	}
	b.buf = appendRecord(b.buf, r, body)
	if b.n == 0 || ts > b.maxTS {
		b.maxTS = ts
	}
	b.n++
	b.lastDelta = int64(r.OffsetDelta)
}

// Len returns the number of records added since Reset.
func (b *Builder) Len() int { return int(b.n) }

// Size returns the size the batch would have uncompressed: the header and
// the records added so far. A compressed batch is usually smaller; a
// producer compares Size with its batch.size.
func (b *Builder) Size() int { return max(len(b.buf), HeaderSize) }

// Build returns the batch: header filled in, records compressed if the
// options say so, CRC computed. The result passes Validate. It is the
// Builder's own memory, valid until the Builder is next used: copy it (or
// use AppendTo) to keep it. Build may be called again after more Adds.
//
// Build fails if the options are bad or the batch would pass MaxLength.
// With no records it builds an empty batch (as compaction leaves to keep a
// producer's state), with no record bytes whatever the codec.
func (b *Builder) Build() ([]byte, error) {
	b.start()
	if b.err != nil {
		return nil, b.err
	}
	h := b.header()
	if h.Compression() == None || b.n == 0 {
		h.Length = int32(len(b.buf) - LengthFieldEnd)
		putHeader(b.buf, &h)
		putCRC(b.buf)
		return b.buf, nil
	}
	out, err := b.appendCompressed(b.out[:0], &h)
	if err != nil {
		return nil, err
	}
	b.out = out
	return out, nil
}

// AppendTo appends the batch Build would return to dst and returns the
// result, leaving dst's owner in charge of it.
func (b *Builder) AppendTo(dst []byte) ([]byte, error) {
	b.start()
	if b.err != nil {
		return dst, b.err
	}
	h := b.header()
	if h.Compression() == None || b.n == 0 {
		out, err := b.Build()
		if err != nil {
			return dst, err
		}
		return append(dst, out...), nil
	}
	return b.appendCompressed(dst, &h)
}

// header returns the batch header, without Length and CRC.
func (b *Builder) header() Header {
	base := b.opts.BaseTimestamp
	if b.baseSet {
		base = b.base
	}
	maxTS := base
	if b.n > 0 {
		maxTS = b.maxTS
	}
	h := Header{
		PartitionLeaderEpoch: -1,
		Magic:                MagicV2,
		Attributes:           b.opts.attributes(),
		LastOffsetDelta:      int32(max(int64(b.opts.LastOffsetDelta), b.lastDelta)),
		BaseTimestamp:        base,
		MaxTimestamp:         maxTS,
		ProducerID:           noProducer,
		ProducerEpoch:        noProducer,
		BaseSequence:         noProducer,
		NumRecords:           b.n,
	}
	if b.opts.Idempotent {
		h.ProducerID, h.ProducerEpoch, h.BaseSequence = b.opts.ProducerID, b.opts.ProducerEpoch, b.opts.BaseSequence
	}
	return h
}

// appendCompressed appends the batch with header h to dst, compressing the
// records.
func (b *Builder) appendCompressed(dst []byte, h *Header) ([]byte, error) {
	start := len(dst)
	dst = grow(dst, HeaderSize)[:start+HeaderSize]
	dst, err := h.Compression().appendCompressed(dst, b.buf[HeaderSize:], b.opts.CompressionLevel)
	if err != nil {
		return dst[:start], fmt.Errorf("batch: compress records with %s: %w", h.Compression(), err)
	}
	batch := dst[start:]
	if len(batch)-LengthFieldEnd > MaxLength {
		return dst[:start], fmt.Errorf("batch: compressed records past the %d-byte limit", MaxLength)
	}
	h.Length = int32(len(batch) - LengthFieldEnd)
	putHeader(batch, h)
	putCRC(batch)
	return dst, nil
}

// Build builds a batch of records as they are, as Builder.AddRecord adds
// them: their OffsetDelta must increase and their TimestampDelta is
// relative to opts.BaseTimestamp. It is the inverse of Records. The result
// is new memory that Build does not retain; the records are not retained.
func Build(opts BuildOptions, records ...Record) ([]byte, error) {
	size := HeaderSize
	for i := range records {
		size += 5 + max(recordBodySize(&records[i]), 0) // 5: the largest length varint
	}
	if size > MaxLength {
		size = HeaderSize // Build will fail; do not allocate for it
	}
	b := Builder{buf: make([]byte, 0, size)}
	b.Reset(opts)
	for _, r := range records {
		if err := b.AddRecord(r); err != nil {
			return nil, err
		}
	}
	return b.Build()
}
