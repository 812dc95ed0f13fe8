// A consumer's committed offsets: Commit, CommitAsync, Committed and
// auto-commit.

package creek

import (
	"context"
	"fmt"
	"slices"

	"github.com/creekmq/creek/internal/acl"
)

// Commit commits the consumer's positions in every assigned partition it
// has read, or has a position in, to its Group, and waits. A group member
// whose generation a rebalance ended gets ErrIllegalGeneration or
// ErrUnknownMemberID, and its commit is not stored. Without a Group it
// gives ErrInvalidGroupID.
func (c *Consumer) Commit(ctx context.Context) error { return c.commit(ctx, nil) }

// commit commits the positions in partitions, or in all assigned ones when
// partitions is nil.
func (c *Consumer) commit(ctx context.Context, partitions []TopicPartition) error {
	if err := c.as.may(acl.Read, acl.Group, c.cfg.Group); err != nil {
		return err
	}
	id, offsets, err := c.positionsToCommit(partitions)
	if err != nil {
		return err
	}
	return c.node.commitOffsets(ctx, c.cfg.Group, id, offsets)
}

// positionsToCommit returns the consumer's positions in partitions, or in
// all assigned ones when partitions is nil, and the group member they are
// committed as.
func (c *Consumer) positionsToCommit(partitions []TopicPartition) (groupIdentity, map[TopicPartition]CommittedOffset, error) {
	if c.cfg.Group == "" {
		return groupIdentity{}, nil, fmt.Errorf("%w: the consumer has no Group", ErrInvalidGroupID)
	}
	c.mu.Lock()
	offsets := map[TopicPartition]CommittedOffset{}
	for tp, pos := range c.assigned {
		if pos.offset >= 0 && (partitions == nil || slices.Contains(partitions, tp)) {
			offsets[tp] = CommittedOffset{Offset: pos.offset, LeaderEpoch: -1}
		}
	}
	c.lastCommit = c.node.now()
	member := c.member
	c.mu.Unlock()
	id := groupIdentity{Generation: -1}
	if member != nil {
		id = member.identity()
	}
	return id, offsets, nil
}

// CommitAsync commits as Commit does without waiting; done, if not nil, is
// called with the result from another goroutine. Close waits for it.
func (c *Consumer) CommitAsync(ctx context.Context, done func(error)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(c.asyncCommits, cancel)()
		err := c.Commit(ctx)
		if done != nil {
			done(err)
		}
	}()
}

// Committed returns the Group's committed offset in a partition, and
// false when it has none, asking the group's coordinator until ctx ends.
func (c *Consumer) Committed(ctx context.Context, tp TopicPartition) (CommittedOffset, bool, error) {
	if c.cfg.Group == "" {
		return CommittedOffset{}, false, nil
	}
	if err := c.as.may(acl.Describe, acl.Group, c.cfg.Group); err != nil {
		return CommittedOffset{}, false, err
	}
	committed, err := c.node.fetchCommittedOffsets(ctx, c.cfg.Group, c.cfg.Isolation == ReadCommitted, []TopicPartition{tp})
	if err != nil {
		return CommittedOffset{}, false, fmt.Errorf("committed offset of group %s in %s-%d: %w", c.cfg.Group, tp.Topic, tp.Partition, err)
	}
	co, ok := committed[tp]
	return co, ok, nil
}

// maybeAutoCommit commits when auto-commit is on and AutoCommitInterval has
// passed: the positions then cover what earlier Polls returned. A failure
// is logged, as Kafka's consumers do; the next commit covers it.
func (c *Consumer) maybeAutoCommit(ctx context.Context) {
	if c.cfg.Group == "" || c.cfg.DisableAutoCommit {
		return
	}
	c.mu.Lock()
	due := c.node.now().Sub(c.lastCommit) >= c.cfg.AutoCommitInterval
	c.mu.Unlock()
	if !due {
		return
	}
	if err := c.Commit(ctx); err != nil {
		c.node.log.Warn("consumer auto-commit failed", "group", c.cfg.Group, "err", err)
	}
}
