package hostile

import (
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"
)

// emptyNamesWait bounds how long the node may take to answer one frame of
// empty topic names.
const emptyNamesWait = 2 * time.Minute

// TestMetadataEmptyTopicNames: Metadata v4 frames of 10 MB and 50 MB
// that are nothing but empty topic names (each an int16 length 0). The
// node's RSS stays under the bound and it keeps serving.
func TestMetadataEmptyTopicNames(t *testing.T) {
	c := startCase(t, caseOptions{})
	for _, size := range []int{10_000_000, 50_000_000} {
		conn := c.dial()
		frame := emptyNamesFrame(size, conn.NextCorrelationID())
		start := time.Now()
		conn.SetDeadline(start.Add(emptyNamesWait))
		if err := conn.Write(frame); err != nil {
			t.Logf("%d MB frame: the node stopped reading it: %v", size/1_000_000, err)
		}
		n, _, err := conn.SkipFrame()
		took := time.Since(start).Round(time.Millisecond)
		var ne net.Error
		switch {
		case err == nil:
			t.Logf("%d MB frame of %d empty names: %d-byte response after %v", size/1_000_000, (size-30)/2, n, took)
		case errors.As(err, &ne) && ne.Timeout():
			t.Errorf("%d MB frame of empty names: no response within %v", size/1_000_000, emptyNamesWait)
		default:
			t.Logf("%d MB frame of empty names: connection closed after %v without a response: %v", size/1_000_000, took, err)
		}
		conn.Close()
		if err := c.node.Alive(); err != nil {
			t.Fatalf("after the %d MB frame: %v", size/1_000_000, err)
		}
		rss, _ := RSS(c.node.PID())
		peak, _ := PeakRSS(c.node.PID())
		t.Logf("after the %d MB frame: creek RSS %.1f MiB, peak %.1f MiB", size/1_000_000, float64(rss)/MiB, float64(peak)/MiB)
	}
	for _, line := range c.node.Grep("malformed") {
		t.Logf("creek logged: %s", line)
	}
	c.afterChecks(peakRSSBound)
}

// emptyNamesFrame is a Metadata v4 request frame of about size bytes: the
// topic array's count and then that many int16 zero lengths, and
// allow_auto_topic_creation false.
func emptyNamesFrame(size int, correlationID int32) []byte {
	frame := make([]byte, 4, size)
	frame = AppendRequestHeader(frame, 3, 4, correlationID, ClientID, false)
	count := (size - len(frame) - 4 - 1) / 2
	frame = binary.BigEndian.AppendUint32(frame, uint32(count))
	frame = append(frame, make([]byte, 2*count)...) // every name empty
	frame = append(frame, 0)                        // allow_auto_topic_creation
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	return frame
}
