// The consumer protocol's subscription and assignment bytes (Kafka's
// encoding).

package creek

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocolType is the protocol type of consumer groups.
const consumerProtocolType = "consumer"

// encodeSubscription encodes what a consumer sends when it joins, in
// Kafka's ConsumerProtocolSubscription (version 3), so creek consumers and
// Kafka clients can lead each other's groups. Cooperative members list
// their owned partitions there; an eager sticky member carries what it
// owned before giving it up in the sticky assignor's user data, as Kafka's
// does.
func encodeSubscription(s GroupSubscription, a Assignor) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 3
	meta.Topics = s.Topics
	meta.Generation = s.Generation
	if a.Cooperative() {
		meta.OwnedPartitions = ownedByTopic(s.Owned)
	} else if a.Name() == "sticky" && len(s.Owned) > 0 {
		sticky := kmsg.NewStickyMemberMetadata()
		sticky.Generation = s.Generation
		for _, o := range ownedByTopic(s.Owned) {
			sticky.CurrentAssignment = append(sticky.CurrentAssignment,
				kmsg.StickyMemberMetadataCurrentAssignment{Topic: o.Topic, Partitions: o.Partitions})
		}
		meta.UserData = sticky.AppendTo(nil)
	}
	return meta.AppendTo(nil)
}

// decodeSubscription decodes a member's subscription, from any client.
func decodeSubscription(memberID, instanceID string, b []byte) (GroupSubscription, error) {
	var meta kmsg.ConsumerMemberMetadata
	if err := meta.ReadFrom(b); err != nil {
		return GroupSubscription{}, fmt.Errorf("%w: subscription of member %s: %v", ErrCorrupt, memberID, err)
	}
	s := GroupSubscription{MemberID: memberID, InstanceID: instanceID, Topics: slices.Sorted(slices.Values(meta.Topics)),
		Generation: -1}
	if meta.Version >= 2 {
		s.Generation = meta.Generation
	}
	for _, o := range meta.OwnedPartitions {
		for _, p := range o.Partitions {
			s.Owned = append(s.Owned, TopicPartition{o.Topic, p})
		}
	}
	var sticky kmsg.StickyMemberMetadata
	if len(s.Owned) == 0 && len(meta.UserData) > 0 && sticky.ReadFrom(meta.UserData) == nil {
		for _, a := range sticky.CurrentAssignment {
			for _, p := range a.Partitions {
				s.Owned = append(s.Owned, TopicPartition{a.Topic, p})
			}
		}
		s.Generation = sticky.Generation
	}
	return s, nil
}

// encodeAssignment encodes a member's partitions as Kafka's
// ConsumerProtocolAssignment.
func encodeAssignment(tps []TopicPartition) []byte {
	a := kmsg.NewConsumerMemberAssignment()
	for _, o := range ownedByTopic(tps) {
		a.Topics = append(a.Topics, kmsg.ConsumerMemberAssignmentTopic{Topic: o.Topic, Partitions: o.Partitions})
	}
	return a.AppendTo(nil)
}

// decodeAssignment decodes the partitions the leader gave a member; an
// empty assignment decodes to none.
func decodeAssignment(b []byte) ([]TopicPartition, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(b); err != nil {
		return nil, fmt.Errorf("%w: group assignment: %v", ErrCorrupt, err)
	}
	var out []TopicPartition
	for _, t := range a.Topics {
		for _, p := range t.Partitions {
			out = append(out, TopicPartition{t.Topic, p})
		}
	}
	slices.SortFunc(out, compareTopicPartitions)
	return slices.Compact(out), nil
}

// ownedByTopic groups partitions by topic, sorted.
func ownedByTopic(tps []TopicPartition) []kmsg.ConsumerMemberMetadataOwnedPartition {
	sorted := slices.SortedFunc(slices.Values(tps), compareTopicPartitions)
	var out []kmsg.ConsumerMemberMetadataOwnedPartition
	for _, tp := range sorted {
		if len(out) == 0 || out[len(out)-1].Topic != tp.Topic {
			out = append(out, kmsg.ConsumerMemberMetadataOwnedPartition{Topic: tp.Topic})
		}
		last := &out[len(out)-1]
		last.Partitions = append(last.Partitions, tp.Partition)
	}
	return out
}
