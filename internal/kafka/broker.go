package kafka

import (
	"context"
	"time"

	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/txn"
	"github.com/creekmq/creek/internal/txnlog"
)

// Broker is the node behind the listener: the operations the protocol
// needs, in creek's terms. Errors are creek's, mapped to Kafka codes by
// ErrorCode.
type Broker interface {
	// Topics returns every topic, sorted by name.
	Topics() []TopicMetadata
	// TopicName returns the name of the topic with an ID, for requests
	// that name topics by ID; "" for none. It is on the hot path of
	// Fetch and Produce: it must not allocate.
	TopicName(id [16]byte) string
	// PartitionLeader returns the node this one knows leads a partition,
	// and its leader epoch; -1 when it knows none.
	PartitionLeader(topic string, partition int32) (leader, epoch int32)
	// Brokers returns the live nodes of the cluster, this one included,
	// each with its address on the listener named (a node without that
	// listener is left out); empty for a node outside a cluster, which
	// the listener describes alone.
	Brokers(listener string) []BrokerMetadata
	// AutoCreateTopic creates a topic a client asked about, if the node
	// creates topics on first use, with the default partition count.
	AutoCreateTopic(ctx context.Context, name string) error
	// Produce appends a record batch as the client sent it and returns
	// the offset of its first record, the log append time (-1 unless the
	// topic stamps it) and the partition's log start offset, and durable,
	// which waits until the batch is as durable as the topic's sync policy
	// says and, for acks -1, until every in-sync replica has it or timeout
	// passes. Batches are appended in call order; the caller must call
	// durable once, and may append more batches first so that one fsync
	// covers them. tx is what the request says of its transaction: the
	// first transactional batch of a transaction in a partition is
	// appended only once the transaction's coordinator says the partition
	// is in it, or has added it (tx.Add).
	Produce(ctx context.Context, topic string, partition int32, batch []byte, acks int16,
		timeout time.Duration, tx Txn) (res ProduceResult, durable func() error, err error)
	// Fetch appends to dst the batches of a partition from f.Offset on,
	// up to f.MaxBytes but always one whole batch, without waiting; with
	// MaxBytes ≤ 0 it reads no batches and reports the offsets only. A
	// consumer reads below the high watermark (read_committed: the last
	// stable offset), a replica to the log end.
	// On error the offsets are still reported when the partition exists.
	Fetch(dst []byte, f FetchPartition) (FetchResult, error)
	// Arrival returns a channel closed when the partition next grows.
	Arrival(topic string, partition int32) (<-chan struct{}, error)
	// ListOffset returns the offset for a timestamp in milliseconds, or
	// for -1 (the end) or -2 (the start), and the timestamp of the
	// record found (-1 for the ends). isolation is the request's
	// (version 2+): for read_committed (1) the end is the last stable
	// offset, and no record at or past it is found for a timestamp.
	ListOffset(topic string, partition int32, timestamp int64, isolation int8) (offset, recordTimestamp int64, err error)
	// EndOffsetForEpoch answers OffsetForLeaderEpoch for a partition this
	// node leads at currentLeaderEpoch (-1: any): the largest epoch not
	// above epoch and where it ends.
	EndOffsetForEpoch(topic string, partition, currentLeaderEpoch, epoch int32) (int32, int64, error)
	// AlterISR commits a partition's new in-sync replicas, asked by its
	// leader at leaderEpoch; only the controller's leader can.
	AlterISR(ctx context.Context, topic string, partition, leaderEpoch int32, isr []int32) error
	// InitProducerID gives an idempotent producer an ID and epoch.
	InitProducerID(ctx context.Context) (id int64, epoch int16, err error)
	// GroupCoordinator returns the ID of the node coordinating a group:
	// this one outside a cluster.
	GroupCoordinator(ctx context.Context, group string) (int32, error)
	// OwnsGroup returns nil when this node coordinates a group now, and
	// otherwise the error to answer its requests with (NOT_COORDINATOR,
	// COORDINATOR_LOAD_IN_PROGRESS).
	OwnsGroup(group string) error
	// Groups is the node's group coordinator; it refuses, by itself, the
	// groups OwnsGroup refuses.
	Groups() *group.Coordinator
	// CommitOffsets stores a group member's offsets, after the
	// coordinator checked the member's generation.
	CommitOffsets(ctx context.Context, group string, member group.Identity, offsets map[TopicPartition]Offset) error
	// CommittedOffsets returns a group's committed offsets.
	CommittedOffsets(group string) map[TopicPartition]Offset
	// ErrorCode returns the Kafka error code for a Broker error.
	ErrorCode(err error) int16
	// DescribeScramUsers returns the named users' SCRAM credentials
	// (every user's for none), and an error for each named user it
	// cannot describe.
	DescribeScramUsers(users []string) ([]ScramUser, map[string]error)
	// AlterScramUsers applies SCRAM credential changes, and returns an
	// entry, nil or the error that refused its changes, for every user
	// they name.
	AlterScramUsers(ctx context.Context, deletions []ScramDeletion, upsertions []ScramUpsertion) map[string]error
	Admin
	Transactions
}

// ScramUpsertion sets a user's SCRAM credential for a mechanism from the
// salted password a client computed (AlterUserScramCredentials).
type ScramUpsertion struct {
	User           string
	Mechanism      int8 // 1 SCRAM-SHA-256, 2 SCRAM-SHA-512, Kafka's numbers
	Iterations     int32
	Salt           []byte
	SaltedPassword []byte
}

// ScramDeletion removes a user's SCRAM credential for a mechanism.
type ScramDeletion struct {
	User      string
	Mechanism int8
}

// ScramUser is a user's SCRAM credentials as DescribeUserScramCredentials
// tells them: mechanisms and iterations, never keys.
type ScramUser struct {
	User       string
	Mechanisms []int8
	Iterations []int32
}

// Transactions is the transaction coordinator, and the partitions' side
// of its markers. Errors may be franz-go's kerr values, Kafka's own.
type Transactions interface {
	// TxnCoordinator returns the ID of the node coordinating a
	// transactional ID.
	TxnCoordinator(ctx context.Context, id string) (int32, error)
	// InitTxnProducer gives the producer of a transactional ID its
	// producer ID and a new epoch; producerID and epoch are what it had,
	// -1 for none (KIP-360).
	InitTxnProducer(ctx context.Context, id string, timeout time.Duration, producerID int64, epoch int16) (int64, int16, error)
	// AddPartitionsToTxn adds partitions to the producer's transaction.
	// Errors for single partitions (one unknown) come in the map, with
	// the error for the rest.
	AddPartitionsToTxn(ctx context.Context, id string, producerID int64, epoch int16, partitions []TopicPartition) (map[TopicPartition]error, error)
	// VerifyTxn reports whether the producer's ongoing transaction holds
	// the partitions.
	VerifyTxn(ctx context.Context, id string, producerID int64, epoch int16, partitions []TopicPartition) error
	// AddOffsetsToTxn adds a group's offsets to the producer's
	// transaction.
	AddOffsetsToTxn(ctx context.Context, id string, producerID int64, epoch int16, group string) error
	// EndTxn commits or aborts the producer's transaction, and returns the
	// producer ID and epoch the producer goes on with: at transaction
	// version 2 (EndTxn v5+) the end bumps the epoch.
	EndTxn(ctx context.Context, id string, producerID int64, epoch int16, commit bool, version int16) (int64, int16, error)
	// WriteTxnMarker writes a transaction's marker to a partition this
	// node leads.
	WriteTxnMarker(ctx context.Context, tp TopicPartition, m txnlog.Marker) error
	// TxnCommitOffsets commits a group's offsets in a transaction, for a
	// group this node coordinates, once the transaction holds the group's
	// partition of __consumer_offsets (or has added it: tx.Add).
	TxnCommitOffsets(ctx context.Context, group string, producerID int64, epoch int16, member group.Identity,
		offsets map[TopicPartition]Offset, tx Txn) error
	// UnstableOffset reports whether a transaction not yet ended
	// committed an offset of the group in tp.
	UnstableOffset(group string, tp TopicPartition) bool
	// DescribeTxn returns the state of a transactional ID this node
	// coordinates.
	DescribeTxn(ctx context.Context, id string) (txn.Metadata, error)
	// ListTxns returns the transactional IDs this node coordinates.
	ListTxns() []txn.Metadata
	// DescribeProducers returns the active producers of a partition this
	// node leads, by producer ID.
	DescribeProducers(topic string, partition int32) ([]ProducerState, error)
}

// ProducerState is one active producer of a partition, for
// DescribeProducers; -1 in a field means unknown or none.
type ProducerState struct {
	ProducerID            int64
	ProducerEpoch         int16
	LastSequence          int32
	LastTimestamp         int64 // Unix milliseconds
	CoordinatorEpoch      int32
	CurrentTxnStartOffset int64
}

// Admin is what the admin APIs change or describe.
type Admin interface {
	// CreateTopic creates a topic; partitions and replicationFactor ≤ 0
	// take the defaults. assignment, when not empty, places the replicas
	// of each partition by hand, and partitions and replicationFactor are
	// then -1. With validateOnly it checks and creates nothing.
	CreateTopic(ctx context.Context, name string, partitions int32, replicationFactor int16,
		assignment [][]int32, configs map[string]string, validateOnly bool) error
	DeleteTopic(ctx context.Context, name string) error
	CreatePartitions(ctx context.Context, name string, total int32, validateOnly bool) error
	// TopicConfigs returns every config of a topic in force, and which
	// were set on the topic itself.
	TopicConfigs(name string) (configs map[string]string, explicit map[string]bool, err error)
	AlterTopicConfigs(ctx context.Context, name string, set map[string]string, remove []string, validateOnly bool) error
	// BrokerConfigs returns the node's settings by the names of Kafka's
	// broker configs, for DescribeConfigs; they are read-only.
	BrokerConfigs() map[string]string
	// DeleteRecords moves a partition's log start offset up to before (-1:
	// the high watermark) and returns the new one.
	DeleteRecords(ctx context.Context, topic string, partition int32, before int64) (int64, error)
	// ListGroups returns the groups with members or committed offsets.
	ListGroups() []string
	// DeleteGroup deletes an empty group's offsets.
	DeleteGroup(ctx context.Context, group string) error
	// DeleteGroupOffsets deletes an empty group's offsets in partitions.
	DeleteGroupOffsets(ctx context.Context, group string, partitions []TopicPartition) error
	// ReassignPartitions starts moving partitions to new replicas; nil
	// replicas cancel a reassignment. Errors are per partition.
	ReassignPartitions(ctx context.Context, moves map[TopicPartition][]int32) map[TopicPartition]error
	// Reassignments returns the reassignments under way in topics (all
	// when nil).
	Reassignments(topics []string) []Reassignment
	// ElectPreferredLeaders makes partitions' first replicas lead them
	// (all partitions when nil). Errors are per partition.
	ElectPreferredLeaders(ctx context.Context, partitions []TopicPartition) map[TopicPartition]error
}

// Reassignment is a partition's reassignment under way.
type Reassignment struct {
	TopicPartition
	Replicas, Adding, Removing []int32
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Offset is a committed offset.
type Offset struct {
	Offset      int64
	LeaderEpoch int32
	Metadata    string
}

// BrokerMetadata describes a node for Metadata and DescribeCluster.
type BrokerMetadata struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   string
}

// TopicMetadata describes a topic for Metadata responses.
type TopicMetadata struct {
	Name       string
	ID         [16]byte
	Internal   bool
	Partitions []PartitionMetadata
}

// PartitionMetadata is a partition's leadership and replicas.
type PartitionMetadata struct {
	Leader      int32 // node ID; -1 while the partition has no leader
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
}

// ProduceResult is what a Produce response reports for one partition.
type ProduceResult struct {
	BaseOffset     int64
	LogAppendTime  int64
	LogStartOffset int64
}

// FetchPartition is one partition's part of a Fetch request.
type FetchPartition struct {
	Topic     string
	Partition int32
	Offset    int64
	MaxBytes  int
	// ReplicaID is the fetching follower's node ID; -1 for a consumer.
	ReplicaID int32
	// CurrentLeaderEpoch is the leader epoch the fetcher knows; -1 for
	// any. A stale or future one is refused.
	CurrentLeaderEpoch int32
	// LastFetchedEpoch is the epoch of the newest batch the fetching
	// follower holds (KIP-595's in-band truncation); -1 for none.
	LastFetchedEpoch int32
	// Isolation is a consumer's isolation level (IsolationLevel, version
	// 4+): 0 read_uncommitted reads below the high watermark, 1
	// read_committed below the last stable offset.
	Isolation int8
}

// Txn is what a request that writes in a transaction (Produce,
// TxnOffsetCommit) says of it.
type Txn struct {
	// ID is the transactional ID, "" for none.
	ID string
	// Add: a partition not yet in the transaction is added to it, as
	// Produce v12+ and TxnOffsetCommit v5+ ask at transaction version 2
	// (KIP-890's second part); otherwise the coordinator only verifies
	// that it is in it (the first part).
	Add bool
	// Abortable: the client knows TRANSACTION_ABORTABLE (Produce v11+,
	// TxnOffsetCommit v4+), which a partition that is not in the
	// transaction gets; an older client gets INVALID_TXN_STATE, as Kafka
	// answers it.
	Abortable bool
}

// AbortedTxn is an aborted transaction a read_committed fetch meets: its
// producer and the offset of its first batch.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// FetchResult is one partition's part of a Fetch response.
type FetchResult struct {
	Records        []byte // dst with the batches appended
	HighWatermark  int64
	LogStartOffset int64
	// LastStableOffset is the offset below which every transaction is
	// decided: the high watermark when none is open.
	LastStableOffset int64
	// Aborted is, for a read_committed fetch, the aborted transactions
	// the records read meet, whose records the consumer skips; nil for
	// read_uncommitted.
	Aborted []AbortedTxn
	// Diverged tells a follower its log diverges from the leader's before
	// the offset it fetched from (KIP-595): DivergingEpoch is the leader's
	// newest epoch at or below the follower's last fetched one (-1 for
	// none), and DivergingEndOffset where it ends on the leader. No
	// records come with it.
	Diverged           bool
	DivergingEpoch     int32
	DivergingEndOffset int64
}
