// PollEach: Poll for a caller that handles each record where it is read
// and keeps none, so that nothing is made for it.

package creek

import (
	"context"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/kafka"
)

// PollEach waits as Poll does, then calls fn with each record of the
// assigned partitions that are not paused, in offset order within each,
// and moves each partition's position past the records fn took. It
// returns how many fn took.
//
// The record fn is given, and the bytes of its key, value and headers,
// are valid only until fn returns: copy what you keep. Nothing is
// allocated for them: the records are decoded one at a time from one
// buffer the consumer keeps, where Poll makes a slice of records and a
// buffer for each read, the garbage that bounds how fast a backlog is
// read. PollEach reads each partition once a call, up to
// PartitionMaxBytes; MaxPollRecords, which bounds what Poll hands back to
// keep, does not apply.
//
// An error from fn stops PollEach, which returns it; the position of the
// record's partition stays at that record, so that the next poll gives
// it again, and the records fn took before stay taken. Another error met
// after fn took records is returned by the next call, as Poll's is.
func (c *Consumer) PollEach(ctx context.Context, fn func(*Record) error) (int, error) {
	buf := c.takeEachBuffer()
	defer func() { c.keepEachBuffer(buf) }()
	taken := 0
	var stopped error
	err := c.poll(ctx, func(tp TopicPartition, p *partition) (int, bool, bool, error) {
		n, remote, fnErr, err := c.eachPartition(ctx, tp, p, &buf, fn)
		taken += n
		stopped = fnErr
		return n, fnErr != nil, remote, err
	})
	if stopped != nil {
		return taken, stopped
	}
	return taken, err
}

// eachPartition hands fn the records one read of tp holds from the
// consumer's position (see readFrom), reading into *buf, and moves the
// position past those fn took: how many that is, whether another node
// answered, and fn's error if it failed.
func (c *Consumer) eachPartition(ctx context.Context, tp TopicPartition, p *partition, buf *[]byte,
	fn func(*Record) error) (taken int, remote bool, fnErr, err error) {
	if err := c.as.may(acl.Read, acl.Topic, tp.Topic); err != nil {
		return 0, false, nil, err
	}
	c.dropPrefetched(tp) // a Poll's read ahead, from a position PollEach moves
	for {
		var offset int64
		var b []byte
		var aborted []kafka.AbortedTxn
		if offset, err = c.Position(ctx, tp); err != nil {
			return taken, remote, nil, err
		}
		if offset, b, aborted, remote, err = c.readFrom(ctx, tp, p, (*buf)[:0], offset); err != nil || len(b) == 0 {
			return taken, remote, nil, err
		}
		if !remote {
			*buf = b // grown, maybe: kept for the next read
		}
		next, n := offset, 0
		err = eachRecord(b, tp, offset, newAbortedFilter(aborted), false, func(r *Record) bool {
			if fnErr = fn(r); fnErr != nil {
				return false
			}
			next, n = r.Offset+1, n+1
			return true
		})
		taken += n
		if err == nil && fnErr == nil { // every batch read was handed: step past the skipped ones at its end too
			next = max(next, lastOffsetIn(b)+1)
		}
		moved := next > offset && c.moveIf(tp, offset, next)
		if err != nil || fnErr != nil || n > 0 || !moved {
			return taken, remote, fnErr, err
		}
		// Only control batches, aborted transactions, or records below the
		// position (compaction left a gap): read on from past them, or
		// PollEach would wait with data ahead.
	}
}

// takeEachBuffer returns the buffer PollEach reads into, which the
// consumer keeps between calls; a second PollEach at the same time gets
// none and reads into one of its own.
func (c *Consumer) takeEachBuffer() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf := c.eachBuffer
	c.eachBuffer = nil
	return buf
}

// keepEachBuffer keeps buf for the next PollEach.
func (c *Consumer) keepEachBuffer(buf []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eachBuffer = buf
}
