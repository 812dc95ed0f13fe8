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
			p.sequences[tp] = idempotence.IncrementSequence(seq, int32(len(b.records)))
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
