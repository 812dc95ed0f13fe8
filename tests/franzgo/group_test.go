package franzgo

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creekmq/creek"
)

// groupReader is one member of a franz-go consumer group: it polls on its
// own goroutine and keeps, per key, the values in the order it read them.
type groupReader struct {
	cl   *kgo.Client
	done chan struct{}

	mu    sync.Mutex
	byKey map[string][]int
}

func (r *groupReader) poll(ctx context.Context, seen func(v int)) {
	defer close(r.done)
	for {
		fetches := r.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			var v int
			fmt.Sscan(string(rec.Value), &v)
			r.mu.Lock()
			r.byKey[string(rec.Key)] = append(r.byKey[string(rec.Key)], v)
			r.mu.Unlock()
			seen(v)
		})
	}
}

// TestConsumerGroup: a three-member cooperative-sticky group of franz-go
// consumers reads 100,000 idempotently produced records while one member
// leaves. Every record is read, and each member reads each key in order.
func TestConsumerGroup(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "t", creek.TopicSpec{Partitions: 8}))
	const records = 100_000

	var mu sync.Mutex
	distinct := map[int]bool{}
	halfway, all := make(chan struct{}), make(chan struct{})
	seen := func(v int) {
		mu.Lock()
		defer mu.Unlock()
		if distinct[v] {
			return // read again after a rebalance, as at-least-once allows
		}
		distinct[v] = true
		switch len(distinct) {
		case records / 3:
			close(halfway)
		case records:
			close(all)
		}
	}
	// Every member holds partitions before the first record exists, so
	// that no member can read everything before the others join.
	var readers []*groupReader
	var assigned sync.WaitGroup
	for range 3 {
		var once sync.Once
		assigned.Add(1)
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr().String()), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"),
			kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.SessionTimeout(6*time.Second),
			kgo.HeartbeatInterval(100*time.Millisecond), kgo.FetchMaxBytes(64<<10), kgo.FetchMaxPartitionBytes(16<<10),
			// A member given new partitions fetches them after its
			// long poll on the old ones returns: keep that poll short.
			kgo.FetchMaxWait(250*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
				if len(a["t"]) > 0 {
					once.Do(assigned.Done)
				}
			}))
		require.NoError(t, err)
		r := &groupReader{cl: cl, done: make(chan struct{}), byKey: map[string][]int{}}
		readers = append(readers, r)
		go r.poll(ctx, seen)
	}
	t.Cleanup(func() {
		for _, r := range readers[1:] {
			r.cl.Close()
			<-r.done
		}
	})
	assigned.Wait()
	producer := newClient(t, n, kgo.DefaultProduceTopic("t"))
	for i := range records {
		producer.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i%1000)), Value: []byte(fmt.Sprint(i))},
			func(_ *kgo.Record, err error) { assert.NoError(t, err) })
	}
	require.NoError(t, producer.Flush(ctx))
	select {
	case <-halfway:
	case <-ctx.Done():
		t.Fatal("the group read too little")
	}
	readers[0].cl.Close() // leaves the group; the others take its partitions
	<-readers[0].done
	select {
	case <-all:
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the group read %d of %d records", len(distinct), records)
	}
	// The last records can be read before the rebalance that follows the
	// leave completes; the group must settle with the two members left.
	admin := kadm.NewClient(readers[1].cl)
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		described, err := admin.DescribeGroups(ctx, "g")
		require.NoError(c, err)
		require.NoError(c, described.Error())
		assert.Equal(c, "Stable", described["g"].State)
		assert.Len(c, described["g"].Members, 2, "one member left")
	}, 30*time.Second, 50*time.Millisecond)
	lag, err := admin.Lag(ctx, "g")
	require.NoError(t, err)
	require.NoError(t, lag.Error())
	for i, r := range readers {
		r.mu.Lock()
		if i > 0 {
			assert.NotEmpty(t, r.byKey, "member %d read records", i)
		}
		for key, values := range r.byKey {
			for j := 1; j < len(values); j++ {
				if values[j] <= values[j-1] && !rereadAfterMove(values[:j], values[j]) {
					t.Errorf("member %d read key %s out of order: %d after %d", i, key, values[j], values[j-1])
				}
			}
		}
		r.mu.Unlock()
	}
}

// rereadAfterMove reports whether v is a record the member read before:
// after a partition moves back, its new owner starts again at the last
// commit, which at-least-once allows.
func rereadAfterMove(before []int, v int) bool {
	for _, b := range before {
		if b == v {
			return true
		}
	}
	return false
}
