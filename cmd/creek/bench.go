package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// bench produces records as fast as the broker takes them, then consumes
// them, and reports records/s, MB/s and the produce latency percentiles,
// as kafka-producer-perf-test and kafka-consumer-perf-test do.
func bench(ctx context.Context, args []string, io streams) error {
	fs := newFlags("bench", io)
	conn := connectionFlags(fs)
	topic := fs.String("topic", "creek-bench", "topic to use; created if missing")
	records := fs.Int("records", 1_000_000, "records to produce and consume")
	size := fs.Int("size", 100, "value size in bytes")
	partitions := fs.Int("partitions", 8, "partitions of the topic when it is created")
	if _, err := parseInterspersed(fs, args); err != nil {
		return errUsage
	}
	adm, err := conn.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	if _, err := adm.CreateTopic(ctx, int32(*partitions), -1, nil, *topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return err
	}
	ends, err := adm.ListEndOffsets(ctx, *topic)
	if err != nil {
		return err
	}
	startAt := map[string]map[int32]kgo.Offset{*topic: {}}
	ends.Each(func(o kadm.ListedOffset) { startAt[*topic][o.Partition] = kgo.NewOffset().At(o.Offset) })
	if err := benchProduce(ctx, conn, *topic, *records, *size, io); err != nil {
		return err
	}
	return benchConsume(ctx, conn, startAt, *records, *size, io)
}

// benchProduce produces n records of size bytes, printing progress every
// second, and reports throughput and acknowledgement latency.
func benchProduce(ctx context.Context, conn *connection, topic string, n, size int, io streams) error {
	cl, err := conn.client(kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	if err != nil {
		return err
	}
	defer cl.Close()
	value := make([]byte, size)
	var mu sync.Mutex
	latencies := make([]time.Duration, 0, n)
	var failed error
	stopProgress := progress(io, "produced", func() int { mu.Lock(); defer mu.Unlock(); return len(latencies) })
	start := time.Now()
	for range n {
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, time.Since(sent))
			if err != nil && failed == nil {
				failed = err
			}
		})
	}
	err = cl.Flush(ctx)
	elapsed := time.Since(start)
	stopProgress()
	if err != nil {
		return err
	}
	if failed != nil {
		return failed
	}
	slices.Sort(latencies)
	fmt.Fprintf(io.out, "produce: %d records of %d B in %v: %.0f records/s, %.1f MB/s; latency p50 %v, p99 %v\n",
		n, size, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(n*size)/elapsed.Seconds()/1e6,
		latencies[len(latencies)/2].Round(time.Microsecond), latencies[len(latencies)*99/100].Round(time.Microsecond))
	return nil
}

// benchConsume reads n records from the given offsets and reports the
// throughput.
func benchConsume(ctx context.Context, conn *connection, from map[string]map[int32]kgo.Offset, n, size int, io streams) error {
	cl, err := conn.client(kgo.ConsumePartitions(from))
	if err != nil {
		return err
	}
	defer cl.Close()
	var mu sync.Mutex
	read := 0
	stopProgress := progress(io, "consumed", func() int { mu.Lock(); defer mu.Unlock(); return read })
	start := time.Now()
	for {
		mu.Lock()
		done := read >= n
		mu.Unlock()
		if done {
			break
		}
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			stopProgress()
			return err
		}
		mu.Lock()
		read += fetches.NumRecords()
		mu.Unlock()
	}
	elapsed := time.Since(start)
	stopProgress()
	fmt.Fprintf(io.out, "consume: %d records in %v: %.0f records/s, %.1f MB/s\n", n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), float64(n*size)/elapsed.Seconds()/1e6)
	return nil
}

// progress prints count() to standard error every second until stopped.
func progress(io streams, what string, count func() int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(io.err, "%s %d records\n", what, count())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
