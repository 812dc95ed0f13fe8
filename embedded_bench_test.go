package creek

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkEmbeddedVsNetwork runs the same work through creek's own
// Producer and Consumer and through franz-go over loopback to the node's
// own listener, in one run, on one node on disk: b.N records produced with
// acks=all to a topic of their own, then read back from its start (a
// backlog), and again with a consumer reading while they are produced
// (live), each path twice, in turn. It reports each path's records a second and the ratios
// embedded/network, which the embedded path, skipping framing, the network
// and kmsg, should keep above 1; with a sync before every acknowledgement
// also produce-embedded/disk, the embedded produce against the same bytes
// written straight to a file in 1 MiB chunks, each synced.
//
// Each path produces through one producer kept for all its runs (a
// Producer; a kgo.Client), as an application keeps one, and reads
// through a consumer of its own each run.
//
// The embedded path reads a third way too, through Consumer.PollEach,
// which hands each record where it is read and makes none to keep:
// consume-each/network and live-each/network, each-consume/s.
//
// Both paths write the same bytes: batches uncompressed (franz-go would
// otherwise compress with snappy, creek's Producer does not by default)
// of values that would not compress anyway.
//
// Before each timed run, the benchmark collects the garbage, writes back
// what the runs before it left dirty (sync(2)), and fills and frees as
// much page cache as the run writes (warmPageCache), so that both paths
// write to memory the machine has used for page cache before, as on a
// host whose page cache is full and recycled; see warmPageCache.
//
//	go test -run '^$' -bench EmbeddedVsNetwork -benchtime 500000x -count 3 .
func BenchmarkEmbeddedVsNetwork(b *testing.B) {
	for _, size := range []int{100, 1024} {
		for _, partitions := range []int32{1, 8} {
			for _, sync := range []string{"never", "every-append"} {
				name := fmt.Sprintf("record=%dB/partitions=%d/sync=%s", size, partitions, sync)
				b.Run(name, func(b *testing.B) { benchEmbeddedVsNetwork(b, size, partitions, sync) })
			}
		}
	}
}

func benchEmbeddedVsNetwork(b *testing.B, size int, partitions int32, sync string) {
	ctx := context.Background()
	n, err := Open(Config{Dir: b.TempDir(), Listen: "127.0.0.1:0", Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	for _, topic := range []string{"embedded", "network", "embedded-live-0", "network-live-0", "embedded-live-1", "network-live-1",
		"each-live-0", "each-live-1", "embedded-warm", "network-warm"} {
		spec := TopicSpec{Partitions: partitions, Configs: map[string]string{ConfigSync: sync}}
		if err := n.CreateTopic(ctx, topic, spec); err != nil {
			b.Fatal(err)
		}
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(n.Addr().String()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	// One producer for every run of the embedded path, as the network
	// path has one client: each keeps what it has warmed (its batches and
	// their buffers), as an application's long-lived producer does.
	producer, err := n.NewProducer(ProducerConfig{Partitioner: RoundRobinPartitioner()})
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	value := make([]byte, size)
	random := rand.New(rand.NewPCG(1, 2))
	for i := range value {
		value[i] = byte(random.Uint32())
	}
	b.ResetTimer()

	// Each path runs twice, in the order embedded, network, network,
	// embedded, so that neither gains from going second (a warmer heap and
	// page cache) or first.
	half := max(b.N/2, 1)
	addr := n.Addr().String()
	scratch := b.TempDir()
	// measure times fn, a run of records, once the runs before it have
	// left it nothing to pay for: their garbage is collected (as the
	// testing package does before each benchmark run), what they left
	// dirty is written back (unsynced 1 KiB records left 2.1 GB dirty by
	// a cell's last run, near the tenth of memory past which the kernel
	// writes back beside whichever run is timed), and as much page cache
	// is warmed as a produce of that many records writes, and some; a
	// consume, which writes none, is warmed alike.
	measure := func(records int, cpu *cpuTime, fn func() error) time.Duration {
		runtime.GC()
		writeBack()
		if err := warmPageCache(scratch, records*(size+100)); err != nil {
			b.Fatal(err)
		}
		return timed(b, cpu, fn)
	}
	// One run of each path's produce first, untimed: the first run in a
	// node pays for what every later one finds ready (the heap grown, the
	// client's connection and metadata, the producer's batches and
	// their buffers), and in the order below it would be the embedded
	// path's alone: without this, its first produce took 1.2–3.6 times
	// as long as its second (86 against 69 ms, 134 against 87, 214
	// against 59), the network path's two 1.0–1.6 times the shorter.
	if err := errors.Join(produceEmbedded(ctx, producer, "embedded-warm", half, value),
		produceNetwork(ctx, client, "network-warm", half, value)); err != nil {
		b.Fatal(err)
	}
	var embeddedProduce, networkProduce, embeddedConsume, networkConsume, embeddedLive, networkLive time.Duration
	var eachConsume, eachLive time.Duration
	var embeddedCPU, networkCPU cpuTime
	for _, embeddedFirst := range []bool{true, false} {
		e := func() {
			embeddedProduce += measure(half, &embeddedCPU, func() error { return produceEmbedded(ctx, producer, "embedded", half, value) })
		}
		w := func() {
			networkProduce += measure(half, &networkCPU, func() error { return produceNetwork(ctx, client, "network", half, value) })
		}
		inTurn(embeddedFirst, e, w)
	}
	// PollEach reads too, between the two (it runs after one path and
	// before the other each time), and its CPU time is no path's.
	for _, embeddedFirst := range []bool{true, false} {
		e := func() {
			embeddedConsume += measure(half, &embeddedCPU, func() error { return consumeEmbedded(ctx, n, "embedded", half) })
		}
		w := func() {
			networkConsume += measure(half, &networkCPU, func() error { return consumeNetwork(ctx, addr, "network", half) })
		}
		x := func() {
			eachConsume += measure(half, nil, func() error { return consumeEach(ctx, n, "embedded", half) })
		}
		inTurn(embeddedFirst, e, func() { x(); w() })
	}
	// Live: a consumer reads while the records are produced; the time is
	// until it has them all. Each run has a topic of its own, so that no
	// consumer finds the records of a run before it there already.
	for run, embeddedFirst := range []bool{true, false} {
		embeddedTopic, networkTopic := fmt.Sprint("embedded-live-", run), fmt.Sprint("network-live-", run)
		e := func() {
			embeddedLive += measure(half, &embeddedCPU, func() error {
				return together(func() error { return produceEmbedded(ctx, producer, embeddedTopic, half, value) },
					func() error { return consumeEmbedded(ctx, n, embeddedTopic, half) })
			})
		}
		w := func() {
			networkLive += measure(half, &networkCPU, func() error {
				return together(func() error { return produceNetwork(ctx, client, networkTopic, half, value) },
					func() error { return consumeNetwork(ctx, addr, networkTopic, half) })
			})
		}
		eachTopic := fmt.Sprint("each-live-", run)
		x := func() {
			eachLive += measure(half, nil, func() error {
				return together(func() error { return produceEmbedded(ctx, producer, eachTopic, half, value) },
					func() error { return consumeEach(ctx, n, eachTopic, half) })
			})
		}
		inTurn(embeddedFirst, e, func() { x(); w() })
	}

	rate := func(d time.Duration) float64 { return float64(2*half) / d.Seconds() }
	if sync == SyncEveryAppend.String() {
		// The disk's own speed, in the same run: the same bytes written in
		// 1 MiB chunks, each synced, to a file of its own.
		disk := measure(2*half, nil, func() error { return writeSynced(b.TempDir(), 2*half*size) })
		b.ReportMetric(float64(disk)/float64(embeddedProduce), "produce-embedded/disk")
	}
	b.ReportMetric(rate(embeddedProduce), "embedded-produce/s")
	b.ReportMetric(rate(networkProduce), "network-produce/s")
	b.ReportMetric(float64(networkProduce)/float64(embeddedProduce), "produce-embedded/network")
	b.ReportMetric(rate(embeddedConsume), "embedded-consume/s")
	b.ReportMetric(rate(networkConsume), "network-consume/s")
	b.ReportMetric(float64(networkConsume)/float64(embeddedConsume), "consume-embedded/network")
	b.ReportMetric(float64(networkLive)/float64(embeddedLive), "live-embedded/network")
	b.ReportMetric(rate(eachConsume), "each-consume/s")
	b.ReportMetric(float64(networkConsume)/float64(eachConsume), "consume-each/network")
	b.ReportMetric(float64(networkLive)/float64(eachLive), "live-each/network")
	if embeddedCPU.user > 0 {
		// The CPU time of each path over all three, the process's while
		// that path alone ran: user time is the paths' own work, system
		// time the kernel's for them (writes to the page cache, page
		// faults, the loopback), which moves the ratios above from run to
		// run.
		b.ReportMetric(float64(networkCPU.user)/float64(embeddedCPU.user), "cpu-user-embedded/network")
		b.ReportMetric(float64(networkCPU.system)/float64(embeddedCPU.system), "cpu-system-embedded/network")
	}
}

// warmPageCache writes n bytes to a file in dir and removes it, leaving
// that much memory that was page cache a moment before free for the run
// that follows. On a virtual machine that gives its free memory back to
// its host, page cache taken from memory the guest has not used lately
// costs the kernel about 12 µs a 4 KiB page (the host backs each page
// anew); page cache just freed costs a fraction of that. That cost is
// neither path's, comes in runs of seconds, and made the same run of one
// path take 0.2 to 0.9 s, so that it, not the paths, decided which was
// faster. A host that has run for a while has its memory in use as page
// cache, which new writes recycle: warm is its steady state.
func warmPageCache(dir string, n int) error {
	name := filepath.Join(dir, "warm")
	err := writeFile(name, n, false) // unsynced: its pages are dropped, never written out
	return errors.Join(err, os.Remove(name))
}

// together runs both functions at once and returns the first error.
func together(a, b func() error) error {
	errs := make(chan error, 1)
	go func() { errs <- b() }()
	return errors.Join(a(), <-errs)
}

// writeSynced writes total bytes to a new file in dir in 1 MiB chunks,
// syncing after each.
func writeSynced(dir string, total int) error {
	return writeFile(filepath.Join(dir, "disk-reference"), total, true)
}

// writeFile writes total bytes to a new file in 1 MiB chunks, syncing
// after each if sync says so.
func writeFile(name string, total int, sync bool) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	chunk := make([]byte, 1<<20)
	for written := 0; written < total && err == nil; written += len(chunk) {
		if _, err = f.Write(chunk[:min(len(chunk), total-written)]); err == nil && sync {
			err = f.Sync()
		}
	}
	return errors.Join(err, f.Close())
}

// inTurn runs a then b, or b then a.
func inTurn(aFirst bool, a, b func()) {
	if aFirst {
		a()
		b()
	} else {
		b()
		a()
	}
}

// timed runs fn and returns how long it took, adding the process's CPU
// time meanwhile to cpu unless it is nil.
func timed(b *testing.B, cpu *cpuTime, fn func() error) time.Duration {
	var before cpuTime
	if cpu != nil {
		before = processCPU()
	}
	start := time.Now()
	if err := fn(); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	if cpu != nil {
		after := processCPU()
		cpu.user += after.user - before.user
		cpu.system += after.system - before.system
	}
	return took
}

// cpuTime is CPU time spent in user space and in the kernel.
type cpuTime struct{ user, system time.Duration }

func produceEmbedded(ctx context.Context, p *Producer, topic string, count int, value []byte) error {
	for range count {
		if err := p.ProduceAsync(ctx, &Record{Topic: topic, Value: value}, nil); err != nil {
			return err
		}
	}
	return p.Flush(ctx)
}

func produceNetwork(ctx context.Context, client *kgo.Client, topic string, count int, value []byte) error {
	for range count {
		client.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, nil)
	}
	return client.Flush(ctx)
}

func consumeEmbedded(ctx context.Context, n *Node, topic string, count int) error {
	c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest, MaxPollRecords: 10000})
	if err != nil {
		return err
	}
	defer c.Close()
	c.Subscribe(topic)
	for got := 0; got < count; {
		polled, err := c.Poll(ctx)
		if err != nil {
			return err
		}
		for _, pr := range polled {
			got += len(pr.Records)
		}
	}
	return nil
}

// consumeEach reads count records through PollEach, which hands each
// where it is read.
func consumeEach(ctx context.Context, n *Node, topic string, count int) error {
	c, err := n.NewConsumer(ConsumerConfig{Reset: ResetEarliest})
	if err != nil {
		return err
	}
	defer c.Close()
	c.Subscribe(topic)
	for got := 0; got < count; {
		taken, err := c.PollEach(ctx, func(*Record) error { return nil })
		if err != nil {
			return err
		}
		got += taken
	}
	return nil
}

func consumeNetwork(ctx context.Context, addr, topic string, count int) error {
	client, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer client.Close()
	for got := 0; got < count; {
		fetches := client.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			return err
		}
		got += fetches.NumRecords()
	}
	return nil
}

// BenchmarkProducerAllocs measures what the embedded produce path
// allocates per record beyond the records themselves, made before the
// timer starts: batches, sends and their builders are per batch and
// pooled, so the figure should round to zero.
//
//	go test -run '^$' -bench ProducerAllocs .
func BenchmarkProducerAllocs(b *testing.B) {
	ctx := context.Background()
	n, err := Open(Config{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	if err := n.CreateTopic(ctx, "t", TopicSpec{Configs: map[string]string{ConfigSync: "never"}}); err != nil {
		b.Fatal(err)
	}
	p, err := n.NewProducer(ProducerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	value := make([]byte, 100)
	records := make([]Record, b.N)
	for i := range records {
		records[i] = Record{Topic: "t", Value: value, Timestamp: time.UnixMilli(1)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range records {
		if err := p.ProduceAsync(ctx, &records[i], nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}
