// Partition reassignment (KIP-455): ReassignPartitions and
// PartitionReassignments.

package creek

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/controller"
)

// PartitionReassignment is a reassignment under way: the partition's
// replicas, old and new, and which of them are being added and removed.
type PartitionReassignment struct {
	TopicPartition
	Replicas, Adding, Removing []int32
}

// ReassignPartitions moves partitions to new replicas, given per
// partition in preference order (the first is the preferred leader); nil
// replicas cancel the reassignment under way. The new replicas copy the
// log from the leader as followers; once all are in sync, the old ones
// leave and, if the leader is one of them, leadership moves to the first
// new replica in sync. It returns, per partition, once the controller has
// committed the start: ErrUnknownTopic, ErrInvalidReplicaAssignment
// (replicas that are not distinct live nodes) or
// ErrNoReassignmentInProgress (nothing to cancel). Kafka's
// AlterPartitionAssignments.
func (n *Node) ReassignPartitions(ctx context.Context, moves map[TopicPartition][]int32) map[TopicPartition]error {
	out := make(map[TopicPartition]error, len(moves))
	if n.controller == nil {
		for tp := range moves {
			out[tp] = fmt.Errorf("%w: a node outside a cluster holds the only replica", ErrInvalidReplicaAssignment)
		}
		return out
	}
	leader, err := n.controller.awaitLeader(ctx)
	if err == nil && leader != n.nodeID() {
		return n.forwardReassign(ctx, moves)
	}
	for tp, replicas := range moves {
		if err == nil {
			out[tp] = n.proposeReassign(ctx, tp, replicas)
		} else {
			out[tp] = err
		}
	}
	return out
}

// proposeReassign checks and commits one partition's reassignment on the
// controller's leader.
func (n *Node) proposeReassign(ctx context.Context, tp TopicPartition, replicas []int32) error {
	p, err := n.committedPartition(tp)
	if err != nil {
		return err
	}
	if replicas == nil && !p.Reassigning() {
		return fmt.Errorf("%w: %s-%d", ErrNoReassignmentInProgress, tp.Topic, tp.Partition)
	}
	live := n.liveNodeIDs()
	for i, r := range replicas {
		if !slices.Contains(live, r) || slices.Contains(replicas[:i], r) {
			return fmt.Errorf("%w: %v for %s-%d: node %d is repeated or not a live member", ErrInvalidReplicaAssignment,
				replicas, tp.Topic, tp.Partition, r)
		}
	}
	if replicas != nil && len(replicas) == 0 {
		return fmt.Errorf("%w: no replicas for %s-%d", ErrInvalidReplicaAssignment, tp.Topic, tp.Partition)
	}
	err = n.controller.propose(ctx, controller.Command{Reassign: &controller.Reassign{Topic: tp.Topic,
		Partition: tp.Partition, Replicas: replicas}})
	if errors.Is(err, controller.ErrRejected) {
		return fmt.Errorf("%w: %v", ErrInvalidReplicaAssignment, err)
	}
	return err
}

// committedPartition returns a partition as the controller committed it.
func (n *Node) committedPartition(tp TopicPartition) (controller.Partition, error) {
	t := n.controller.fsm.Metadata().Topics[tp.Topic]
	if t == nil || tp.Partition < 0 || int(tp.Partition) >= len(t.Partitions) {
		return controller.Partition{}, fmt.Errorf("%w: %s-%d", ErrUnknownTopic, tp.Topic, tp.Partition)
	}
	return t.Partitions[tp.Partition], nil
}

// forwardReassign asks the controller's leader to reassign partitions.
func (n *Node) forwardReassign(ctx context.Context, moves map[TopicPartition][]int32) map[TopicPartition]error {
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	for topic, partitions := range byTopic(slices.Collect(maps.Keys(moves))) {
		rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
		rt.Topic = topic
		for _, p := range partitions {
			rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
			rp.Partition, rp.Replicas = p, moves[TopicPartition{topic, p}]
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	out := make(map[TopicPartition]error, len(moves))
	resp, err := n.askController(ctx, req)
	if err == nil {
		r := resp.(*kmsg.AlterPartitionAssignmentsResponse)
		err = errorForCode(r.ErrorCode, "reassign partitions on the controller")
		for _, rt := range r.Topics {
			for _, rp := range rt.Partitions {
				out[TopicPartition{rt.Topic, rp.Partition}] = errorForCode(rp.ErrorCode,
					fmt.Sprintf("reassign %s-%d on the controller", rt.Topic, rp.Partition))
			}
		}
	}
	for tp := range moves {
		if _, answered := out[tp]; !answered || err != nil {
			out[tp] = cmp.Or(err, errors.New("the controller did not answer for the partition"))
		}
	}
	return out
}

// PartitionReassignments returns the reassignments under way in topics
// (all when none), by topic and partition.
func (n *Node) PartitionReassignments(topics ...string) []PartitionReassignment {
	if n.controller == nil {
		return nil
	}
	meta := n.controller.fsm.Metadata()
	var out []PartitionReassignment
	for _, name := range meta.TopicNames() {
		if len(topics) > 0 && !slices.Contains(topics, name) {
			continue
		}
		for i, p := range meta.Topics[name].Partitions {
			if p.Reassigning() {
				out = append(out, PartitionReassignment{TopicPartition: TopicPartition{name, int32(i)},
					Replicas: slices.Clone(p.Replicas), Adding: slices.Clone(p.Adding), Removing: slices.Clone(p.Removing)})
			}
		}
	}
	return out
}

// ElectPreferredLeaders makes each partition's preferred replica, its
// first, lead it again (all partitions when none are named), as after
// failovers moved leadership onto few nodes. Per partition: nil once
// committed, ErrElectionNotNeeded when it leads already,
// ErrPreferredLeaderNotAvailable when it is down or out of sync, or
// ErrUnknownTopic. Kafka's ElectLeaders with the preferred election type.
func (n *Node) ElectPreferredLeaders(ctx context.Context, partitions ...TopicPartition) map[TopicPartition]error {
	if n.controller == nil {
		out := map[TopicPartition]error{}
		for _, tp := range partitions {
			out[tp] = fmt.Errorf("%w: %s-%d", ErrElectionNotNeeded, tp.Topic, tp.Partition)
		}
		return out
	}
	leader, err := n.controller.awaitLeader(ctx)
	if err == nil && leader != n.nodeID() {
		return n.forwardElection(ctx, partitions)
	}
	if len(partitions) == 0 {
		meta := n.controller.fsm.Metadata()
		for _, name := range meta.TopicNames() {
			for i := range meta.Topics[name].Partitions {
				partitions = append(partitions, TopicPartition{name, int32(i)})
			}
		}
	}
	out := make(map[TopicPartition]error, len(partitions))
	for _, tp := range partitions {
		if err != nil {
			out[tp] = err
			continue
		}
		out[tp] = n.proposePreferredLeader(ctx, tp)
	}
	return out
}

// proposePreferredLeader commits one partition's preferred leader on the
// controller's leader.
func (n *Node) proposePreferredLeader(ctx context.Context, tp TopicPartition) error {
	p, err := n.committedPartition(tp)
	if err != nil {
		return err
	}
	switch {
	case p.Leader == p.Replicas[0]:
		return fmt.Errorf("%w: %s-%d", ErrElectionNotNeeded, tp.Topic, tp.Partition)
	case !slices.Contains(p.ISR, p.Replicas[0]) || !slices.Contains(n.liveNodeIDs(), p.Replicas[0]):
		return fmt.Errorf("%w: %s-%d: node %d", ErrPreferredLeaderNotAvailable, tp.Topic, tp.Partition, p.Replicas[0])
	}
	err = n.controller.propose(ctx, controller.Command{PreferLeader: &controller.PreferLeader{Topic: tp.Topic,
		Partition: tp.Partition, LeaderEpoch: p.LeaderEpoch}})
	if errors.Is(err, controller.ErrRejected) {
		return fmt.Errorf("%w: %v", ErrPreferredLeaderNotAvailable, err)
	}
	return err
}

// forwardElection asks the controller's leader for preferred leaders.
func (n *Node) forwardElection(ctx context.Context, partitions []TopicPartition) map[TopicPartition]error {
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType, req.TimeoutMillis = 0, 30_000
	if len(partitions) > 0 {
		for topic, ps := range byTopic(partitions) {
			req.Topics = append(req.Topics, kmsg.ElectLeadersRequestTopic{Topic: topic, Partitions: ps})
		}
	}
	out := map[TopicPartition]error{}
	resp, err := n.askController(ctx, req)
	if err != nil {
		for _, tp := range partitions {
			out[tp] = err
		}
		return out
	}
	r := resp.(*kmsg.ElectLeadersResponse)
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			out[TopicPartition{rt.Topic, rp.Partition}] = errorForCode(rp.ErrorCode,
				fmt.Sprintf("elect the preferred leader of %s-%d on the controller", rt.Topic, rp.Partition))
		}
	}
	return out
}

// byTopic groups partitions by topic, each topic's in order.
func byTopic(partitions []TopicPartition) map[string][]int32 {
	out := map[string][]int32{}
	for _, tp := range partitions {
		out[tp.Topic] = append(out[tp.Topic], tp.Partition)
	}
	for _, ps := range out {
		slices.Sort(ps)
	}
	return out
}
