package faultnet

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Faults are random faults a network adds to its cuts. Every decision is
// drawn from one source seeded with Seed, so a failing run's seed replays
// the same decisions; which request meets which decision still depends
// on how the goroutines interleave.
type Faults struct {
	Seed uint64
	// Delay holds each write on a connection, and each gossip packet sent,
	// for a random time below it.
	Delay time.Duration
	// DropPacket is the chance that a gossip packet is lost.
	DropPacket float64
	// DuplicatePacket is the chance that a gossip packet arrives twice.
	DuplicatePacket float64
	// BreakConn is the chance that a write breaks its connection. TCP
	// loses and repeats nothing a connection delivers: a lost segment
	// ends as a broken connection, which the nodes dial again.
	BreakConn float64
}

// chaos draws the decisions of the faults in force.
type chaos struct {
	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand // nil: no faults
}

// Inject makes the network add random faults from now on; the zero
// Faults stops them.
func (n *Network) Inject(f Faults) {
	n.chaos.mu.Lock()
	defer n.chaos.mu.Unlock()
	n.chaos.faults = f
	n.chaos.rng = nil
	if f != (Faults{}) {
		n.chaos.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	}
}

// String describes the faults, seed first, for a test's log.
func (f Faults) String() string {
	return fmt.Sprintf("seed %d: delay < %v, packets dropped %.0f%%, duplicated %.0f%%, connections broken %.1f%% of writes",
		f.Seed, f.Delay, 100*f.DropPacket, 100*f.DuplicatePacket, 100*f.BreakConn)
}

// draw returns, for one write or packet, how long to hold it, and whether
// each of the chances given comes up.
func (c *chaos) draw(chances ...func(Faults) float64) (delay time.Duration, hits []bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hits = make([]bool, len(chances))
	if c.rng == nil {
		return 0, hits
	}
	if c.faults.Delay > 0 {
		delay = time.Duration(c.rng.Int64N(int64(c.faults.Delay)))
	}
	for i, chance := range chances {
		hits[i] = c.rng.Float64() < chance(c.faults)
	}
	return delay, hits
}

// GossipFate returns what happens to a gossip packet the node sends to
// addr: lost (always across a cut link), sent twice, or held for delay.
func (d Node) GossipFate(addr string) (drop, duplicate bool, delay time.Duration) {
	if d.GossipBlocked(addr) {
		return true, false, 0
	}
	delay, hits := d.net.chaos.draw(func(f Faults) float64 { return f.DropPacket },
		func(f Faults) float64 { return f.DuplicatePacket })
	return hits[0], hits[1], delay
}

// beforeWrite applies the faults to one write on a connection: it holds
// the write, and reports whether the write breaks the connection.
func (n *Network) beforeWrite() (broken bool) {
	delay, hits := n.chaos.draw(func(f Faults) float64 { return f.BreakConn })
	if delay > 0 {
		time.Sleep(delay) // the network's latency, not a test waiting for something
	}
	return hits[0]
}
