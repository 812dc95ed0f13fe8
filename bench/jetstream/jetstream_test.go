// Package jetstream measures creek beside NATS JetStream embedded in the
// same process, in one benchmark run, so the ratio between them means
// something on a shared machine. It is its own module so that creek does
// not depend on NATS.
//
//	cd bench/jetstream && go test -run '^$' -bench . -benchtime 200000x
package jetstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/creekmq/creek"
)

// Durability levels compared: what the OS gets to write back on its own,
// and an fsync before every acknowledgement.
var levels = []struct {
	name       string
	creekSync  string
	syncAlways bool
}{
	{"durability=os", "never", false},
	{"durability=fsync", "every-append", true},
}

// BenchmarkPublishAsync publishes b.N 100-byte records without waiting for
// each acknowledgement before the next (creek's ProduceAsync, JetStream's
// PublishAsync), then waits for all of them.
func BenchmarkPublishAsync(b *testing.B) {
	value := make([]byte, 100)
	for _, level := range levels {
		b.Run(level.name+"/system=creek", func(b *testing.B) {
			ctx := context.Background()
			_, p := openCreek(b, level.creekSync)
			b.SetBytes(int64(len(value)))
			start := time.Now()
			for range b.N {
				if err := p.ProduceAsync(ctx, &creek.Record{Topic: "bench", Value: value}, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
		})
		b.Run(level.name+"/system=jetstream", func(b *testing.B) {
			js, stop := startJetStream(b, level.syncAlways)
			defer stop()
			b.SetBytes(int64(len(value)))
			start := time.Now()
			for range b.N {
				for {
					_, err := js.PublishAsync("bench", value)
					if errors.Is(err, nats.ErrTooManyStalledMsgs) {
						<-js.PublishAsyncComplete() // back-pressure: let the acks catch up
						continue
					}
					if err != nil {
						b.Fatal(err)
					}
					break
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(5 * time.Minute):
				b.Fatal("JetStream did not acknowledge every message")
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
		})
	}
}

// openCreek opens a creek node on disk with a topic "bench" of the given
// sync policy, and a producer with acks leader; both close with b.
func openCreek(b *testing.B, sync string) (*creek.Node, *creek.Producer) {
	node, err := creek.Open(creek.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { node.Close() })
	err = node.CreateTopic(context.Background(), "bench", creek.TopicSpec{Configs: map[string]string{creek.ConfigSync: sync}})
	if err != nil {
		b.Fatal(err)
	}
	p, err := node.NewProducer(creek.ProducerConfig{Acks: creek.AcksLeader})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return node, p
}

// startJetStream runs an embedded NATS server with JetStream file storage on
// a loopback port of its choosing and a stream "bench".
func startJetStream(b *testing.B, syncAlways bool) (nats.JetStreamContext, func()) {
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: b.TempDir(), SyncAlways: syncAlways,
	})
	if err != nil {
		b.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		b.Fatal("NATS server did not start")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "bench", Subjects: []string{"bench"}, Storage: nats.FileStorage}); err != nil {
		b.Fatal(err)
	}
	return js, func() {
		nc.Close()
		s.Shutdown()
		s.WaitForShutdown()
	}
}
