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
		room = max(limit-len(dst), 0)
	}
	dst = slices.Grow(dst, recordsRoom(b, room)) // once: a slice grown batch by batch is copied many times over
	var r batch.Reader
	var rec batch.Record
	for len(b) > 0 && (limit < 0 || len(dst) < limit) {
		one, rest, err := batch.Next(b)
		if err != nil {
			return nil, err
		}
		b = rest
		if err := r.Reset(one); err != nil {
			return nil, err
		}
		h := r.Header()
		if aborted.skips(h) {
			continue
		}
		room := min(int(h.NumRecords), len(one)) // a count the bytes cannot hold is not allocated for
		if limit >= 0 {
			room = min(room, limit-len(dst))
		}
		dst = slices.Grow(dst, room)
		for limit < 0 || len(dst) < limit {
			err := r.Next(&rec)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if rec.Offset(h) < offset {
				continue
			}
			out := Record{Topic: tp.Topic, Partition: tp.Partition, Key: rec.Key, Value: rec.Value,
				Timestamp: time.UnixMilli(rec.Timestamp(h)), Offset: rec.Offset(h)}
			if len(rec.Headers) > 0 {
				out.Headers = make([]RecordHeader, len(rec.Headers))
				for i, hd := range rec.Headers {
					out.Headers[i] = RecordHeader{Key: hd.Key, Value: hd.Value}
				}
			}
			dst = append(dst, out)
		}
		if h.Compression() != batch.None {
			r = batch.Reader{} // its buffer now backs records: the next batch gets its own
		}
	}
	return dst, nil
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
