// Package kfake measures creek over the Kafka protocol beside franz-go's
// in-process fake broker, kfake, in one benchmark run: the same client
// (franz-go's kgo), the same records, over loopback. kfake keeps records
// in memory; creek runs on disk and syncs before it acknowledges. It is
// its own module so that creek does not depend on franz-go's client.
//
//	cd bench/kfake && go test -run '^$' -bench . -benchtime 200000x -count 2
package kfake

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek"
)

// target is a broker under test: its address, and how to make a topic.
type target struct {
	name  string
	start func(b *testing.B, partitions int32) (addr string, stop func())
}

var targets = []target{
	{"system=creek-disk-fsync", func(b *testing.B, partitions int32) (string, func()) {
		n, err := creek.Open(creek.Config{Dir: b.TempDir(), Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		err = n.CreateTopic(context.Background(), "bench", creek.TopicSpec{Partitions: partitions,
			Configs: map[string]string{creek.ConfigSync: "every-append"}})
		if err != nil {
			b.Fatal(err)
		}
		return n.Addr().String(), func() { n.Close() }
	}},
	{"system=kfake-memory", func(b *testing.B, partitions int32) (string, func()) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "bench"))
		if err != nil {
			b.Fatal(err)
		}
		return c.ListenAddrs()[0], c.Close
	}},
}

// BenchmarkProduce produces b.N records with an idempotent kgo producer
// (acks all) and waits for every acknowledgement.
func BenchmarkProduce(b *testing.B) {
	forEach(b, func(b *testing.B, tg target, size int, partitions int32) {
		addr, stop := tg.start(b, partitions)
		defer stop()
		cl := client(b, addr, kgo.DefaultProduceTopic("bench"))
		values := randomValues(size)
		b.SetBytes(int64(size))
		start := time.Now()
		produce(b, cl, values, b.N)
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	})
}

// BenchmarkConsume reads b.N records, produced before the timer starts,
// with a kgo consumer.
func BenchmarkConsume(b *testing.B) {
	forEach(b, func(b *testing.B, tg target, size int, partitions int32) {
		addr, stop := tg.start(b, partitions)
		defer stop()
		produce(b, client(b, addr, kgo.DefaultProduceTopic("bench")), randomValues(size), b.N)
		cl := client(b, addr, kgo.ConsumeTopics("bench"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		b.SetBytes(int64(size))
		b.ResetTimer()
		start := time.Now()
		for read := 0; read < b.N; {
			fetches := cl.PollFetches(context.Background())
			if err := fetches.Err0(); err != nil {
				b.Fatal(err)
			}
			read += fetches.NumRecords()
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	})
}

func forEach(b *testing.B, run func(*testing.B, target, int, int32)) {
	for _, size := range []int{100, 1024} {
		for _, partitions := range []int32{1, 8} {
			for _, tg := range targets {
				b.Run(fmt.Sprintf("record=%dB/partitions=%d/%s", size, partitions, tg.name), func(b *testing.B) {
					run(b, tg, size, partitions)
				})
			}
		}
	}
}

// randomValues returns 4,096 distinct values of random bytes, so the
// client's default compression (snappy) cannot shrink the work to nothing,
// as it would with repeated values.
func randomValues(size int) [][]byte {
	values := make([][]byte, 4096)
	for i := range values {
		values[i] = make([]byte, size)
		rand.Read(values[i])
	}
	return values
}

func client(b *testing.B, addr string, opts ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl
}

// produce sends n records, cycling through values, and waits for them
// all.
func produce(b *testing.B, cl *kgo.Client, values [][]byte, n int) {
	ctx := context.Background()
	errs := make(chan error, 1)
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Value: values[i%len(values)]}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
