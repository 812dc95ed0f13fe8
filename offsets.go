// Committed offsets: the __consumer_offsets topic, and committing and
// reading them.

package creek

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/txnlog"
)

// DefaultOffsetsTopicPartitions is the partition count of
// __consumer_offsets: Kafka's offsets.topic.num.partitions.
const DefaultOffsetsTopicPartitions = 50

// CommittedOffset is a consumer group's committed position in a partition:
// the offset of the next record the group will read there.
type CommittedOffset struct {
	Offset      int64
	LeaderEpoch int32 // -1 when unknown
	Metadata    string
	CommitTime  time.Time
}

// offsetStore caches the committed offsets of the groups this node
// coordinates. The truth is the compacted topic __consumer_offsets, in
// Kafka's record format (kmsg's OffsetCommitKey and OffsetCommitValue), so
// commits replicate and survive restarts like any other data. Outside a
// cluster the node coordinates every group and reads the whole topic on
// open; in a cluster it coordinates the groups of the partitions it leads,
// reading each when it becomes their leader (groupcoordinator.go).
type offsetStore struct {
	mu     sync.Mutex
	groups map[string]map[TopicPartition]CommittedOffset
	// In a cluster: the partition count of __consumer_offsets, and the
	// partitions this node leads and has read. Nil outside a cluster.
	count  int32
	loaded map[int32]bool
	// pending holds the offsets transactions committed and have not ended
	// yet, by producer ID (txnoffsets.go).
	pending map[int64][]pendingOffset
}

// coordinatesLocked reports whether the cache holds a group's offsets.
func (s *offsetStore) coordinatesLocked(group string) bool {
	return s.loaded == nil || s.count > 0 && s.loaded[offsetsPartition(group, s.count)]
}

// offsetsPartition returns the __consumer_offsets partition of a group.
func offsetsPartition(group string, partitions int32) int32 { return keyPartition(group, partitions) }

// CommitOffsets records a group's positions in partitions, all in one batch
// of the group's __consumer_offsets partition, so they commit together. It
// commits as a client outside the group, as an admin tool or a consumer
// that assigns itself partitions does: while the group has members it
// fails with ErrUnknownMemberID, so it cannot overwrite their progress.
// It looks again while the group's coordinator moves or loads, until ctx
// ends, as FetchCommittedOffsets does.
func (n *Node) CommitOffsets(ctx context.Context, group string, offsets map[TopicPartition]CommittedOffset) error {
	return whileCoordinatorMoves(ctx, nil, func() error {
		return n.commitOffsets(ctx, group, groupIdentity{Generation: -1}, offsets)
	})
}

// groupIdentity names the member a commit comes from.
type groupIdentity = group.Identity

// commitLocalOffsets commits for a member of a group this node
// coordinates, after checking its generation: a member fenced by a
// rebalance cannot commit.
func (n *Node) commitLocalOffsets(ctx context.Context, groupID string, member groupIdentity, offsets map[TopicPartition]CommittedOffset) error {
	if groupID == "" {
		return fmt.Errorf("%w: empty group", ErrInvalidGroupID)
	}
	if err := n.groups.ValidateCommit(groupID, member); err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", groupID, err)
	}
	if len(offsets) == 0 {
		return nil
	}
	records, stamped := offsetRecords(groupID, offsets, n.now())
	if err := n.writeGroupRecords(ctx, groupID, records); err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", groupID, err)
	}
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	if !n.offsets.coordinatesLocked(groupID) {
		return nil // written, but the group moved meanwhile: its new coordinator reads it from the log
	}
	for tp, c := range stamped {
		n.offsets.setLocked(groupID, tp, c)
	}
	return nil
}

// offsetRecords returns the __consumer_offsets records of a group's
// commit, and the offsets as stamped with the commit time now where they
// had none.
func offsetRecords(groupID string, offsets map[TopicPartition]CommittedOffset, now time.Time) ([]batch.Record, map[TopicPartition]CommittedOffset) {
	records := make([]batch.Record, 0, len(offsets))
	stamped := make(map[TopicPartition]CommittedOffset, len(offsets))
	for tp, c := range offsets {
		if c.CommitTime.IsZero() {
			c.CommitTime = now
		}
		stamped[tp] = c
		key := kmsg.OffsetCommitKey{Version: 1, Group: groupID, Topic: tp.Topic, Partition: tp.Partition}
		value := kmsg.OffsetCommitValue{Version: 3, Offset: c.Offset, LeaderEpoch: c.LeaderEpoch,
			Metadata: c.Metadata, CommitTimestamp: c.CommitTime.UnixMilli()}
		records = append(records, batch.Record{OffsetDelta: int32(len(records)),
			Key: key.AppendTo(nil), Value: value.AppendTo(nil)})
	}
	return records, stamped
}

// writeGroupRecords appends records, as one batch, to the group's partition
// of __consumer_offsets, creating the topic on first use.
func (n *Node) writeGroupRecords(ctx context.Context, group string, records []batch.Record) error {
	b, err := batch.Build(batch.BuildOptions{BaseTimestamp: n.now().UnixMilli()}, records...)
	if err != nil {
		return err
	}
	return n.writeCoordinatorRecords(ctx, n.offsetsTopic(), group, b)
}

// CommittedOffsets returns a group's committed offsets in partitions; a
// partition without a commit is absent. With no partitions it returns all
// of the group's. It reads this node's cache: in a cluster, that holds
// only the groups the node coordinates; FetchCommittedOffsets asks the
// group's coordinator wherever it is.
func (n *Node) CommittedOffsets(group string, partitions ...TopicPartition) map[TopicPartition]CommittedOffset {
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	out := map[TopicPartition]CommittedOffset{}
	for tp, c := range n.offsets.groups[group] {
		if len(partitions) == 0 || containsPartition(partitions, tp) {
			out[tp] = c
		}
	}
	return out
}

func containsPartition(list []TopicPartition, tp TopicPartition) bool {
	for _, x := range list {
		if x == tp {
			return true
		}
	}
	return false
}

func (s *offsetStore) setLocked(group string, tp TopicPartition, c CommittedOffset) {
	if s.groups == nil {
		s.groups = map[string]map[TopicPartition]CommittedOffset{}
	}
	if s.groups[group] == nil {
		s.groups[group] = map[TopicPartition]CommittedOffset{}
	}
	s.groups[group][tp] = c
}

// loadOffsets rebuilds the cache of a node outside a cluster from
// __consumer_offsets, if it exists.
func (n *Node) loadOffsets() error {
	t := n.topics[ConsumerOffsetsTopic]
	if t == nil || n.offsets.loaded != nil {
		return nil
	}
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	for _, p := range t.partitions {
		if err := n.replayOffsetsLocked(&n.offsets, p); err != nil {
			return err
		}
	}
	return nil
}

// replayOffsetsLocked reads a __consumer_offsets partition: its commits
// into s, and its groups' memberships into the group coordinator (a group
// belongs to one partition).
func (n *Node) replayOffsetsLocked(s *offsetStore, p *partition) error {
	memberships := map[string]group.Description{}
	if err := s.replayLocked(p, memberships); err != nil {
		return err
	}
	for _, d := range memberships {
		n.groups.Restore(d)
	}
	return nil
}

// replayLocked applies every record of a __consumer_offsets partition:
// commits go to the cache (a transaction's once its marker commits them),
// and the newest membership of each group to memberships. Records that do
// not decode are passed over.
func (s *offsetStore) replayLocked(p *partition, memberships map[string]group.Description) error {
	err := readCoordinatorPartition(p, func(b []byte) error {
		h, err := batch.ParseHeader(b)
		if err != nil {
			return err
		}
		if h.Control() {
			if m, err := txnlog.ParseMarker(b); err == nil && h.Transactional() {
				s.endTxnLocked(p.index, m.ProducerID, m.Commit)
			}
			return nil
		}
		records, err := decodeBatches(b, 0)
		if err != nil {
			return err
		}
		for _, r := range records {
			d, isGroup, err := decodeGroupMetadata(r.Key, r.Value)
			switch {
			case isGroup && (err != nil || len(d.Members) == 0):
				// A membership that does not decode is passed over like a
				// commit that does not: its group, if any, joins anew.
				delete(memberships, d.Group)
			case isGroup:
				memberships[d.Group] = d
			case h.Transactional():
				s.addPendingLocked(p.index, h.ProducerID, r)
			default:
				s.applyLocked(r)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load committed offsets: %w", err)
	}
	return nil
}

// applyLocked applies one __consumer_offsets record: a commit, or a
// tombstone that deletes one. Records of other kinds are passed over.
func (s *offsetStore) applyLocked(r Record) {
	c, ok := decodeOffsetCommit(r)
	switch {
	case !ok:
	case c.deleted:
		delete(s.groups[c.group], c.tp)
	default:
		s.setLocked(c.group, c.tp, c.offset)
	}
}

// offsetCommit is a decoded __consumer_offsets commit record.
type offsetCommit struct {
	group   string
	tp      TopicPartition
	offset  CommittedOffset
	deleted bool // a tombstone
}

// decodeOffsetCommit decodes a commit record, or a tombstone that deletes
// one; false for a record of another kind or one that does not decode.
func decodeOffsetCommit(r Record) (offsetCommit, bool) {
	var key kmsg.OffsetCommitKey
	if len(r.Key) < 2 || r.Key[0] != 0 || r.Key[1] > 1 || key.ReadFrom(r.Key) != nil {
		return offsetCommit{}, false
	}
	c := offsetCommit{group: key.Group, tp: TopicPartition{key.Topic, key.Partition}, deleted: r.Value == nil}
	if c.deleted {
		return c, true
	}
	var value kmsg.OffsetCommitValue
	if value.ReadFrom(r.Value) != nil {
		return offsetCommit{}, false
	}
	c.offset = CommittedOffset{Offset: value.Offset, LeaderEpoch: value.LeaderEpoch,
		Metadata: value.Metadata, CommitTime: time.UnixMilli(value.CommitTimestamp)}
	return c, true
}
