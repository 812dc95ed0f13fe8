// Package franzgo runs franz-go, a stock Kafka client, against a creek
// node over loopback. It is its own module so that creek does not depend
// on franz-go's client.
package franzgo

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek"
)

func openNode(t *testing.T) *creek.Node {
	t.Helper()
	return openNodeWith(t, creek.Config{})
}

// openNodeWith is openNode with cfg, whose directory, listener and logger
// it sets.
func openNodeWith(t *testing.T, cfg creek.Config) *creek.Node {
	t.Helper()
	cfg.Dir, cfg.Listen, cfg.Logger = t.TempDir(), "127.0.0.1:0", slog.New(slog.DiscardHandler)
	n, err := creek.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	return n
}

func newClient(t *testing.T, n *creek.Node, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Addr().String())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// TestProduceConsume produces keyed records with franz-go's idempotent
// producer and consumes them back, checking every record and its order
// within its key.
func TestProduceConsume(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{Partitions: 8}))
	const records = 20_000
	producer := newClient(t, n, kgo.DefaultProduceTopic("t"))
	for i := range records {
		producer.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i%100)), Value: []byte(fmt.Sprint(i)),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}}, func(_ *kgo.Record, err error) {
			assert.NoError(t, err)
		})
	}
	require.NoError(t, producer.Flush(ctx))

	consumer := newClient(t, n, kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	last := map[string]int{}
	seen := 0
	for seen < records {
		fetches := consumer.PollFetches(ctx)
		require.NoError(t, fetches.Err0())
		fetches.EachRecord(func(r *kgo.Record) {
			var v int
			fmt.Sscan(string(r.Value), &v)
			if prev, ok := last[string(r.Key)]; ok {
				assert.Greater(t, v, prev, "order within key %s", r.Key)
			}
			last[string(r.Key)] = v
			assert.Equal(t, "h", r.Headers[0].Key)
			seen++
		})
	}
	assert.Equal(t, records, seen)

	adm := kadm.NewClient(producer)
	ends, err := adm.ListEndOffsets(ctx, "t")
	require.NoError(t, err)
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) {
		require.NoError(t, o.Err)
		total += o.Offset
	})
	assert.Equal(t, int64(records), total)
	starts, err := adm.ListStartOffsets(ctx, "t")
	require.NoError(t, err)
	starts.Each(func(o kadm.ListedOffset) { assert.Zero(t, o.Offset) })
}
