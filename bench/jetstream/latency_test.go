package jetstream

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/latency"
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
			node, p := openCreek(b, level.creekSync)
			c, err := node.NewConsumer(creek.ConsumerConfig{Reset: creek.ResetEarliest})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.Subscribe("bench")
			latency.Measure(b, latencyRate,
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
			latency.Measure(b, latencyRate,
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
