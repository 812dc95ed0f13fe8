package controller

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// ErrNotEnoughNodes is returned when a replication factor exceeds the live
// nodes.
var ErrNotEnoughNodes = errors.New("controller: replication factor exceeds the live nodes")

// Node is a live node as placement sees it.
type Node struct {
	ID   int32
	Rack string
}

// Place chooses replicas for partitions new partitions, replicationFactor
// each, over the live nodes: a partition's replicas sit on as many racks
// as there are, and leaders (first replicas) rotate over the nodes,
// starting at start so topics do not all lead on one node.
func Place(nodes []Node, partitions, replicationFactor, start int) ([][]int32, error) {
	if replicationFactor < 1 || replicationFactor > len(nodes) {
		return nil, fmt.Errorf("%w: %d replicas over %d nodes", ErrNotEnoughNodes, replicationFactor, len(nodes))
	}
	rack := map[int32]string{}
	for _, n := range nodes {
		rack[n.ID] = n.Rack
	}
	ring := rackAlternating(nodes)
	out := make([][]int32, partitions)
	for p := range out {
		first := (start + p) % len(ring)
		replicas := []int32{ring[first]}
		usedRacks := map[string]bool{rack[ring[first]]: true}
		for _, sameRackOK := range []bool{false, true} { // first new racks, then any node
			for k := 1; k < len(ring) && len(replicas) < replicationFactor; k++ {
				id := ring[(first+k)%len(ring)]
				if slices.Contains(replicas, id) || (!sameRackOK && usedRacks[rack[id]]) {
					continue
				}
				replicas = append(replicas, id)
				usedRacks[rack[id]] = true
			}
		}
		out[p] = replicas
	}
	return out, nil
}

// rackAlternating orders nodes so that neighbours are on different racks
// as long as racks last: the first node of each rack, then the second of
// each, and so on (Kafka's rack-alternated broker list).
func rackAlternating(nodes []Node) []int32 {
	byRack := map[string][]int32{}
	for _, n := range nodes {
		byRack[n.Rack] = append(byRack[n.Rack], n.ID)
	}
	racks := make([]string, 0, len(byRack))
	for r, ids := range byRack {
		racks = append(racks, r)
		slices.Sort(ids)
	}
	slices.Sort(racks)
	var out []int32
	for i := 0; len(out) < len(nodes); i++ {
		for _, r := range racks {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out
}

// OnNodesChanged returns the commands that follow from the live nodes:
// a partition whose leader is gone gets the first live replica of its ISR
// as leader (or none, -1, when no in-sync replica lives, unless the topic
// enables unclean election: then the first live replica, alone in its
// ISR); a partition without a leader gets one as soon as an in-sync
// replica returns; dead nodes leave the ISR of partitions whose leader
// lives. Partitions are visited in a fixed order, so every controller
// proposes the same commands.
func OnNodesChanged(m *Metadata, live []int32) []Command {
	var out []Command
	for _, name := range m.TopicNames() {
		for i, p := range m.Topics[name].Partitions {
			index := int32(i)
			alive := filter(p.ISR, live)
			switch {
			case p.Leader != -1 && slices.Contains(live, p.Leader):
				if len(alive) < len(p.ISR) {
					out = append(out, Command{ChangeISR: &ChangeISR{Topic: name, Partition: index,
						LeaderEpoch: p.LeaderEpoch, ISR: alive}})
				}
			case len(alive) > 0:
				leader := preferred(p.Replicas, alive)
				out = append(out, Command{ChangeLeader: &ChangeLeader{Topic: name, Partition: index,
					Leader: leader, ISR: alive}})
			case unclean(m.Topics[name]) && len(filter(p.Replicas, live)) > 0:
				// No in-sync replica lives, and the topic prefers a leader to
				// its records: a live replica leads, alone in the ISR, and
				// what only the others had is lost.
				leader := preferred(p.Replicas, filter(p.Replicas, live))
				out = append(out, Command{ChangeLeader: &ChangeLeader{Topic: name, Partition: index,
					Leader: leader, ISR: []int32{leader}}})
			case p.Leader != -1: // no in-sync replica lives: no leader, keep the ISR to elect from later
				out = append(out, Command{ChangeLeader: &ChangeLeader{Topic: name, Partition: index,
					Leader: -1, ISR: p.ISR}})
			}
		}
	}
	return out
}

// UncleanElectionConfig is the topic config (Kafka's name) that lets an
// out-of-sync replica lead when no in-sync one lives.
const UncleanElectionConfig = "unclean.leader.election.enable"

func unclean(t *Topic) bool { return t.Configs[UncleanElectionConfig] == "true" }

// filter returns the IDs of ids that are in keep, in ids' order.
func filter(ids, keep []int32) []int32 {
	out := []int32{}
	for _, id := range ids {
		if slices.Contains(keep, id) {
			out = append(out, id)
		}
	}
	return out
}

// preferred returns the first replica, in preference order, among
// candidates.
func preferred(replicas, candidates []int32) int32 {
	for _, r := range replicas {
		if slices.Contains(candidates, r) {
			return r
		}
	}
	return slices.MinFunc(candidates, cmp.Compare[int32])
}
