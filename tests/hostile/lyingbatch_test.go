package hostile

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// lyingBatches are CRC-valid batches whose contents lie, by what they
// lie about.
func lyingBatches() []struct {
	name  string
	batch Batch
} {
	good := func(tag string, n int) [][]byte {
		values := make([][]byte, n)
		for i := range values {
			values[i] = fmt.Appendf(nil, "lie-%s-%d", tag, i)
		}
		return values
	}
	// A malformed record between two good ones: its length is right but
	// its key claims 1,000 bytes of the few left.
	malformed := ValuesBatch(good("malformed", 3)...)
	var records []byte
	records = AppendRecord(records, 0, nil, []byte("lie-malformed-ok-0"))
	body := RecordHead(1, nil, 0)[:3]      // attributes, timestamp delta, offset delta
	body = binary.AppendVarint(body, 1000) // key length
	body = append(body, "short key"...)
	body = binary.AppendVarint(body, -1) // value
	body = binary.AppendVarint(body, 0)  // headers
	records = binary.AppendVarint(records, int64(len(body)))
	records = append(records, body...)
	records = AppendRecord(records, 2, nil, []byte("lie-malformed-ok-2"))
	malformed.Records = records

	gzipFlag := ValuesBatch(good("gzipflag", 3)...)
	gzipFlag.Attributes = CodecGzip // the records are not compressed

	tooMany := ValuesBatch(good("toomany", 3)...)
	tooMany.RecordCount = 5 // 3 are there

	tooFew := ValuesBatch(good("toofew", 5)...)
	tooFew.RecordCount = 3 // 5 are there
	tooFew.LastOffsetDelta = 2

	return []struct {
		name  string
		batch Batch
	}{
		{"a malformed record inside", malformed},
		{"the gzip flag on uncompressed records", gzipFlag},
		{"a record count of 5 over 3 records", tooMany},
		{"a record count of 3 over 5 records", tooFew},
	}
}

// TestCRCValidLyingBatches: batches with a correct CRC whose contents lie
// (a malformed record, the gzip flag on uncompressed records, a record
// count that does not match) are each refused with a non-zero error code,
// and a franz-go consumer of the partition goes on to consume the good
// records written after them.
func TestCRCValidLyingBatches(t *testing.T) {
	c := startCase(t, caseOptions{})
	conn := c.dial()
	for _, lie := range lyingBatches() {
		before := c.latest(conn)
		res, err := Produce(conn, topic, 0, -1, lie.batch.Bytes(), RequestTimeout)
		if err != nil {
			t.Fatalf("produce a batch with %s: %v", lie.name, err)
		}
		after := c.latest(conn)
		t.Logf("batch with %s: error code %d %q; log end offset %d -> %d", lie.name, res.ErrorCode, res.ErrorMessage, before, after)
		if res.ErrorCode == 0 {
			t.Errorf("a CRC-valid batch with %s was accepted at base offset %d", lie.name, res.BaseOffset)
		}
	}
	// afterChecks produces good records after the lies and consumes them
	// with franz-go, and the earlier ones from the start, across whatever
	// the lies left in the log.
	c.afterChecks(peakRSSBound)
}
