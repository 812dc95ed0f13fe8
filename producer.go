// Producer: its config, Produce, ProduceAsync, Flush and Close.

package creek

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creekmq/creek/internal/acl"
)

// Acks says when a producer counts a record as sent (Kafka's acks).
type Acks int8

const (
	// AcksAll waits until every in-sync replica has the record (acks=-1);
	// on a single node, until the leader has appended it. The default.
	AcksAll Acks = iota
	// AcksLeader waits until the partition leader has appended the record
	// (acks=1).
	AcksLeader
	// AcksNone counts a record as sent once it is queued (acks=0): its
	// offset is unknown and a failure is only logged.
	AcksNone
)

// Compression is the codec a producer compresses batches with.
type Compression int8

// The codecs of Kafka's record batches.
const (
	CompressionNone Compression = iota
	CompressionGzip
	CompressionSnappy
	CompressionLZ4
	CompressionZstd
)

// Producer defaults, named after the Kafka settings they stand for.
const (
	DefaultDeliveryTimeout = 2 * time.Minute  // delivery.timeout.ms
	DefaultCloseTimeout    = 30 * time.Second // the timeout of close(Duration)
	DefaultBatchBytes      = 1_000_000        // batch.size
	DefaultBufferBytes     = 32 << 20         // buffer.memory
	// DefaultTransactionTimeout is transaction.timeout.ms.
	DefaultTransactionTimeout = time.Minute
)

// ProducerConfig configures a Producer. The zero value is valid.
type ProducerConfig struct {
	// Partitioner chooses each record's partition; default
	// KafkaPartitioner(BatchBytes).
	Partitioner Partitioner
	// Linger is how long a batch waits for more records before it is sent
	// (linger.ms); default 0: a batch goes as soon as its partition has no
	// send in flight and no other batch of the producer is being built (or
	// a few have been since it began to wait), and records that arrive
	// meanwhile fill the next.
	Linger time.Duration
	// BatchBytes bounds a batch's records: a record that would take the
	// batch past it starts the next one (batch.size); default 1,000,000
	// bytes, franz-go's, under a topic's default max.message.bytes. While a
	// send is in flight records gather in the next batch, up to this size,
	// so one append (and one fsync) carries them all.
	BatchBytes int
	// BufferBytes bounds the records waiting to be sent (buffer.memory);
	// default 32 MiB. A send that would pass it waits, or fails when its
	// context ends.
	BufferBytes int64
	// Compression is the codec of the batches; default none.
	Compression Compression
	// Acks says when a record counts as sent; default AcksAll.
	Acks Acks
	// DisableIdempotence sends without a producer ID. Idempotence is on by
	// default: partitions then drop a retried batch and refuse a gap.
	DisableIdempotence bool
	// DeliveryTimeout bounds a batch's send, its resends and its wait for
	// a partition leader included (delivery.timeout.ms); default 2 min.
	DeliveryTimeout time.Duration
	// CloseTimeout bounds how long Close waits for the records queued and
	// in flight; default 30s. Those not sent by then fail with
	// ErrProducerClosed. Flush first to wait longer.
	CloseTimeout time.Duration
	// TransactionalID makes the producer transactional (Kafka's
	// transactional.id): its records are sent in transactions
	// (BeginTransaction, CommitTransaction, AbortTransaction), which commit
	// or abort as a whole, with a consumer group's offsets if SendOffsets
	// adds them; readers with ReadCommitted see only what commits. A new
	// producer with the same ID fences this one, and aborts the
	// transaction it left open. It needs idempotence.
	TransactionalID string
	// TransactionTimeout is how long a transaction may stay open before
	// its coordinator aborts it (transaction.timeout.ms); default 1 min, at
	// most the node's TransactionMaxTimeout.
	TransactionTimeout time.Duration
	// Principal, when set with Config.ACL, is who the producer acts as
	// ("User:billing"): the node's ACLs decide what it does as they
	// decide a Kafka client's — WRITE on each topic
	// (ErrTopicAuthorizationFailed), IDEMPOTENT_WRITE on the cluster or
	// WRITE on some topic for an idempotent producer, WRITE on its
	// TransactionalID, READ on the group of SendOffsets. Empty: the
	// application's own, not checked.
	Principal string
}

func (c ProducerConfig) withDefaults() ProducerConfig {
	if c.BatchBytes <= 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.BufferBytes <= 0 {
		c.BufferBytes = DefaultBufferBytes
	}
	if c.Partitioner == nil {
		c.Partitioner = KafkaPartitioner(c.BatchBytes)
	}
	if c.DeliveryTimeout <= 0 {
		c.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.TransactionTimeout <= 0 {
		c.TransactionTimeout = DefaultTransactionTimeout
	}
	return c
}

func (c ProducerConfig) validate() error {
	var errs []error
	if c.Compression < CompressionNone || c.Compression > CompressionZstd {
		errs = append(errs, fmt.Errorf("%w: unknown Compression %d", ErrInvalidConfig, c.Compression))
	}
	if c.Acks < AcksAll || c.Acks > AcksNone {
		errs = append(errs, fmt.Errorf("%w: unknown Acks %d", ErrInvalidConfig, c.Acks))
	}
	if c.Linger < 0 {
		errs = append(errs, fmt.Errorf("%w: negative Linger %v", ErrInvalidConfig, c.Linger))
	}
	if c.TransactionalID != "" && (c.DisableIdempotence || c.Acks != AcksAll) {
		errs = append(errs, fmt.Errorf("%w: a TransactionalID needs idempotence and AcksAll", ErrInvalidConfig))
	}
	return errors.Join(errs...)
}

// Producer sends records to a node's topics, in batches per partition. It
// is safe for concurrent use. Records sent to one partition by one producer
// are stored in the order they were given to it.
type Producer struct {
	node *Node
	cfg  ProducerConfig
	as   *actingAs // its Principal; nil: the application's, not checked
	// recentCount is the partition count ProduceAsync looked up last.
	recentCount atomic.Pointer[recentCount]

	mu sync.Mutex
	// id is the idempotent producer's identity, renewed after a failed
	// send (renewIdentityLocked); its ID is -1 without idempotence.
	id         producerIdentity
	partitions map[topicPartition]*producerPartition
	spare      []*pendingBatch      // sent batches, kept to be filled again
	spareBytes int64                // what they hold (keptBytes), at most BufferBytes
	building   int                  // sends started that have not built their batch yet
	built      uint64               // batches built, ever
	held       []*producerPartition // partitions whose batch waits for those builds
	buffered   int64
	freed      chan struct{} // closed and replaced when buffer space is released
	idle       chan struct{} // closed and replaced when nothing is buffered
	closed     bool
	// recent is what the producer keeps of the partitions of the topic
	// it sent to last, by index (partitionLocked).
	recent struct {
		topic      string
		partitions []*producerPartition
	}

	// txn is a transactional producer's transaction (producertxn.go).
	txn producerTxn

	wg sync.WaitGroup // sends and linger timers
	// sending is the context of every send; Close cancels it, with
	// ErrProducerClosed as the cause, once CloseTimeout has passed.
	sending     context.Context
	stopSending context.CancelCauseFunc

	// appendTo appends a batch and returns what waits for its
	// acknowledgement: Node.appendTo; tests wrap it.
	appendTo func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (acked func() (base, appendTime int64, err error), err error)
}

type topicPartition struct {
	topic     string
	partition int32
}

// NewProducer returns a producer for this node's topics. With idempotence
// on (the default) it takes a producer ID from the node.
func (n *Node) NewProducer(cfg ProducerConfig) (*Producer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Producer{node: n, cfg: cfg, id: producerIdentity{producerID: -1}, appendTo: n.appendTo,
		partitions: map[topicPartition]*producerPartition{}, freed: make(chan struct{}), idle: make(chan struct{})}
	p.sending, p.stopSending = context.WithCancelCause(context.Background())
	p.as = newActingAs(n, cfg.Principal)
	var err error
	switch {
	case cfg.TransactionalID != "":
		if err = p.as.may(acl.Write, acl.TransactionalID, cfg.TransactionalID); err == nil {
			err = p.initTxn()
		}
	case !cfg.DisableIdempotence:
		if err = p.as.may(acl.IdempotentWrite, acl.Cluster, acl.ClusterName); err != nil && p.as.mayAny(acl.Write, acl.Topic) {
			err = nil // as Kafka's InitProducerId takes WRITE on some topic instead
		}
		if err == nil {
			p.id.producerID, p.id.epoch, err = n.InitProducerID(context.Background())
		}
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Produce sends records and waits until each is sent, as Acks says. It
// sets each record's Partition, Offset and, when it had none, Timestamp.
// It returns the first error, which wraps the failed record's.
func (p *Producer) Produce(ctx context.Context, records ...*Record) error {
	errs := make(chan error, len(records))
	for _, r := range records {
		if err := p.ProduceAsync(ctx, r, func(_ *Record, err error) { errs <- err }); err != nil {
			return err
		}
	}
	var first error
	for range records {
		select {
		case err := <-errs:
			if first == nil && err != nil {
				first = err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return first
}

// ProduceAsync queues a record and returns; done, if not nil, is called
// once the record is sent or has failed (from another goroutine). It blocks
// while the buffer is full, and returns ctx's error if ctx ends first, or
// an error for a record that can never be sent (an unknown topic, a closed
// producer); done is not called then. The record must not change until
// done is called.
func (p *Producer) ProduceAsync(ctx context.Context, r *Record, done func(*Record, error)) error {
	if err := p.as.may(acl.Write, acl.Topic, r.Topic); err != nil {
		return err
	}
	partitions, err := p.partitionCount(ctx, r.Topic)
	if err != nil {
		return err
	}
	part := p.cfg.Partitioner.Partition(r, partitions)
	if part < 0 || part >= partitions {
		return fmt.Errorf("%w: %s has no partition %d", ErrUnknownTopic, r.Topic, part)
	}
	timestamp := r.Timestamp
	if timestamp.IsZero() {
		timestamp = p.node.now() // when it was produced, as Kafka's send() takes it, before any wait for space
	}
	if done == nil {
		done = func(*Record, error) {}
	}
	size := recordSize(r)
	if p.cfg.TransactionalID != "" {
		release, err := p.joinTxn(ctx, topicPartition{r.Topic, part})
		if err != nil {
			return err
		}
		defer release() // queued inside the transaction: it cannot end before
	}
	p.mu.Lock()
	if err := p.reserveLocked(ctx, size); err != nil {
		p.mu.Unlock()
		return err
	}
	r.Partition, r.Offset, r.Timestamp = part, -1, timestamp
	pp := p.partitionLocked(topicPartition{r.Topic, part})
	b := pp.filling
	if b != nil && b.bytes+size > p.cfg.BatchBytes {
		p.closeBatchLocked(pp) // full: a batch never passes BatchBytes but by a record larger than it
		b = nil
	}
	if b == nil {
		b = p.newBatchLocked(pp)
	}
	sent := false
	if p.cfg.Acks == AcksNone {
		// Sent as far as the caller knows: the producer keeps a copy, so it
		// never writes to a record the caller has back.
		queued := *r
		b.records = append(b.records, pendingRecord{&queued, p.logFailure})
		sent = true
	} else {
		b.records = append(b.records, pendingRecord{r, done})
	}
	b.bytes += size
	if b.bytes >= p.cfg.BatchBytes {
		p.closeBatchLocked(pp)
	} else {
		p.closeIfFreeLocked(pp)
	}
	p.mu.Unlock()
	if sent {
		done(r, nil)
	}
	return nil
}

// partitionCount is Node.partitionCount, kept for the topic asked for
// last while the node's topics stay as they are: a producer asks it of
// every record, and this spares each the lookup by name.
func (p *Producer) partitionCount(ctx context.Context, topic string) (int32, error) {
	if c := p.recentCount.Load(); c != nil && c.topic == topic && c.snapshot == p.node.counts.Load() && c.snapshot.current() {
		return c.count, nil
	}
	count, err := p.node.partitionCount(ctx, topic)
	if err != nil {
		return 0, err
	}
	if snapshot := p.node.counts.Load(); snapshot.current() && snapshot.counts[topic] == count {
		p.recentCount.Store(&recentCount{topic: topic, count: count, snapshot: snapshot})
	}
	return count, nil
}

// recentCount is a topic's partition count as a snapshot of the node's
// has it: true while that snapshot is.
type recentCount struct {
	topic    string
	count    int32
	snapshot *partitionCounts
}

// logFailure reports a record that failed after acks=0 counted it sent.
func (p *Producer) logFailure(r *Record, err error) {
	if err != nil {
		p.node.log.Warn("acks=0 record failed", "topic", r.Topic, "partition", r.Partition, "err", err)
	}
}

// recordSize estimates what a record takes in a batch and in the buffer.
func recordSize(r *Record) int {
	size := len(r.Key) + len(r.Value) + 21 // length, attributes, deltas, key and value lengths
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value) + 10
	}
	return size
}

// Flush sends every queued record now, lingering or not, and waits until
// all are sent or ctx ends.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	for _, pp := range p.partitions {
		if pp.filling != nil {
			p.closeBatchLocked(pp)
		}
	}
	for p.buffered > 0 {
		idle := p.idle
		p.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	p.mu.Unlock()
	return nil
}

// Close refuses new records with ErrProducerClosed, sends what is queued
// and waits for it, and aborts a transaction left open, for at most
// CloseTimeout: the records not sent by then fail with ErrProducerClosed
// (a record in flight may be stored all the same), and Close returns
// context.DeadlineExceeded. A second Close returns nil.
func (p *Producer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CloseTimeout)
	defer cancel()
	err := p.Flush(ctx)
	if err == nil {
		err = p.abortOpenTxn(ctx)
	}
	p.stopSending(ErrProducerClosed)
	p.wg.Wait()
	return err
}
