package creek

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupTestMember is a consumer of a group that polls on its own goroutine
// and records what it reads and what its callbacks report.
type groupTestMember struct {
	c *Consumer

	mu                      sync.Mutex
	got                     map[string]int // value → times read
	assigned, revoked, lost []TopicPartition
	done                    chan struct{} // closed when the poll loop ends
}

func joinTestMember(t *testing.T, n *Node, cfg ConsumerConfig, topics ...string) *groupTestMember {
	t.Helper()
	m := &groupTestMember{got: map[string]int{}, done: make(chan struct{})}
	record := func(list *[]TopicPartition) func([]TopicPartition) {
		return func(tps []TopicPartition) {
			m.mu.Lock()
			defer m.mu.Unlock()
			*list = append(*list, tps...)
		}
	}
	cfg.OnAssigned, cfg.OnRevoked, cfg.OnLost = record(&m.assigned), record(&m.revoked), record(&m.lost)
	if cfg.Group == "" {
		cfg.Group = "g"
	}
	cfg.Reset = ResetEarliest
	c, err := n.NewConsumer(cfg)
	require.NoError(t, err)
	m.c = c
	c.Subscribe(topics...)
	go m.pollLoop()
	t.Cleanup(func() {
		assert.NoError(t, c.Close())
		<-m.done
	})
	return m
}

func (m *groupTestMember) pollLoop() {
	defer close(m.done)
	for {
		got, err := m.c.Poll(context.Background())
		if err != nil {
			return
		}
		m.mu.Lock()
		for _, pr := range got {
			for _, r := range pr.Records {
				m.got[string(r.Value)]++
			}
		}
		m.mu.Unlock()
	}
}

// revocations returns the partitions the member gave up so far.
func (m *groupTestMember) revocations() []TopicPartition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]TopicPartition(nil), m.revoked...)
}

// crash stops the member as a killed process would: no commit, no leave.
// The group notices when its session times out.
func (m *groupTestMember) crash() {
	c := m.c
	c.mu.Lock()
	c.closed = true
	close(c.closedChan)
	member := c.member
	c.mu.Unlock()
	member.stop()
	<-m.done
}

// settle lets virtual time pass until every member has heartbeated (and
// so learnt of any rebalance) a few times, and every goroutine waits.
func settle() {
	for range 5 {
		time.Sleep(3 * time.Second)
		synctest.Wait()
	}
}

// produceSpread produces count records named prefix-i, round-robin over
// the topic's partitions, and returns their values.
func produceSpread(t *testing.T, p *Producer, topic, prefix string, count int) []string {
	t.Helper()
	var records []*Record
	var values []string
	for i := range count {
		v := fmt.Sprintf("%s-%d", prefix, i)
		values = append(values, v)
		records = append(records, &Record{Topic: topic, Value: []byte(v)})
	}
	require.NoError(t, p.Produce(t.Context(), records...))
	return values
}

func requireDescribed(t *testing.T, n *Node, group string, members int, state string) GroupDescription {
	t.Helper()
	d, err := n.DescribeGroup(t.Context(), group)
	require.NoError(t, err)
	require.Equal(t, state, d.State)
	require.Len(t, d.Members, members)
	return d
}

// TestGroupOfThreeCooperativeSticky is the proof: a group of three
// where one member leaves and one crashes. Every record is read at least
// once, and under cooperative-sticky the partitions of a member that stays
// are never revoked.
func TestGroupOfThreeCooperativeSticky(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testGroupOfThree(t, false) })
	t.Run("disk", func(t *testing.T) { testGroupOfThree(t, true) })
}

func testGroupOfThree(t *testing.T, onDisk bool) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Logger: discardLogger(), OffsetsTopicPartitions: 3}
		if onDisk {
			cfg.Dir = t.TempDir()
		}
		n, err := Open(cfg)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, n.Close()) })
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 6}))
		p := newTestProducer(t, n, ProducerConfig{Partitioner: RoundRobinPartitioner()})
		consumerCfg := ConsumerConfig{SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second,
			AutoCommitInterval: time.Second}
		a := joinTestMember(t, n, consumerCfg, "t")
		b := joinTestMember(t, n, consumerCfg, "t")
		c := joinTestMember(t, n, consumerCfg, "t")
		settle()
		d := requireDescribed(t, n, "g", 3, "Stable")
		for _, member := range d.Members {
			assert.Len(t, member.Assignment, 2, "six partitions over three members")
		}
		assert.Equal(t, "cooperative-sticky", d.Protocol)
		revokedB, revokedC := b.revocations(), c.revocations()
		bFormed, cFormed := b.c.Assignment(), c.c.Assignment()

		produced := produceSpread(t, p, "t", "before", 60)
		settle()
		require.NoError(t, a.c.Close()) // leaves: b and c take a's partitions
		produced = append(produced, produceSpread(t, p, "t", "after-leave", 60)...)
		settle()
		requireDescribed(t, n, "g", 2, "Stable")
		assert.Len(t, b.c.Assignment(), 3)
		assert.Len(t, c.c.Assignment(), 3)
		assert.Subset(t, b.c.Assignment(), bFormed, "b kept its partitions")
		assert.Subset(t, c.c.Assignment(), cFormed, "c kept its partitions")

		c.crash() // no leave: the group waits out its session
		produced = append(produced, produceSpread(t, p, "t", "after-crash", 60)...)
		time.Sleep(consumerCfg.SessionTimeout)
		settle()
		d = requireDescribed(t, n, "g", 1, "Stable")
		assert.Equal(t, b.c.Assignment(), d.Members[0].Assignment)
		assert.Len(t, b.c.Assignment(), 6, "b took every partition")

		assert.Equal(t, revokedB, b.revocations(), "b's partitions were never revoked")
		assert.Equal(t, revokedC, c.revocations(), "c's partitions were never revoked")
		assert.Empty(t, b.lost)
		read := map[string]int{}
		for _, m := range []*groupTestMember{a, b, c} {
			m.mu.Lock()
			for v, times := range m.got {
				read[v] += times
			}
			m.mu.Unlock()
		}
		for _, v := range produced {
			assert.Positive(t, read[v], "record %s read at least once", v)
		}
	})
}

// TestGroupEagerRebalance: with an eager assignor every member gives up
// all its partitions before a rebalance and commits them, so the next
// owner continues where the last stopped.
func TestGroupEagerRebalance(t *testing.T) {
	for _, assignor := range []Assignor{RangeAssignor(), RoundRobinAssignor(), StickyAssignor()} {
		t.Run(assignor.Name(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newTestNode(t, Config{Logger: discardLogger(), OffsetsTopicPartitions: 3})
				require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 4}))
				p := newTestProducer(t, n, ProducerConfig{Partitioner: RoundRobinPartitioner()})
				cfg := ConsumerConfig{Assignors: []Assignor{assignor}, HeartbeatInterval: time.Second}
				a := joinTestMember(t, n, cfg, "t")
				b := joinTestMember(t, n, cfg, "t")
				produced := produceSpread(t, p, "t", "v", 40)
				settle()
				d := requireDescribed(t, n, "g", 2, "Stable")
				assert.Equal(t, assignor.Name(), d.Protocol)
				assert.Len(t, a.c.Assignment(), 2)
				assert.Len(t, b.c.Assignment(), 2)

				require.NoError(t, a.c.Close())
				produced = append(produced, produceSpread(t, p, "t", "w", 40)...)
				settle()
				requireDescribed(t, n, "g", 1, "Stable")
				assert.Len(t, b.c.Assignment(), 4)
				assert.NotEmpty(t, b.revocations(), "eager members give everything up")
				for _, v := range produced {
					a.mu.Lock()
					b.mu.Lock()
					assert.Positive(t, a.got[v]+b.got[v], "record %s read", v)
					b.mu.Unlock()
					a.mu.Unlock()
				}
			})
		})
	}
}

// TestGroupStaticMemberRestart: a static member that closes and comes back
// within its session gets its partitions back without a rebalance.
func TestGroupStaticMemberRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger(), OffsetsTopicPartitions: 3})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 4}))
		cfg := ConsumerConfig{SessionTimeout: 30 * time.Second, HeartbeatInterval: time.Second}
		dynamic := joinTestMember(t, n, cfg, "t")
		settle()
		static := cfg
		static.InstanceID = "static-1"
		first := joinTestMember(t, n, static, "t")
		settle()
		before := requireDescribed(t, n, "g", 2, "Stable")
		owned := first.c.Assignment()
		require.Len(t, owned, 2)
		revoked := dynamic.revocations()

		require.NoError(t, first.c.Close()) // a static member does not leave
		<-first.done
		time.Sleep(5 * time.Second)
		second := joinTestMember(t, n, static, "t")
		settle()
		after := requireDescribed(t, n, "g", 2, "Stable")
		assert.Equal(t, before.Generation, after.Generation, "no rebalance")
		assert.Equal(t, owned, second.c.Assignment(), "the same partitions")
		assert.Equal(t, revoked, dynamic.revocations())
	})
}

// TestGroupFencesExpiredMember: a member whose session expired cannot
// commit, so it cannot overwrite the progress of the member that took its
// partitions.
func TestGroupFencesExpiredMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger(), OffsetsTopicPartitions: 3})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 2}))
		cfg := ConsumerConfig{SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second, DisableAutoCommit: true}
		zombie := joinTestMember(t, n, cfg, "t")
		settle()
		require.NoError(t, zombie.c.Commit(t.Context()))
		zombie.c.mu.Lock()
		member := zombie.c.member
		zombie.c.mu.Unlock()
		member.stop() // stops heartbeating, as a paused process would
		time.Sleep(cfg.SessionTimeout + time.Second)
		synctest.Wait()
		require.ErrorIs(t, zombie.c.Commit(t.Context()), ErrUnknownMemberID)
		require.ErrorIs(t, n.CommitOffsets(t.Context(), "g", nil), nil, "an empty group takes plain commits")

		live := joinTestMember(t, n, cfg, "t")
		settle()
		require.ErrorIs(t, n.CommitOffsets(t.Context(), "g", map[TopicPartition]CommittedOffset{{"t", 0}: {Offset: 1}}),
			ErrUnknownMemberID, "a group with members refuses commits from outside it")
		require.ErrorIs(t, n.DeleteGroup(t.Context(), "g"), ErrNonEmptyGroup)
		require.NoError(t, live.c.Commit(t.Context()))
	})
}

// TestGroupNewPartitionsRebalance: partitions added to a subscribed topic
// are assigned without the members doing anything.
func TestGroupNewPartitionsRebalance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newTestNode(t, Config{Logger: discardLogger(), OffsetsTopicPartitions: 3})
		require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{Partitions: 1}))
		a := joinTestMember(t, n, ConsumerConfig{}, "t")
		settle()
		require.Equal(t, []TopicPartition{{"t", 0}}, a.c.Assignment())
		require.NoError(t, n.CreatePartitions(t.Context(), "t", 3))
		settle()
		assert.Equal(t, []TopicPartition{{"t", 0}, {"t", 1}, {"t", 2}}, a.c.Assignment())
	})
}
