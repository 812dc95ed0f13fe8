package creek

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/controller"
)

func TestClusterMembership(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	a, b, c := nodes[0], nodes[1], nodes[2]
	for _, n := range []*Node{a, b, c} {
		waitForMembers(t, n, 1, 2, 3)
	}
	members := a.ClusterMembers()
	assert.Equal(t, ClusterMember{NodeID: 3, KafkaAddr: c.Addr().String(),
		Listeners: map[string]string{"PLAINTEXT": c.Addr().String()}, Rack: "r1", GossipAddr: c.GossipAddr(),
		RaftAddr: c.controller.raftAddr(), Incarnation: c.incarnation}, members[2],
		"members gossip the address they serve Kafka on")
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.Addr().String()))
	require.NoError(t, err)
	defer cl.Close()
	brokers, err := kadm.NewClient(cl).BrokerMetadata(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []int32{1, 2, 3}, brokers.Brokers.NodeIDs(), "Metadata lists every live node")
	assert.Equal(t, "r1", *brokers.Brokers[0].Rack)

	require.NoError(t, c.Close()) // leaves the cluster
	waitForMembers(t, a, 1, 2)
	waitForMembers(t, b, 1, 2)
}

func TestClusterNeedsListener(t *testing.T) {
	_, err := Open(Config{Logger: discardLogger(), Cluster: &ClusterConfig{NodeID: 1, GossipAddr: "127.0.0.1:0"}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Nil(t, newTestNode(t, Config{Logger: discardLogger()}).ClusterMembers())
	_, err = Open(Config{Logger: discardLogger(), Listen: "127.0.0.1:0", AdvertisedAddr: "no-port",
		Cluster: &ClusterConfig{NodeID: 1, GossipAddr: "127.0.0.1:0"}})
	require.ErrorIs(t, err, ErrInvalidConfig, "refused before the node gossips it")
}

// waitClusterTopic waits, on the controller's applied commands, until n's
// metadata holds topic.
func waitClusterTopic(t testing.TB, n *Node, topic string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed := n.controller.fsm.Changed()
		if _, ok := n.controller.fsm.Metadata().Topics[topic]; ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("node's metadata lacks %s", topic)
		}
	}
}

// TestClusterController: the first node bootstraps the controller, the
// others are admitted as voters, metadata reaches every node, and when the
// leader goes another takes over.
func TestClusterController(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	a, b, c := nodes[0], nodes[1], nodes[2]
	first := controllerLeader(t, nodes, 3)
	require.Equal(t, a, first, "the bootstrapping node leads first")
	require.ErrorIs(t, b.controller.propose(t.Context(), controller.Command{DeleteTopic: &controller.DeleteTopic{Name: "x"}}),
		ErrNotController)
	replicas, err := controller.Place([]controller.Node{{ID: 1}, {ID: 2}, {ID: 3}}, 3, 3, 0)
	require.NoError(t, err)
	require.NoError(t, first.controller.propose(t.Context(),
		controller.Command{CreateTopic: &controller.CreateTopic{Name: "orders", Replicas: replicas}}))
	for _, n := range nodes {
		waitClusterTopic(t, n, "orders")
	}

	require.NoError(t, a.Close())
	second := controllerLeader(t, []*Node{b, c}, 3)
	require.NoError(t, second.controller.propose(t.Context(),
		controller.Command{CreateTopic: &controller.CreateTopic{Name: "logins", Replicas: [][]int32{{2, 3}}}}))
	for _, n := range []*Node{b, c} {
		waitClusterTopic(t, n, "logins")
	}
	assert.Equal(t, second.controller.leader(), b.controller.leader())
}

// TestClusterControllerRestart: a node on disk bootstraps its controller
// once; reopened, it finds its Raft state, does not bootstrap again, and
// replays the metadata.
func TestClusterControllerRestart(t *testing.T) {
	n := newTestCluster(t, 1, clusterOptions{disk: true}).node(1)
	leader := controllerLeader(t, []*Node{n.Node}, 1)
	require.NoError(t, leader.controller.propose(t.Context(),
		controller.Command{CreateTopic: &controller.CreateTopic{Name: "orders", Replicas: [][]int32{{1}}}}))
	require.NoError(t, n.Close())

	n.open()
	defer func() { require.NoError(t, n.Close()) }()
	controllerLeader(t, []*Node{n.Node}, 1)
	require.NoError(t, n.controller.raft.Barrier(10*time.Second).Error())
	waitClusterTopic(t, n.Node, "orders")
}

// TestClusterControllerElectsPartitionLeaders: when a node dies, the
// controller moves the leadership of its partitions to an in-sync replica
// that lives, in the partition's preference order.
func TestClusterControllerElectsPartitionLeaders(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	a, b, c := nodes[0], nodes[1], nodes[2]
	leader := controllerLeader(t, []*Node{a, b, c}, 3)
	require.NoError(t, leader.controller.propose(t.Context(), controller.Command{CreateTopic: &controller.CreateTopic{
		Name: "orders", Replicas: [][]int32{{3, 1, 2}, {1, 2, 3}}}}))
	for _, n := range []*Node{a, b, c} {
		waitClusterTopic(t, n, "orders")
	}
	require.NoError(t, c.Close()) // node 3 leads partition 0
	deadline := time.After(30 * time.Second)
	for {
		changed := a.controller.fsm.Changed()
		p := a.controller.fsm.Metadata().Topics["orders"].Partitions
		if p[0].Leader == 1 {
			assert.Equal(t, []int32{1, 2}, p[0].ISR)
			assert.Equal(t, int32(1), p[0].LeaderEpoch)
			assert.Equal(t, int32(1), p[1].Leader, "a partition whose leader lives keeps it")
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("partition 0 still led by %d", p[0].Leader)
		}
	}
}

// TestClusterTopics: a topic created on any node goes through the
// controller and appears on every node with the same ID; deleted on any
// node, it goes everywhere.
func TestClusterTopics(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	a, c, follower := nodes[0], nodes[2], controllerFollower(t, nodes)
	leader := controllerLeader(t, nodes, 3)
	ctx := t.Context()
	require.NoError(t, follower.CreateTopic(ctx, "orders", TopicSpec{Partitions: 4, ReplicationFactor: 3}),
		"a follower forwards to the controller")
	require.ErrorIs(t, a.CreateTopic(ctx, "orders", TopicSpec{}), ErrTopicExists)
	require.ErrorIs(t, a.CreateTopic(ctx, "wide", TopicSpec{ReplicationFactor: 4}), ErrInvalidReplicationFactor)
	want, err := follower.DescribeTopic("orders")
	require.NoError(t, err)
	for _, n := range nodes {
		require.NoError(t, n.waitForTopic(ctx, "orders", true))
		got, err := n.DescribeTopic("orders")
		require.NoError(t, err)
		assert.Equal(t, want.ID, got.ID, "one topic ID in the cluster")
		assert.Len(t, got.Partitions, 4)
	}
	replicas := leader.controller.fsm.Metadata().Topics["orders"].Partitions[0].Replicas
	assert.Len(t, replicas, 3)

	require.NoError(t, c.DeleteTopic(ctx, "orders"))
	for _, n := range nodes {
		require.NoError(t, n.waitForTopic(ctx, "orders", false))
	}
	require.ErrorIs(t, a.DeleteTopic(ctx, "orders"), ErrUnknownTopic)
}

// TestClusterTopicAssignedByHand: a stock client creates a topic with its
// replicas placed by hand (kafka-topics --replica-assignment), through any
// node; the controller commits them as given. Assignments that Kafka
// refuses are refused the same way.
func TestClusterTopicAssignedByHand(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	follower := controllerFollower(t, nodes)
	cl, err := kgo.NewClient(kgo.SeedBrokers(follower.Addr().String()))
	require.NoError(t, err)
	defer cl.Close()
	create := func(topic string, partitions int32, factor int16, assignment ...[]int32) kmsg.CreateTopicsResponseTopic {
		t.Helper()
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, factor
		for i, replicas := range assignment {
			rt.ReplicaAssignment = append(rt.ReplicaAssignment,
				kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: int32(i), Replicas: replicas})
		}
		req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
		resp, err := req.RequestWith(ctx, cl.Broker(int(follower.nodeID())))
		require.NoError(t, err)
		require.Len(t, resp.Topics, 1)
		return resp.Topics[0]
	}

	created := create("placed", -1, -1, []int32{3, 1}, []int32{1, 2}, []int32{2, 3})
	require.Zero(t, created.ErrorCode, "%v", created.ErrorMessage)
	assert.Equal(t, int32(3), created.NumPartitions)
	assert.Equal(t, int16(2), created.ReplicationFactor)
	for _, n := range nodes {
		require.NoError(t, n.waitForTopic(ctx, "placed", true))
	}
	meta := nodes[0].controller.fsm.Metadata().Topics["placed"]
	assert.Equal(t, created.TopicID, meta.ID)
	var got [][]int32
	for _, p := range meta.Partitions {
		got = append(got, p.Replicas)
	}
	assert.Equal(t, [][]int32{{3, 1}, {1, 2}, {2, 3}}, got, "as given, the preferred leader first")
	assert.Equal(t, int32(3), meta.Partitions[0].Leader)

	for name, tc := range map[string]struct {
		partitions int32
		factor     int16
		assignment [][]int32
		want       int16
	}{
		"a count beside the assignment": {partitions: 2, factor: -1, assignment: [][]int32{{1}, {2}}, want: kerr.InvalidRequest.Code},
		"replica counts differ":         {partitions: -1, factor: -1, assignment: [][]int32{{1}, {1, 2}}, want: kerr.InvalidReplicaAssignment.Code},
		"a node twice":                  {partitions: -1, factor: -1, assignment: [][]int32{{1, 1}}, want: kerr.InvalidReplicaAssignment.Code},
		"a node that is not a member":   {partitions: -1, factor: -1, assignment: [][]int32{{1, 9}}, want: kerr.InvalidReplicaAssignment.Code},
	} {
		refused := create("refused", tc.partitions, tc.factor, tc.assignment...)
		assert.Equal(t, tc.want, refused.ErrorCode, name)
	}
	_, exists := nodes[0].controller.fsm.Metadata().Topics["refused"]
	assert.False(t, exists, "nothing refused was created")
}

// TestClusterTopicChanges: partitions added and configs changed on any
// node go through the controller and reach every node; a changed
// min.insync.replicas takes effect on the partition's leader.
func TestClusterTopicChanges(t *testing.T) {
	nodes := newTestCluster(t, 3, clusterOptions{}).all()
	a, follower := nodes[0], controllerFollower(t, nodes)
	ctx := t.Context()
	require.NoError(t, a.CreateTopic(ctx, "orders", TopicSpec{Partitions: 2, ReplicationFactor: 2}))
	require.NoError(t, follower.CreatePartitions(ctx, "orders", 4), "a follower forwards to the controller")
	require.ErrorIs(t, a.CreatePartitions(ctx, "orders", 3), ErrInvalidPartitions)
	cl, err := kgo.NewClient(kgo.SeedBrokers(follower.Addr().String()))
	require.NoError(t, err)
	defer cl.Close()
	_, err = kadm.NewClient(cl).CreatePartitions(ctx, 2, "orders")
	require.NoError(t, err, "a Kafka client's CreatePartitions too")

	require.NoError(t, follower.AlterTopicConfig(ctx, "orders", map[string]string{ConfigMinInsyncReplicas: "3",
		ConfigRetentionMs: "60000"}, nil))
	require.ErrorIs(t, follower.AlterTopicConfig(ctx, "orders", map[string]string{ConfigRetentionMs: "soon"}, nil),
		ErrInvalidConfig)
	for _, n := range nodes {
		require.NoError(t, n.waitForTopic(ctx, "orders", true))
		for {
			changed := n.watchMetadata()
			info, err := n.DescribeTopic("orders")
			require.NoError(t, err)
			if len(info.Partitions) == 6 && info.Configs[ConfigRetentionMs] == "60000" {
				break
			}
			select {
			case <-changed:
			case <-ctx.Done():
				t.Fatalf("node %d has %d partitions and retention %s", n.nodeID(), len(info.Partitions),
					info.Configs[ConfigRetentionMs])
			}
		}
	}
	meta := a.controller.fsm.Metadata().Topics["orders"]
	require.Len(t, meta.Partitions, 6)
	for _, p := range meta.Partitions {
		assert.Len(t, p.Replicas, 2, "new partitions keep the replication factor")
	}
	partitionLeader := nodes[meta.Partitions[5].Leader-1]
	waitForLeaderMinISR(t, partitionLeader, "orders", 5, 3)
	_, err = partitionLeader.ProduceBatch(ctx, "orders", 5, testBatch(t, 0, 1, 10, 0))
	require.ErrorIs(t, err, ErrNotEnoughReplicas, "min.insync.replicas 3 over 2 replicas refuses acks=all")
}

// waitForLeaderMinISR waits, on the partition's wake-ups and the node's
// metadata changes, until its leader on n applies min.insync.replicas.
func waitForLeaderMinISR(t *testing.T, n *Node, topic string, partition int32, want int) {
	t.Helper()
	p, err := n.partition(topic, partition)
	require.NoError(t, err)
	deadline := time.After(30 * time.Second)
	for {
		arrived, changed := p.arrival(), n.watchMetadata()
		p.mu.RLock()
		got := -1
		if tr := p.repl.tracker; tr != nil {
			p.trackMu.Lock()
			got = tr.MinISR()
			p.trackMu.Unlock()
		}
		p.mu.RUnlock()
		if got == want {
			return
		}
		select {
		case <-arrived:
		case <-changed:
		case <-deadline:
			t.Fatalf("the leader of %s-%d applies min.insync.replicas %d, want %d", topic, partition, got, want)
		}
	}
}

// raftSuffrage returns, from the controller leader among nodes, which
// nodes vote and which do not; ok is false when none of nodes leads.
func raftSuffrage(nodes []*Node) (voters, nonvoters []int32, ok bool) {
	for _, n := range nodes {
		if n.controller.raft.State() != raft.Leader {
			continue
		}
		f := n.controller.raft.GetConfiguration()
		if f.Error() != nil {
			return nil, nil, false
		}
		for _, s := range f.Configuration().Servers {
			id, _ := strconv.Atoi(string(s.ID))
			if s.Suffrage == raft.Voter {
				voters = append(voters, int32(id))
			} else {
				nonvoters = append(nonvoters, int32(id))
			}
		}
		slices.Sort(voters)
		slices.Sort(nonvoters)
		return voters, nonvoters, true
	}
	return nil, nil, false
}

// waitForSuffrage waits until the controller leader among nodes has
// exactly voters and nonvoters. Raft reports
// no event for a promotion, so it looks again every few milliseconds.
func waitForSuffrage(t *testing.T, nodes []*Node, voters, nonvoters []int32) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		v, nv, ok := raftSuffrage(nodes)
		if ok && slices.Equal(v, voters) && slices.Equal(nv, nonvoters) {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the controller has voters %v and non-voters %v, want %v and %v", v, nv, voters, nonvoters)
		}
	}
}

// TestClusterFiveVoters: the controller's Raft has at most five voters;
// a sixth node follows it as a non-voter. When a voter is gone for
// ReplaceGoneAfter (the controller's leader among them), it leaves the
// Raft and the non-voter is promoted, so the controller again has five
// voters, and it goes on committing.
func TestClusterFiveVoters(t *testing.T) {
	c := newTestCluster(t, 1, clusterOptions{config: replaceGoneAfter(100 * time.Millisecond)})
	first := c.node(1).Node
	for range 5 {
		c.add()
		waitForMembers(t, first, nodeIDs(c.all())...) // in order: the first five to join vote
	}
	nodes := c.all()
	waitForSuffrage(t, nodes, []int32{1, 2, 3, 4, 5}, []int32{6})

	require.NoError(t, first.Close()) // the bootstrapping node, which leads the controller
	alive := nodes[1:]
	waitForSuffrage(t, alive, []int32{2, 3, 4, 5, 6}, nil)
	leader := controllerLeader(t, alive, 5)
	require.NoError(t, leader.controller.propose(t.Context(),
		controller.Command{CreateTopic: &controller.CreateTopic{Name: "after", Replicas: [][]int32{{2, 6}}}}))
	for _, n := range alive {
		waitClusterTopic(t, n, "after")
	}
}

// nodeIDs returns the IDs of nodes.
func nodeIDs(nodes []*Node) []int32 {
	ids := make([]int32, len(nodes))
	for i, n := range nodes {
		ids[i] = n.nodeID()
	}
	return ids
}

// TestLeadershipLostIsRetried: the errors of a change whose leader lost
// its leadership, or was no longer the leader, are the ones a topic
// creation tries again on the next leader; others are not.
func TestLeadershipLostIsRetried(t *testing.T) {
	for _, err := range []error{fmt.Errorf("commit metadata change: %w", raft.ErrLeadershipLost), raft.ErrNotLeader,
		fmt.Errorf("%w: forwarded", ErrNotController)} {
		assert.True(t, leadershipLost(err), "%v", err)
	}
	for _, err := range []error{ErrTopicExists, ErrInvalidReplicationFactor, context.Canceled} {
		assert.False(t, leadershipLost(err), "%v", err)
	}
}
