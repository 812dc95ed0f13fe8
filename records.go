// Decoding a batch's records into Records that alias its bytes.

package creek

import "github.com/creekmq/creek/internal/batch"

// decodeRecords decodes every record of one batch. The records alias b (or
// a buffer of their own when b is compressed).
func decodeRecords(b []byte) ([]batch.Record, error) {
	var out []batch.Record
	for r, err := range batch.Records(b) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// rebuildBatch builds a batch like the one with header h but holding only
// records: same base offset, leader epoch, codec, producer, flags, offset
// range and timestamp type.
func rebuildBatch(h batch.Header, records []batch.Record) ([]byte, error) {
	b, err := batch.Build(h.BuildOptions(), records...)
	if err != nil {
		return nil, err
	}
	batch.SetBaseOffset(b, h.BaseOffset)
	batch.SetPartitionLeaderEpoch(b, h.PartitionLeaderEpoch)
	if h.TimestampType() == batch.LogAppendTime {
		batch.SetLogAppendTime(b, h.MaxTimestamp)
	}
	return b, nil
}
