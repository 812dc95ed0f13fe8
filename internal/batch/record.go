package batch

import "math"

// minRecordSize is the smallest encoded record: a length and six one-byte
// fields (attributes, timestamp delta, offset delta, key length, value
// length, header count).
const minRecordSize = 7

// RecordHeader is one header of a record. Kafka allows repeated keys; order
// is kept.
type RecordHeader struct {
	Key   string // never null on the wire
	Value []byte // nil means null (length -1); empty non-nil means length 0
}

// Record is one record of a batch, with offset and timestamp relative to
// the batch's header (see Offset and Timestamp).
type Record struct {
	Attributes     int8  // unused by Kafka; kept as sent
	TimestampDelta int64 // from the batch's BaseTimestamp
	OffsetDelta    int32 // from the batch's BaseOffset
	Key            []byte
	Value          []byte // Key and Value: nil means null (length -1), empty non-nil means length 0
	Headers        []RecordHeader
}

// Offset returns the record's absolute offset in the batch with header h.
func (r Record) Offset(h Header) int64 { return h.BaseOffset + int64(r.OffsetDelta) }

// Timestamp returns the record's timestamp in the batch with header h: for
// a LogAppendTime batch the batch's MaxTimestamp, as Kafka defines it, and
// otherwise BaseTimestamp + TimestampDelta.
func (r Record) Timestamp(h Header) int64 {
	if h.TimestampType() == LogAppendTime {
		return h.MaxTimestamp
	}
	return h.BaseTimestamp + r.TimestampDelta
}

// recordBodySize returns the size of r's encoding after its length field,
// or -1 if it does not fit the int32 Kafka gives it.
func recordBodySize(r *Record) int {
	n := 1 + varintSize(r.TimestampDelta) + varintSize(int64(r.OffsetDelta)) +
		bytesSize(r.Key) + bytesSize(r.Value) + varintSize(int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		n += varintSize(int64(len(h.Key))) + len(h.Key) + bytesSize(h.Value)
		if n > math.MaxInt32 {
			return -1
		}
	}
	if n > math.MaxInt32 {
		return -1
	}
	return n
}

// bytesSize returns the encoded size of a nullable byte string.
func bytesSize(b []byte) int {
	if b == nil {
		return 1
	}
	return varintSize(int64(len(b))) + len(b)
}

// appendRecord appends r, whose body is bodySize bytes (recordBodySize).
func appendRecord(dst []byte, r *Record, bodySize int) []byte {
	dst = appendVarint(dst, int64(bodySize))
	dst = append(dst, byte(r.Attributes))
	dst = appendVarint(dst, r.TimestampDelta)
	dst = appendVarint(dst, int64(r.OffsetDelta))
	dst = appendBytes(dst, r.Key)
	dst = appendBytes(dst, r.Value)
	dst = appendVarint(dst, int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		dst = appendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendBytes(dst, h.Value)
	}
	return dst
}

// appendBytes appends a nullable byte string: nil as length -1.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return appendVarint(dst, -1)
	}
	dst = appendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// decodeRecord decodes the record at the start of d's unread bytes into r,
// reusing r.Headers' backing array. On failure d.bad says why and d.badAt
// where.
func decodeRecord(d *decoder, r *Record) {
	length := d.varint("bad record length")
	if d.bad != "" {
		return
	}
	if length < minRecordSize-1 || int(length) > d.left() {
		d.fail("record length out of range")
		return
	}
	end := d.off + int(length)
	body := decoder{b: d.b[:end], off: d.off}
	r.Attributes = body.int8("truncated record")
	r.TimestampDelta = body.varlong("bad timestamp delta")
	r.OffsetDelta = body.varint("bad offset delta")
	r.Key = body.bytes("bad key")
	r.Value = body.bytes("bad value")
	count := body.varint("bad header count")
	switch {
	case body.bad != "":
	case count < 0:
		body.fail("negative header count")
	case int(count) > body.left()/2: // a header is at least two bytes
		body.fail("header count out of range")
	}
	r.Headers = r.Headers[:0]
	if count > 0 && body.bad == "" && cap(r.Headers) < int(count) && !d.checkOnly {
		r.Headers = make([]RecordHeader, 0, count)
	}
	for i := int32(0); i < count && body.bad == ""; i++ {
		klen := body.varint("bad header key")
		if body.bad == "" && (klen < 0 || int(klen) > body.left()) {
			body.fail("bad header key length")
		}
		if body.bad != "" {
			break
		}
		key := body.b[body.off : body.off+int(klen)]
		body.off += int(klen)
		value := body.bytes("bad header value")
		if !d.checkOnly {
			r.Headers = append(r.Headers, RecordHeader{Key: string(key), Value: value})
		}
	}
	if len(r.Headers) == 0 {
		r.Headers = nil // one spelling of "no headers", whatever r held before
	}
	if body.bad == "" && body.off != end {
		body.fail("record length does not match its fields")
	}
	if body.bad != "" {
		d.bad, d.badAt, d.off = body.bad, body.badAt, len(d.b)
		return
	}
	d.off = end
}
