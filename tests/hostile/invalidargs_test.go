package hostile

import "testing"

// Kafka error codes the case expects.
const (
	codeInvalidPartitions   = 37
	codeInvalidRequiredAcks = 21
)

// TestInvalidPartitionsAndAcksRefused: CreateTopics asking for -5 or 0
// partitions gets INVALID_PARTITIONS, and a Produce with acks 5 or -2 gets
// INVALID_REQUIRED_ACKS and appends nothing.
func TestInvalidPartitionsAndAcksRefused(t *testing.T) {
	c := startCase(t, caseOptions{})
	conn := c.dial()
	for _, partitions := range []int32{-5, 0} {
		name := "bad-partitions"
		if partitions < 0 {
			name += "-negative"
		} else {
			name += "-zero"
		}
		code, err := CreateTopic(conn, name, partitions, nil)
		if err != nil {
			t.Fatalf("CreateTopics with %d partitions: %v", partitions, err)
		}
		t.Logf("CreateTopics %s with %d partitions: error code %d", name, partitions, code)
		if code != codeInvalidPartitions {
			t.Errorf("CreateTopics with %d partitions got error code %d, want INVALID_PARTITIONS (%d)", partitions, code, codeInvalidPartitions)
		}
	}
	before := c.latest(conn)
	for _, acks := range []int16{5, -2} {
		res, err := Produce(conn, topic, 0, acks, ValuesBatch([]byte("bad-acks")).Bytes(), RequestTimeout)
		if err != nil {
			t.Fatalf("Produce with acks %d: %v", acks, err)
		}
		t.Logf("Produce with acks %d: error code %d %q", acks, res.ErrorCode, res.ErrorMessage)
		if res.ErrorCode != codeInvalidRequiredAcks {
			t.Errorf("Produce with acks %d got error code %d, want INVALID_REQUIRED_ACKS (%d)", acks, res.ErrorCode, codeInvalidRequiredAcks)
		}
	}
	if after := c.latest(conn); after != before {
		t.Errorf("produces with invalid acks moved the log end offset from %d to %d", before, after)
	}
	if n, err := CountTopics(conn, RequestTimeout); err == nil {
		t.Logf("topics after: %d", n)
	}
	c.afterChecks(peakRSSBound)
}
