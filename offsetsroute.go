// Committing and reading offsets at the group's coordinator, wherever it is.

package creek

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
)

// The node's own consumers commit and read offsets wherever their group
// is coordinated: here, or on the coordinating node with OffsetCommit and
// OffsetFetch requests over the node's peer connections.

// commitOffsets commits a member's offsets at the group's coordinator.
func (n *Node) commitOffsets(ctx context.Context, groupID string, member groupIdentity, offsets map[TopicPartition]CommittedOffset) error {
	coordinator, err := n.groupCoordinator(ctx, groupID)
	if err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", groupID, err)
	}
	if coordinator == n.nodeID() {
		return n.commitLocalOffsets(ctx, groupID, member, offsets)
	}
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation, req.MemberID = groupID, member.Generation, member.MemberID
	req.InstanceID = optional(member.InstanceID)
	byTopic := map[string]int{}
	for tp, c := range offsets {
		i := kafka.TopicIndex(&req.Topics, byTopic, tp.Topic, func(topic string) kmsg.OffsetCommitRequestTopic {
			return kmsg.OffsetCommitRequestTopic{Topic: topic}
		})
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = tp.Partition, c.Offset, c.LeaderEpoch, &c.Metadata
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	resp, err := n.peers.request(ctx, coordinator, req)
	if err != nil {
		return fmt.Errorf("commit offsets of group %s: %w: %v", groupID, ErrCoordinatorNotAvailable, err)
	}
	for _, rt := range resp.(*kmsg.OffsetCommitResponse).Topics {
		for _, rp := range rt.Partitions {
			if err := errorForCode(rp.ErrorCode, fmt.Sprintf("commit offsets of group %s on node %d", groupID, coordinator)); err != nil {
				return err
			}
		}
	}
	return nil
}

// FetchCommittedOffsets returns a group's committed offsets in partitions
// (all of the group's when none are named) from the group's coordinator:
// this node, or in a cluster the leader of the group's partition of
// __consumer_offsets, asked with OffsetFetch. It looks again while the
// coordinator moves or loads, until ctx ends.
func (n *Node) FetchCommittedOffsets(ctx context.Context, groupID string, partitions ...TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	return n.fetchCommittedOffsets(ctx, groupID, false, partitions)
}

// fetchCommittedOffsets is FetchCommittedOffsets; with stable, as a
// read_committed consumer asks (Kafka's require_stable), it also waits
// while a transaction not yet ended has committed an offset of the group
// in partitions (in any, when none are named).
func (n *Node) fetchCommittedOffsets(ctx context.Context, groupID string, stable bool, partitions []TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	var committed map[TopicPartition]CommittedOffset
	err := whileCoordinatorMoves(ctx, ErrUnstableOffsetCommit, func() (err error) {
		committed, err = n.fetchCommittedOnce(ctx, groupID, stable, partitions)
		return err
	})
	if err != nil {
		return nil, err
	}
	return committed, nil
}

func (n *Node) fetchCommittedOnce(ctx context.Context, groupID string, stable bool, partitions []TopicPartition) (map[TopicPartition]CommittedOffset, error) {
	coordinator, err := n.groupCoordinator(ctx, groupID)
	if err != nil {
		return nil, err
	}
	if coordinator == n.nodeID() {
		if err := n.ownsGroup(groupID); err != nil {
			return nil, err
		}
		if stable && n.unstableOffsets(groupID, partitions) {
			return nil, fmt.Errorf("%w: group %s", ErrUnstableOffsetCommit, groupID)
		}
		return n.CommittedOffsets(groupID, partitions...), nil
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group, req.RequireStable = groupID, stable
	if len(partitions) > 0 {
		byTopic := map[string]int{}
		for _, tp := range partitions {
			i := kafka.TopicIndex(&req.Topics, byTopic, tp.Topic, func(topic string) kmsg.OffsetFetchRequestTopic {
				return kmsg.OffsetFetchRequestTopic{Topic: topic}
			})
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.Partition)
		}
	}
	resp, err := n.peers.request(ctx, coordinator, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
	}
	fr := resp.(*kmsg.OffsetFetchResponse)
	what := fmt.Sprintf("fetch offsets of group %s from node %d", groupID, coordinator)
	if err := errorForCode(fr.ErrorCode, what); err != nil {
		return nil, err
	}
	out := map[TopicPartition]CommittedOffset{}
	for _, rt := range fr.Topics {
		for _, rp := range rt.Partitions {
			if err := errorForCode(rp.ErrorCode, what); err != nil {
				return nil, err
			}
			if rp.Offset >= 0 {
				out[TopicPartition{rt.Topic, rp.Partition}] = CommittedOffset{Offset: rp.Offset,
					LeaderEpoch: rp.LeaderEpoch, Metadata: deref(rp.Metadata)}
			}
		}
	}
	return out, nil
}

// deleteRemoteGroup asks the node coordinating a group to delete it.
func (n *Node) deleteRemoteGroup(ctx context.Context, coordinator int32, group string) error {
	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Groups = []string{group}
	resp, err := n.peers.request(ctx, coordinator, req)
	if err != nil {
		return fmt.Errorf("delete group %s: %w: %v", group, ErrCoordinatorNotAvailable, err)
	}
	what := fmt.Sprintf("delete group %s on node %d", group, coordinator)
	for _, g := range resp.(*kmsg.DeleteGroupsResponse).Groups {
		if g.Group == group {
			return errorForCode(g.ErrorCode, what)
		}
	}
	return fmt.Errorf("%s: no answer for the group", what)
}

// deleteRemoteGroupOffsets asks the node coordinating a group to delete
// its offsets in partitions (OffsetDelete).
func (n *Node) deleteRemoteGroupOffsets(ctx context.Context, coordinator int32, group string, partitions []TopicPartition) error {
	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = group
	byTopic := map[string]int{}
	for _, tp := range partitions {
		i := kafka.TopicIndex(&req.Topics, byTopic, tp.Topic, func(topic string) kmsg.OffsetDeleteRequestTopic {
			return kmsg.OffsetDeleteRequestTopic{Topic: topic}
		})
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, kmsg.OffsetDeleteRequestTopicPartition{Partition: tp.Partition})
	}
	resp, err := n.peers.request(ctx, coordinator, req)
	if err != nil {
		return fmt.Errorf("delete offsets of group %s: %w: %v", group, ErrCoordinatorNotAvailable, err)
	}
	r := resp.(*kmsg.OffsetDeleteResponse)
	what := fmt.Sprintf("delete offsets of group %s on node %d", group, coordinator)
	if err := errorForCode(r.ErrorCode, what); err != nil {
		return err
	}
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			if err := errorForCode(rp.ErrorCode, what); err != nil {
				return err
			}
		}
	}
	return nil
}
