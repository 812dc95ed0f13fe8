package jetstream

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/creekmq/creek"
)

// latencyRate is the pace of BenchmarkEndToEndLatency: below what either
// system sustains at either durability, so the percentiles measure a
// record's way through, not a queue.
const latencyRate = 2_000

// BenchmarkEndToEndLatency publishes 100-byte records paced at latencyRate
// and reports the 50th and 99th percentile of the time from the publish
// call to the record reaching a consumer in the same process.
func BenchmarkEndToEndLatency(b *testing.B) {
	for _, level := range levels {
		b.Run(level.name+"/system=creek", func(b *testing.B) {
			ctx := context.Background()
			node, err := creek.Open(creek.Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer node.Close()
			err = node.CreateTopic(ctx, "bench", creek.TopicSpec{Configs: map[string]string{creek.ConfigSync: level.creekSync}})
			if err != nil {
				b.Fatal(err)
			}
			p, err := node.NewProducer(creek.ProducerConfig{Acks: creek.AcksLeader})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			c, err := node.NewConsumer(creek.ConsumerConfig{Reset: creek.ResetEarliest})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.Subscribe("bench")
			measureLatency(b,
				func(v []byte) error { return p.ProduceAsync(ctx, &creek.Record{Topic: "bench", Value: v}, nil) },
				func() ([][]byte, error) {
					polled, err := c.Poll(ctx)
					var values [][]byte
					for _, pr := range polled {
						for _, r := range pr.Records {
							values = append(values, r.Value)
						}
					}
					return values, err
				})
		})
		b.Run(level.name+"/system=jetstream", func(b *testing.B) {
			js, stop := startJetStream(b, level.syncAlways)
			defer stop()
			received := make(chan *nats.Msg, 8192)
			sub, err := js.ChanSubscribe("bench", received, nats.DeliverAll(), nats.AckNone())
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Unsubscribe()
			measureLatency(b,
				func(v []byte) error { _, err := js.PublishAsync("bench", v); return err },
				func() ([][]byte, error) {
					select {
					case m := <-received:
						return [][]byte{m.Data}, nil
					case <-time.After(time.Minute):
						return nil, context.DeadlineExceeded
					}
				})
		})
	}
}

// measureLatency publishes b.N records stamped with the time since a
// common origin, paced by a ticker, receives them, and reports the
// percentiles and the rate the ticker reached.
func measureLatency(b *testing.B, publish func([]byte) error, receive func() ([][]byte, error)) {
	origin := time.Now()
	errs := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / latencyRate)
		defer tick.Stop()
		for range b.N {
			<-tick.C
			v := binary.BigEndian.AppendUint64(make([]byte, 0, 100), uint64(time.Since(origin)))
			if err := publish(v[:100]); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	latencies := make([]time.Duration, 0, b.N)
	for len(latencies) < b.N {
		values, err := receive()
		if err != nil {
			b.Fatal(err)
		}
		now := time.Since(origin)
		for _, v := range values {
			latencies = append(latencies, now-time.Duration(binary.BigEndian.Uint64(v)))
		}
	}
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(origin).Seconds(), "records/s")
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}
