// Record, and Log.AppendRecords and ReadRecords over records rather than
// batches.

package creek

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/creekmq/creek/internal/batch"
)

// Record is one Kafka record.
type Record struct {
	// Topic and Partition say where a producer sends the record (Partition
	// only with ManualPartitioner) and where a consumer got it. A Log
	// ignores them.
	Topic     string
	Partition int32

	// Key and Value are the record's bytes; nil means null, which for a
	// value in a compacted log is a tombstone.
	Key, Value []byte
	// Headers are the record's headers, in order.
	Headers []RecordHeader
	// Timestamp is the record's time; zero means the time of the append.
	Timestamp time.Time
	// Offset is set by reads and ignored by appends.
	Offset int64
}

// RecordHeader is a record header. Kafka allows duplicate keys.
type RecordHeader struct {
	Key   string
	Value []byte
}

// AppendRecords appends records as one uncompressed batch and returns the
// offset of the first. It does not retain the records.
func (l *Log) AppendRecords(records ...Record) (int64, error) {
	b, err := encodeRecords(records, l.now())
	if err != nil {
		return -1, err
	}
	return l.Append(b)
}

// ReadRecords returns the records from offset onwards in the batches Read
// returns for maxBytes. The keys, values and headers are the caller's.
func (l *Log) ReadRecords(offset int64, maxBytes int) ([]Record, error) {
	b, err := l.Read(nil, offset, maxBytes)
	if err != nil {
		return nil, err
	}
	return decodeBatches(b, offset)
}

// encodeRecords builds an uncompressed batch of records, timestamped now
// where they have no time.
func encodeRecords(records []Record, now time.Time) ([]byte, error) {
	if len(records) == 0 {
		return nil, fmt.Errorf("%w: no records", ErrInvalidRecord)
	}
	stamp := func(r Record) int64 {
		if r.Timestamp.IsZero() {
			return now.UnixMilli()
		}
		return r.Timestamp.UnixMilli()
	}
	base := stamp(records[0])
	out := make([]batch.Record, len(records))
	for i, r := range records {
		headers := make([]batch.RecordHeader, len(r.Headers))
		for j, h := range r.Headers {
			headers[j] = batch.RecordHeader{Key: h.Key, Value: h.Value}
		}
		out[i] = batch.Record{
			Key:            r.Key,
			Value:          r.Value,
			Headers:        headers,
			TimestampDelta: stamp(r) - base,
			OffsetDelta:    int32(i),
		}
	}
	return batch.Build(batch.BuildOptions{BaseTimestamp: base}, out...)
}

// decodeBatches decodes every record at or after offset in concatenated
// batches b, which the caller owns and leaves alone: see appendRecords.
func decodeBatches(b []byte, offset int64) ([]Record, error) {
	return appendRecords(nil, b, TopicPartition{}, offset, -1, nil)
}

// appendRecords appends to dst the records of tp at or after offset in
// the concatenated batches b, checking each batch's CRC, at most limit of them
// in all unless limit is negative. Their keys, values and header values
// alias b, which the caller owns (a buffer a read filled for it) and must
// leave alone, or for a compressed batch the buffer it decompressed into,
// which nothing else uses: one copy of the bytes per read, not one per
// record. Control batches are skipped, and with aborted (a read_committed
// read's) the batches of aborted transactions.
func appendRecords(dst []Record, b []byte, tp TopicPartition, offset int64, limit int, aborted *abortedFilter) ([]Record, error) {
	room := limit
	if limit >= 0 {
		if room = limit - len(dst); room <= 0 {
			return dst, nil
		}
	}
	dst = slices.Grow(dst, recordsRoom(b, room)) // once: a slice grown batch by batch is copied many times over
	err := eachRecord(b, tp, offset, aborted, true, func(r *Record) bool {
		dst = append(dst, *r)
		return limit < 0 || len(dst) < limit
	})
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// eachRecord calls fn with each record of tp at or after offset in the
// concatenated batches b, as appendRecords reads them, until fn returns
// false. With keep, what fn is given stays valid once it returns: the
// record's headers are its own, and its bytes alias b or a compressed
// batch's own decompression buffer. Without keep, the record, its headers
// and the decompression buffer are used again for the next: valid only
// until fn returns, and nothing is allocated per record but its header
// keys.
func eachRecord(b []byte, tp TopicPartition, offset int64, aborted *abortedFilter, keep bool, fn func(*Record) bool) error {
	var r batch.Reader
	var rec batch.Record
	var headers []RecordHeader // without keep, used again
	out := Record{Topic: tp.Topic, Partition: tp.Partition}
	for len(b) > 0 {
		one, rest, err := batch.Next(b)
		if err != nil {
			return err
		}
		b = rest
		if err := r.Reset(one); err != nil {
			return err
		}
		h := r.Header()
		if aborted.skips(h) {
			continue
		}
		for {
			err := r.Next(&rec)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if rec.Offset(h) < offset {
				continue
			}
			out.Key, out.Value, out.Offset = rec.Key, rec.Value, rec.Offset(h)
			out.Timestamp = time.UnixMilli(rec.Timestamp(h))
			out.Headers = nil
			if len(rec.Headers) > 0 {
				if keep {
					headers = nil
				}
				headers = appendHeaders(headers[:0], rec.Headers)
				out.Headers = headers
			}
			if !fn(&out) {
				return nil
			}
		}
		if keep && h.Compression() != batch.None {
			r = batch.Reader{} // its buffer now backs records: the next batch gets its own
		}
	}
	return nil
}

// appendHeaders appends headers to dst as a record's.
func appendHeaders(dst []RecordHeader, headers []batch.RecordHeader) []RecordHeader {
	for _, h := range headers {
		dst = append(dst, RecordHeader{Key: h.Key, Value: h.Value})
	}
	return dst
}

// recordsRoom returns how many records the batches in b hold by their
// headers, at most limit unless it is negative, and never more than their
// bytes could hold: what appendRecords makes room for before it decodes
// them. Batches it cannot parse count for none; appendRecords reports
// them.
func recordsRoom(b []byte, limit int) int {
	room := 0
	for len(b) > 0 && (limit < 0 || room < limit) {
		one, rest, err := batch.Next(b)
		if err != nil {
			break
		}
		b = rest
		if h, err := batch.ParseHeader(one); err == nil && !h.Control() {
			room += min(max(int(h.NumRecords), 0), len(one))
		}
	}
	if limit >= 0 {
		room = min(room, limit)
	}
	return room
}
