package hostile

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Bounds of the Metadata flood case.
const (
	floodTopics  = 100_000
	floodFDBound = 1024        // the common default soft limit: one request must not need more
	floodWait    = time.Minute // how long the response may take
)

// TestMetadataAutoCreateFlood: one Metadata v4 request naming 100,000
// unknown topics with AllowAutoTopicCreation, to a node that creates
// topics on first use. The node must stay up, its descriptors under
// floodFDBound and its RSS under the bound.
func TestMetadataAutoCreateFlood(t *testing.T) {
	c := startCase(t, caseOptions{AutoCreateTopics: true})
	pid := c.node.PID()
	fds := SampleFDs(pid, 100*time.Millisecond)
	defer fds.Stop()

	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(4)
	req.AllowAutoTopicCreation = true
	for i := range floodTopics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(fmt.Sprintf("flood-%06d", i))
		req.Topics = append(req.Topics, rt)
	}
	conn := c.dial()
	frame := AppendRequest(nil, req, conn.NextCorrelationID())
	t.Logf("Metadata v4 request naming %d topics: %d bytes", floodTopics, len(frame))
	start := time.Now()
	conn.SetDeadline(start.Add(floodWait))
	if err := conn.Write(frame); err != nil {
		t.Fatalf("send the Metadata request: %v", err)
	}
	size, _, err := conn.SkipFrame()
	took := time.Since(start)
	var ne net.Error
	switch {
	case err == nil:
		t.Logf("Metadata response: %d bytes after %v", size, took.Round(time.Millisecond))
	case errors.As(err, &ne) && ne.Timeout():
		t.Errorf("no Metadata response within %v", floodWait)
	default:
		t.Logf("Metadata request answered by a closed connection after %v: %v", took.Round(time.Millisecond), err)
	}
	conn.Close()
	if err := c.node.Alive(); err != nil {
		t.Fatalf("after the Metadata flood: %v", err)
	}
	count := c.dial()
	if n, err := CountTopics(count, time.Minute); err != nil {
		t.Errorf("list topics after the flood: %v", err)
	} else {
		t.Logf("the node holds %d topics after the flood (it held 1 before)", n)
	}
	peak := fds.Stop()
	t.Logf("creek's descriptors: peak %d sampled, %d now", peak, must(OpenFDs(pid)))
	if peak > floodFDBound {
		t.Errorf("creek held %d descriptors during the flood; at most %d allowed", peak, floodFDBound)
	}
	if warns := c.node.Grep("too many open files"); len(warns) > 0 {
		t.Errorf("creek ran out of descriptors (%d log lines), first: %s", len(warns), warns[0])
	}
	c.afterChecks(peakRSSBound)
}
