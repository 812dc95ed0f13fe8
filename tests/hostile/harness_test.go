package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// peakRSSBound bounds a node's peak resident set through any case.
const peakRSSBound = 512 * MiB

// topic is the topic every case writes its earlier records to; partition
// 0 of it.
const topic = "hostile"

// earlierCount is how many records a case writes before its attack.
const earlierCount = 20

// consumeTimeout bounds each franz-go read-back of a check.
const consumeTimeout = 20 * time.Second

// caseOptions says how a case starts.
type caseOptions struct {
	AutoCreateTopics bool
	Wrapper          []string          // see NodeOptions.Wrapper
	Data             string            // the data directory; default under t.TempDir()
	TopicConfigs     map[string]string // configs of the topic
}

// hostileCase is one case's node and the records it wrote before.
type hostileCase struct {
	t       *testing.T
	node    *Node
	data    string
	earlier map[int64][]byte // earlier records by offset
	afters  int              // rounds of afterChecks, to name their records
}

// startCase starts a fresh node, creates the topic (one partition), and
// produces earlierCount records to it with franz-go and reads them back.
func startCase(t *testing.T, opts caseOptions) *hostileCase {
	t.Helper()
	data := opts.Data
	if data == "" {
		data = filepath.Join(t.TempDir(), "data")
	}
	node, err := StartNode(t.Context(), NodeOptions{Bin: creekBin, Data: data, AutoCreateTopics: opts.AutoCreateTopics, Wrapper: opts.Wrapper})
	if err != nil {
		t.Fatalf("start creek: %v", err)
	}
	t.Cleanup(func() {
		node.Kill()
		if kept, dropped := node.LogStats(); dropped > 0 {
			t.Logf("creek logged %d lines; %d more past the %d MiB kept", kept, dropped, maxLogBytes/MiB)
		}
		if t.Failed() {
			t.Logf("creek's log ends:\n%s", node.Tail(15))
		}
	})
	t.Logf("creek pid %d serving on %s (%v)", node.PID(), node.Addr(), node.Args()[len(opts.Wrapper)+1:])
	c := &hostileCase{t: t, node: node, data: data, earlier: map[int64][]byte{}}
	raw := c.dial()
	code, err := CreateTopic(raw, topic, 1, opts.TopicConfigs)
	if err != nil || code != 0 {
		t.Fatalf("create topic %s %v: code %d, %v", topic, opts.TopicConfigs, code, err)
	}
	raw.Close()
	values := make([][]byte, earlierCount)
	for i := range values {
		values[i] = fmt.Appendf(nil, "earlier-%02d-%s", i, bytes.Repeat([]byte{'e'}, 100))
	}
	offsets, err := ProduceValues(t.Context(), node.Addr(), topic, 0, values)
	if err != nil {
		t.Fatalf("produce the earlier records: %v", err)
	}
	for i, o := range offsets {
		c.earlier[o] = values[i]
	}
	if missing := c.readBack(c.earlier); missing != nil {
		t.Fatalf("the earlier records do not read back before the attack: %v", missing)
	}
	return c
}

// dial opens a raw connection to the node, closed at cleanup.
func (c *hostileCase) dial() *RawConn {
	c.t.Helper()
	conn, err := DialRaw(c.t.Context(), c.node.Addr())
	if err != nil {
		c.t.Fatalf("dial %s: %v", c.node.Addr(), err)
	}
	c.t.Cleanup(func() { conn.Close() })
	return conn
}

// readBack consumes the topic with franz-go from the lowest offset of want
// until it has seen every record of want with its value, and returns an
// error saying what it did not see.
func (c *hostileCase) readBack(want map[int64][]byte) error {
	if len(want) == 0 {
		return nil
	}
	from := int64(-1)
	for o := range want {
		if from < 0 || o < from {
			from = o
		}
	}
	left := len(want)
	var wrong []string
	var fetchErrs []error
	err := Consume(c.t.Context(), c.node.Addr(), topic, 0, consumeTimeout, ConsumeOptions{
		From: from,
		OnRecord: func(r *kgo.Record) bool {
			if v, ok := want[r.Offset]; ok {
				if !bytes.Equal(v, r.Value) {
					wrong = append(wrong, fmt.Sprintf("offset %d holds %.40q, want %.40q", r.Offset, r.Value, v))
				} else {
					left--
				}
			}
			return left == 0
		},
		OnError: func(err error) bool {
			if len(fetchErrs) < 5 {
				fetchErrs = append(fetchErrs, err)
			}
			return false
		},
	})
	switch {
	case len(wrong) > 0:
		return fmt.Errorf("%d of %d records read back wrong: %v", len(wrong), len(want), wrong[:min(len(wrong), 3)])
	case errors.Is(err, ErrConsumeTimeout):
		return fmt.Errorf("%d of %d records from offset %d not read back within %v (fetch errors: %v)", left, len(want), from, consumeTimeout, fetchErrs)
	case err != nil:
		return err
	}
	return nil
}

// afterChecks checks what must hold after any attack: the process is
// alive, a new franz-go client can produce and consume new records, the
// earlier records all read back, and the peak RSS is under bound. Each
// failure is reported and the others still checked.
func (c *hostileCase) afterChecks(bound int64) {
	c.t.Helper()
	if err := c.node.Alive(); err != nil {
		c.t.Fatalf("after the attack: %v", err)
	}
	c.afters++
	values := make([][]byte, 10)
	for i := range values {
		values[i] = fmt.Appendf(nil, "after-%d-%02d", c.afters, i)
	}
	ctx, cancel := context.WithTimeout(c.t.Context(), 30*time.Second)
	offsets, err := ProduceValues(ctx, c.node.Addr(), topic, 0, values)
	cancel()
	if err != nil {
		c.t.Errorf("after the attack a franz-go client cannot produce new records: %v", err)
	} else {
		fresh := map[int64][]byte{}
		for i, o := range offsets {
			fresh[o] = values[i]
		}
		if err := c.readBack(fresh); err != nil {
			c.t.Errorf("after the attack the new records do not read back: %v", err)
		}
	}
	if err := c.readBack(c.earlier); err != nil {
		c.t.Errorf("after the attack the earlier records do not read back: %v", err)
	}
	c.checkRSS(bound)
	if err := c.node.Alive(); err != nil {
		c.t.Errorf("after the checks: %v", err)
	}
}

// checkRSS logs the node's peak RSS and fails the test if it is over
// bound.
func (c *hostileCase) checkRSS(bound int64) int64 {
	c.t.Helper()
	peak, err := PeakRSS(c.node.PID())
	if err != nil {
		c.t.Errorf("peak RSS: %v", err)
		return 0
	}
	c.t.Logf("creek peak RSS (VmHWM) %.1f MiB (bound %d MiB)", float64(peak)/MiB, bound/MiB)
	if peak > bound {
		c.t.Errorf("creek's peak RSS %.1f MiB is over the %d MiB bound", float64(peak)/MiB, bound/MiB)
	}
	return peak
}

// latest is the topic's log end offset.
func (c *hostileCase) latest(conn *RawConn) int64 {
	c.t.Helper()
	o, err := LatestOffset(conn, topic, 0)
	if err != nil {
		c.t.Fatalf("log end offset: %v", err)
	}
	return o
}
