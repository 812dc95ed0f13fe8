package creek

import (
	"fmt"
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

// decodeBatches decodes the records at or after offset in concatenated
// batches, copying their bytes.
func decodeBatches(b []byte, offset int64) ([]Record, error) {
	var out []Record
	for len(b) > 0 {
		one, rest, err := batch.Next(b)
		if err != nil {
			return nil, err
		}
		h, err := batch.Validate(one)
		if err != nil {
			return nil, err
		}
		b = rest
		if h.Control() {
			continue
		}
		records, err := decodeRecords(one)
		if err != nil {
			return nil, err
		}
		for _, r := range records {
			if r.Offset(h) < offset {
				continue
			}
			rec := Record{
				Key:       cloneBytes(r.Key),
				Value:     cloneBytes(r.Value),
				Timestamp: time.UnixMilli(r.Timestamp(h)),
				Offset:    r.Offset(h),
			}
			for _, hd := range r.Headers {
				rec.Headers = append(rec.Headers, RecordHeader{Key: hd.Key, Value: cloneBytes(hd.Value)})
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// cloneBytes copies b, keeping nil apart from empty.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
