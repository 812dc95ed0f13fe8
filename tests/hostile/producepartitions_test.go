package hostile

import (
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"
)

// manyPartitions is how many partition entries the Produce names.
const manyPartitions = 4_000_000

// manyPartitionsWait bounds how long the node may take to answer it.
const manyPartitionsWait = 2 * time.Minute

// TestProduceManyPartitionEntries: a Produce v7 naming one topic with 4 M
// partition entries, each with null records. The node's RSS stays under
// the bound, and it does not answer with a response larger than the
// request (about 30 bytes for each 8-byte entry, some 120 MB).
func TestProduceManyPartitionEntries(t *testing.T) {
	c := startCase(t, caseOptions{})
	conn := c.dial()
	frame := manyPartitionsFrame(conn.NextCorrelationID())
	t.Logf("Produce v7 with %d partition entries: %d bytes", manyPartitions, len(frame))
	start := time.Now()
	conn.SetDeadline(start.Add(manyPartitionsWait))
	if err := conn.Write(frame); err != nil {
		t.Logf("the node stopped reading the request: %v", err)
	}
	n, _, err := conn.SkipFrame()
	took := time.Since(start).Round(time.Millisecond)
	var ne net.Error
	switch {
	case err == nil:
		t.Logf("Produce response: %d bytes after %v", n, took)
		if n > int64(len(frame)) {
			t.Errorf("a %d-byte Produce got a %d-byte response (%.1fx): the node amplifies a request naming %d partitions",
				len(frame), n, float64(n)/float64(len(frame)), manyPartitions)
		}
	case errors.As(err, &ne) && ne.Timeout():
		t.Errorf("no Produce response within %v", manyPartitionsWait)
	default:
		t.Logf("the Produce was answered by a closed connection after %v: %v", took, err)
	}
	conn.Close()
	for _, line := range c.node.Grep("malformed", "too many") {
		t.Logf("creek logged: %s", line)
	}
	c.afterChecks(peakRSSBound)
}

// manyPartitionsFrame is a Produce v7 request frame, acks 1, for the case
// topic with manyPartitions entries, partitions 0, 1, … each with null
// records (an int32 length of -1).
func manyPartitionsFrame(correlationID int32) []byte {
	frame := make([]byte, 4, 64+8*manyPartitions)
	frame = AppendRequestHeader(frame, 0, ProduceVersion, correlationID, ClientID, false)
	frame = binary.BigEndian.AppendUint16(frame, 0xffff) // transactional_id null
	frame = binary.BigEndian.AppendUint16(frame, 1)      // acks
	frame = binary.BigEndian.AppendUint32(frame, 30000)  // timeout
	frame = binary.BigEndian.AppendUint32(frame, 1)      // one topic
	frame = binary.BigEndian.AppendUint16(frame, uint16(len(topic)))
	frame = append(frame, topic...)
	frame = binary.BigEndian.AppendUint32(frame, manyPartitions)
	for p := range uint32(manyPartitions) {
		frame = binary.BigEndian.AppendUint32(frame, p)
		frame = binary.BigEndian.AppendUint32(frame, 0xffffffff) // null records
	}
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	return frame
}
