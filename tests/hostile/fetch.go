package hostile

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FetchVersion is the Fetch version raw fetches use: the newest that names
// topics and is not flexible.
const FetchVersion = 11

// FetchResult is one partition's part of a Fetch response.
type FetchResult struct {
	ErrorCode     int16
	HighWatermark int64
	Records       []byte // the record batches' bytes as sent
}

// NewFetch is a Fetch request for one partition at offset, answered at
// once, with maxBytes as both the request's and the partition's bound.
func NewFetch(topic string, partition int32, offset int64, maxBytes int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(FetchVersion)
	req.ReplicaID = -1
	req.MaxWaitMillis = 0
	req.MinBytes = 1
	req.MaxBytes = maxBytes
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = partition, offset, maxBytes, -1
	rt.Partitions = []kmsg.FetchRequestTopicPartition{rp}
	req.Topics = []kmsg.FetchRequestTopic{rt}
	return req
}

// FetchOnce sends one Fetch for topic's partition at offset on c and
// returns that partition's part of the response.
func FetchOnce(c *RawConn, topic string, partition int32, offset int64, maxBytes int32, timeout time.Duration) (FetchResult, error) {
	resp, err := c.RoundTrip(NewFetch(topic, partition, offset, maxBytes), timeout)
	if err != nil {
		return FetchResult{}, err
	}
	fr := resp.(*kmsg.FetchResponse)
	if fr.ErrorCode != 0 {
		return FetchResult{ErrorCode: fr.ErrorCode}, nil
	}
	for _, t := range fr.Topics {
		for _, p := range t.Partitions {
			if t.Topic == topic && p.Partition == partition {
				return FetchResult{ErrorCode: p.ErrorCode, HighWatermark: p.HighWatermark, Records: p.RecordBatches}, nil
			}
		}
	}
	return FetchResult{}, fmt.Errorf("fetch response has no %s-%d", topic, partition)
}

// FetchedRecord is one record read back.
type FetchedRecord struct {
	Offset int64
	Value  []byte
}

// FetchedBatch is one record batch read back.
type FetchedBatch struct {
	BaseOffset      int64
	LastOffsetDelta int32
	Records         []FetchedRecord
}

// LastOffset is the offset of the batch's last record.
func (b FetchedBatch) LastOffset() int64 { return b.BaseOffset + int64(b.LastOffsetDelta) }

// DecodeBatches splits fetched bytes into batches and decodes their
// records. A partial batch at the end, as a fetch may return, is left out;
// a batch whose CRC is wrong, which is compressed or whose records do not
// parse is an error, returned with the batches before it.
func DecodeBatches(b []byte) ([]FetchedBatch, error) {
	var out []FetchedBatch
	for len(b) >= 12 {
		base := int64(binary.BigEndian.Uint64(b))
		n := int(int32(binary.BigEndian.Uint32(b[BatchLengthAt:])))
		if n < BatchHeaderBytes-12 {
			return out, fmt.Errorf("batch at offset %d: length %d", base, n)
		}
		if 12+n > len(b) {
			break // partial
		}
		raw := b[:12+n]
		b = b[12+n:]
		if got, want := crc32.Checksum(raw[BatchAttributesAt:], castagnoli), binary.BigEndian.Uint32(raw[BatchCRCAt:]); got != want {
			return out, fmt.Errorf("batch at offset %d: CRC %08x, computed %08x", base, want, got)
		}
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(raw); err != nil {
			return out, fmt.Errorf("batch at offset %d: %v", base, err)
		}
		if rb.Attributes&0x07 != 0 {
			return out, fmt.Errorf("batch at offset %d: compressed (attributes %#x); only uncompressed batches are decoded", base, rb.Attributes)
		}
		fb := FetchedBatch{BaseOffset: base, LastOffsetDelta: rb.LastOffsetDelta}
		recs := rb.Records
		for i := range rb.NumRecords {
			length, k := binary.Varint(recs)
			if k <= 0 || length < 0 || int64(len(recs)-k) < length {
				return out, fmt.Errorf("batch at offset %d: record %d: bad length", base, i)
			}
			var r kmsg.Record
			if err := r.ReadFrom(recs[:k+int(length)]); err != nil {
				return out, fmt.Errorf("batch at offset %d: record %d: %v", base, i, err)
			}
			recs = recs[k+int(length):]
			fb.Records = append(fb.Records, FetchedRecord{Offset: base + int64(r.OffsetDelta), Value: r.Value})
		}
		out = append(out, fb)
	}
	return out, nil
}

// ReadRange reads topic's partition from offset from up to (not
// including) to, fetching again after each response, and returns the
// records read by offset. It stops with an error at the first partition
// error, undecodable batch or fetch that makes no progress; what was read
// before is returned with it.
func ReadRange(c *RawConn, topic string, partition int32, from, to int64, timeout time.Duration) (map[int64][]byte, error) {
	got := map[int64][]byte{}
	for next := from; next < to; {
		fr, err := FetchOnce(c, topic, partition, next, 4<<20, timeout)
		if err != nil {
			return got, fmt.Errorf("fetch at offset %d: %w", next, err)
		}
		if fr.ErrorCode != 0 {
			return got, fmt.Errorf("fetch at offset %d: error code %d", next, fr.ErrorCode)
		}
		batches, err := DecodeBatches(fr.Records)
		if err != nil {
			return got, fmt.Errorf("fetch at offset %d: %w", next, err)
		}
		advanced := false
		for _, b := range batches {
			for _, r := range b.Records {
				if r.Offset >= next && r.Offset < to {
					got[r.Offset] = r.Value
				}
			}
			if b.LastOffset()+1 > next {
				next, advanced = b.LastOffset()+1, true
			}
		}
		if !advanced {
			return got, fmt.Errorf("fetch at offset %d (high watermark %d) answered NONE with %d bytes and no batch past it",
				next, fr.HighWatermark, len(fr.Records))
		}
	}
	return got, nil
}
