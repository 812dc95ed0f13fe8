// A consumer's rebalance steps: assigned, revoked and lost partitions,
// applied in Poll.

package creek

import (
	"context"
	"slices"
)

// rebalanceKind is what a rebalance step does to a consumer's partitions.
type rebalanceKind int8

const (
	stepAssign rebalanceKind = iota // the group gave partitions
	stepRevoke                      // the group takes partitions back; commit them first
	stepLose                        // the member fell out of the group; too late to commit
)

// rebalanceStep is a change of assignment that the group member hands to
// Poll.
type rebalanceStep struct {
	kind       rebalanceKind
	partitions []TopicPartition
	done       chan struct{} // closed once applied
}

// post queues a step for Poll and returns the channel closed once it is
// applied.
func (c *Consumer) post(kind rebalanceKind, partitions []TopicPartition) <-chan struct{} {
	step := &rebalanceStep{kind: kind, partitions: partitions, done: make(chan struct{})}
	c.mu.Lock()
	c.steps = append(c.steps, step)
	c.mu.Unlock()
	c.wakePoll()
	return step.done
}

func (c *Consumer) wakePoll() {
	select {
	case c.stepPosted <- struct{}{}:
	default:
	}
}

// fail records that the member left its group for good; Poll returns err.
func (c *Consumer) fail(err error) {
	c.mu.Lock()
	c.groupErr = err
	c.mu.Unlock()
	c.wakePoll()
}

// applySteps applies the queued steps in order, each callback on the
// caller's goroutine with no lock held, so callbacks may call the
// consumer.
func (c *Consumer) applySteps(ctx context.Context) {
	for {
		c.mu.Lock()
		if len(c.steps) == 0 {
			c.mu.Unlock()
			return
		}
		step := c.steps[0]
		c.steps = c.steps[1:]
		c.mu.Unlock()
		if err := c.applyStep(ctx, step); err != nil {
			// The next owner reads these records again: at-least-once.
			c.node.log.Warn("consumer commit of revoked partitions failed", "group", c.cfg.Group, "err", err)
		}
		close(step.done)
	}
}

// applyStep applies one step; for a revocation it returns the error of the
// commit before it.
func (c *Consumer) applyStep(ctx context.Context, step *rebalanceStep) error {
	var err error
	switch step.kind {
	case stepAssign:
		c.Assign(step.partitions...)
		if c.cfg.OnAssigned != nil {
			c.cfg.OnAssigned(slices.Clone(step.partitions))
		}
	case stepRevoke:
		if !c.cfg.DisableAutoCommit {
			err = c.commit(ctx, step.partitions)
		}
		if c.cfg.OnRevoked != nil {
			c.cfg.OnRevoked(slices.Clone(step.partitions))
		}
		c.Unassign(step.partitions...)
	case stepLose:
		if c.cfg.OnLost != nil {
			c.cfg.OnLost(slices.Clone(step.partitions))
		}
		c.Unassign(step.partitions...)
	}
	return err
}

// leaveGroup ends the consumer's membership on Close: steps still queued
// are applied, the partitions left are committed (with auto-commit) and
// revoked, and a dynamic member leaves so the others rebalance at once. It
// returns the error of the last commit.
func (c *Consumer) leaveGroup(ctx context.Context) error {
	c.member.stop()
	c.applySteps(ctx)
	c.mu.Lock()
	var owned []TopicPartition
	for tp := range c.assigned {
		owned = append(owned, tp)
	}
	failed := c.groupErr != nil
	c.mu.Unlock()
	slices.SortFunc(owned, compareTopicPartitions)
	kind := stepRevoke
	if failed {
		kind = stepLose
	}
	var err error
	if len(owned) > 0 {
		err = c.applyStep(ctx, &rebalanceStep{kind: kind, partitions: owned})
	}
	c.member.leave(ctx)
	return err
}
