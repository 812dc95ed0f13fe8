// The producer's sends: batches per partition, appended in order, up to
// five in flight, resent in order until their outcome is known.

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
	"github.com/creekmq/creek/internal/idempotence"
)

// producerIdentity is the producer ID and epoch an idempotent producer's
// batches carry, with the generation that tells a renewed one apart.
type producerIdentity struct {
	producerID int64
	epoch      int16
	generation uint64
}

// pendingBatch is a batch being filled or waiting to be sent.
type pendingBatch struct {
	records []*Record
	done    []func(*Record, error)
	bytes   int
	timer   *time.Timer // the linger timer, if any
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
	tp    topicPartition
	batch *pendingBatch
	id    producerIdentity
	seq   int32
	// after and prior are the appended and done of the send started
	// before this one, nil for none; appended and done are this send's.
	after, prior   <-chan struct{}
	appended, done chan struct{}
}

// laneFreeLocked reports whether a batch of tp that is not full would be
// sent at once: nothing of tp is in flight. Otherwise its records gather
// until it is full, which sends it beside the ones in flight, or until
// they have completed: under load batches stay large, so each append and
// fsync carries many records, and full ones pipeline.
func (p *Producer) laneFreeLocked(tp topicPartition) bool {
	l := p.lanes[tp]
	return l == nil || l.inFlight == 0
}

// window is how many sends of one partition may be in flight.
func (p *Producer) window() int {
	if p.id.producerID < 0 {
		return 1
	}
	return maxInFlight
}

// sendNextLocked starts sending the queued batches of tp, oldest first,
// while the window has room. Each takes its sequences now, in order, as
// Kafka's clients do when a batch is drained.
func (p *Producer) sendNextLocked(tp topicPartition) {
	l := p.lanes[tp]
	if l == nil {
		l = &sendLane{}
		p.lanes[tp] = l
	}
	for len(p.queued[tp]) > 0 && l.inFlight < p.window() {
		b := p.queued[tp][0]
		p.queued[tp] = p.queued[tp][1:]
		s := &pendingSend{tp: tp, batch: b, id: p.id, seq: p.sequences[tp], after: l.appended, prior: l.done,
			appended: make(chan struct{}), done: make(chan struct{})}
		p.sequences[tp] = idempotence.IncrementSequence(s.seq, int32(len(b.records)))
		l.appended, l.done = s.appended, s.done
		l.inFlight++
		p.wg.Add(1)
		go p.run(s)
	}
	if l.inFlight == 0 {
		delete(p.lanes, tp)
	}
}

// run sends s, reports each record's outcome, and makes room for the
// next send.
func (p *Producer) run(s *pendingSend) {
	defer p.wg.Done()
	err := p.send(s)
	for i, r := range s.batch.records {
		s.batch.done[i](r, err)
	}
	close(s.done)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil && s.id.producerID >= 0 && s.id.generation == p.id.generation {
		p.renewIdentityLocked()
	}
	p.lanes[s.tp].inFlight--
	p.releaseLocked(s.batch.bytes)
	p.sendNextLocked(s.tp)
	p.closeIfFreeLocked(s.tp)
}

// appendedLocked marks s appended, or given up: the next send of its
// partition may append.
func (p *Producer) appendedLocked(s *pendingSend) {
	close(s.appended)
}

// closeIfFreeLocked sends the batch filling for tp, without Linger, once
// nothing of tp is in flight: the records that came while the sends
// before were.
func (p *Producer) closeIfFreeLocked(tp topicPartition) {
	if p.cfg.Linger == 0 && p.batches[tp] != nil && len(p.queued[tp]) == 0 && p.laneFreeLocked(tp) {
		p.closeBatchLocked(tp)
	}
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

// send builds the batch, as its producer identity sends it from its
// sequence; appends it in its turn, resending while the partition refuses
// it for a reason that passes; waits for its acknowledgement; and, once
// the send before it has completed, resends it while its outcome is
// unknown. Then it sets the records' offsets.
func (p *Producer) send(s *pendingSend) error {
	builder, bytes, err := p.build(s)
	defer func() {
		if builder.Cap() <= maxPooledBuilder {
			builders.Put(builder)
		}
	}()
	if err != nil {
		p.mu.Lock()
		p.appendedLocked(s)
		p.mu.Unlock()
		return fmt.Errorf("produce to %s-%d: %w", s.tp.topic, s.tp.partition, err)
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
		base, appendTime, err = p.appendUntilKnown(ctx, s.tp, bytes)
	}
	if err != nil && p.sending.Err() != nil {
		return fmt.Errorf("%w before the outcome of a send to %s-%d was known: %w",
			ErrProducerClosed, s.tp.topic, s.tp.partition, err)
	}
	if err != nil {
		return err
	}
	for i, r := range s.batch.records {
		r.Offset = base + int64(i)
		if appendTime >= 0 {
			r.Timestamp = time.UnixMilli(appendTime)
		}
	}
	return nil
}

// build encodes s's records as one batch in a pooled builder, which the
// caller returns once the batch's bytes are no longer needed.
func (p *Producer) build(s *pendingSend) (*batch.Builder, []byte, error) {
	records := s.batch.records
	opts := batch.BuildOptions{Compression: batch.Compression(p.cfg.Compression),
		BaseTimestamp: records[0].Timestamp.UnixMilli()}
	if s.id.producerID >= 0 {
		opts.Idempotent, opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence = true, s.id.producerID, s.id.epoch, s.seq
	}
	builder := builders.Get().(*batch.Builder)
	builder.Reset(opts)
	builder.Grow(s.batch.bytes)
	var headers []batch.RecordHeader
	for _, r := range records {
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
		acked, err = p.appendTo(ctx, s.tp.topic, s.tp.partition, b, p.cfg.Acks == AcksAll)
		return err
	})
	return acked, err
}

// builders are the batch builders sends reuse: a batch's bytes are the
// builder's, and free again once the send has returned.
var builders = sync.Pool{New: func() any { return new(batch.Builder) }}

// maxPooledBuilder is the most memory a pooled builder keeps: two batches
// of the default size, uncompressed and compressed.
const maxPooledBuilder = 4 << 20

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
