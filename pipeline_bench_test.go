package creek

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/creekmq/creek/internal/latency"
)

// benchNode opens a node on disk whose topic "bench" has the given
// partitions and sync policy.
func benchNode(b *testing.B, partitions int32, sync string) *Node {
	n, err := Open(Config{Dir: b.TempDir(), Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	err = n.CreateTopic(context.Background(), "bench", TopicSpec{Partitions: partitions, Configs: map[string]string{ConfigSync: sync}})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkProduceConsume sends b.N records through a producer (acks
// leader) and reads them all with a consumer, in one process, on disk.
func BenchmarkProduceConsume(b *testing.B) {
	for _, size := range []int{100, 1024} {
		for _, partitions := range []int32{1, 8} {
			for _, sync := range []string{"never", "every-append"} {
				name := fmt.Sprintf("record=%dB/partitions=%d/sync=%s", size, partitions, sync)
				b.Run(name, func(b *testing.B) { benchProduceConsume(b, size, partitions, sync) })
			}
		}
	}
}

func benchProduceConsume(b *testing.B, size int, partitions int32, sync string) {
	ctx := context.Background()
	n := benchNode(b, partitions, sync)
	p, err := n.NewProducer(ProducerConfig{Acks: AcksLeader, Partitioner: RoundRobinPartitioner()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest, MaxPollRecords: 10000})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.Subscribe("bench")
	value := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	errs := make(chan error, 1)
	go func() {
		for range b.N {
			if err := p.ProduceAsync(ctx, &Record{Topic: "bench", Value: value}, nil); err != nil {
				errs <- err
				return
			}
		}
		errs <- p.Flush(ctx)
	}()
	for got := 0; got < b.N; {
		polled, err := c.Poll(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, pr := range polled {
			got += len(pr.Records)
		}
	}
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkEndToEndLatency produces paced by a ticker asking for 20,000
// records/s, below saturation, and reports the 50th and 99th percentile time
// from the produce call to the record reaching the consumer, and the rate
// the ticker reached (a loaded machine delivers fewer ticks).
func BenchmarkEndToEndLatency(b *testing.B) {
	for _, sync := range []string{"never", "every-append"} {
		b.Run("sync="+sync, func(b *testing.B) {
			const rate = 20_000
			ctx := context.Background()
			n := benchNode(b, 1, sync)
			p, err := n.NewProducer(ProducerConfig{Acks: AcksLeader})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.Subscribe("bench")
			latency.Measure(b, rate,
				func(v []byte) error { return p.ProduceAsync(ctx, &Record{Topic: "bench", Value: v}, nil) },
				func() ([][]byte, error) { return polledValues(c.Poll(ctx)) })
		})
	}
}

// polledValues returns the values of what Poll returned.
func polledValues(polled []PartitionRecords, err error) ([][]byte, error) {
	var values [][]byte
	for _, pr := range polled {
		for _, r := range pr.Records {
			values = append(values, r.Value)
		}
	}
	return values, err
}
