package controller

import (
	"slices"
)

// reassign starts, replaces or cancels a partition's reassignment. The
// leader epoch moves on, so the leader takes up the new replica set (its
// followers' fetches count toward the ISR from then on).
func (m *Metadata) reassign(c *Reassign) error {
	p, err := m.partition(c.Topic, c.Partition)
	if err != nil {
		return err
	}
	original := p.Replicas
	if p.Reassigning() { // a new reassignment starts from the replicas before the last one
		original = without(p.Replicas, p.Adding)
	}
	if len(c.Replicas) == 0 {
		if !p.Reassigning() {
			return rejected("no reassignment of %s-%d to cancel", c.Topic, c.Partition)
		}
		return m.setReplicas(p, original, nil, nil)
	}
	if err := checkNodes(c.Replicas); err != nil {
		return rejected("reassign %s-%d: %v", c.Topic, c.Partition, err)
	}
	if slices.Equal(c.Replicas, original) {
		return m.setReplicas(p, original, nil, nil)
	}
	replicas := slices.Clone(c.Replicas)
	for _, r := range original {
		if !slices.Contains(replicas, r) {
			replicas = append(replicas, r)
		}
	}
	return m.setReplicas(p, replicas, without(c.Replicas, original), without(original, c.Replicas))
}

// setReplicas gives a partition its replicas and pending changes. The ISR
// keeps only replicas; if that drops the leader, the first replica left in
// sync leads. The leader epoch moves on.
func (m *Metadata) setReplicas(p *Partition, replicas, adding, removing []int32) error {
	isr := filter(p.ISR, replicas)
	if len(isr) == 0 {
		return rejected("no replica of %v is in sync (ISR %v)", replicas, p.ISR)
	}
	if !slices.Contains(isr, p.Leader) {
		p.Leader = preferred(replicas, isr)
	}
	p.Replicas, p.ISR, p.Adding, p.Removing = replicas, isr, adding, removing
	p.LeaderEpoch++
	return nil
}

// finishReassign completes a reassignment whose new replicas are all in
// sync.
func (m *Metadata) finishReassign(c *FinishReassign) error {
	p, err := m.partition(c.Topic, c.Partition)
	if err != nil {
		return err
	}
	if c.LeaderEpoch != p.LeaderEpoch || !p.Reassigning() {
		return rejected("finish reassignment of %s-%d at leader epoch %d: the partition is at %d, reassigning %v",
			c.Topic, c.Partition, c.LeaderEpoch, p.LeaderEpoch, p.Reassigning())
	}
	if !subset(p.Adding, p.ISR) {
		return rejected("finish reassignment of %s-%d: new replicas %v are not all in sync (ISR %v)",
			c.Topic, c.Partition, p.Adding, p.ISR)
	}
	return m.setReplicas(p, p.Target(), nil, nil)
}

// without returns the IDs of ids not in drop, in ids' order.
func without(ids, drop []int32) []int32 {
	var out []int32
	for _, id := range ids {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}

// FinishReady returns a FinishReassign for each reassignment whose new
// replicas have all joined the ISR, in a fixed order.
func FinishReady(m *Metadata) []Command {
	var out []Command
	for _, name := range m.TopicNames() {
		for i, p := range m.Topics[name].Partitions {
			if p.Reassigning() && subset(p.Adding, p.ISR) {
				out = append(out, Command{FinishReassign: &FinishReassign{Topic: name, Partition: int32(i),
					LeaderEpoch: p.LeaderEpoch}})
			}
		}
	}
	return out
}

// ReplaceGone returns a Reassign for each partition, not reassigning
// already, with replicas on gone nodes: each gone replica is replaced by
// a live node holding no replica of the partition, the one holding the
// fewest replicas of all first (ties to the lower ID). A partition for
// which no live node is free keeps what it cannot replace.
func ReplaceGone(m *Metadata, live []int32, gone []int32) []Command {
	load := map[int32]int{}
	for _, id := range live {
		load[id] = 0
	}
	for _, t := range m.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Target() {
				if _, ok := load[r]; ok {
					load[r]++
				}
			}
		}
	}
	var out []Command
	for _, name := range m.TopicNames() {
		for i, p := range m.Topics[name].Partitions {
			if p.Reassigning() || len(filter(p.Replicas, gone)) == 0 {
				continue
			}
			target, changed := slices.Clone(p.Replicas), false
			for k, r := range target {
				if !slices.Contains(gone, r) {
					continue
				}
				if sub, ok := leastLoaded(load, target); ok {
					target[k], changed = sub, true
					load[sub]++
				}
			}
			if changed {
				out = append(out, Command{Reassign: &Reassign{Topic: name, Partition: int32(i), Replicas: target}})
			}
		}
	}
	return out
}

// leastLoaded returns the live node with the fewest replicas that is not
// in taken.
func leastLoaded(load map[int32]int, taken []int32) (int32, bool) {
	best, found := int32(-1), false
	for id, n := range load {
		if slices.Contains(taken, id) {
			continue
		}
		if !found || n < load[best] || n == load[best] && id < best {
			best, found = id, true
		}
	}
	return best, found
}

// PreferredLeaders returns a PreferLeader for each partition of topics
// (all when none) whose preferred replica, its first, is live and in sync
// but does not lead: Kafka's preferred leader election, which moves
// leadership back after failovers piled it onto few nodes.
func PreferredLeaders(m *Metadata, live []int32, topics ...string) []Command {
	var out []Command
	for _, name := range m.TopicNames() {
		if len(topics) > 0 && !slices.Contains(topics, name) {
			continue
		}
		for i, p := range m.Topics[name].Partitions {
			if len(p.Replicas) == 0 {
				continue
			}
			first := p.Replicas[0]
			if p.Leader != first && slices.Contains(p.ISR, first) && slices.Contains(live, first) {
				out = append(out, Command{PreferLeader: &PreferLeader{Topic: name, Partition: int32(i),
					LeaderEpoch: p.LeaderEpoch}})
			}
		}
	}
	return out
}

// preferLeader makes a partition's first replica its leader, if it is in
// sync, at the next leader epoch.
func (m *Metadata) preferLeader(c *PreferLeader) error {
	p, err := m.partition(c.Topic, c.Partition)
	if err != nil {
		return err
	}
	if c.LeaderEpoch != p.LeaderEpoch || len(p.Replicas) == 0 || !slices.Contains(p.ISR, p.Replicas[0]) {
		return rejected("preferred leader of %s-%d at leader epoch %d: the partition is at %d, ISR %v",
			c.Topic, c.Partition, c.LeaderEpoch, p.LeaderEpoch, p.ISR)
	}
	if p.Leader != p.Replicas[0] {
		p.Leader = p.Replicas[0]
		p.LeaderEpoch++
	}
	return nil
}
