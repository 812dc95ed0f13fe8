// A consumer's positions: Seek, SeekToBeginning/End/Time, Position and Lag.

package creek

import (
	"context"
	"fmt"
	"time"
)

// Seek sets the offset of the next record Poll returns from a partition,
// assigning the partition if needed.
func (c *Consumer) Seek(tp TopicPartition, offset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.positionLocked(tp).offset = offset
}

func (c *Consumer) positionLocked(tp TopicPartition) *consumerPosition {
	pos := c.assigned[tp]
	if pos == nil {
		pos = &consumerPosition{offset: -1}
		c.assigned[tp] = pos
	}
	return pos
}

// SeekToBeginning moves to the log start offset of partitions, asking
// their leaders in a cluster until ctx ends.
func (c *Consumer) SeekToBeginning(ctx context.Context, partitions ...TopicPartition) error {
	return c.seekTo(ctx, partitions, listEarliest)
}

// SeekToEnd moves past the last record of partitions that consumers can
// read (to the high watermark), asking their leaders until ctx ends.
func (c *Consumer) SeekToEnd(ctx context.Context, partitions ...TopicPartition) error {
	return c.seekTo(ctx, partitions, listLatest)
}

// SeekToTime moves to the first record at or after t in partitions, or to
// their end when every record is older, asking their leaders until ctx
// ends.
func (c *Consumer) SeekToTime(ctx context.Context, t time.Time, partitions ...TopicPartition) error {
	return c.seekTo(ctx, partitions, t.UnixMilli())
}

// The timestamps ListOffsets takes for the ends of a partition.
const (
	listLatest   = -1
	listEarliest = -2
)

// seekTo moves to the offset for timestamp (or for listLatest or
// listEarliest) in partitions, asking their leaders in a cluster.
func (c *Consumer) seekTo(ctx context.Context, partitions []TopicPartition, timestamp int64) error {
	for _, tp := range partitions {
		offset, err := c.node.listOffset(ctx, tp.Topic, tp.Partition, c.cfg.Isolation, timestamp)
		if err == nil && offset < 0 { // every record is older
			offset, err = c.node.listOffset(ctx, tp.Topic, tp.Partition, c.cfg.Isolation, listLatest)
		}
		if err != nil {
			return err
		}
		c.Seek(tp, offset)
	}
	return nil
}

// Position returns the offset of the next record Poll returns from a
// partition, resolving Reset if the consumer has not read it yet: from the
// group's committed offset, or the partition's start or end, which may
// ask other nodes until ctx ends.
func (c *Consumer) Position(ctx context.Context, tp TopicPartition) (int64, error) {
	if _, err := c.node.partition(tp.Topic, tp.Partition); err != nil {
		return -1, err
	}
	c.mu.Lock()
	pos := c.assigned[tp]
	if pos == nil {
		c.mu.Unlock()
		return -1, fmt.Errorf("%w: %s-%d is not assigned", ErrUnknownTopic, tp.Topic, tp.Partition)
	}
	offset := pos.offset
	c.mu.Unlock()
	if offset >= 0 {
		return offset, nil
	}
	committed, ok, err := c.Committed(ctx, tp)
	if err != nil {
		return -1, err
	}
	if ok {
		offset = committed.Offset
	} else if offset, err = c.resetOffset(ctx, tp); err != nil {
		return -1, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if pos := c.assigned[tp]; pos != nil && pos.offset < 0 { // unless a Seek came meanwhile
		pos.offset = offset
	} else if pos != nil {
		offset = pos.offset
	}
	return offset, nil
}

// Lag returns how many records of a partition the consumer has not read:
// the high watermark (ReadCommitted: the last stable offset) minus its
// position, asking the partition's leader
// until ctx ends.
func (c *Consumer) Lag(ctx context.Context, tp TopicPartition) (int64, error) {
	offset, err := c.Position(ctx, tp)
	if err != nil {
		return -1, err
	}
	hw, err := c.node.listOffset(ctx, tp.Topic, tp.Partition, c.cfg.Isolation, listLatest)
	if err != nil {
		return -1, err
	}
	return max(hw-offset, 0), nil
}

// resetOffset returns where ConsumerConfig.Reset starts a partition without a
// position: its log start offset or its high watermark (ReadCommitted:
// its last stable offset).
func (c *Consumer) resetOffset(ctx context.Context, tp TopicPartition) (int64, error) {
	if c.cfg.Reset == ResetEarliest {
		return c.node.listOffset(ctx, tp.Topic, tp.Partition, c.cfg.Isolation, listEarliest)
	}
	return c.node.listOffset(ctx, tp.Topic, tp.Partition, c.cfg.Isolation, listLatest)
}

// rewindToCommitted forgets the consumer's positions and what it read
// ahead, so that it reads each assigned partition again from its group's
// committed offset: the transaction that carried what it read since has
// aborted.
func (c *Consumer) rewindToCommitted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for tp, pos := range c.assigned {
		pos.offset = -1
		c.dropPrefetchedLocked(tp)
	}
}
