// Group administration: ListGroups, DescribeGroup, DeleteGroup, offsets'
// reset and deletion.

package creek

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/group"
)

// ListGroups returns the groups that have members or committed offsets,
// sorted: in a cluster, those of every live node, asked with ListGroups
// (a node that does not answer before ctx ends is left out).
func (n *Node) ListGroups(ctx context.Context) []string {
	groups := n.localGroups()
	if n.controller == nil {
		return groups
	}
	for _, id := range n.liveNodeIDs() {
		if id == n.nodeID() {
			continue
		}
		resp, err := n.peers.request(ctx, id, kmsg.NewPtrListGroupsRequest())
		if err != nil {
			n.log.Warn("could not list the groups of a node", "node", id, "err", err)
			continue
		}
		for _, g := range resp.(*kmsg.ListGroupsResponse).Groups {
			groups = append(groups, g.Group)
		}
	}
	slices.Sort(groups)
	return slices.Compact(groups)
}

// localGroups returns the groups this node coordinates that have members
// or committed offsets, sorted.
func (n *Node) localGroups() []string {
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
	// State is the group's state by Kafka's names: Empty for a group
	// without members (its committed offsets keep it), PreparingRebalance,
	// CompletingRebalance or Stable.
	State      string
	Protocol   string                   // the assignor the members chose
	Generation int32                    // -1 when another node coordinates the group (DescribeGroups carries none)
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

// DescribeGroup returns a group's members and committed offsets, from
// its coordinator wherever it is, with each partition's lag behind its
// high watermark. A group with neither gives ErrGroupNotFound. It asks
// other nodes until ctx ends.
func (n *Node) DescribeGroup(ctx context.Context, groupID string) (GroupDescription, error) {
	d, err := n.describeMembers(ctx, groupID)
	if err != nil {
		return GroupDescription{}, fmt.Errorf("describe group %s: %w", groupID, err)
	}
	committed, err := n.FetchCommittedOffsets(ctx, groupID)
	if err != nil {
		return GroupDescription{}, fmt.Errorf("describe group %s: %w", groupID, err)
	}
	if len(committed) == 0 && len(d.Members) == 0 {
		return GroupDescription{}, fmt.Errorf("%w: %q", ErrGroupNotFound, groupID)
	}
	if len(d.Members) == 0 {
		d.State = "Empty" // its offsets keep it, as in Kafka
	}
	for tp, c := range committed {
		o := GroupOffset{TopicPartition: tp, Committed: c, HighWatermark: -1, Lag: -1}
		if hw, err := n.listOffset(ctx, tp.Topic, tp.Partition, ReadUncommitted, listLatest); err == nil {
			o.HighWatermark, o.Lag = hw, max(hw-c.Offset, 0)
		}
		d.Offsets = append(d.Offsets, o)
	}
	slices.SortFunc(d.Offsets, func(a, b GroupOffset) int { return compareTopicPartitions(a.TopicPartition, b.TopicPartition) })
	return d, nil
}

// describeMembers returns a group's state and members, from this node's
// coordinator or with DescribeGroups from the coordinating node.
func (n *Node) describeMembers(ctx context.Context, groupID string) (GroupDescription, error) {
	coordinator, err := n.groupCoordinator(ctx, groupID)
	if err != nil {
		return GroupDescription{}, err
	}
	d := GroupDescription{Group: groupID}
	if coordinator == n.nodeID() {
		membership := n.groups.Describe(groupID)
		d.State, d.Protocol, d.Generation = membership.State.String(), membership.Protocol, membership.Generation
		for _, m := range membership.Members {
			d.Members = append(d.Members, describeMember(m.MemberID, m.InstanceID, m.ClientID, m.Assignment))
		}
		return d, nil
	}
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{groupID}
	resp, err := n.peers.request(ctx, coordinator, req)
	if err != nil {
		return GroupDescription{}, fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
	}
	groups := resp.(*kmsg.DescribeGroupsResponse).Groups
	if len(groups) != 1 {
		return GroupDescription{}, fmt.Errorf("node %d described %d groups", coordinator, len(groups))
	}
	g := groups[0]
	if err := errorForCode(g.ErrorCode, fmt.Sprintf("describe group %s on node %d", groupID, coordinator)); err != nil {
		return GroupDescription{}, err
	}
	d.State, d.Protocol, d.Generation = g.State, g.Protocol, -1
	for _, m := range g.Members {
		d.Members = append(d.Members, describeMember(m.MemberID, deref(m.InstanceID), m.ClientID, m.MemberAssignment))
	}
	return d, nil
}

// describeMember describes one member; a Kafka client's assignment may
// not decode, and is then shown empty.
func describeMember(memberID, instanceID, clientID string, assignment []byte) GroupMemberDescription {
	tps, _ := decodeAssignment(assignment)
	return GroupMemberDescription{MemberID: memberID, InstanceID: instanceID, ClientID: clientID, Assignment: tps}
}

// DeleteGroup deletes a group's committed offsets: one tombstone per
// partition in __consumer_offsets, which compaction then removes. An
// unknown group gives ErrGroupNotFound, one with members ErrNonEmptyGroup.
func (n *Node) DeleteGroup(ctx context.Context, group string) error {
	coordinator, err := n.groupCoordinator(ctx, group)
	if err != nil {
		return fmt.Errorf("delete group %s: %w", group, err)
	}
	if coordinator != n.nodeID() {
		return n.deleteRemoteGroup(ctx, coordinator, group)
	}
	return n.deleteLocalGroup(ctx, group)
}

// deleteLocalGroup is DeleteGroup for a group this node coordinates.
func (n *Node) deleteLocalGroup(ctx context.Context, group string) error {
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
	if err := n.deleteOffsets(ctx, group, partitions, true); err != nil {
		return fmt.Errorf("delete group %s: %w", group, err)
	}
	return nil
}

// DeleteGroupOffsets deletes a group's committed offsets in partitions
// (Kafka's OffsetDelete), which the group must not be reading: it fails
// with ErrNonEmptyGroup while the group has members.
func (n *Node) DeleteGroupOffsets(ctx context.Context, group string, partitions ...TopicPartition) error {
	coordinator, err := n.groupCoordinator(ctx, group)
	if err != nil {
		return fmt.Errorf("delete offsets of group %s: %w", group, err)
	}
	if coordinator != n.nodeID() {
		return n.deleteRemoteGroupOffsets(ctx, coordinator, group, partitions)
	}
	return n.deleteLocalGroupOffsets(ctx, group, partitions...)
}

// deleteLocalGroupOffsets is DeleteGroupOffsets for a group this node
// coordinates.
func (n *Node) deleteLocalGroupOffsets(ctx context.Context, group string, partitions ...TopicPartition) error {
	if err := n.groups.CheckDeletable(group); err != nil {
		return fmt.Errorf("delete offsets of group %s: %w", group, err)
	}
	if err := n.deleteOffsets(ctx, group, partitions, false); err != nil {
		return fmt.Errorf("delete offsets of group %s: %w", group, err)
	}
	return nil
}

// deleteOffsets writes a tombstone for each partition's commit, which
// compaction then removes, and forgets them. withMembership adds one for
// the group's stored membership, as deleting the group does.
func (n *Node) deleteOffsets(ctx context.Context, groupID string, partitions []TopicPartition, withMembership bool) error {
	if len(partitions) == 0 {
		return nil
	}
	var records []batch.Record
	for _, tp := range partitions {
		key := kmsg.OffsetCommitKey{Version: 1, Group: groupID, Topic: tp.Topic, Partition: tp.Partition}
		records = append(records, batch.Record{OffsetDelta: int32(len(records)), Key: key.AppendTo(nil)})
	}
	if withMembership {
		tombstone := groupMetadataRecord(group.Description{Group: groupID}, n.now())
		tombstone.OffsetDelta = int32(len(records))
		records = append(records, tombstone)
	}
	if err := n.writeGroupRecords(ctx, groupID, records); err != nil {
		return err
	}
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	for _, tp := range partitions {
		delete(n.offsets.groups[groupID], tp)
	}
	if len(n.offsets.groups[groupID]) == 0 {
		delete(n.offsets.groups, groupID)
	}
	return nil
}

// ResetGroupOffsets commits, for a group, the start (ResetEarliest) or end
// (ResetLatest: the high watermark, where a consumer's reading ends) of
// each partition, as its leader answers them, as kafka-consumer-groups
// --reset-offsets does. Consumers of the group pick the new offsets up when
// they next start from their commits. While the group has members it fails
// with ErrUnknownMemberID, as CommitOffsets does.
func (n *Node) ResetGroupOffsets(ctx context.Context, group string, to OffsetReset, partitions ...TopicPartition) error {
	at := int64(listLatest)
	if to == ResetEarliest {
		at = listEarliest
	}
	offsets := map[TopicPartition]CommittedOffset{}
	for _, tp := range partitions {
		offset, err := n.listOffset(ctx, tp.Topic, tp.Partition, ReadUncommitted, at)
		if err != nil {
			return err
		}
		offsets[tp] = CommittedOffset{Offset: offset, LeaderEpoch: -1}
	}
	return n.CommitOffsets(ctx, group, offsets)
}
