// Poll: reading the assigned partitions, fairly, from their positions.

package creek

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"time"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/kafka"
)

// PartitionRecords are the records Poll read from one partition, in offset
// order.
type PartitionRecords struct {
	TopicPartition
	Records []Record
}

// Poll returns records from the assigned partitions that are not paused,
// waiting until at least one is there or ctx ends. Each call starts with a
// different partition, so none starves. The records are the caller's.
//
// An error met in a partition after others gave records is returned by
// the next Poll, so that the records, whose positions have moved, are
// not lost (as Kafka's consumer keeps such an exception for its next
// poll).
func (c *Consumer) Poll(ctx context.Context) ([]PartitionRecords, error) {
	var out []PartitionRecords
	budget := c.cfg.MaxPollRecords
	err := c.poll(ctx, func(tp TopicPartition, p *partition) (int, bool, bool, error) {
		records, remote, err := c.readPartition(ctx, tp, p, budget)
		if len(records) > 0 {
			out = append(out, PartitionRecords{TopicPartition: tp, Records: records})
			budget -= len(records)
		}
		return len(records), budget == 0, remote, err
	})
	return out, err
}

// partitionRead reads one partition for a poll, from its position, and
// moves the position past what it hands out: how many records that is,
// whether the poll is now full, and whether another node, the leader,
// answered.
type partitionRead func(tp TopicPartition, p *partition) (n int, full, remote bool, err error)

// poll is Poll's loop: it reads the assigned partitions that are not
// paused through read, each once and from a different one each call,
// until read says the poll is full, and waits for records until one gives
// some or ctx ends.
func (c *Consumer) poll(ctx context.Context, read partitionRead) error {
	if err := c.takePollErr(); err != nil {
		return err
	}
	c.applySteps(ctx)
	c.maybeAutoCommit(ctx)
	for {
		n, full, wake, err := c.pollOnce(read)
		if n > 0 && err != nil {
			c.keepPollErr(err) // for the next poll: these records are the caller's first
			err = nil
		}
		if err != nil || n > 0 || full {
			return err
		}
		cases := []reflect.SelectCase{
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.closedChan)},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.stepPosted)},
		}
		for _, ch := range wake {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		switch chosen, _, _ := reflect.Select(cases); chosen {
		case 0:
			return ctx.Err()
		case 1:
			return ErrClosed
		case 2:
			c.applySteps(ctx)
		}
	}
}

// keepPollErr keeps err for the next poll to return.
func (c *Consumer) keepPollErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pollErr = err
}

// takePollErr returns the error a poll kept for the next, and forgets it.
func (c *Consumer) takePollErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.pollErr
	c.pollErr = nil
	return err
}

// remotePollInterval is how often Poll, waiting, reads again the
// partitions led by other nodes: no local append announces their records
// (a replica here grows about when the leader's does, and wakes Poll
// sooner).
const remotePollInterval = 100 * time.Millisecond

// pollOnce reads what is there now through read: how many records it
// handed out, whether the poll is full, and the channels that announce
// new records when there were none. On an error it returns what it
// handed out before.
func (c *Consumer) pollOnce(read partitionRead) (int, bool, []<-chan struct{}, error) {
	partitions, err := c.readable()
	if err != nil {
		return 0, false, nil, err
	}
	var wake []<-chan struct{}
	polling := false
	total := 0
	for _, tp := range partitions {
		p, err := c.node.partition(tp.Topic, tp.Partition)
		if err != nil {
			return total, false, nil, err
		}
		wake = append(wake, p.arrival()) // before reading: an append after the read still wakes Poll
		n, full, remote, err := read(tp, p)
		total += n
		if err != nil || full {
			return total, full, nil, err
		}
		if remote && !polling { // led elsewhere: no local append announces its records
			tick := make(chan struct{})
			time.AfterFunc(remotePollInterval, func() { close(tick) })
			wake = append(wake, tick)
			polling = true
		}
	}
	return total, false, wake, nil
}

// readable returns the partitions to read, assigning those of subscribed
// topics, in the order this Poll visits them.
func (c *Consumer) readable() ([]TopicPartition, error) {
	subscribed := c.subscribedPartitions()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.groupErr != nil {
		return nil, c.groupErr
	}
	if c.member == nil { // without a group, a subscriber reads every partition
		for _, tp := range subscribed {
			c.positionLocked(tp)
		}
	}
	c.dropUnreadLocked()
	var tps []TopicPartition
	for tp, pos := range c.assigned {
		if !pos.paused {
			tps = append(tps, tp)
		}
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	if len(tps) > 0 {
		c.nextFirst = (c.nextFirst + 1) % len(tps)
		tps = append(tps[c.nextFirst:], tps[:c.nextFirst]...)
	}
	return tps, nil
}

func (c *Consumer) subscribedPartitions() []TopicPartition {
	var out []TopicPartition
	for topic, count := range c.subscribedTopics() {
		for p := range count {
			out = append(out, TopicPartition{topic, p})
		}
	}
	return out
}

// subscribedTopics returns the partition count of each existing topic the
// consumer subscribes to, by name or by pattern.
func (c *Consumer) subscribedTopics() map[string]int32 {
	c.mu.Lock()
	topics, pattern := make([]string, 0, len(c.topics)), c.pattern
	for t := range c.topics {
		topics = append(topics, t)
	}
	c.mu.Unlock()
	out := map[string]int32{}
	for name, count := range c.node.partitionCounts() {
		if containsString(topics, name) || pattern != nil && !internalTopic(name) && pattern.MatchString(name) {
			out[name] = count
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readPartition reads up to budget records from the consumer's position in
// tp (see readFrom), from what was read ahead if it can, and moves the
// position past them.
func (c *Consumer) readPartition(ctx context.Context, tp TopicPartition, p *partition, budget int) ([]Record, bool, error) {
	if err := c.as.may(acl.Read, acl.Topic, tp.Topic); err != nil {
		return nil, false, err
	}
	offset, err := c.Position(ctx, tp)
	if err != nil {
		return nil, false, err
	}
	if records, ok := c.takePrefetched(tp, offset, budget); ok {
		next := records[len(records)-1].Offset + 1
		c.moveIf(tp, offset, next)
		c.startPrefetch(tp, p, next)
		return records, false, nil
	}
	offset, b, aborted, remote, err := c.readFrom(ctx, tp, p, nil, offset)
	if err != nil || len(b) == 0 {
		return nil, remote, err
	}
	records, err := appendRecords(nil, b, tp, offset, budget, newAbortedFilter(aborted))
	if err != nil {
		return nil, remote, err
	}
	switch {
	case len(records) > 0:
		next := records[len(records)-1].Offset + 1
		if len(records) < budget { // every batch read was taken: step past the skipped ones at its end too
			next = max(next, lastOffsetIn(b)+1)
		}
		c.moveIf(tp, offset, next)
		if !remote && len(b) >= c.cfg.PartitionMaxBytes/2 { // a backlog, likely: read the next window meanwhile
			c.startPrefetch(tp, p, next)
		}
	default:
		// Only control batches, aborted transactions, or records below the
		// position (compaction left a gap): step past them, or Poll would
		// wait with data ahead.
		if c.moveIf(tp, offset, lastOffsetIn(b)+1) {
			return c.readPartition(ctx, tp, p, budget)
		}
	}
	return records, remote, nil
}

// readFrom reads tp from offset, the consumer's position, appending to
// dst when it reads locally (see fetchFrom): the offset it read from, the
// batches and the aborted transactions they meet, and whether another
// node answered. A position outside the log is reset first, as
// ConsumerConfig.Reset says (Kafka's auto.offset.reset), and read from
// the new one; a partition with no leader for now reads nothing, remote,
// so that Poll looks again after remotePollInterval.
func (c *Consumer) readFrom(ctx context.Context, tp TopicPartition, p *partition, dst []byte, offset int64) (
	int64, []byte, []kafka.AbortedTxn, bool, error) {
	for {
		b, aborted, remote, err := c.node.fetchFrom(ctx, p, dst, offset, c.cfg.PartitionMaxBytes, c.cfg.Isolation)
		switch {
		case errors.Is(err, ErrOffsetOutOfRange):
			reset, err := c.resetOffset(ctx, tp)
			if err != nil {
				return offset, nil, nil, remote, err
			}
			c.node.log.Info("consumer position out of range; reset", "topic", tp.Topic, "partition", tp.Partition,
				"position", offset, "reset_to", reset)
			if !c.moveIf(tp, offset, reset) || reset == offset {
				return offset, nil, nil, remote, nil
			}
			offset = reset // and read from there, now
		case errors.Is(err, ErrNotLeader) && c.node.controller != nil:
			return offset, nil, nil, true, nil
		default:
			return offset, b, aborted, remote, err
		}
	}
}

// moveIf moves a partition's position from old to new, unless a Seek or an
// Unassign changed it meanwhile, and reports whether it did.
func (c *Consumer) moveIf(tp TopicPartition, old, new int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pos := c.assigned[tp]; pos != nil && pos.offset == old {
		pos.offset = new
		return true
	}
	return false
}
