package creek

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
)

// ListGroups returns the groups that have committed offsets, sorted.
func (n *Node) ListGroups() []string {
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	var groups []string
	for g, offsets := range n.offsets.groups {
		if len(offsets) > 0 {
			groups = append(groups, g)
		}
	}
	sort.Strings(groups)
	return groups
}

// GroupOffset is a group's committed offset in one partition, with its lag.
type GroupOffset struct {
	TopicPartition
	Committed     CommittedOffset
	HighWatermark int64 // -1 when the partition is gone
	Lag           int64 // records after the commit; -1 when the partition is gone
}

// DescribeGroup returns a group's committed offsets with their lag, sorted
// by topic and partition. An unknown group gives ErrGroupNotFound.
func (n *Node) DescribeGroup(group string) ([]GroupOffset, error) {
	committed := n.CommittedOffsets(group)
	if len(committed) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrGroupNotFound, group)
	}
	out := make([]GroupOffset, 0, len(committed))
	for tp, c := range committed {
		o := GroupOffset{TopicPartition: tp, Committed: c, HighWatermark: -1, Lag: -1}
		if p, err := n.partition(tp.Topic, tp.Partition); err == nil {
			p.mu.RLock()
			o.HighWatermark = p.log.EndOffset()
			p.mu.RUnlock()
			o.Lag = max(o.HighWatermark-c.Offset, 0)
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}

// DeleteGroup deletes a group's committed offsets: one tombstone per
// partition in __consumer_offsets, which compaction then removes. An
// unknown group gives ErrGroupNotFound.
func (n *Node) DeleteGroup(ctx context.Context, group string) error {
	committed := n.CommittedOffsets(group)
	if len(committed) == 0 {
		return fmt.Errorf("%w: %q", ErrGroupNotFound, group)
	}
	var records []batch.Record
	for tp := range committed {
		key := kmsg.OffsetCommitKey{Version: 1, Group: group, Topic: tp.Topic, Partition: tp.Partition}
		records = append(records, batch.Record{OffsetDelta: int32(len(records)), Key: key.AppendTo(nil)})
	}
	if err := n.writeGroupRecords(ctx, group, records); err != nil {
		return fmt.Errorf("delete group %s: %w", group, err)
	}
	n.offsets.mu.Lock()
	delete(n.offsets.groups, group)
	n.offsets.mu.Unlock()
	return nil
}

// ResetGroupOffsets commits, for a group, the start (ResetEarliest) or end
// (ResetLatest) of each partition, as kafka-consumer-groups --reset-offsets
// does. Consumers of the group pick the new offsets up when they next
// start from their commits.
func (n *Node) ResetGroupOffsets(ctx context.Context, group string, to OffsetReset, partitions ...TopicPartition) error {
	offsets := map[TopicPartition]CommittedOffset{}
	for _, tp := range partitions {
		p, err := n.partition(tp.Topic, tp.Partition)
		if err != nil {
			return err
		}
		p.mu.RLock()
		offset := p.log.EndOffset()
		if to == ResetEarliest {
			offset = p.log.StartOffset()
		}
		p.mu.RUnlock()
		offsets[tp] = CommittedOffset{Offset: offset, LeaderEpoch: -1}
	}
	return n.CommitOffsets(ctx, group, offsets)
}
