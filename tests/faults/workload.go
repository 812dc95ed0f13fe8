package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// deliveryTimeout bounds how long the producer tries one record.
const deliveryTimeout = 30 * time.Second

// Workload is the producer and the consumer that run while the nemesis does:
// it remembers every acknowledged record, and the first value the consumer
// saw at each offset.
type Workload struct {
	ev *Events

	producer *pacedProducer
	consumer *kgo.Client

	stopConsuming context.CancelFunc
	consumed      chan struct{}

	mu      sync.Mutex
	seen    map[Position]string
	changed []Change
}

// StartWorkload connects a producer and a consumer with cc and starts
// them: the producer writes "s<seed>-<n>" round-robin over the partitions
// at rate records/s, and the consumer reads every partition from the start.
func StartWorkload(cc ClientConfig, seed uint64, partitions, rate int, ev *Events) (*Workload, error) {
	w := &Workload{ev: ev,
		consumed: make(chan struct{}), seen: map[Position]string{}}
	var err error
	w.producer, err = startPacedProducer(cc, "producer", Topic, partitions, rate,
		func(n int) string { return fmt.Sprintf("s%d-%d", seed, n) })
	if err != nil {
		return nil, err
	}
	offsets := map[int32]kgo.Offset{}
	for p := range partitions {
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	w.consumer, err = kgo.NewClient(cc.Opts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{Topic: offsets}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		w.producer.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stopConsuming = cancel
	go w.consume(ctx)
	return w, nil
}

// consume reads every partition until ctx ends, noting the first value seen
// at each offset and every later, different one.
func (w *Workload) consume(ctx context.Context) {
	defer close(w.consumed)
	for {
		fetches := w.consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) {
			pos := Position{Partition: r.Partition, Offset: r.Offset}
			value := string(r.Value)
			first, ok := w.seen[pos]
			switch {
			case !ok:
				w.seen[pos] = value
			case first != value:
				w.changed = append(w.changed, Change{Position: pos, First: first, Later: value})
			}
		})
		w.mu.Unlock()
	}
}

// StopProducing ends the producer: no new records, then up to
// deliveryTimeout and a margin for those in flight; any still unsettled
// when the client closes are failed, hence unknown.
func (w *Workload) StopProducing() { w.producer.Stop(w.ev) }

// StopConsuming ends the consumer and closes its client.
func (w *Workload) StopConsuming() {
	w.stopConsuming()
	<-w.consumed
	w.consumer.Close()
}

// Acks returns every acknowledged record.
func (w *Workload) Acks() []Ack { return w.producer.Acks() }

// Seen returns the first value the consumer saw at each position.
func (w *Workload) Seen() map[Position]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := make(map[Position]string, len(w.seen))
	for k, v := range w.seen {
		seen[k] = v
	}
	return seen
}

// Changed returns the positions where the consumer saw a value change.
func (w *Workload) Changed() []Change {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Change(nil), w.changed...)
}
