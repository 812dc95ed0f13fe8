package main

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// pacedProducer writes uniquely numbered records round-robin over a
// topic's partitions at a rate, with acks=all and idempotence, and keeps
// what became of each: the records workload's producer and the
// transactional workload's filler.
type pacedProducer struct {
	what       string // names it in the events: "producer", "filler"
	client     *kgo.Client
	partitions int
	rate       int
	value      func(n int) string

	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	sent     int
	acks     []Ack
	unknown  int
	failures map[string]int // why records were not acknowledged
}

// startPacedProducer connects with cc and starts writing value(n),
// n = 0, 1, …, to topic at rate records/s until Stop.
func startPacedProducer(cc ClientConfig, what, topic string, partitions, rate int, value func(int) string) (*pacedProducer, error) {
	client, err := kgo.NewClient(cc.Opts(kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordRetries(math.MaxInt), kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		return nil, err
	}
	p := &pacedProducer{what: what, client: client, partitions: partitions, rate: rate, value: value,
		stop: make(chan struct{}), done: make(chan struct{}), failures: map[string]int{}}
	go p.run()
	return p, nil
}

// run writes at the rate until stop closes. A record the client cannot
// buffer is dropped unsent, so a stalled cluster never blocks the loop.
func (p *pacedProducer) run() {
	defer close(p.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for n := 0; ; {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		for due := int(time.Since(start).Seconds() * float64(p.rate)); n < due; n++ {
			value := p.value(n)
			r := &kgo.Record{Partition: int32(n % p.partitions), Value: []byte(value)}
			p.client.TryProduce(context.Background(), r, func(r *kgo.Record, err error) { p.settle(r, value, err) })
		}
	}
}

// settle records the outcome of one produced record.
func (p *pacedProducer) settle(r *kgo.Record, value string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case errors.Is(err, kgo.ErrMaxBuffered): // never sent
	case err != nil:
		p.sent++
		p.unknown++
		p.failures[err.Error()]++
	default:
		p.sent++
		p.acks = append(p.acks, Ack{Position: Position{Partition: r.Partition, Offset: r.Offset}, Value: value})
	}
}

// Stop ends the writing: no new records, then up to deliveryTimeout and a
// margin for those in flight; any still unsettled when the client closes
// are failed, hence unknown. It prints what was written.
func (p *pacedProducer) Stop(ev *Events) {
	close(p.stop)
	<-p.done
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout+15*time.Second)
	defer cancel()
	if err := p.client.Flush(ctx); err != nil {
		ev.Printf("%s: flush: %v", p.what, err)
	}
	p.client.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	ev.Printf("%s: %d records sent, %d acknowledged, %d unknown", p.what, p.sent, len(p.acks), p.unknown)
	printCounts(ev, p.what+": %d records failed: %s", p.failures)
}

// Close closes the client without waiting: for a workload that failed to
// start.
func (p *pacedProducer) Close() {
	close(p.stop)
	<-p.done
	p.client.Close()
}

// Acks returns every acknowledged record.
func (p *pacedProducer) Acks() []Ack {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Ack(nil), p.acks...)
}
