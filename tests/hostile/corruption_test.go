package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The corruption cases: segCount records of about segValue bytes in
// batches of at most segBatch bytes, to a topic whose segments roll at
// segBytes, so that the first segments are sealed.
const (
	segBytes  = 1 << 20
	segCount  = 3000
	segValue  = 1000
	segBatch  = 16 << 10
	segNotice = 20 * time.Second // how long the node may take to report the damage
)

// Kafka error codes a fetch of damaged bytes may answer with.
const (
	codeCorruptMessage = 2
)

// flip says which byte of the victim batch to flip and with what mask.
type flip func(victim SegmentBatch) (pos int64, mask byte)

// TestCorruptSealedSegment: one byte flipped in the middle of a sealed
// segment, once in a batch's record bytes and once in a batch's length
// field. After a restart the node reports the damage, a fetch of the
// damaged batch gets CORRUPT_MESSAGE or KAFKA_STORAGE_ERROR, a consumer
// fetching across it gets an error rather than a silent stall, and every
// record outside the damaged batch is still readable.
func TestCorruptSealedSegment(t *testing.T) {
	t.Run("record-byte", func(t *testing.T) {
		runCorruption(t, func(v SegmentBatch) (int64, byte) {
			return v.Pos + BatchHeaderBytes + (v.End()-v.Pos-BatchHeaderBytes)/2, 0xff
		})
	})
	t.Run("length-byte", func(t *testing.T) {
		runCorruption(t, func(v SegmentBatch) (int64, byte) {
			return v.Pos + BatchLengthAt + 3, 0xff // the low byte: off by up to 255
		})
	})
}

// TestCorruptBatchBaseOffset: one byte flipped in a batch's base offset
// (which its CRC does not cover) in a sealed segment: the same checks, and
// a fetch at that offset must not answer NONE with no bytes forever.
func TestCorruptBatchBaseOffset(t *testing.T) {
	runCorruption(t, func(v SegmentBatch) (int64, byte) {
		return v.Pos + BatchBaseOffsetAt + 4, 0x01 // base offset ± 2^24
	})
}

// runCorruption fills sealed segments, stops the node, flips the byte
// that how picks in the batch in the middle of the first segment, starts
// the node again and checks what it does with the damage.
func runCorruption(t *testing.T, how flip) {
	c := startCase(t, caseOptions{TopicConfigs: map[string]string{"segment.bytes": fmt.Sprint(segBytes)}})
	all := map[int64][]byte{}
	for o, v := range c.earlier {
		all[o] = v
	}
	values := make([][]byte, segCount)
	for i := range values {
		v := bytes.Repeat([]byte{'s'}, segValue)
		copy(v, fmt.Sprintf("seg-%05d-", i))
		values[i] = v
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	offsets, err := ProduceValues(ctx, c.node.Addr(), topic, 0, values, kgo.ProducerBatchMaxBytes(segBatch))
	cancel()
	if err != nil {
		t.Fatalf("produce %d records: %v", segCount, err)
	}
	end := int64(0)
	for i, o := range offsets {
		all[o] = values[i]
		end = max(end, o+1)
	}
	dir := PartitionDir(c.data, topic, 0)
	logs, err := LogFiles(dir)
	if err != nil || len(logs) < 2 {
		t.Fatalf("want sealed segments in %s, have %v (%v)", dir, logs, err)
	}
	if err := c.node.Stop(); err != nil {
		t.Fatal(err)
	}
	first := logs[0]
	batches, err := SegmentBatches(first)
	if err != nil {
		t.Fatalf("walk %s: %v", first, err)
	}
	fi, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	vi := 0
	for vi < len(batches)-1 && batches[vi].End() <= fi.Size()/2 {
		vi++
	}
	if vi == 0 || vi == len(batches)-1 {
		t.Fatalf("%s: %d batches; the middle one is at an end", first, len(batches))
	}
	victim := batches[vi]
	pos, mask := how(victim)
	before, after, err := FlipByte(first, pos, mask)
	if err != nil {
		t.Fatalf("flip byte %d of %s: %v", pos, first, err)
	}
	t.Logf("%d segments; flipped byte %d of %s (%#02x -> %#02x): batch %d of %d at position %d, offsets %d-%d",
		len(logs), pos, filepath.Base(first), before, after, vi, len(batches), victim.Pos, victim.BaseOffset, victim.LastOffset())

	mark := len(c.node.Lines())
	if err := c.node.Start(t.Context()); err != nil {
		t.Fatalf("restart on the damaged segment: %v", err)
	}
	t.Logf("restarted: creek pid %d on %s", c.node.PID(), c.node.Addr())
	conn := c.dial()

	// A fetch of the damaged batch answers with an error code.
	var last string
	err = waitFor(t.Context(), segNotice, func(context.Context) (bool, error) {
		fr, err := FetchOnce(conn, topic, 0, victim.BaseOffset, 1<<20, RequestTimeout)
		if err != nil {
			return false, err
		}
		if fr.ErrorCode == codeCorruptMessage || fr.ErrorCode == codeKafkaStorageError {
			t.Logf("fetch at offset %d: error code %d", victim.BaseOffset, fr.ErrorCode)
			return true, nil
		}
		last = describeFetch(fr)
		return false, nil
	})
	if err != nil {
		t.Errorf("fetch at the damaged batch's offset %d never answered CORRUPT_MESSAGE (2) or KAFKA_STORAGE_ERROR (56) in %v: %s",
			victim.BaseOffset, segNotice, last)
	}

	checkConsumerSeesDamage(t, c, victim, all)

	var report string
	err = waitFor(t.Context(), segNotice, func(context.Context) (bool, error) {
		report = damageReport(c, first, mark)
		return report != "", nil
	})
	if err != nil {
		t.Errorf("in %v after the restart creek logged nothing naming %s or saying corrupt", segNotice, filepath.Base(first))
	} else {
		t.Logf("creek logged: %s", report)
	}

	// Every record outside the damaged batch reads back.
	for _, r := range []struct {
		name     string
		from, to int64
	}{
		{"before the damaged batch", 0, victim.BaseOffset},
		{"after the damaged batch", victim.LastOffset() + 1, end},
	} {
		got, err := ReadRange(conn, topic, 0, r.from, r.to, RequestTimeout)
		missing := 0
		for o := r.from; o < r.to; o++ {
			if !bytes.Equal(got[o], all[o]) {
				missing++
			}
		}
		if missing > 0 || err != nil {
			t.Errorf("records %s (offsets %d-%d): %d of %d do not read back (read stopped: %v)", r.name, r.from, r.to-1, missing, r.to-r.from, err)
			if fr, err := FetchOnce(conn, topic, 0, r.from, 64<<10, RequestTimeout); err == nil {
				t.Logf("a 64 KiB fetch at offset %d gets %s", r.from, describeFetch(fr))
			}
		} else {
			t.Logf("records %s (offsets %d-%d): all %d read back", r.name, r.from, r.to-1, r.to-r.from)
		}
	}
	c.afterChecks(peakRSSBound)
}

// damageReport is the first line of the node's log from line since on that
// names the damaged file or says "corrupt" (the test's directory names,
// which hold the test's name, left out of the match); "" if none does.
func damageReport(c *hostileCase, file string, since int) string {
	root := filepath.Dir(c.data)
	for _, line := range c.node.Lines()[since:] {
		if strings.Contains(line, file) || strings.Contains(strings.ToLower(strings.ReplaceAll(line, root, "")), "corrupt") {
			return line
		}
	}
	return ""
}

// describeFetch says what a fetch that gave no error code returned.
func describeFetch(fr FetchResult) string {
	if fr.ErrorCode != 0 {
		return fmt.Sprintf("error code %d", fr.ErrorCode)
	}
	batches, err := DecodeBatches(fr.Records)
	s := fmt.Sprintf("NONE with %d bytes (high watermark %d), %d whole batches", len(fr.Records), fr.HighWatermark, len(batches))
	if len(batches) > 0 {
		s += fmt.Sprintf(", the first at offset %d", batches[0].BaseOffset)
	}
	if err != nil {
		s += fmt.Sprintf(", then undecodable: %v", err)
	}
	return s
}

// checkConsumerSeesDamage consumes from the start with franz-go, keeping
// the errors it would retry quietly, and checks that it reports an error
// at the damage rather than stalling silently, skipping past it or
// handing out wrong values.
func checkConsumerSeesDamage(t *testing.T, c *hostileCase, victim SegmentBatch, all map[int64][]byte) {
	t.Helper()
	var upTo int64 = -1
	var wrong, skipped []int64
	var fetchErr error
	err := Consume(t.Context(), c.node.Addr(), topic, 0, segNotice, ConsumeOptions{
		From:                0,
		KeepRetryableErrors: true,
		OnRecord: func(r *kgo.Record) bool {
			upTo = max(upTo, r.Offset)
			if want, ok := all[r.Offset]; !ok || !bytes.Equal(want, r.Value) {
				wrong = append(wrong, r.Offset)
			}
			if r.Offset > victim.LastOffset() {
				skipped = append(skipped, r.Offset)
				return true
			}
			return false
		},
		OnError: func(err error) bool {
			fetchErr = err
			return true
		},
	})
	switch {
	case len(wrong) > 0:
		t.Errorf("the consumer got %d records with wrong values, the first at offset %d", len(wrong), wrong[0])
	case fetchErr != nil && upTo < 0:
		t.Logf("the consumer gets no record, and then: %v", fetchErr)
	case fetchErr != nil:
		t.Logf("the consumer reads to offset %d and then gets: %v", upTo, fetchErr)
	case len(skipped) > 0:
		t.Errorf("the consumer read past the damaged batch (offsets %d-%d) to offset %d with no error", victim.BaseOffset, victim.LastOffset(), skipped[0])
	case errors.Is(err, ErrConsumeTimeout):
		t.Errorf("the consumer read to offset %d and then stalled silently for %v at the damaged batch (offsets %d-%d)",
			upTo, segNotice, victim.BaseOffset, victim.LastOffset())
	case err != nil:
		t.Errorf("consume: %v", err)
	}
}
