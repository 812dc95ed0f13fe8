package creek

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/faultnet"
)

// stallLimit is how long TestClusterChaos waits for writes before it
// counts a stall.
const stallLimit = 20 * time.Second

// chaosSeed is the seed of TestClusterChaos: CREEK_CHAOS_SEED replays a
// failed run's, otherwise a fixed one, so that CI's runs draw alike.
func chaosSeed(t *testing.T) uint64 {
	seed := uint64(1)
	if s := os.Getenv("CREEK_CHAOS_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	return seed
}

// TestClusterChaos: five nodes on a lossy network — gossip packets lost,
// duplicated and delayed, node-to-node writes delayed and connections
// broken at random — take acks=all writes to a partition with three
// replicas while, round after round, a random minority of the nodes
// (with at most one of the partition's replicas) is cut off and healed.
// After the last heal every acknowledged write, and every record a
// consumer read, is stored at its offset on every replica, with the same
// bytes. And writes go on in every round while the reachable nodes hold
// enough in-sync replicas: a stall of stallLimit fails the test, after
// the safety checks.
func TestClusterChaos(t *testing.T) {
	seed := chaosSeed(t)
	faults := faultnet.Faults{Seed: seed, Delay: 2 * time.Millisecond, DropPacket: 0.05, DuplicatePacket: 0.05,
		BreakConn: 0.001}
	t.Logf("faults: %v (CREEK_CHAOS_SEED=%d replays them)", faults, seed)
	network := faultnet.New()
	nodes := newTestCluster(t, 5, clusterOptions{network: network}).all()
	meta := createReplicated(t, nodes, "orders", 3)
	replicas := meta.Replicas
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr().String())
	}
	checker := newAckChecker()
	stop := make(chan struct{})
	wait := checker.load(t, seeds, "orders", stop)
	require.True(t, checker.waitForAcks(50, 30*time.Second), "writes before the faults")

	network.Inject(faults)
	rng := rand.New(rand.NewPCG(seed, seed))
	var stalls []string
	all := []int32{1, 2, 3, 4, 5}
	for round := range 5 {
		victims := cutOff(rng, all, replicas)
		var others []int32 // sorted, as waitForMembers wants
		for _, id := range all {
			if !slices.Contains(victims, id) {
				others = append(others, id)
			}
		}
		t.Logf("round %d: nodes %v cut off from %v", round, victims, others)
		network.Partition(victims, others)
		observer := nodes[others[0]-1]
		waitForMembers(t, observer, others...) // the majority has noticed the cut
		if !waitForWritesOrRefusal(t, checker, observer, others) {
			stalls = append(stalls, fmt.Sprintf("round %d, cut", round))
		}
		network.HealAll()
		waitForMembers(t, observer, all...)
		// The next cut may take a replica: every replica must be back in
		// sync first, or min.insync.replicas rightly refuses writes.
		waitForISR(t, observer, "orders", replicas...)
		if !checker.waitForAcks(50, stallLimit) {
			stalls = append(stalls, fmt.Sprintf("round %d, healed", round))
			logReplicas(t, nodes, "orders")
		}
	}
	if len(stalls) > 0 { // safety is checked below all the same
		t.Errorf("LIVENESS: writes stalled for %v or more in %v", stallLimit, stalls)
	}
	network.Inject(faultnet.Faults{})
	close(stop)
	wait()

	var holders []*Node
	for _, id := range replicas {
		holders = append(holders, nodes[id-1])
	}
	waitForISR(t, nodes[0], "orders", replicas...)
	end := leaderHW(t, nodes, "orders")
	for _, n := range holders {
		waitForEnd(t, n, "orders", 0, end)
	}
	checker.check(t, holders, "orders")
}

// cutOff picks one or two of the nodes to cut off, at most one of them a
// replica of the partition: the others keep a majority of the nodes and
// two in-sync replicas, as min.insync.replicas 2 needs.
func cutOff(rng *rand.Rand, all, replicas []int32) []int32 {
	count := 1 + rng.IntN(2)
	var out []int32
	for _, i := range rng.Perm(len(all)) {
		id := all[i]
		if slices.Contains(replicas, id) && slices.ContainsFunc(out, func(v int32) bool { return slices.Contains(replicas, v) }) {
			continue
		}
		out = append(out, id)
		if len(out) == count {
			break
		}
	}
	return out
}

// waitForWritesOrRefusal waits until 50 more writes are acknowledged, or
// until the metadata shows that the partition cannot take them: fewer
// of its in-sync replicas than min.insync.replicas (2) are among the
// nodes that can reach each other. Failure detection on a lossy network
// may have dropped a replica from the ISR before the cut, and then the
// refusal is right. It reports false when neither came within stallLimit.
func waitForWritesOrRefusal(t *testing.T, checker *ackChecker, observer *Node, reachable []int32) bool {
	t.Helper()
	checker.mu.Lock()
	target := len(checker.acked) + 50
	checker.mu.Unlock()
	deadline := time.After(stallLimit)
	for {
		changed := observer.controller.fsm.Changed()
		checker.mu.Lock()
		acked := len(checker.acked)
		checker.mu.Unlock()
		if acked >= target {
			return true
		}
		p := observer.controller.fsm.Metadata().Topics["orders"].Partitions[0]
		inSync := 0
		for _, id := range p.ISR {
			if slices.Contains(reachable, id) {
				inSync++
			}
		}
		if inSync < 2 {
			t.Logf("writes rightly refused: ISR %v, reachable %v", p.ISR, reachable)
			return true
		}
		select {
		case <-checker.progress:
		case <-changed:
		case <-deadline:
			t.Logf("with ISR %v and nodes %v reachable, %d of 50 writes acknowledged in %v",
				p.ISR, reachable, 50-(target-acked), stallLimit)
			return false
		}
	}
}

// logReplicas logs each node's view of partition 0 of topic: the
// committed metadata, and its own role, epoch, offsets and fencing.
func logReplicas(t *testing.T, nodes []*Node, topic string) {
	for _, n := range nodes {
		p, err := n.partition(topic, 0)
		if err != nil {
			continue
		}
		p.mu.RLock()
		st := p.repl
		end, hw := p.log.EndOffset(), p.highWatermarkLocked()
		var isr []int32
		if st.tracker != nil {
			p.trackMu.Lock()
			isr = st.tracker.InSync()
			p.trackMu.Unlock()
		}
		p.mu.RUnlock()
		t.Logf("node %d: committed %+v; role %d leader %d epoch %d truncate %v, end %d hw %d tracker isr %v, fenced %v",
			n.nodeID(), n.controller.fsm.Metadata().Topics[topic].Partitions[0], st.role, st.leaderID, st.epoch,
			st.truncate, end, hw, isr, n.fenced.Load())
	}
}
