// The internal topics whose partition leaders coordinate keys:
// __consumer_offsets for groups and __transaction_state for transactional
// IDs. Where a key goes, creating the topic on first use, finding the
// key's coordinator, and writing its records.

package creek

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
)

// coordinatorTopic describes one internal topic of coordinators: in a
// cluster, as in Kafka, a key's coordinator is the node leading the key's
// partition of the topic (keyPartition), which reads that partition when
// it becomes its leader.
type coordinatorTopic struct {
	name string
	// keyType is FindCoordinator's: 0 for a group, 1 for a transactional
	// ID.
	keyType int8
	// partitions is the count the topic is made with.
	partitions int32
	// replicationFactor is Kafka's default for the topic; a cluster with
	// fewer live nodes makes it with as many as it has.
	replicationFactor int16
	// what names a key in errors: "group", "transactional ID".
	what string
}

// offsetsTopic and txnStateTopic are the node's two coordinator topics.
func (n *Node) offsetsTopic() coordinatorTopic {
	return coordinatorTopic{name: ConsumerOffsetsTopic, keyType: 0, partitions: n.cfg.OffsetsTopicPartitions,
		replicationFactor: defaultOffsetsReplicationFactor, what: "group"}
}

func (n *Node) txnStateTopic() coordinatorTopic {
	return coordinatorTopic{name: TransactionStateTopic, keyType: 1, partitions: n.cfg.TransactionStatePartitions,
		replicationFactor: defaultTxnStateReplicationFactor, what: "transactional ID"}
}

// keyPartition returns the partition of a coordinator topic a key belongs
// to, as Kafka places it: abs(Java's String.hashCode of the key) modulo
// the partition count.
func keyPartition(key string, partitions int32) int32 {
	var h int32
	for _, unit := range utf16.Encode([]rune(key)) {
		h = 31*h + int32(unit)
	}
	if h == -h { // math.MinInt32: Kafka's Utils.abs maps it to 0
		return 0
	}
	if h < 0 {
		h = -h
	}
	return h % partitions
}

// ensureCoordinatorTopic creates ct the first time a key needs it, and
// returns its partition count. In a cluster the controller creates it,
// replicated; key names the key that needs it.
func (n *Node) ensureCoordinatorTopic(ctx context.Context, ct coordinatorTopic, key string) (int32, error) {
	count, err := n.existingPartitionCount(ct.name) // internal: never auto-created as a user topic
	if !errors.Is(err, ErrUnknownTopic) {
		return count, err
	}
	spec := TopicSpec{Partitions: ct.partitions,
		Configs: map[string]string{ConfigCleanupPolicy: "compact", ConfigSync: SyncEveryAppend.String()}}
	if n.controller != nil {
		err = n.createClusterCoordinatorTopic(ctx, ct, key, spec)
	} else {
		err = n.createTopic(ctx, ct.name, spec)
	}
	if err != nil && !errors.Is(err, ErrTopicExists) {
		return 0, err
	}
	return n.existingPartitionCount(ct.name)
}

// createClusterCoordinatorTopic has the controller create ct, with its
// replication factor or as many replicas as there are live nodes, and
// waits until this node holds it. A node that does not lead the
// controller asks its leader with a FindCoordinator request, whose answer
// creates the topic as Kafka's does.
func (n *Node) createClusterCoordinatorTopic(ctx context.Context, ct coordinatorTopic, key string, spec TopicSpec) error {
	if _, exists := n.controller.fsm.Metadata().Topics[ct.name]; !exists {
		leader, err := n.controller.awaitLeader(ctx)
		if err != nil {
			return err
		}
		if leader == n.nodeID() {
			spec.ReplicationFactor = min(ct.replicationFactor, int16(len(n.ClusterMembers())))
			if spec, _, err = n.checkTopicSpec(ct.name, spec); err != nil {
				return err
			}
			_, err = n.proposeTopic(ctx, ct.name, spec)
		} else {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorType = ct.keyType
			req.CoordinatorKey, req.CoordinatorKeys = key, []string{key} // v0–3, v4+
			_, err = n.askController(ctx, req)                           // its answer may name no coordinator yet: only the topic matters
		}
		if err != nil && !errors.Is(err, ErrTopicExists) {
			return fmt.Errorf("create %s: %w", ct.name, err)
		}
	}
	return n.waitForTopic(ctx, ct.name, true)
}

// coordinatorOf returns the ID of the node coordinating a key, creating
// ct on first use: this node outside a cluster. It fails with
// ErrCoordinatorNotAvailable while the key's partition has no live
// leader.
func (n *Node) coordinatorOf(ctx context.Context, ct coordinatorTopic, key string) (int32, error) {
	if n.controller == nil {
		return n.nodeID(), nil
	}
	count, err := n.ensureCoordinatorTopic(ctx, ct, key)
	if err != nil {
		return -1, err
	}
	leader := n.partitionLeader(ct.name, keyPartition(key, count))
	if leader < 0 || leader != n.nodeID() && n.memberKafkaAddr(leader) == "" {
		return -1, fmt.Errorf("%w: %s %s (partition %d of %s has no live leader)", ErrCoordinatorNotAvailable,
			ct.what, key, keyPartition(key, count), ct.name)
	}
	return leader, nil
}

// notCoordinating returns the error for a key of ct this node does not
// coordinate now: ErrCoordinatorLoading when it leads the key's partition
// but is still reading it, ErrNotCoordinator when another node leads it,
// ErrCoordinatorNotAvailable when there is no partition yet.
func (n *Node) notCoordinating(ct coordinatorTopic, key string) error {
	if n.controller == nil {
		return fmt.Errorf("%w: the node is joining its cluster", ErrCoordinatorNotAvailable)
	}
	t := n.controller.fsm.Metadata().Topics[ct.name]
	if t == nil {
		return fmt.Errorf("%w: %s does not exist yet", ErrCoordinatorNotAvailable, ct.name)
	}
	leader := t.Partitions[keyPartition(key, int32(len(t.Partitions)))].Leader
	if leader == n.nodeID() {
		return fmt.Errorf("%w: %s %s", ErrCoordinatorLoading, ct.what, key)
	}
	return fmt.Errorf("%w: %s %s is coordinated by node %d", ErrNotCoordinator, ct.what, key, leader)
}

// writeCoordinatorRecords appends b, one batch, to a key's partition of
// ct with acks=all (as offsets.commit.required.acks), creating the topic
// on first use.
func (n *Node) writeCoordinatorRecords(ctx context.Context, ct coordinatorTopic, key string, b []byte) error {
	partitions, err := n.ensureCoordinatorTopic(ctx, ct, key)
	if err != nil {
		return err
	}
	p, err := n.partition(ct.name, keyPartition(key, partitions))
	if err != nil {
		return err
	}
	if err := p.checkLeader(-1); err != nil {
		return fmt.Errorf("%w: %v", ErrNotCoordinator, err)
	}
	_, _, err = p.produce(ctx, b, true)
	return coordinatorError(err)
}

// readCoordinatorPartition calls fn with every batch of a coordinator
// topic's partition, in offset order, and the offset it was read from.
func readCoordinatorPartition(p *partition, fn func(b []byte) error) error {
	end := p.log.EndOffset()
	for offset := p.log.StartOffset(); offset < end; {
		read, err := p.log.Read(nil, offset, 1<<20)
		if err != nil {
			return err
		}
		for rest := read; len(rest) > 0; {
			one, next, err := batch.Next(rest)
			if err != nil {
				return err
			}
			if err := fn(one); err != nil {
				return err
			}
			rest = next
		}
		offset = lastOffsetIn(read) + 1
	}
	return nil
}

// coordinatorError maps the failure of a write to a coordinator topic to
// what Kafka's coordinators answer, so that clients retry: too few
// replicas, or too slow ones, leave the key without a coordinator for
// now; a lost leadership or a failed disk sends them to find another.
func coordinatorError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotEnoughReplicas), errors.Is(err, ErrNotEnoughReplicasAfterAppend),
		errors.Is(err, ErrReplicationTimeout):
		return fmt.Errorf("%w: %v", ErrCoordinatorNotAvailable, err)
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrFencedLeaderEpoch), errors.Is(err, ErrLogFailed):
		return fmt.Errorf("%w: %v", ErrNotCoordinator, err)
	}
	return err
}
