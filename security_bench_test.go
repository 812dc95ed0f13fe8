package creek

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek/internal/testcert"
)

// BenchmarkTLSCost gives what TLS costs franz-go's produce and consume
// against a node, as ratios of throughput over TLS to throughput over
// plaintext, measured in the same run: two nodes in this process, on disk
// without syncs, one listening plain and one over TLS (TLS 1.3, Go's
// defaults), b.N records of 1 KiB produced with acks=all and read back,
// each node twice, in turn.
//
//	go test -run '^$' -bench TLSCost -benchtime 200000x -count 3 .
func BenchmarkTLSCost(b *testing.B) {
	ctx := context.Background()
	certs := testcert.New(b)
	open := func(tlsConfig *tls.Config) *Node {
		n, err := Open(Config{Dir: b.TempDir(), Listen: "127.0.0.1:0", TLS: tlsConfig, Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { n.Close() })
		if err := n.CreateTopic(ctx, "t", TopicSpec{Configs: map[string]string{ConfigSync: "never"}}); err != nil {
			b.Fatal(err)
		}
		return n
	}
	plain, secure := open(nil), open(certs.Server)
	value := make([]byte, 1024)
	for i := range value {
		value[i] = byte(i*31 + i>>3) // as good as incompressible for snappy, which is off anyway
	}
	client := func(n *Node, tlsConfig *tls.Config, opts ...kgo.Opt) *kgo.Client {
		opts = append(opts, kgo.SeedBrokers(n.Addr().String()), kgo.ProducerLinger(0),
			kgo.ProducerBatchCompression(kgo.NoCompression()))
		if tlsConfig != nil {
			opts = append(opts, kgo.DialTLSConfig(tlsConfig))
		}
		c, err := kgo.NewClient(opts...)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	half := max(b.N/2, 1)
	run := func(n *Node, tlsConfig *tls.Config) (produce, consume time.Duration) {
		p := client(n, tlsConfig)
		defer p.Close()
		start := time.Now()
		for range half {
			p.Produce(ctx, &kgo.Record{Topic: "t", Value: value}, nil)
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		produce = time.Since(start)
		c := client(n, tlsConfig, kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		defer c.Close()
		start = time.Now()
		for got := 0; got < half; {
			fetches := c.PollFetches(ctx)
			if err := fetches.Err0(); err != nil {
				b.Fatal(err)
			}
			got += fetches.NumRecords()
		}
		return produce, time.Since(start)
	}
	b.ResetTimer()
	var plainProduce, plainConsume, tlsProduce, tlsConsume time.Duration
	for _, plainFirst := range []bool{true, false} {
		p := func() { pp, pc := run(plain, nil); plainProduce, plainConsume = plainProduce+pp, plainConsume+pc }
		s := func() { sp, sc := run(secure, certs.Client); tlsProduce, tlsConsume = tlsProduce+sp, tlsConsume+sc }
		inTurn(plainFirst, p, s)
	}
	b.ReportMetric(float64(plainProduce)/float64(tlsProduce), "produce-tls/plain")
	b.ReportMetric(float64(plainConsume)/float64(tlsConsume), "consume-tls/plain")
	b.ReportMetric(float64(2*half)/plainProduce.Seconds(), "plain-produce/s")
	b.ReportMetric(float64(2*half)/tlsProduce.Seconds(), "tls-produce/s")
}
