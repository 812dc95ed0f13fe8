package hostile

import (
	"fmt"
	"math"
	"testing"
)

// TestLyingLastOffsetDelta: a batch of 10 records whose header claims a
// lastOffsetDelta of 1,000,000, and one claiming 2^31-1, are refused, and
// the log end offset does not move.
func TestLyingLastOffsetDelta(t *testing.T) {
	c := startCase(t, caseOptions{})
	conn := c.dial()
	for _, delta := range []int32{1_000_000, math.MaxInt32} {
		values := make([][]byte, 10)
		for i := range values {
			values[i] = fmt.Appendf(nil, "delta-%d-%d", delta, i)
		}
		b := ValuesBatch(values...)
		b.LastOffsetDelta = delta
		before := c.latest(conn)
		res, err := Produce(conn, topic, 0, -1, b.Bytes(), RequestTimeout)
		if err != nil {
			t.Fatalf("produce a batch with lastOffsetDelta %d: %v", delta, err)
		}
		after := c.latest(conn)
		t.Logf("lastOffsetDelta %d over 10 records: error code %d %q, base offset %d; log end offset %d -> %d",
			delta, res.ErrorCode, res.ErrorMessage, res.BaseOffset, before, after)
		if res.ErrorCode == 0 {
			t.Errorf("a batch of 10 records claiming lastOffsetDelta %d was accepted at base offset %d", delta, res.BaseOffset)
		}
		if after != before {
			t.Errorf("a batch of 10 records claiming lastOffsetDelta %d moved the log end offset from %d to %d", delta, before, after)
		}
	}
	c.afterChecks(peakRSSBound)
}
