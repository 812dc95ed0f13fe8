// The producer's sends: batches per partition, appended in order, up to
// five in flight, resent in order until their outcome is known.

package creek

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/idempotence"
)

// producerIdentity is the producer ID and epoch an idempotent producer's
// batches carry, with the generation that tells a renewed one apart.
type producerIdentity struct {
	producerID int64
	epoch      int16
	generation uint64
}

// producerPartition is what a producer keeps of one partition: the
// batch it fills, the batches closed and waiting for room in the window,
// the sends in flight, and the sequence its next batch starts at.
type producerPartition struct {
	tp       topicPartition
	filling  *pendingBatch // nil for none
	queued   []*pendingBatch
	lane     sendLane
	sequence int32
	held     bool   // its batch waits for the batches being built (closeIfFreeLocked)
	heldAt   uint64 // the producer's builds when it began to wait
}

// pendingBatch is a batch being filled or waiting to be sent.
type pendingBatch struct {
	records []pendingRecord
	bytes   int
	timer   *time.Timer // the linger timer, if any
	filled  uint64      // how many times it was filled before: tells a linger timer of an earlier use apart
	// builder encodes the batch once it is sent; it stays with the batch
	// when the batch is kept to fill again, so that a busy producer does
	// not allocate and clear a batch's bytes anew each time.
	builder *batch.Builder
}

// pendingRecord is a record in a batch and what is called with its outcome.
type pendingRecord struct {
	record *Record
	done   func(*Record, error)
}

// keptBytes is what a batch kept to fill again holds on to: its record
// list and its builder's bytes.
func (b *pendingBatch) keptBytes() int64 {
	n := int64(cap(b.records)) * int64(unsafe.Sizeof(pendingRecord{}))
	if b.builder != nil {
		n += int64(b.builder.Cap())
	}
	return n
}

// partitionLocked returns what the producer keeps of tp: for the topic
// of the record before, by index, sparing a record the map lookup.
func (p *Producer) partitionLocked(tp topicPartition) *producerPartition {
	if tp.topic == p.recent.topic && int(tp.partition) < len(p.recent.partitions) {
		if pp := p.recent.partitions[tp.partition]; pp != nil {
			return pp
		}
	}
	pp := p.partitions[tp]
	if pp == nil {
		pp = &producerPartition{tp: tp}
		p.partitions[tp] = pp
	}
	if tp.topic != p.recent.topic {
		p.recent.topic, p.recent.partitions = tp.topic, p.recent.partitions[:0]
	}
	for int(tp.partition) >= len(p.recent.partitions) {
		p.recent.partitions = append(p.recent.partitions, nil)
	}
	p.recent.partitions[tp.partition] = pp
	return pp
}

// newBatchLocked starts the batch pp fills, lingering if Linger says so.
func (p *Producer) newBatchLocked(pp *producerPartition) *pendingBatch {
	var b *pendingBatch
	if n := len(p.spare); n > 0 {
		b, p.spare = p.spare[n-1], p.spare[:n-1]
		p.spareBytes -= b.keptBytes()
	} else {
		b = &pendingBatch{}
	}
	pp.filling = b
	if p.cfg.Linger > 0 {
		filled := b.filled
		p.wg.Add(1)
		b.timer = time.AfterFunc(p.cfg.Linger, func() {
			defer p.wg.Done()
			p.mu.Lock()
			defer p.mu.Unlock()
			if pp.filling == b && b.filled == filled {
				p.closeBatchLocked(pp)
			}
		})
	}
	return b
}

// recycleLocked keeps a sent batch, its records forgotten, to be filled
// again with its record list and its builder, so that a busy producer
// does not allocate and grow them anew for each batch. What the kept
// batches hold is bounded by BufferBytes, as Kafka's producer keeps up to
// buffer.memory of batch buffers pooled: a producer writing to many
// partitions has a batch filling for each and more in flight, and a
// bound in batches (eight, before) left most of them to be made again.
func (p *Producer) recycleLocked(b *pendingBatch) {
	kept := b.keptBytes()
	if p.spareBytes+kept > p.cfg.BufferBytes {
		return
	}
	clear(b.records)
	b.records, b.bytes, b.timer = b.records[:0], 0, nil
	b.filled++
	p.spare = append(p.spare, b)
	p.spareBytes += kept
}

// closeBatchLocked stops filling the batch of pp and queues it for
// sending.
func (p *Producer) closeBatchLocked(pp *producerPartition) {
	b := pp.filling
	pp.filling = nil
	if b.timer != nil && b.timer.Stop() {
		p.wg.Done() // the timer will not run
	}
	pp.queued = append(pp.queued, b)
	p.sendNextLocked(pp)
}

// maxInFlight bounds the sends of one partition started and not yet
// completed, as Kafka's max.in.flight.requests.per.connection does under
// idempotence: a partition remembers a producer's last idempotence.Window
// batches, so a resend of any batch in flight is answered as the
// duplicate it is. Without idempotence one send is in flight at a time,
// so a resend cannot land after a later batch.
const maxInFlight = idempotence.Window

// sendLane orders the sends of one partition. Each appends only after
// the send started before it has appended (or given up), so batches reach
// the log in the order their records came; and each completes (resends,
// then callbacks) only after that send has completed, so a resend never
// overtakes an earlier batch and callbacks run in order. A send waits for
// its acknowledgement (an fsync, the replicas) beside the later sends'
// appends, so one fsync covers them all.
type sendLane struct {
	inFlight int             // sends started and not completed
	appended <-chan struct{} // closed once the newest send has appended, or given up
	done     <-chan struct{} // closed once the newest send has completed
}

// pendingSend is one batch being sent: built, appended in its turn,
// acknowledged, and resent after the send before it has completed.
type pendingSend struct {
	partition *producerPartition
	batch     *pendingBatch
	id        producerIdentity
	seq       int32
	// after and prior are the appended and done of the send started
	// before this one, nil for none; appended and done are this send's.
	after, prior   <-chan struct{}
	appended, done chan struct{}
}

// window is how many sends of one partition may be in flight.
func (p *Producer) window() int {
	if p.id.producerID < 0 {
		return 1
	}
	return maxInFlight
}

// sendNextLocked starts sending the queued batches of pp, oldest first,
// while the window has room. Each takes its sequences now, in order, as
// Kafka's clients do when a batch is drained.
func (p *Producer) sendNextLocked(pp *producerPartition) {
	l := &pp.lane
	for len(pp.queued) > 0 && l.inFlight < p.window() {
		b := pp.queued[0]
		pp.queued = pp.queued[1:]
		s := &pendingSend{partition: pp, batch: b, id: p.id, seq: pp.sequence, after: l.appended, prior: l.done,
			appended: make(chan struct{}), done: make(chan struct{})}
		pp.sequence = idempotence.IncrementSequence(s.seq, int32(len(b.records)))
		l.appended, l.done = s.appended, s.done
		l.inFlight++
		p.building++
		p.wg.Add(1)
		go p.run(s)
	}
	if l.inFlight == 0 {
		l.appended, l.done = nil, nil // the next send follows none
	}
}

// run sends s, reports each record's outcome, and makes room for the
// next send.
func (p *Producer) run(s *pendingSend) {
	defer p.wg.Done()
	err := p.send(s)
	for _, r := range s.batch.records {
		r.done(r.record, err)
	}
	close(s.done)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil && p.cfg.TransactionalID != "":
		p.txn.failLocked(err) // the transaction can only abort, which renews the epoch
	case err != nil && s.id.producerID >= 0 && s.id.generation == p.id.generation:
		p.renewIdentityLocked()
	}
	pp := s.partition
	pp.lane.inFlight--
	p.releaseLocked(s.batch.bytes)
	p.recycleLocked(s.batch)
	p.sendNextLocked(pp)
	p.closeIfFreeLocked(pp)
}

// appendedLocked marks s appended, or given up: the next send of its
// partition may append.
func (p *Producer) appendedLocked(s *pendingSend) {
	close(s.appended)
}

// closeIfFreeLocked sends the batch filling for pp, without Linger, once
// nothing of pp is in flight and no batch of the producer is being built.
//
// A batch that is not full waits while a send of its partition is in
// flight: its records gather until it is full, which sends it beside the
// ones in flight, or until they have completed. Under load batches stay
// large, so each append and fsync carries many records, and full ones
// pipeline. It waits too while another partition's batch is being built,
// until none is or maxHeldBuilds have ended, as the records of Kafka's
// producer wait while its sender thread is busy: sent then, it would take
// the CPU from that build for the few records it has, and a producer
// writing to many partitions would send each a trickle of small batches. A build takes the CPU only,
// and a batch waits for a few at most, so no partition holds up another
// for long.
func (p *Producer) closeIfFreeLocked(pp *producerPartition) {
	if !p.sendsPartialLocked(pp) {
		return
	}
	if p.building > 0 {
		if !pp.held {
			pp.held, pp.heldAt = true, p.built
			p.held = append(p.held, pp)
		}
		return
	}
	p.closeBatchLocked(pp)
}

// sendsPartialLocked reports whether the batch filling for pp, not full,
// may be sent but for the builds under way.
func (p *Producer) sendsPartialLocked(pp *producerPartition) bool {
	return p.cfg.Linger == 0 && pp.filling != nil && len(pp.queued) == 0 && pp.lane.inFlight == 0
}

// builtLocked counts a send's batch built. Once none is being built, it
// sends the batches held meanwhile; while others are, only those that have
// waited for maxHeldBuilds builds, so that builds that overlap without end
// hold no batch for long.
func (p *Producer) builtLocked() {
	p.building--
	p.built++
	idle := p.building == 0 // before the sends below start building
	held := p.held[:0]
	for _, pp := range p.held {
		if !idle && p.built-pp.heldAt < maxHeldBuilds {
			held = append(held, pp)
			continue
		}
		pp.held = false
		if p.sendsPartialLocked(pp) {
			p.closeBatchLocked(pp)
		}
	}
	clear(p.held[len(held):])
	p.held = held
}

// maxHeldBuilds bounds how many builds a batch that is not full waits for.
const maxHeldBuilds = 8

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
	for _, pp := range p.partitions {
		pp.sequence = 0
	}
}

// send builds the batch, as its producer identity sends it from its
// sequence; appends it in its turn, resending while the partition refuses
// it for a reason that passes; waits for its acknowledgement; and, once
// the send before it has completed, resends it while its outcome is
// unknown. Then it sets the records' offsets.
func (p *Producer) send(s *pendingSend) error {
	builder, bytes, err := p.build(s)
	defer func() {
		s.batch.builder = builder // its bytes are free again: the append has returned
	}()
	p.mu.Lock()
	p.builtLocked()
	if err != nil {
		p.appendedLocked(s) // the next send need not wait for this one
	}
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("produce to %s-%d: %w", s.partition.tp.topic, s.partition.tp.partition, err)
	}
	ctx, cancel := context.WithTimeout(p.sending, p.cfg.DeliveryTimeout)
	defer cancel()
	acked, err := p.appendInTurn(ctx, s, bytes)
	base, appendTime := int64(-1), int64(-1)
	if err == nil {
		base, appendTime, err = acked()
	}
	if s.prior != nil {
		<-s.prior // ends by its own DeliveryTimeout, which is before this one's
	}
	// A batch refused as out of order while the one before it was in
	// doubt fits once that one is settled: the partition stored nothing.
	if err != nil && (resendable(err) || s.prior != nil && errors.Is(err, ErrOutOfOrderSequence)) {
		base, appendTime, err = p.appendUntilKnown(ctx, s.partition.tp, bytes)
	}
	if err != nil && p.sending.Err() != nil {
		return fmt.Errorf("%w before the outcome of a send to %s-%d was known: %w",
			ErrProducerClosed, s.partition.tp.topic, s.partition.tp.partition, err)
	}
	if err != nil {
		return err
	}
	for i, r := range s.batch.records {
		r.record.Offset = base + int64(i)
		if appendTime >= 0 {
			r.record.Timestamp = time.UnixMilli(appendTime)
		}
	}
	return nil
}

// build encodes s's records as one batch in the builder of s's batch,
// which the caller gives back once the batch's bytes are no longer needed.
func (p *Producer) build(s *pendingSend) (*batch.Builder, []byte, error) {
	records := s.batch.records
	opts := batch.BuildOptions{Compression: batch.Compression(p.cfg.Compression),
		BaseTimestamp: records[0].record.Timestamp.UnixMilli()}
	if s.id.producerID >= 0 {
		opts.Idempotent, opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence = true, s.id.producerID, s.id.epoch, s.seq
		opts.Transactional = p.cfg.TransactionalID != ""
	}
	builder := s.batch.builder
	if builder == nil {
		builder = new(batch.Builder)
	}
	s.batch.builder = nil // the send's until it gives it back
	builder.Reset(opts)
	builder.Grow(s.batch.bytes)
	var headers []batch.RecordHeader
	for _, pr := range records {
		r := pr.record
		headers = headers[:0]
		for _, h := range r.Headers {
			headers = append(headers, batch.RecordHeader{Key: h.Key, Value: h.Value})
		}
		builder.Add(r.Key, r.Value, headers, r.Timestamp.UnixMilli())
	}
	bytes, err := builder.Build()
	return builder, bytes, err
}

// appendInTurn appends a built batch once the send before s has
// appended, and again while the partition refuses it for a reason that
// passes (resendable), until ctx ends; then lets the next send append.
func (p *Producer) appendInTurn(ctx context.Context, s *pendingSend, b []byte) (acked func() (int64, int64, error), err error) {
	defer func() {
		p.mu.Lock()
		p.appendedLocked(s)
		p.mu.Unlock()
	}()
	if s.after != nil {
		select {
		case <-s.after:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	err = untilKnown(ctx, func() (err error) {
		acked, err = p.appendTo(ctx, s.partition.tp.topic, s.partition.tp.partition, b, p.cfg.Acks == AcksAll)
		return err
	})
	return acked, err
}

// appendUntilKnown appends a built batch and waits for its
// acknowledgement, and does both again while the answer is an error that
// may pass or that leaves the outcome unknown (resendable), until ctx
// ends: as Kafka's clients retry a batch until delivery.timeout.ms. The
// batch keeps its producer ID and sequences, so the partition stores it
// once however many times it arrives, and answers a copy it holds with the
// offsets it was stored at.
func (p *Producer) appendUntilKnown(ctx context.Context, tp topicPartition, b []byte) (base, appendTime int64, err error) {
	err = untilKnown(ctx, func() error {
		acked, err := p.appendTo(ctx, tp.topic, tp.partition, b, p.cfg.Acks == AcksAll)
		if err == nil {
			base, appendTime, err = acked()
		}
		return err
	})
	if err != nil {
		return -1, -1, err
	}
	return base, appendTime, nil
}

// untilKnown runs attempt, and again after a pause while it fails with a
// resendable error, until ctx ends; it returns attempt's last error.
func untilKnown(ctx context.Context, attempt func() error) error {
	backoff := resendBackoffMin
	for {
		err := attempt()
		if err == nil || !resendable(err) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
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
