package controller

import (
	"maps"
	"slices"
)

// Metadata is the cluster's metadata. The zero value is an empty cluster.
type Metadata struct {
	Topics map[string]*Topic `json:"topics"`
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
}

// Clone returns a deep copy, which the caller may change.
func (m *Metadata) Clone() *Metadata {
	out := &Metadata{Topics: make(map[string]*Topic, len(m.Topics))}
	for name, t := range m.Topics {
		ct := *t
		ct.Configs = maps.Clone(t.Configs)
		ct.Partitions = make([]Partition, len(t.Partitions))
		for i, p := range t.Partitions {
			ct.Partitions[i] = Partition{Replicas: slices.Clone(p.Replicas), Leader: p.Leader,
				LeaderEpoch: p.LeaderEpoch, ISR: slices.Clone(p.ISR)}
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
