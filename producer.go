package creek

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/batch"
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
)

// ProducerConfig configures a Producer. The zero value is valid.
type ProducerConfig struct {
	// Partitioner chooses each record's partition; default
	// KafkaPartitioner(BatchBytes).
	Partitioner Partitioner
	// Linger is how long a batch waits for more records before it is sent
	// (linger.ms); default 0: a batch goes as soon as its partition has no
	// send in flight, and records that arrive meanwhile fill the next.
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
	return errors.Join(errs...)
}

// Producer sends records to a node's topics, in batches per partition. It
// is safe for concurrent use. Records sent to one partition by one producer
// are stored in the order they were given to it.
type Producer struct {
	node *Node
	cfg  ProducerConfig

	mu sync.Mutex
	// id is the idempotent producer's identity, renewed after a failed
	// send (renewIdentityLocked); its ID is -1 without idempotence.
	id        producerIdentity
	batches   map[topicPartition]*pendingBatch // filling, one per partition
	queued    map[topicPartition][]*pendingBatch
	inFlight  map[topicPartition]bool
	sequences map[topicPartition]int32
	buffered  int64
	freed     chan struct{} // closed and replaced when buffer space is released
	idle      chan struct{} // closed and replaced when nothing is buffered
	closed    bool

	wg sync.WaitGroup // sends and linger timers
	// sending is the context of every send; Close cancels it, with
	// ErrProducerClosed as the cause, once CloseTimeout has passed.
	sending     context.Context
	stopSending context.CancelCauseFunc

	// appendTo appends a batch: Node.produceTo; tests wrap it.
	appendTo func(ctx context.Context, topic string, partition int32, b []byte, acksAll bool) (base, appendTime int64, err error)
}

// producerIdentity is the producer ID and epoch an idempotent producer's
// batches carry, with the generation that tells a renewed one apart.
type producerIdentity struct {
	producerID int64
	epoch      int16
	generation uint64
}

type topicPartition struct {
	topic     string
	partition int32
}

// pendingBatch is a batch being filled or waiting to be sent.
type pendingBatch struct {
	records []*Record
	done    []func(*Record, error)
	bytes   int
	timer   *time.Timer // the linger timer, if any
}

// NewProducer returns a producer for this node's topics. With idempotence
// on (the default) it takes a producer ID from the node.
func (n *Node) NewProducer(cfg ProducerConfig) (*Producer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Producer{node: n, cfg: cfg, id: producerIdentity{producerID: -1}, appendTo: n.produceTo,
		batches: map[topicPartition]*pendingBatch{}, queued: map[topicPartition][]*pendingBatch{},
		inFlight: map[topicPartition]bool{}, sequences: map[topicPartition]int32{},
		freed: make(chan struct{}), idle: make(chan struct{})}
	p.sending, p.stopSending = context.WithCancelCause(context.Background())
	if !cfg.DisableIdempotence {
		var err error
		if p.id.producerID, p.id.epoch, err = n.InitProducerID(context.Background()); err != nil {
			return nil, err
		}
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
	partitions, err := p.node.partitionCount(ctx, r.Topic)
	if err != nil {
		return err
	}
	size := recordSize(r)
	if err := p.reserve(ctx, size); err != nil {
		return err
	}
	part := p.cfg.Partitioner.Partition(r, partitions)
	if part < 0 || part >= partitions {
		p.release(size)
		return fmt.Errorf("%w: %s has no partition %d", ErrUnknownTopic, r.Topic, part)
	}
	r.Partition, r.Offset = part, -1
	if r.Timestamp.IsZero() {
		r.Timestamp = p.node.now()
	}
	if done == nil {
		done = func(*Record, error) {}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.releaseLocked(size)
		return ErrProducerClosed
	}
	tp := topicPartition{r.Topic, part}
	b := p.batches[tp]
	if b != nil && b.bytes+size > p.cfg.BatchBytes {
		p.closeBatchLocked(tp) // full: a batch never passes BatchBytes but by a record larger than it
		b = nil
	}
	if b == nil {
		b = &pendingBatch{}
		p.batches[tp] = b
		if p.cfg.Linger > 0 {
			p.wg.Add(1)
			b.timer = time.AfterFunc(p.cfg.Linger, func() {
				defer p.wg.Done()
				p.mu.Lock()
				defer p.mu.Unlock()
				if p.batches[tp] == b {
					p.closeBatchLocked(tp)
				}
			})
		}
	}
	if p.cfg.Acks == AcksNone {
		// Sent as far as the caller knows: the producer keeps a copy, so it
		// never writes to a record the caller has back.
		queued := *r
		b.records = append(b.records, &queued)
		b.done = append(b.done, p.logFailure)
		done(r, nil)
	} else {
		b.records = append(b.records, r)
		b.done = append(b.done, done)
	}
	b.bytes += size
	if b.bytes >= p.cfg.BatchBytes || p.cfg.Linger == 0 && !p.inFlight[tp] {
		p.closeBatchLocked(tp)
	}
	return nil
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

// closeBatchLocked stops filling the batch of tp and queues it for sending.
func (p *Producer) closeBatchLocked(tp topicPartition) {
	b := p.batches[tp]
	delete(p.batches, tp)
	if b.timer != nil && b.timer.Stop() {
		p.wg.Done() // the timer will not run
	}
	p.queued[tp] = append(p.queued[tp], b)
	p.sendNextLocked(tp)
}

// sendNextLocked starts sending the oldest queued batch of tp, unless a send
// to tp is in flight: one at a time per partition keeps records in order.
func (p *Producer) sendNextLocked(tp topicPartition) {
	if p.inFlight[tp] || len(p.queued[tp]) == 0 {
		return
	}
	b := p.queued[tp][0]
	p.queued[tp] = p.queued[tp][1:]
	p.inFlight[tp] = true
	id, seq := p.id, p.sequences[tp]
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		err := p.send(tp, b, id, seq)
		for i, r := range b.records {
			b.done[i](r, err)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case id.generation != p.id.generation: // sent under an identity since renewed
		case err == nil:
			p.sequences[tp] = incrementSequence(seq, int32(len(b.records)))
		case id.producerID >= 0:
			p.renewIdentityLocked()
		}
		p.inFlight[tp] = false
		p.releaseLocked(b.bytes)
		if len(p.queued[tp]) == 0 && p.batches[tp] != nil && p.cfg.Linger == 0 {
			p.closeBatchLocked(tp) // records that came while this send was in flight
		}
		p.sendNextLocked(tp)
	}()
}

// renewIdentityLocked takes a new producer ID after a send failed. The
// failed batch may have been stored all the same (replication timed out,
// the ISR shrank after the append, the answer was lost): the next batch
// cannot take its sequences, which the partition would answer as a
// retry of it — a batch never stored, acknowledged — nor the ones after,
// which it would refuse as out of order. A new ID starts every partition's
// sequences again, as Kafka's clients bump their epoch when an outcome
// cannot be known (KIP-360). Should no new ID be had (the node closing),
// the old one stays, and sends fail anyway.
func (p *Producer) renewIdentityLocked() {
	id, epoch, err := p.node.InitProducerID(context.Background())
	if err != nil {
		return
	}
	p.id = producerIdentity{producerID: id, epoch: epoch, generation: p.id.generation + 1}
	clear(p.sequences)
}

// send builds the batch, as producer id sends it from sequence seq, and
// appends it, then sets the records' offsets.
func (p *Producer) send(tp topicPartition, b *pendingBatch, id producerIdentity, seq int32) error {
	opts := batch.BuildOptions{Compression: batch.Compression(p.cfg.Compression),
		BaseTimestamp: b.records[0].Timestamp.UnixMilli()}
	if id.producerID >= 0 {
		opts.Idempotent, opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence = true, id.producerID, id.epoch, seq
	}
	builder := builders.Get().(*batch.Builder)
	defer func() {
		if builder.Cap() <= maxPooledBuilder {
			builders.Put(builder)
		}
	}()
	builder.Reset(opts)
	builder.Grow(b.bytes)
	for _, r := range b.records {
		var headers []batch.RecordHeader
		for _, h := range r.Headers {
			headers = append(headers, batch.RecordHeader{Key: h.Key, Value: h.Value})
		}
		builder.Add(r.Key, r.Value, headers, r.Timestamp.UnixMilli())
	}
	bytes, err := builder.Build()
	if err != nil {
		return fmt.Errorf("produce to %s-%d: %w", tp.topic, tp.partition, err)
	}
	ctx, cancel := context.WithTimeout(p.sending, p.cfg.DeliveryTimeout)
	defer cancel()
	base, appendTime, err := p.appendUntilKnown(ctx, tp, bytes)
	if err != nil && p.sending.Err() != nil {
		return fmt.Errorf("%w before the outcome of a send to %s-%d was known: %w",
			ErrProducerClosed, tp.topic, tp.partition, err)
	}
	if err != nil {
		return err
	}
	for i, r := range b.records {
		r.Offset = base + int64(i)
		if appendTime >= 0 {
			r.Timestamp = time.UnixMilli(appendTime)
		}
	}
	return nil
}

// builders are the batch builders sends reuse: a batch's bytes are the
// builder's, and free again once the send has returned.
var builders = sync.Pool{New: func() any { return new(batch.Builder) }}

// maxPooledBuilder is the most memory a pooled builder keeps: two batches
// of the default size, uncompressed and compressed.
const maxPooledBuilder = 4 << 20

// appendUntilKnown appends a built batch, and appends the same bytes again
// while the answer is an error that may pass or that leaves the outcome
// unknown (resendable), until ctx ends: as Kafka's clients retry a batch
// until delivery.timeout.ms. The batch keeps its producer ID and
// sequences, so the partition stores it once however many times it
// arrives, and answers a copy it holds with the offsets it was stored at.
func (p *Producer) appendUntilKnown(ctx context.Context, tp topicPartition, b []byte) (base, appendTime int64, err error) {
	backoff := resendBackoffMin
	for {
		base, appendTime, err = p.appendTo(ctx, tp.topic, tp.partition, b, p.cfg.Acks == AcksAll)
		if err == nil || !resendable(err) {
			return base, appendTime, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return -1, -1, err
		case <-t.C:
		}
		backoff = min(2*backoff, resendBackoffMax)
	}
}

// The pause before a batch is sent again doubles from resendBackoffMin
// (Kafka's retry.backoff.ms) to resendBackoffMax.
const (
	resendBackoffMin = 100 * time.Millisecond
	resendBackoffMax = time.Second
)

// resendable reports whether a send that failed with err may be sent again
// as it is: its outcome is unknown (a network error, a replication
// timeout, a sync that failed), or it was refused for a reason that passes
// (no leader yet, too few in-sync replicas, a disk healing), by Kafka's
// list of retriable errors. A node closing, or a context ended, is final.
func resendable(err error) bool {
	var netErr net.Error
	switch {
	case errors.Is(err, ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	return kerr.IsRetriable(kerr.ErrorForCode(KafkaCode(err)))
}

// reserve takes size bytes of buffer, waiting for space while ctx lasts.
func (p *Producer) reserve(ctx context.Context, size int) error {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return ErrProducerClosed
		}
		// A record larger than the whole buffer goes alone when it is empty.
		if p.buffered+int64(size) <= p.cfg.BufferBytes || p.buffered == 0 {
			p.buffered += int64(size)
			p.mu.Unlock()
			return nil
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *Producer) release(size int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(size)
}

func (p *Producer) releaseLocked(size int) {
	p.buffered -= int64(size)
	close(p.freed)
	p.freed = make(chan struct{})
	if p.buffered == 0 {
		close(p.idle)
		p.idle = make(chan struct{})
	}
}

// Flush sends every queued record now, lingering or not, and waits until
// all are sent or ctx ends.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	for tp := range p.batches {
		p.closeBatchLocked(tp)
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
// and waits for it, for at most CloseTimeout: the records not sent by
// then fail with ErrProducerClosed (a record in flight may be stored all
// the same), and Close returns context.DeadlineExceeded. A second Close
// returns nil.
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
	p.stopSending(ErrProducerClosed)
	p.wg.Wait()
	return err
}

// partitionCount returns how many partitions a topic has, creating the
// topic when the node auto-creates topics.
func (n *Node) partitionCount(ctx context.Context, topic string) (int32, error) {
	count, err := n.existingPartitionCount(topic)
	if errors.Is(err, ErrUnknownTopic) && n.cfg.AutoCreateTopics {
		if err = n.autoCreate(ctx, topic); err == nil {
			return n.existingPartitionCount(topic)
		}
	}
	return count, err
}

// existingPartitionCount is partitionCount without creating the topic.
func (n *Node) existingPartitionCount(topic string) (int32, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	t, err := n.topicLocked(topic)
	if err != nil {
		return 0, err
	}
	return int32(len(t.partitions)), nil
}
