package controller

import (
	"maps"
	"slices"
)

// OnRestarts returns the commands that register live nodes whose process
// started anew (an incarnation the metadata does not hold), each preceded
// by what a restart calls for, as KRaft does for a broker that registers
// again: every partition the node led gets a new leader epoch, with
// another live in-sync replica leading when there is one; and the node
// leaves the ISR of the partitions it followed, to rejoin when it has
// caught up with their leaders. So no leader epoch ever spans two lives of
// a process, and a follower's log is trusted again only once its leader
// has checked it. A node registering for the first time only registers:
// it has acted on nothing before. live maps each live node to its
// incarnation.
func OnRestarts(m *Metadata, live map[int32]uint64) []Command {
	var out []Command
	next := m // each command is decided on the metadata the ones before it make
	add := func(c Command) {
		if next == m {
			next = m.Clone()
		}
		if next.Apply(c) == nil {
			out = append(out, c)
		}
	}
	liveIDs := slices.Sorted(maps.Keys(live))
	for _, id := range liveIDs {
		registered, ok := m.Nodes[id]
		if ok && registered == live[id] {
			continue
		}
		for _, name := range m.TopicNames() {
			if !ok {
				break // a node's first registration: no earlier life of it acted on anything
			}
			for i := range m.Topics[name].Partitions {
				if cmd, ok := afterRestart(name, int32(i), next.Topics[name].Partitions[i], id, liveIDs); ok {
					add(cmd)
				}
			}
		}
		add(Command{RegisterNode: &RegisterNode{Node: id, Incarnation: live[id]}})
	}
	return out
}

// afterRestart returns the change a restart of node makes to one
// partition, if any.
func afterRestart(topic string, index int32, p Partition, node int32, live []int32) (Command, bool) {
	rest := slices.DeleteFunc(slices.Clone(p.ISR), func(id int32) bool { return id == node })
	switch {
	case p.Leader == node:
		if others := filter(rest, live); len(others) > 0 {
			return Command{ChangeLeader: &ChangeLeader{Topic: topic, Partition: index,
				Leader: preferred(p.Replicas, others), ISR: rest}}, true
		}
		// The only in-sync replica alive: it leads again, at a new epoch.
		return Command{ChangeLeader: &ChangeLeader{Topic: topic, Partition: index, Leader: node, ISR: p.ISR}}, true
	case p.Leader >= 0 && len(rest) < len(p.ISR) && slices.Contains(rest, p.Leader):
		return Command{ChangeISR: &ChangeISR{Topic: topic, Partition: index, LeaderEpoch: p.LeaderEpoch, ISR: rest}}, true
	}
	return Command{}, false
}
