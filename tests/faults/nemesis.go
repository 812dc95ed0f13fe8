package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Nemesis injects one seeded fault per round and heals it.
type Nemesis struct {
	rng    *rand.Rand
	c      *Cluster
	faults []string
	ev     *Events
	// beforeStop is called before a node is killed or stopped, to record
	// its files' identity.
	beforeStop func(n *Node, label string)
	// topics whose partition leaders a fault prefers; nil: Topic.
	topics []string
	// txnIDs, if any, are transactional IDs whose coordinator a fault
	// prefers as often as a partition leader.
	txnIDs []string
}

// NewNemesis draws its choices from a generator seeded with seed.
func NewNemesis(seed uint64, c *Cluster, faults []string, ev *Events, beforeStop func(*Node, string)) *Nemesis {
	return &Nemesis{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), c: c, faults: faults, ev: ev, beforeStop: beforeStop}
}

// Target makes the nemesis prefer the leaders of topics' partitions and,
// half the time it prefers a node, the transaction coordinator of one of
// txnIDs. It changes the seed's draws, so it is set before the first round.
func (m *Nemesis) Target(topics, txnIDs []string) {
	m.topics, m.txnIDs = topics, txnIDs
}

// seconds draws a duration uniformly in [lo, hi] seconds, to 10 ms.
func (m *Nemesis) seconds(lo, hi float64) time.Duration {
	d := time.Duration((lo + m.rng.Float64()*(hi-lo)) * float64(time.Second))
	return d.Round(10 * time.Millisecond)
}

// target is a node a fault picks: preferably a partition leader.
type target struct {
	node *Node
	why  string
}

// pick chooses a node other than those in exclude: with probability 2/3
// the leader of a random partition (if Metadata names one that qualifies)
// or, with transactional IDs to target, half of those times the
// coordinator of a random one of them; otherwise a random node. Its draws
// do not depend on the cluster's state.
func (m *Nemesis) pick(ctx context.Context, exclude ...*Node) target {
	preferLeader := m.rng.IntN(3) < 2
	partition := m.rng.Int32()
	random := m.rng.IntN(len(m.c.Nodes))
	coordinator, txnID := false, ""
	if len(m.txnIDs) > 0 {
		coordinator = m.rng.IntN(2) == 0
		txnID = m.txnIDs[m.rng.IntN(len(m.txnIDs))]
	}
	ok := func(n *Node) bool {
		for _, x := range exclude {
			if x == n {
				return false
			}
		}
		return n != nil
	}
	if preferLeader && coordinator {
		if id, err := m.c.TxnCoordinator(ctx, txnID); err == nil {
			if n := m.c.Node(int(id)); ok(n) {
				return target{n, fmt.Sprintf("transaction coordinator of %s", txnID)}
			}
		}
	}
	if preferLeader {
		if leaders := m.leaders(ctx); len(leaders) > 0 {
			l := leaders[partition%int32(len(leaders))]
			if n := m.c.Node(int(l.node)); ok(n) {
				return target{n, l.why}
			}
		}
	}
	for i := range m.c.Nodes {
		if n := m.c.Nodes[(random+i)%len(m.c.Nodes)]; ok(n) {
			return target{n, "random"}
		}
	}
	return target{}
}

// partitionLeader is a partition of a targeted topic and its leader.
type partitionLeader struct {
	node int32
	why  string
}

// leaders lists the partitions of the targeted topics, topic by topic in
// partition order, with their leaders as Metadata reports them; a topic
// whose metadata fails is left out.
func (m *Nemesis) leaders(ctx context.Context) []partitionLeader {
	topics := m.topics
	if topics == nil {
		topics = []string{Topic}
	}
	var all []partitionLeader
	for _, topic := range topics {
		leaders, err := m.c.Leaders(ctx, topic)
		if err != nil {
			continue
		}
		for _, p := range sortedKeys(leaders) {
			why := fmt.Sprintf("leader of partition %d", p)
			if len(topics) > 1 || topic != Topic {
				why = fmt.Sprintf("leader of %s partition %d", topic, p)
			}
			all = append(all, partitionLeader{leaders[p], why})
		}
	}
	return all
}

// Round runs round i: one fault, held, healed, then a quiet 1–3 s.
func (m *Nemesis) Round(ctx context.Context, i int) error {
	fault := m.faults[m.rng.IntN(len(m.faults))]
	var err error
	switch fault {
	case FaultKill9:
		err = m.kill9(ctx, i)
	case FaultKill9Two:
		err = m.kill9Two(ctx, i)
	case FaultRolling:
		err = m.rolling(ctx, i)
	case FaultPause:
		err = m.pause(ctx, i)
	case FaultCut:
		err = m.cut(ctx, i)
	}
	if err != nil {
		return fmt.Errorf("round %d (%s): %w", i, fault, err)
	}
	quiet := m.seconds(1, 3)
	m.ev.Printf("round %d: healed; quiet for %v", i, quiet)
	return hold(ctx, quiet)
}

// kill9 kills one node and restarts it after a short or a long downtime.
func (m *Nemesis) kill9(ctx context.Context, i int) error {
	t := m.pick(ctx)
	down := m.seconds(0, 3)
	if m.rng.IntN(4) == 0 {
		down = m.seconds(5, 15)
	}
	m.ev.Printf("round %d: kill9 node %d (%s), down %v", i, t.node.ID, t.why, down)
	m.beforeStop(t.node, fmt.Sprintf("round %d kill9", i))
	t.node.Kill()
	if err := hold(ctx, down); err != nil {
		return err
	}
	return m.c.Restart(ctx, t.node)
}

// kill9Two kills two nodes at once and restarts both after 0–3 s.
func (m *Nemesis) kill9Two(ctx context.Context, i int) error {
	a := m.pick(ctx)
	b := m.pick(ctx, a.node)
	down := m.seconds(0, 3)
	m.ev.Printf("round %d: kill9-two nodes %d (%s) and %d (%s), down %v", i, a.node.ID, a.why, b.node.ID, b.why, down)
	label := fmt.Sprintf("round %d kill9-two", i)
	m.beforeStop(a.node, label)
	m.beforeStop(b.node, label)
	var wg sync.WaitGroup
	for _, n := range []*Node{a.node, b.node} {
		wg.Go(n.Kill)
	}
	wg.Wait()
	if err := hold(ctx, down); err != nil {
		return err
	}
	errs := make([]error, 2)
	for j, n := range []*Node{a.node, b.node} { // together: either may need the other to form a quorum
		wg.Go(func() { errs[j] = m.c.Restart(ctx, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rolling stops every node gracefully in turn, each down 0.5–3 s, and
// waits for each to serve again before the next.
func (m *Nemesis) rolling(ctx context.Context, i int) error {
	downs := make([]time.Duration, len(m.c.Nodes))
	for j := range downs {
		downs[j] = m.seconds(0.5, 3)
	}
	m.ev.Printf("round %d: rolling restart, downtimes %v", i, downs)
	for j, n := range m.c.Nodes {
		m.ev.Printf("round %d: rolling: SIGTERM node %d, down %v", i, n.ID, downs[j])
		m.beforeStop(n, fmt.Sprintf("round %d rolling", i))
		if err := n.Stop(); err != nil {
			return err
		}
		if err := hold(ctx, downs[j]); err != nil {
			return err
		}
		if err := m.c.Restart(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// pause stops one node with SIGSTOP for 1–8 s.
func (m *Nemesis) pause(ctx context.Context, i int) error {
	t := m.pick(ctx)
	d := m.seconds(1, 8)
	m.ev.Printf("round %d: pause node %d (%s) for %v", i, t.node.ID, t.why, d)
	if err := t.node.Pause(); err != nil {
		return err
	}
	err := hold(ctx, d)
	t.node.Resume()
	return err
}

// cut isolates one node from every other node for 2–10 s.
func (m *Nemesis) cut(ctx context.Context, i int) error {
	t := m.pick(ctx)
	d := m.seconds(2, 10)
	m.ev.Printf("round %d: cut node %d (%s) off from the others for %v", i, t.node.ID, t.why, d)
	for _, o := range m.c.Nodes {
		if o != t.node {
			if err := m.c.Net.Cut(t.node.Host, o.Host); err != nil {
				m.c.Net.HealAll()
				return err
			}
		}
	}
	err := hold(ctx, d)
	return errors.Join(err, m.c.Net.HealAll())
}
