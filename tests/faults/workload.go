package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
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
	seed       uint64
	partitions int
	rate       int
	ev         *Events

	producer *kgo.Client
	consumer *kgo.Client

	stopProducing chan struct{}
	produced      chan struct{}
	stopConsuming context.CancelFunc
	consumed      chan struct{}

	mu       sync.Mutex
	sent     int
	acks     []Ack
	unknown  int
	failures map[string]int // why records were not acknowledged
	seen     map[Position]string
	changed  []Change
}

// StartWorkload connects a producer and a consumer to brokers and starts
// them: the producer writes "s<seed>-<n>" round-robin over the partitions
// at rate records/s, and the consumer reads every partition from the start.
func StartWorkload(brokers []string, seed uint64, partitions, rate int, ev *Events) (*Workload, error) {
	w := &Workload{seed: seed, partitions: partitions, rate: rate, ev: ev,
		stopProducing: make(chan struct{}), produced: make(chan struct{}), consumed: make(chan struct{}),
		failures: map[string]int{}, seen: map[Position]string{}}
	var err error
	w.producer, err = kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordRetries(math.MaxInt), kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, err
	}
	offsets := map[int32]kgo.Offset{}
	for p := range partitions {
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	w.consumer, err = kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{Topic: offsets}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		w.producer.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stopConsuming = cancel
	go w.produce()
	go w.consume(ctx)
	return w, nil
}

// produce writes records at the workload's rate until stopProducing closes.
// A record the client cannot buffer is dropped unsent, so a stalled cluster
// never blocks the loop.
func (w *Workload) produce() {
	defer close(w.produced)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for n := 0; ; {
		select {
		case <-w.stopProducing:
			return
		case <-tick.C:
		}
		for due := int(time.Since(start).Seconds() * float64(w.rate)); n < due; n++ {
			value := fmt.Sprintf("s%d-%d", w.seed, n)
			r := &kgo.Record{Partition: int32(n % w.partitions), Value: []byte(value)}
			w.producer.TryProduce(context.Background(), r, func(r *kgo.Record, err error) { w.settle(r, value, err) })
		}
	}
}

// settle records the outcome of one produced record.
func (w *Workload) settle(r *kgo.Record, value string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case errors.Is(err, kgo.ErrMaxBuffered): // never sent
	case err != nil:
		w.sent++
		w.unknown++
		w.failures[err.Error()]++
	default:
		w.sent++
		w.acks = append(w.acks, Ack{Position: Position{Partition: r.Partition, Offset: r.Offset}, Value: value})
	}
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
func (w *Workload) StopProducing() {
	close(w.stopProducing)
	<-w.produced
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout+15*time.Second)
	defer cancel()
	if err := w.producer.Flush(ctx); err != nil {
		w.ev.Printf("producer: flush: %v", err)
	}
	w.producer.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ev.Printf("producer: %d records sent, %d acknowledged, %d unknown", w.sent, len(w.acks), w.unknown)
	reasons := make([]string, 0, len(w.failures))
	for r := range w.failures {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		w.ev.Printf("producer: %d records failed: %s", w.failures[r], r)
	}
}

// StopConsuming ends the consumer and closes its client.
func (w *Workload) StopConsuming() {
	w.stopConsuming()
	<-w.consumed
	w.consumer.Close()
}

// Acks returns every acknowledged record.
func (w *Workload) Acks() []Ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Ack(nil), w.acks...)
}

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
