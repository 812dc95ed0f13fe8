// Config, the node's settings, their defaults and validation.

package creek

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/creekmq/creek/internal/txn"
)

// Config configures a Node. The zero value is valid: a node in memory.
type Config struct {
	// Dir is the node's data directory; empty keeps everything in memory.
	Dir string
	// Logger receives the node's logs; default slog.Default().
	Logger *slog.Logger
	// TopicDefaults are topic configs, by Kafka's names, that every topic
	// starts from before its own (as a Kafka broker's log.* settings).
	TopicDefaults map[string]string
	// AutoCreateTopics creates a topic the first time something is produced
	// to it (Kafka's auto.create.topics.enable); off by default.
	AutoCreateTopics bool
	// AutoCreatePartitions is the partition count of auto-created topics;
	// default 1 (Kafka's num.partitions).
	AutoCreatePartitions int32
	// AutoCreateRate bounds the partitions auto-creation makes, a second on
	// average, in bursts of up to ten seconds' worth (as Kafka's
	// controller_mutation_rate quota, KIP-599, bounds creations); a topic
	// past it stays unknown for now, which clients retry. Default
	// DefaultAutoCreateRate, 10 a second in bursts of 100.
	AutoCreateRate float64
	// OffsetsTopicPartitions is the partition count of __consumer_offsets,
	// made when a group first uses it (to commit, to store its membership,
	// or in a cluster to find its coordinator); default 50, as Kafka's.
	OffsetsTopicPartitions int32
	// TransactionStatePartitions is the partition count of
	// __transaction_state, made when a transactional producer first looks
	// for its coordinator; default 50, as Kafka's
	// transaction.state.log.num.partitions.
	TransactionStatePartitions int32
	// TransactionMaxTimeout bounds the transaction timeout a producer may
	// ask for (transaction.max.timeout.ms); default 15 min.
	TransactionMaxTimeout time.Duration
	// TransactionVersion is the transaction.version feature the node
	// tells Kafka clients it has finalized: 2, the default, is KIP-890's
	// second part, under which the clients that know it (franz-go, Kafka's
	// Java client from 4.0) skip AddPartitionsToTxn and AddOffsetsToTxn,
	// which the partitions ask for on their behalf, and every end of a
	// transaction bumps their epoch; 1 keeps every client on the first.
	// The embedded Producer ends its transactions at version 2 whichever
	// it is. Every node of a cluster should have the same.
	TransactionVersion int16
	// GroupMinSessionTimeout and GroupMaxSessionTimeout bound the session
	// timeout a group member may ask for (group.min.session.timeout.ms,
	// group.max.session.timeout.ms); default 6s and 30 min.
	GroupMinSessionTimeout, GroupMaxSessionTimeout time.Duration
	// GroupInitialRebalanceDelay holds an empty group's first rebalance
	// open this long, so members starting together share one generation
	// (group.initial.rebalance.delay.ms). Default 0: Kafka's 3s would slow
	// every test that starts a group.
	GroupInitialRebalanceDelay time.Duration
	// Listen is the address the node serves the Kafka protocol on, for
	// example "127.0.0.1:9092"; port 0 picks a free port (Node.Addr
	// reports it). It is the shorthand for one listener, named by its
	// protocol: PLAINTEXT, or SSL with TLS, SASL_PLAINTEXT with SASL,
	// SASL_SSL with both. Empty, and no Listeners: in-process clients
	// only.
	Listen string
	// AdvertisedAddr is the host:port Kafka clients of Listen are told
	// to connect to (advertised.listeners); default the address listened
	// on.
	AdvertisedAddr string
	// Listeners are the node's listeners, when it has more than one or
	// one with a name or protocol of its own, as Kafka's listeners,
	// listener.security.protocol.map and advertised.listeners give them
	// (listener.go); not with Listen. Node.Addr is the first's address.
	Listeners []Listener
	// MaxRequestBytes bounds one Kafka request (socket.request.max.bytes);
	// default 100 MiB.
	MaxRequestBytes int32
	// QueuedMaxRequestBytes bounds the bytes of Kafka requests all
	// connections together are reading and have not started
	// (queued.max.request.bytes); a connection whose next request does not
	// fit waits. Default 256 MiB.
	QueuedMaxRequestBytes int64
	// FetchMaxBytes bounds the record bytes of one Fetch response, whatever
	// the client asks (the broker's fetch.max.bytes); default 55 MiB.
	FetchMaxBytes int32
	// IdleTimeout closes a Kafka connection that sends nothing for this
	// long (connections.max.idle.ms); default 10 min.
	IdleTimeout time.Duration
	// WriteTimeout closes a Kafka connection whose client has not taken a
	// response within it; default 30 s.
	WriteTimeout time.Duration
	// RequestReadTimeout closes a Kafka connection whose client has not
	// sent the rest of a request within it of the node's starting to read
	// it, its share of QueuedMaxRequestBytes taken; default 30 s.
	RequestReadTimeout time.Duration
	// MaxRequestEntries bounds the entries (topics, partitions, groups,
	// configs: every repeated element) one Kafka request names; a request
	// naming more closes its connection, before a Produce is decoded, and
	// before any other is answered. Kafka has no such bound: a Metadata
	// request of ten megabytes of empty topic names built 1.8 GB. Default
	// 100,000.
	MaxRequestEntries int
	// MaxPartitions bounds the partitions the node holds, over every topic
	// (each keeps four files open): CreateTopic, CreatePartitions and
	// auto-creation past it fail with ErrTooManyPartitions. In a cluster
	// every node keeps every partition's directory, so it bounds the
	// cluster's. Default 10,000, or fewer on disk when the process's file
	// limit (RLIMIT_NOFILE) holds fewer partitions' files and 256 more, but
	// not below 100.
	MaxPartitions int
	// Cluster, if set, makes the node a member of a cluster; it needs
	// Listen.
	Cluster *ClusterConfig
	// TLS, when set, serves Listen over TLS with this configuration
	// (Kafka's SSL listener; SASL_SSL with SASL): its certificates, and
	// ClientAuth and ClientCAs for clients'. It is also the TLS of the
	// SSL and SASL_SSL Listeners that have none of their own.
	TLS *tls.Config
	// SASL, when set, makes the clients of Listen, and of the
	// SASL_PLAINTEXT and SASL_SSL Listeners, authenticate (security.go).
	SASL *SASLConfig
	// ACL, when set, decides every request of the Kafka listener by the
	// node's ACLs (aclstore.go). Not yet with Cluster.
	ACL *ACLConfig
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AutoCreatePartitions == 0 {
		c.AutoCreatePartitions = 1
	}
	if c.OffsetsTopicPartitions == 0 {
		c.OffsetsTopicPartitions = DefaultOffsetsTopicPartitions
	}
	if c.TransactionStatePartitions == 0 {
		c.TransactionStatePartitions = DefaultTransactionStatePartitions
	}
	if c.TransactionMaxTimeout == 0 {
		c.TransactionMaxTimeout = txn.DefaultMaxTimeout
	}
	if c.TransactionVersion == 0 {
		c.TransactionVersion = int16(txn.V2)
	}
	if c.MaxPartitions <= 0 {
		c.MaxPartitions = DefaultMaxPartitions
		if c.Dir != "" {
			c.MaxPartitions = min(c.MaxPartitions, partitionsForFileLimit())
		}
	}
	if c.AutoCreateRate <= 0 {
		c.AutoCreateRate = DefaultAutoCreateRate
	}
	return c
}

// DefaultMaxPartitions is Config.MaxPartitions' default, unless the
// process may open too few files for it.
const DefaultMaxPartitions = 10_000

func (c Config) validate() error {
	var errs []error
	if c.AutoCreatePartitions < 0 || c.OffsetsTopicPartitions < 0 || c.TransactionStatePartitions < 0 || c.TransactionMaxTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: AutoCreatePartitions %d, OffsetsTopicPartitions %d, TransactionStatePartitions %d and TransactionMaxTimeout %s must not be negative",
			ErrInvalidConfig, c.AutoCreatePartitions, c.OffsetsTopicPartitions, c.TransactionStatePartitions, c.TransactionMaxTimeout))
	}
	if c.TransactionVersion < 0 || c.TransactionVersion > int16(txn.V2) {
		errs = append(errs, fmt.Errorf("%w: TransactionVersion %d: it is 1 or 2", ErrInvalidConfig, c.TransactionVersion))
	}
	if _, err := parseTopicConfig(c.TopicDefaults, nil); err != nil {
		errs = append(errs, fmt.Errorf("TopicDefaults: %w", err))
	}
	if err := c.validateListeners(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateInterBroker(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateSecurity(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateACL(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SyncPolicy says when appended bytes reach stable storage.
type SyncPolicy int

const (
	// SyncEveryAppend makes Append return only after its bytes are synced.
	// Concurrent appenders share one fsync (group commit). The default.
	SyncEveryAppend SyncPolicy = iota
	// SyncPeriodically syncs every LogConfig.SyncInterval or every
	// LogConfig.SyncBytes appended bytes, whichever comes first. Append
	// returns before its bytes are synced, except the append that brings
	// the unsynced bytes to SyncBytes, which waits for the sync; a machine
	// crash can lose up to that much.
	SyncPeriodically
	// SyncNever leaves writing back to the operating system, as Kafka does by
	// default. A process crash loses nothing; a machine crash can.
	SyncNever
)

// String returns the policy's name as the creek command spells it.
func (p SyncPolicy) String() string {
	switch p {
	case SyncEveryAppend:
		return "every-append"
	case SyncPeriodically:
		return "periodic"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// CleanupPolicy says how a log sheds old records (Kafka's cleanup.policy).
type CleanupPolicy int

const (
	// CleanupDelete deletes whole segments past Retention or RetentionBytes.
	CleanupDelete CleanupPolicy = iota
	// CleanupCompact keeps the newest record of each key.
	CleanupCompact
	// CleanupCompactDelete compacts and also deletes by retention.
	CleanupCompactDelete
)

// String returns the policy as Kafka's cleanup.policy spells it.
func (p CleanupPolicy) String() string {
	switch p {
	case CleanupDelete:
		return "delete"
	case CleanupCompact:
		return "compact"
	case CleanupCompactDelete:
		return "compact,delete"
	}
	return fmt.Sprintf("CleanupPolicy(%d)", int(p))
}

func (p CleanupPolicy) deletes() bool  { return p == CleanupDelete || p == CleanupCompactDelete }
func (p CleanupPolicy) compacts() bool { return p == CleanupCompact || p == CleanupCompactDelete }

// Defaults of LogConfig, named after the Kafka setting they stand for.
const (
	DefaultSegmentBytes       = 1 << 30         // segment.bytes
	DefaultIndexIntervalBytes = 4096            // index.interval.bytes
	DefaultMaxBatchBytes      = 1048588         // max.message.bytes
	DefaultSyncInterval       = time.Second     // creek's own; Kafka leaves it to the OS
	DefaultDeleteRetention    = 24 * time.Hour  // delete.retention.ms
	DefaultCheckInterval      = 5 * time.Minute // log.retention.check.interval.ms
	DefaultMinCleanableRatio  = 0.5             // min.cleanable.dirty.ratio
	maxSegmentBytes           = math.MaxInt32   // positions in an index entry are int32
)

// LogConfig configures a Log. The zero value is valid; each field gives its
// default. A zero limit means no limit, so a Log on its own keeps everything
// until told otherwise; topics apply Kafka's defaults on top.
type LogConfig struct {
	// SegmentBytes is the size at which the active segment rolls; default
	// 1 GiB, at most 2 GiB - 1.
	SegmentBytes int64
	// SegmentAge rolls the active segment when its first batch is older than
	// this (Kafka's segment.ms); zero never rolls by age.
	SegmentAge time.Duration
	// IndexIntervalBytes is how many log bytes lie between two offset index
	// entries; default 4 KiB.
	IndexIntervalBytes int
	// MaxBatchBytes is the largest batch Append accepts; default 1 MiB + 12,
	// as Kafka's max.message.bytes, or SegmentBytes when that is smaller.
	MaxBatchBytes int

	// Sync says when appends reach stable storage; default SyncEveryAppend.
	Sync SyncPolicy
	// SyncInterval bounds the time between syncs under SyncPeriodically;
	// default 1s.
	SyncInterval time.Duration
	// SyncBytes syncs after this many unsynced bytes under SyncPeriodically;
	// zero syncs only on SyncInterval.
	SyncBytes int64

	// Cleanup says how old records go; default CleanupDelete.
	Cleanup CleanupPolicy
	// Retention deletes segments whose newest record is older than this;
	// zero keeps them forever.
	Retention time.Duration
	// RetentionBytes deletes the oldest segments while the log is larger than
	// this; zero sets no limit.
	RetentionBytes int64
	// DeleteRetention is how long compaction keeps a tombstone (a record with
	// a null value); default 24h.
	DeleteRetention time.Duration
	// MinCleanableRatio is the share of a log's sealed bytes that must be
	// uncompacted before the cleaner runs; default 0.5.
	MinCleanableRatio float64
	// CheckInterval is how often the log applies retention and compaction in
	// the background; default 5 minutes.
	CheckInterval time.Duration

	// Logger receives what recovery cut and what the cleaner did; default
	// slog.Default().
	Logger *slog.Logger
}

func (c LogConfig) withDefaults() LogConfig {
	if c.SegmentBytes == 0 {
		c.SegmentBytes = DefaultSegmentBytes
	}
	if c.IndexIntervalBytes == 0 {
		c.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = int(min(DefaultMaxBatchBytes, c.SegmentBytes))
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.DeleteRetention == 0 {
		c.DeleteRetention = DefaultDeleteRetention
	}
	if c.MinCleanableRatio == 0 {
		c.MinCleanableRatio = DefaultMinCleanableRatio
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// validate reports every problem at once. It expects defaults to be filled.
func (c LogConfig) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.SegmentBytes < 1024 || c.SegmentBytes > maxSegmentBytes {
		bad("SegmentBytes %d is outside [1024, %d]", c.SegmentBytes, int64(maxSegmentBytes))
	}
	if c.SegmentAge < 0 {
		bad("SegmentAge %v is negative", c.SegmentAge)
	}
	if c.IndexIntervalBytes < 0 {
		bad("IndexIntervalBytes %d is negative", c.IndexIntervalBytes)
	}
	if c.MaxBatchBytes < 61 {
		bad("MaxBatchBytes %d is below a batch header", c.MaxBatchBytes)
	}
	if int64(c.MaxBatchBytes) > c.SegmentBytes {
		bad("MaxBatchBytes %d exceeds SegmentBytes %d", c.MaxBatchBytes, c.SegmentBytes)
	}
	if c.Sync < SyncEveryAppend || c.Sync > SyncNever {
		bad("unknown Sync %v", c.Sync)
	}
	if c.SyncInterval < 0 || c.SyncBytes < 0 {
		bad("SyncInterval %v and SyncBytes %d must not be negative", c.SyncInterval, c.SyncBytes)
	}
	if c.Cleanup < CleanupDelete || c.Cleanup > CleanupCompactDelete {
		bad("unknown Cleanup %v", c.Cleanup)
	}
	if c.Retention < 0 || c.RetentionBytes < 0 || c.DeleteRetention < 0 {
		bad("Retention %v, RetentionBytes %d and DeleteRetention %v must not be negative",
			c.Retention, c.RetentionBytes, c.DeleteRetention)
	}
	if c.MinCleanableRatio < 0 || c.MinCleanableRatio > 1 {
		bad("MinCleanableRatio %v is outside [0, 1]", c.MinCleanableRatio)
	}
	if c.CheckInterval < 0 {
		bad("CheckInterval %v is negative", c.CheckInterval)
	}
	return errors.Join(errs...)
}
