package batch

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// codecs lists every codec, None first.
var codecs = []Compression{None, Gzip, Snappy, LZ4, Zstd}

// testBase is a plausible base timestamp: 2023-11-14 in milliseconds.
const testBase = 1_700_000_000_000

// sampleRecords returns n records exercising null and empty keys, values
// and header values, with offset deltas 0..n-1.
func sampleRecords(n int) []Record {
	records := make([]Record, n)
	for i := range records {
		r := Record{
			TimestampDelta: int64(i * 3),
			OffsetDelta:    int32(i),
			Value:          fmt.Appendf(nil, "value %d %s", i, "payload payload payload"),
		}
		switch i % 5 {
		case 0: // null key
		case 1:
			r.Key = []byte{} // empty, not null
		case 2:
			r.Key = fmt.Appendf(nil, "key-%d", i)
			r.Value = nil // tombstone
		case 3:
			r.Key = fmt.Appendf(nil, "key-%d", i)
			r.Value = []byte{}
			r.Attributes = 0
		case 4:
			r.Key = fmt.Appendf(nil, "key-%d", i)
			r.Headers = []RecordHeader{
				{Key: "trace", Value: []byte("abc")},
				{Key: "", Value: nil},
				{Key: "empty", Value: []byte{}},
				{Key: "trace", Value: []byte("repeated keys keep their order")},
			}
		}
		if i%7 == 6 {
			r.TimestampDelta = -int64(i) // producers may send out-of-order timestamps
		}
		records[i] = r
	}
	return records
}

// mustBuild builds a batch or fails the test.
func mustBuild(t testing.TB, opts BuildOptions, records ...Record) []byte {
	t.Helper()
	b, err := Build(opts, records...)
	require.NoError(t, err)
	return b
}

// collect decodes every record of b, failing the test on an error.
func collect(t testing.TB, b []byte) []Record {
	t.Helper()
	records, err := decodeAll(b)
	require.NoError(t, err)
	return records
}

// decodeAll decodes every record of b with Records.
func decodeAll(b []byte) ([]Record, error) {
	var records []Record
	for r, err := range Records(b) {
		if err != nil {
			return records, err
		}
		records = append(records, r)
	}
	return records, nil
}

// rawBatch assembles a batch around payload, bypassing the Builder's
// checks, with a correct Length and CRC.
func rawBatch(attrs int16, lastOffsetDelta, numRecords int32, payload []byte) []byte {
	b := make([]byte, HeaderSize, HeaderSize+len(payload))
	putHeader(b, &Header{
		Length:               int32(HeaderSize - LengthFieldEnd + len(payload)),
		PartitionLeaderEpoch: -1,
		Magic:                MagicV2,
		Attributes:           attrs,
		LastOffsetDelta:      lastOffsetDelta,
		BaseTimestamp:        testBase,
		MaxTimestamp:         testBase,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		BaseSequence:         -1,
		NumRecords:           numRecords,
	})
	b = append(b, payload...)
	putCRC(b)
	return b
}

// encodeRecords encodes records back to back, as an uncompressed payload.
func encodeRecords(records ...Record) []byte {
	var b []byte
	for i := range records {
		b = appendRecord(b, &records[i], recordBodySize(&records[i]))
	}
	return b
}

// varints encodes vs as Kafka varints, back to back.
func varints(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = appendVarint(b, v)
	}
	return b
}

// withLength prefixes a record body with its length.
func withLength(body []byte) []byte {
	return append(varints(int64(len(body))), body...)
}
