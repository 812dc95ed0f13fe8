package creek

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
)

// ListGroups returns the groups that have members or committed offsets,
// sorted.
func (n *Node) ListGroups() []string {
	groups := n.groups.Groups()
	n.offsets.mu.Lock()
	for g, offsets := range n.offsets.groups {
		if len(offsets) > 0 {
			groups = append(groups, g)
		}
	}
	n.offsets.mu.Unlock()
	slices.Sort(groups)
	return slices.Compact(groups)
}

// GroupDescription is a consumer group as kafka-consumer-groups --describe
// shows it: its members and what they read, its committed offsets and lag.
type GroupDescription struct {
	Group string
	// State is the group's state by Kafka's names: Empty, PreparingRebalance,
	// CompletingRebalance, Stable, or Dead for a group without members.
	State      string
	Protocol   string // the assignor the members chose
	Generation int32
	Members    []GroupMemberDescription // oldest first
	Offsets    []GroupOffset            // sorted by topic and partition
}

// GroupMemberDescription is one member of a group.
type GroupMemberDescription struct {
	MemberID   string
	InstanceID string // group.instance.id of a static member
	ClientID   string
	Assignment []TopicPartition // empty while a rebalance decides it
}

// GroupOffset is a group's committed offset in one partition, with its lag.
type GroupOffset struct {
	TopicPartition
	Committed     CommittedOffset
	HighWatermark int64 // -1 when the partition is gone
	Lag           int64 // records after the commit; -1 when the partition is gone
}

// DescribeGroup returns a group's members and committed offsets. A group
// with neither gives ErrGroupNotFound.
func (n *Node) DescribeGroup(groupID string) (GroupDescription, error) {
	membership := n.groups.Describe(groupID)
	committed := n.CommittedOffsets(groupID)
	if len(committed) == 0 && len(membership.Members) == 0 {
		return GroupDescription{}, fmt.Errorf("%w: %q", ErrGroupNotFound, groupID)
	}
	d := GroupDescription{Group: groupID, State: membership.State.String(), Protocol: membership.Protocol,
		Generation: membership.Generation}
	if len(membership.Members) == 0 {
		d.State = "Empty" // its offsets keep it, as in Kafka
	}
	for _, m := range membership.Members {
		assignment, _ := decodeAssignment(m.Assignment) // a Kafka client's may not decode: shown empty
		d.Members = append(d.Members, GroupMemberDescription{MemberID: m.MemberID, InstanceID: m.InstanceID,
			ClientID: m.ClientID, Assignment: assignment})
	}
	for tp, c := range committed {
		o := GroupOffset{TopicPartition: tp, Committed: c, HighWatermark: -1, Lag: -1}
		if p, err := n.partition(tp.Topic, tp.Partition); err == nil {
			p.mu.RLock()
			o.HighWatermark = p.log.EndOffset()
			p.mu.RUnlock()
			o.Lag = max(o.HighWatermark-c.Offset, 0)
		}
		d.Offsets = append(d.Offsets, o)
	}
	slices.SortFunc(d.Offsets, func(a, b GroupOffset) int { return compareTopicPartitions(a.TopicPartition, b.TopicPartition) })
	return d, nil
}

// DeleteGroup deletes a group's committed offsets: one tombstone per
// partition in __consumer_offsets, which compaction then removes. An
// unknown group gives ErrGroupNotFound, one with members ErrNonEmptyGroup.
func (n *Node) DeleteGroup(ctx context.Context, group string) error {
	if err := n.groups.CheckDeletable(group); err != nil {
		return fmt.Errorf("delete group %s: %w", group, err)
	}
	committed := n.CommittedOffsets(group)
	if len(committed) == 0 {
		return fmt.Errorf("%w: %q", ErrGroupNotFound, group)
	}
	partitions := make([]TopicPartition, 0, len(committed))
	for tp := range committed {
		partitions = append(partitions, tp)
	}
	if err := n.deleteOffsets(ctx, group, partitions); err != nil {
		return fmt.Errorf("delete group %s: %w", group, err)
	}
	return nil
}

// DeleteGroupOffsets deletes a group's committed offsets in partitions
// (Kafka's OffsetDelete), which the group must not be reading: it fails
// with ErrNonEmptyGroup while the group has members.
func (n *Node) DeleteGroupOffsets(ctx context.Context, group string, partitions ...TopicPartition) error {
	if err := n.groups.CheckDeletable(group); err != nil {
		return fmt.Errorf("delete offsets of group %s: %w", group, err)
	}
	if err := n.deleteOffsets(ctx, group, partitions); err != nil {
		return fmt.Errorf("delete offsets of group %s: %w", group, err)
	}
	return nil
}

// deleteOffsets writes a tombstone for each partition's commit, which
// compaction then removes, and forgets them.
func (n *Node) deleteOffsets(ctx context.Context, group string, partitions []TopicPartition) error {
	if len(partitions) == 0 {
		return nil
	}
	var records []batch.Record
	for _, tp := range partitions {
		key := kmsg.OffsetCommitKey{Version: 1, Group: group, Topic: tp.Topic, Partition: tp.Partition}
		records = append(records, batch.Record{OffsetDelta: int32(len(records)), Key: key.AppendTo(nil)})
	}
	if err := n.writeGroupRecords(ctx, group, records); err != nil {
		return err
	}
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	for _, tp := range partitions {
		delete(n.offsets.groups[group], tp)
	}
	if len(n.offsets.groups[group]) == 0 {
		delete(n.offsets.groups, group)
	}
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
