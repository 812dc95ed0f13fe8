// A group's membership stored in __consumer_offsets, as Kafka stores it.

package creek

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/group"
)

// A group's membership is stored in its partition of __consumer_offsets
// beside its commits, in Kafka's format: key version 2 (GroupMetadataKey)
// and value version 3 (GroupMetadataValue, with static members' instance
// IDs). A group without members is a tombstone, which compaction removes.
// The coordinator that reads the partition next restores the groups
// (group.Coordinator.Restore), so their members go on in their generation.

// groupMetadataKeyVersion is the key version of a group's membership;
// versions 0 and 1 are committed offsets.
const groupMetadataKeyVersion = 2

// storeGroup writes a group's membership: group.Config.Store.
func (n *Node) storeGroup(ctx context.Context, d group.Description) error {
	if err := n.writeGroupRecords(ctx, d.Group, []batch.Record{groupMetadataRecord(d, n.now())}); err != nil {
		return fmt.Errorf("store membership of group %s: %w", d.Group, err)
	}
	return nil
}

// groupMetadataRecord encodes a group's membership as Kafka does.
func groupMetadataRecord(d group.Description, now time.Time) batch.Record {
	key := kmsg.GroupMetadataKey{Version: groupMetadataKeyVersion, Group: d.Group}
	r := batch.Record{Key: key.AppendTo(nil)}
	if len(d.Members) == 0 {
		return r
	}
	value := kmsg.GroupMetadataValue{Version: 3, ProtocolType: d.ProtocolType, Generation: d.Generation,
		Protocol: &d.Protocol, Leader: &d.LeaderID, CurrentStateTimestamp: now.UnixMilli()}
	for _, m := range d.Members {
		instance := m.InstanceID
		member := kmsg.GroupMetadataValueMember{MemberID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost,
			RebalanceTimeoutMillis: int32(m.RebalanceTimeout.Milliseconds()), SessionTimeoutMillis: int32(m.SessionTimeout.Milliseconds()),
			Subscription: m.Metadata, Assignment: m.Assignment}
		if instance != "" {
			member.InstanceID = &instance
		}
		value.Members = append(value.Members, member)
	}
	r.Value = value.AppendTo(nil)
	return r
}

// decodeGroupMetadata reads a record of __consumer_offsets that holds a
// group's membership. isGroup is false for any other record (a commit);
// a tombstone decodes to a description without members. A value that does
// not decode still names its group.
func decodeGroupMetadata(key, value []byte) (d group.Description, isGroup bool, err error) {
	if len(key) < 2 || key[0] != 0 || key[1] != groupMetadataKeyVersion {
		return group.Description{}, false, nil
	}
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return group.Description{}, true, fmt.Errorf("%w: group metadata key: %v", ErrCorrupt, err)
	}
	d.Group = k.Group
	if value == nil {
		return d, true, nil
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return group.Description{Group: k.Group}, true, fmt.Errorf("%w: group metadata of %s: %v", ErrCorrupt, k.Group, err)
	}
	d.State, d.ProtocolType, d.Generation = group.Stable, v.ProtocolType, v.Generation
	if v.Protocol != nil {
		d.Protocol = *v.Protocol
	}
	if v.Leader != nil {
		d.LeaderID = *v.Leader
	}
	for _, m := range v.Members {
		member := group.MemberDescription{MemberID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost,
			Metadata: m.Subscription, Assignment: m.Assignment,
			SessionTimeout:   time.Duration(m.SessionTimeoutMillis) * time.Millisecond,
			RebalanceTimeout: time.Duration(m.RebalanceTimeoutMillis) * time.Millisecond}
		if m.InstanceID != nil {
			member.InstanceID = *m.InstanceID
		}
		d.Members = append(d.Members, member)
	}
	return d, true, nil
}
