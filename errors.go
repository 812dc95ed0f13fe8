// The errors callers test with errors.Is, and the Kafka code of each
// (KafkaCode).

package creek

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/idempotence"
	"github.com/creekmq/creek/internal/replica"
)

// Errors a caller can test with errors.Is. Each but ErrProducerClosed,
// ErrNoTransaction and ErrAbortRequired (a producer's own) maps to a Kafka
// protocol error code in kafkaCodes.
var (
	// ErrCorrupt matches stored or received bytes that fail validation: a bad
	// CRC, a short batch, a malformed record. *CorruptError matches it.
	ErrCorrupt = batch.ErrCorrupt
	// ErrOffsetOutOfRange is returned for a read below the log start offset or
	// past the log end offset.
	ErrOffsetOutOfRange = errors.New("creek: offset out of range")
	// ErrMessageTooLarge is returned for a batch larger than MaxBatchBytes.
	ErrMessageTooLarge = errors.New("creek: batch larger than the maximum")
	// ErrInvalidConfig is returned by Open, OpenLog, NewProducer and
	// NewConsumer for a config they cannot use; the error lists every
	// problem their validation finds (a cluster node's addresses are
	// checked as it starts, one at a time).
	ErrInvalidConfig = errors.New("creek: invalid config")
	// ErrInvalidRecord is returned for records that cannot be appended, such
	// as an empty set.
	ErrInvalidRecord = errors.New("creek: invalid record")
	// ErrUnknownTopic is returned for a topic or partition that does not
	// exist.
	ErrUnknownTopic = errors.New("creek: unknown topic or partition")
	// ErrTopicExists is returned when creating a topic that exists.
	ErrTopicExists = errors.New("creek: topic already exists")
	// ErrInvalidTopic is returned for a topic name Kafka would refuse, and
	// for creating, deleting or altering the configs of an internal topic.
	ErrInvalidTopic = errors.New("creek: invalid topic")
	// ErrInvalidPartitions is returned for a partition count that is
	// negative, that differs from the replica assignment's, or that would
	// not grow a topic.
	ErrInvalidPartitions = errors.New("creek: invalid number of partitions")
	// ErrTooManyPartitions is returned for a topic or partitions that would
	// take the node past Config.MaxPartitions. Kafka code 44,
	// POLICY_VIOLATION.
	ErrTooManyPartitions = errors.New("creek: more partitions than this node holds")
	// ErrInvalidReplicationFactor is returned for a replication factor the
	// cluster cannot place.
	ErrInvalidReplicationFactor = errors.New("creek: invalid replication factor")
	// ErrOutOfOrderSequence is returned for an idempotent producer's batch
	// whose sequence does not follow the last one stored: a batch was lost
	// between them.
	ErrOutOfOrderSequence = idempotence.ErrOutOfOrderSequence
	// ErrInvalidProducerEpoch is returned to a producer fenced by a newer
	// epoch of the same producer ID.
	ErrInvalidProducerEpoch = idempotence.ErrInvalidProducerEpoch
	// ErrInvalidTxnState is returned for a producer's batch outside a
	// transaction while the producer has one open on the partition: Kafka's
	// INVALID_TXN_STATE.
	ErrInvalidTxnState = errors.New("creek: the producer has a transaction open")
	// ErrTransactionAbortable is returned for a transactional batch, or
	// offsets, for a partition that is not in the producer's transaction,
	// which ended or never held it (a batch sent late, after its
	// transaction timed out): the producer must abort, and may then go on
	// (Kafka's TRANSACTION_ABORTABLE, KIP-890).
	ErrTransactionAbortable = errors.New("creek: the partition is not in the producer's transaction; abort it")
	// ErrTxnCoordinatorFenced is returned for a transaction marker whose
	// coordinator epoch is older than that of the last marker the
	// partition wrote for its producer: the marker comes from a
	// transaction coordinator since deposed, which must leave the
	// transaction to the new one (Kafka's TRANSACTION_COORDINATOR_FENCED).
	ErrTxnCoordinatorFenced = errors.New("creek: the transaction coordinator is fenced by a newer one")
	// ErrProducerClosed is returned for records given to a closed Producer.
	ErrProducerClosed = errors.New("creek: producer closed")
	// ErrInvalidGroupID is returned for group operations without a group.
	ErrInvalidGroupID = group.ErrInvalidGroupID
	// ErrGroupNotFound is returned for a group that has neither members nor
	// committed offsets.
	ErrGroupNotFound = errors.New("creek: group not found")
	// ErrUnknownMemberID is returned to a group member the coordinator does
	// not know: it left, or its session expired. It must rejoin.
	ErrUnknownMemberID = group.ErrUnknownMemberID
	// ErrIllegalGeneration is returned to a group member whose generation is
	// not the group's: a rebalance happened without it.
	ErrIllegalGeneration = group.ErrIllegalGeneration
	// ErrRebalanceInProgress tells a group member that the group is
	// rebalancing and it must rejoin.
	ErrRebalanceInProgress = group.ErrRebalanceInProgress
	// ErrMemberIDRequired is returned to a member joining without an ID: it
	// must join again with the ID the response carries (KIP-394).
	ErrMemberIDRequired = group.ErrMemberIDRequired
	// ErrFencedInstanceID is returned to a static member whose instance ID
	// another member has since joined with.
	ErrFencedInstanceID = group.ErrFencedInstanceID
	// ErrInconsistentGroupProtocol is returned to a member whose protocol
	// type, or protocols, the group's members do not share.
	ErrInconsistentGroupProtocol = group.ErrInconsistentGroupProtocol
	// ErrInvalidSessionTimeout is returned for a session timeout outside the
	// node's bounds.
	ErrInvalidSessionTimeout = group.ErrInvalidSessionTimeout
	// ErrNonEmptyGroup is returned when deleting a group that has members.
	ErrNonEmptyGroup = group.ErrNonEmptyGroup
	// ErrNotEnoughReplicas is returned for an acks=all write to a partition
	// with fewer in-sync replicas than its min.insync.replicas: the write
	// is refused rather than acknowledged with less durability than
	// promised.
	ErrNotEnoughReplicas = replica.ErrNotEnoughReplicas
	// ErrNotEnoughReplicasAfterAppend is returned for an acks=all write
	// that was appended, but by the time every in-sync replica had it the
	// ISR was smaller than min.insync.replicas: stored, yet not as safe as
	// asked. A retry may store it twice.
	ErrNotEnoughReplicasAfterAppend = replica.ErrNotEnoughReplicasAfterAppend
	// ErrNotLeader is returned for a partition this node does not lead
	// (Kafka's NOT_LEADER_OR_FOLLOWER): the client finds the leader again.
	ErrNotLeader = replica.ErrNotLeader
	// ErrFencedLeaderEpoch is returned for a request that names an older
	// leader epoch than the partition's: the caller's metadata is stale.
	ErrFencedLeaderEpoch = errors.New("creek: the request's leader epoch is older than the partition's")
	// ErrUnknownLeaderEpoch is returned for a request that names a newer
	// leader epoch than this node knows: its own metadata is behind.
	ErrUnknownLeaderEpoch = errors.New("creek: the request's leader epoch is newer than this node knows")
	// ErrReplicationTimeout is returned for an acks=all write whose
	// replication did not complete within the request's timeout; the
	// write may still become visible (Kafka's REQUEST_TIMED_OUT).
	ErrReplicationTimeout = errors.New("creek: the write was not replicated in time")
	// ErrNotCoordinator is returned for a group this node does not
	// coordinate: in a cluster, a group's coordinator is the leader of its
	// partition of __consumer_offsets, and moves with it.
	ErrNotCoordinator = group.ErrNotCoordinator
	// ErrCoordinatorLoading is returned for a group whose coordinator is
	// still reading its committed offsets, having just become the leader of
	// their partition; retry shortly.
	ErrCoordinatorLoading = errors.New("creek: the group coordinator is loading its offsets")
	// ErrCoordinatorNotAvailable is returned when a group has no
	// coordinator: its partition of __consumer_offsets has no leader.
	ErrCoordinatorNotAvailable = errors.New("creek: no coordinator for the group")
	// ErrUnstableOffsetCommit is returned for a read_committed consumer's
	// committed offset that a transaction not yet ended is changing; it is
	// asked again until the transaction ends.
	ErrUnstableOffsetCommit = errors.New("creek: a transaction is committing the group's offset")
	// ErrProducerFenced is returned to a transactional producer that a
	// newer one with its transactional ID has fenced; it can only close.
	ErrProducerFenced = errors.New("creek: fenced by a newer producer with the same transactional ID")
	// ErrNoTransaction is returned for a transactional producer's record,
	// offsets or end of a transaction when none is begun, and for
	// BeginTransaction when one is.
	ErrNoTransaction = errors.New("creek: no transaction begun, or one begun already")
	// ErrAbortRequired is returned by CommitTransaction when a record of
	// the transaction failed: it can only be aborted.
	ErrAbortRequired = errors.New("creek: a record of the transaction failed; abort it")
	// ErrInvalidReplicaAssignment is returned for a reassignment to
	// replicas that are not distinct live nodes.
	ErrInvalidReplicaAssignment = errors.New("creek: invalid replica assignment")
	// ErrNoReassignmentInProgress is returned when cancelling the
	// reassignment of a partition that has none.
	ErrNoReassignmentInProgress = errors.New("creek: no reassignment in progress")
	// ErrElectionNotNeeded is returned by a preferred leader election for a
	// partition its preferred replica leads already.
	ErrElectionNotNeeded = errors.New("creek: the preferred replica leads already")
	// ErrPreferredLeaderNotAvailable is returned by a preferred leader
	// election for a partition whose preferred replica is down or out of
	// sync.
	ErrPreferredLeaderNotAvailable = errors.New("creek: the preferred replica is not live and in sync")
	// ErrClosed is returned by calls on a closed Log, Node or Consumer.
	ErrClosed = group.ErrClosed

	// ErrTopicAuthorizationFailed refuses a Producer or Consumer whose
	// Principal the node's ACLs do not allow to do what it does to a
	// topic, as Kafka's clients are refused (TOPIC_AUTHORIZATION_FAILED).
	ErrTopicAuthorizationFailed = errors.New("creek: not authorized on the topic")
	// ErrGroupAuthorizationFailed is ErrTopicAuthorizationFailed's for a
	// consumer group (GROUP_AUTHORIZATION_FAILED).
	ErrGroupAuthorizationFailed = errors.New("creek: not authorized on the group")
	// ErrClusterAuthorizationFailed is ErrTopicAuthorizationFailed's for
	// the cluster (CLUSTER_AUTHORIZATION_FAILED).
	ErrClusterAuthorizationFailed = errors.New("creek: not authorized on the cluster")
	// ErrTransactionalIDAuthorizationFailed is
	// ErrTopicAuthorizationFailed's for a transactional ID
	// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
	ErrTransactionalIDAuthorizationFailed = errors.New("creek: not authorized on the transactional ID")
	// ErrLogFailed is returned by appends after a write or fsync failed. The
	// log keeps refusing appends until it is reopened, because after a failed
	// fsync the kernel may have dropped the dirty pages (retrying the fsync
	// would report success for lost data).
	ErrLogFailed = errors.New("creek: log failed; reopen it")
)

// kafkaCodes maps each public error to the code a Kafka client understands.
var kafkaCodes = []struct {
	err  error
	code int16
}{
	{ErrCorrupt, kerr.CorruptMessage.Code},
	{ErrOffsetOutOfRange, kerr.OffsetOutOfRange.Code},
	{ErrMessageTooLarge, kerr.MessageTooLarge.Code},
	{ErrInvalidConfig, kerr.InvalidConfig.Code},
	{ErrInvalidRecord, kerr.InvalidRecord.Code},
	{ErrUnknownTopic, kerr.UnknownTopicOrPartition.Code},
	{ErrAutoCreateThrottled, kerr.UnknownTopicOrPartition.Code}, // returned with ErrUnknownTopic: clients retry
	{ErrTopicExists, kerr.TopicAlreadyExists.Code},
	{ErrInvalidTopic, kerr.InvalidTopicException.Code},
	{ErrInvalidPartitions, kerr.InvalidPartitions.Code},
	{ErrTooManyPartitions, kerr.PolicyViolation.Code},
	{ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor.Code},
	{ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber.Code},
	{ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch.Code},
	{ErrInvalidTxnState, kerr.InvalidTxnState.Code},
	{ErrTransactionAbortable, kerr.TransactionAbortable.Code},
	{ErrTxnCoordinatorFenced, kerr.TransactionCoordinatorFenced.Code},
	{ErrInvalidGroupID, kerr.InvalidGroupID.Code},
	{ErrGroupNotFound, kerr.GroupIDNotFound.Code},
	{ErrUnknownMemberID, kerr.UnknownMemberID.Code},
	{ErrIllegalGeneration, kerr.IllegalGeneration.Code},
	{ErrRebalanceInProgress, kerr.RebalanceInProgress.Code},
	{ErrMemberIDRequired, kerr.MemberIDRequired.Code},
	{ErrFencedInstanceID, kerr.FencedInstanceID.Code},
	{ErrInconsistentGroupProtocol, kerr.InconsistentGroupProtocol.Code},
	{ErrInvalidSessionTimeout, kerr.InvalidSessionTimeout.Code},
	{ErrNonEmptyGroup, kerr.NonEmptyGroup.Code},
	{ErrNotLeader, kerr.NotLeaderForPartition.Code},
	{ErrNotEnoughReplicas, kerr.NotEnoughReplicas.Code},
	{ErrNotEnoughReplicasAfterAppend, kerr.NotEnoughReplicasAfterAppend.Code},
	{ErrFencedLeaderEpoch, kerr.FencedLeaderEpoch.Code},
	{ErrUnknownLeaderEpoch, kerr.UnknownLeaderEpoch.Code},
	{ErrReplicationTimeout, kerr.RequestTimedOut.Code},
	{ErrNotController, kerr.NotController.Code},
	{ErrNotCoordinator, kerr.NotCoordinator.Code},
	{ErrCoordinatorLoading, kerr.CoordinatorLoadInProgress.Code},
	{ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable.Code},
	{ErrUnstableOffsetCommit, kerr.UnstableOffsetCommit.Code},
	{ErrProducerFenced, kerr.ProducerFenced.Code},
	{ErrInvalidReplicaAssignment, kerr.InvalidReplicaAssignment.Code},
	{ErrNoReassignmentInProgress, kerr.NoReassignmentInProgress.Code},
	{ErrElectionNotNeeded, kerr.ElectionNotNeeded.Code},
	{ErrPreferredLeaderNotAvailable, kerr.PreferredLeaderNotAvailable.Code},
	{controller.ErrRejected, kerr.InvalidRequest.Code},
	{ErrLogFailed, kerr.KafkaStorageError.Code},
	{ErrClosed, kerr.KafkaStorageError.Code},
	{ErrTopicAuthorizationFailed, kerr.TopicAuthorizationFailed.Code},
	{ErrGroupAuthorizationFailed, kerr.GroupAuthorizationFailed.Code},
	{ErrClusterAuthorizationFailed, kerr.ClusterAuthorizationFailed.Code},
	{ErrTransactionalIDAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed.Code},
}

// errorForCode returns the creek error a Kafka error code stands for, for
// answers from other nodes; nil for 0.
func errorForCode(code int16, what string) error {
	if code == 0 {
		return nil
	}
	for _, c := range kafkaCodes {
		if c.code == code {
			return fmt.Errorf("%w: %s", c.err, what)
		}
	}
	if ke := kerr.ErrorForCode(code); ke != kerr.UnknownServerError || code == kerr.UnknownServerError.Code {
		return fmt.Errorf("%w: %s", ke, what)
	}
	return fmt.Errorf("%s: Kafka error code %d", what, code)
}

// KafkaCode returns the Kafka protocol error code for err: 0 for nil, the
// code of a franz-go kerr error (the transaction coordinator answers with
// Kafka's own), -1 (UNKNOWN_SERVER_ERROR) for an error creek does not
// name.
func KafkaCode(err error) int16 {
	if err == nil {
		return 0
	}
	for _, c := range kafkaCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// CorruptError reports stored bytes that fail validation. It matches
// ErrCorrupt.
type CorruptError struct {
	Path     string // the segment file
	Position int64  // byte position in the file where the bad batch starts
	Reason   string
}

// Error says where the bad batch is and what is wrong with it.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("creek: corrupt data in %s at position %d: %s", e.Path, e.Position, e.Reason)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
