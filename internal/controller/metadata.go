package controller

import (
	"maps"
	"slices"
)

// Metadata is the cluster's metadata. The zero value is an empty cluster.
type Metadata struct {
	Topics map[string]*Topic `json:"topics"`
	// Deleted names the topics deleted most recently, by ID, oldest first,
	// at most maxDeleted: a node deletes a local topic's data only when its
	// ID is here, never because a topic is missing from the metadata.
	Deleted []DeletedTopic `json:"deleted,omitempty"`
	// Nodes is each registered node's incarnation (RegisterNode).
	Nodes map[int32]uint64 `json:"nodes,omitempty"`
	// Scram is the cluster's SCRAM credentials (scram.go); nil for none.
	Scram *Scram `json:"scram,omitempty"`
	// ACLs is the cluster's ACL bindings (acls.go); nil for none.
	ACLs *ACLs `json:"acls,omitempty"`
}

// DeletedTopic is a topic a committed DeleteTopic removed.
type DeletedTopic struct {
	Name string   `json:"name"`
	ID   [16]byte `json:"id"`
}

// maxDeleted bounds Metadata.Deleted. A node that was away for more
// deletions than this sets the older ones' data aside rather than delete
// it: the safe way to be wrong.
const maxDeleted = 1024

// WasDeleted reports whether a committed deletion names the topic ID.
func (m *Metadata) WasDeleted(id [16]byte) bool {
	return slices.ContainsFunc(m.Deleted, func(d DeletedTopic) bool { return d.ID == id })
}

// Topic is one topic's metadata.
type Topic struct {
	Name       string            `json:"name"`
	ID         [16]byte          `json:"id"`
	Configs    map[string]string `json:"configs,omitempty"`
	Partitions []Partition       `json:"partitions"`
}

// Partition is one partition's replicas and leadership.
type Partition struct {
	Replicas []int32 `json:"replicas"` // node IDs; the first is the preferred leader
	Leader   int32   `json:"leader"`   // -1: no leader (every replica in the ISR is down)
	// LeaderEpoch counts leader changes (KIP-101); a follower truncates
	// by it, and an ISR change names it so a stale leader's is refused.
	LeaderEpoch int32   `json:"leaderEpoch"`
	ISR         []int32 `json:"isr"`
	// Adding and Removing are a reassignment under way (KIP-455): Replicas
	// holds the old replicas and the new, the new ones copy the log, and
	// once they are all in sync the old ones not wanted leave.
	Adding   []int32 `json:"adding,omitempty"`
	Removing []int32 `json:"removing,omitempty"`
}

// Target returns the replicas a partition will have once its
// reassignment completes: Replicas without Removing.
func (p Partition) Target() []int32 {
	var out []int32
	for _, r := range p.Replicas {
		if !slices.Contains(p.Removing, r) {
			out = append(out, r)
		}
	}
	return out
}

// Reassigning reports whether a reassignment of the partition is under way.
func (p Partition) Reassigning() bool { return len(p.Adding) > 0 || len(p.Removing) > 0 }

// Clone returns a deep copy, which the caller may change.
func (m *Metadata) Clone() *Metadata {
	out := &Metadata{Topics: make(map[string]*Topic, len(m.Topics)), Deleted: m.Deleted, // shared: a deletion copies it (apply.go)
		Nodes: maps.Clone(m.Nodes), Scram: m.Scram, ACLs: m.ACLs} // Scram and ACLs are replaced whole, never changed
	for name, t := range m.Topics {
		ct := *t
		ct.Configs = maps.Clone(t.Configs)
		ct.Partitions = make([]Partition, len(t.Partitions))
		for i, p := range t.Partitions {
			ct.Partitions[i] = Partition{Replicas: slices.Clone(p.Replicas), Leader: p.Leader,
				LeaderEpoch: p.LeaderEpoch, ISR: slices.Clone(p.ISR), Adding: slices.Clone(p.Adding),
				Removing: slices.Clone(p.Removing)}
		}
		out.Topics[name] = &ct
	}
	return out
}

// TopicNames returns the topics' names, sorted.
func (m *Metadata) TopicNames() []string {
	names := make([]string, 0, len(m.Topics))
	for n := range m.Topics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
