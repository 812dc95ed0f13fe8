package controller

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrRejected marks a command the metadata refuses; applying it changed
// nothing. Every node refuses the same commands, so they stay in step.
var ErrRejected = errors.New("controller: command rejected")

// Apply applies one command, or rejects it (ErrRejected) and changes
// nothing. It is deterministic: the same commands in the same order give
// the same metadata on every node.
func (m *Metadata) Apply(c Command) error {
	if m.Topics == nil {
		m.Topics = map[string]*Topic{}
	}
	switch {
	case c.CreateTopic != nil:
		return m.createTopic(c.CreateTopic)
	case c.DeleteTopic != nil:
		t := m.Topics[c.DeleteTopic.Name]
		if t == nil {
			return rejected("delete unknown topic %q", c.DeleteTopic.Name)
		}
		delete(m.Topics, c.DeleteTopic.Name)
		m.Deleted = append(slices.Clip(m.Deleted), DeletedTopic{Name: t.Name, ID: t.ID}) // a copy: clones share the old
		if over := len(m.Deleted) - maxDeleted; over > 0 {
			m.Deleted = slices.Delete(m.Deleted, 0, over)
		}
		return nil
	case c.CreatePartitions != nil:
		return m.createPartitions(c.CreatePartitions)
	case c.AlterConfigs != nil:
		t := m.Topics[c.AlterConfigs.Name]
		if t == nil {
			return rejected("alter unknown topic %q", c.AlterConfigs.Name)
		}
		t.Configs = maps.Clone(c.AlterConfigs.Configs)
		return nil
	case c.ChangeLeader != nil:
		return m.changeLeader(c.ChangeLeader)
	case c.ChangeISR != nil:
		return m.changeISR(c.ChangeISR)
	case c.Reassign != nil:
		return m.reassign(c.Reassign)
	case c.FinishReassign != nil:
		return m.finishReassign(c.FinishReassign)
	case c.PreferLeader != nil:
		return m.preferLeader(c.PreferLeader)
	case c.SeedScram != nil:
		return m.seedScram(c.SeedScram)
	case c.AlterScram != nil:
		return m.alterScram(c.AlterScram)
	case c.CreateACLs != nil:
		return m.createACLs(c.CreateACLs)
	case c.DeleteACLs != nil:
		return m.deleteACLs(c.DeleteACLs)
	case c.RegisterNode != nil:
		if c.RegisterNode.Node < 0 {
			return rejected("register node %d", c.RegisterNode.Node)
		}
		if m.Nodes == nil {
			m.Nodes = map[int32]uint64{}
		}
		m.Nodes[c.RegisterNode.Node] = c.RegisterNode.Incarnation
		return nil
	}
	return rejected("empty command")
}

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRejected}, args...)...)
}

func (m *Metadata) createTopic(c *CreateTopic) error {
	if c.Name == "" || m.Topics[c.Name] != nil {
		return rejected("create topic %q: empty or exists", c.Name)
	}
	if len(c.Replicas) == 0 {
		return rejected("create topic %q without partitions", c.Name)
	}
	partitions, err := newPartitions(c.Replicas, len(c.Replicas[0]))
	if err != nil {
		return rejected("create topic %q: %v", c.Name, err)
	}
	m.Topics[c.Name] = &Topic{Name: c.Name, ID: c.ID, Configs: maps.Clone(c.Configs), Partitions: partitions}
	return nil
}

func (m *Metadata) createPartitions(c *CreatePartitions) error {
	t := m.Topics[c.Name]
	if t == nil || len(c.Replicas) == 0 {
		return rejected("add partitions to %q: unknown topic or none to add", c.Name)
	}
	partitions, err := newPartitions(c.Replicas, len(t.Partitions[0].Replicas))
	if err != nil {
		return rejected("add partitions to %q: %v", c.Name, err)
	}
	t.Partitions = append(t.Partitions, partitions...)
	return nil
}

// newPartitions checks replica lists — each of replicationFactor distinct
// node IDs — and starts each partition led by its first replica.
func newPartitions(replicas [][]int32, replicationFactor int) ([]Partition, error) {
	out := make([]Partition, len(replicas))
	for i, r := range replicas {
		if len(r) != replicationFactor || replicationFactor == 0 {
			return nil, fmt.Errorf("partition %d has %d replicas; want %d", i, len(r), replicationFactor)
		}
		if err := checkNodes(r); err != nil {
			return nil, fmt.Errorf("partition %d: %v", i, err)
		}
		out[i] = Partition{Replicas: slices.Clone(r), Leader: r[0], ISR: slices.Clone(r)}
	}
	return out, nil
}

func checkNodes(ids []int32) error {
	for i, id := range ids {
		if id < 0 || slices.Contains(ids[:i], id) {
			return fmt.Errorf("node list %v has a negative or repeated ID", ids)
		}
	}
	return nil
}

func (m *Metadata) partition(topic string, index int32) (*Partition, error) {
	t := m.Topics[topic]
	if t == nil || index < 0 || int(index) >= len(t.Partitions) {
		return nil, rejected("unknown partition %s-%d", topic, index)
	}
	return &t.Partitions[index], nil
}

func (m *Metadata) changeLeader(c *ChangeLeader) error {
	p, err := m.partition(c.Topic, c.Partition)
	if err != nil {
		return err
	}
	if err := checkNodes(c.ISR); err != nil || !subset(c.ISR, p.Replicas) {
		return rejected("ISR %v of %s-%d is not a set of its replicas %v", c.ISR, c.Topic, c.Partition, p.Replicas)
	}
	if c.Leader != -1 && !slices.Contains(c.ISR, c.Leader) {
		return rejected("leader %d of %s-%d is not in the ISR %v", c.Leader, c.Topic, c.Partition, c.ISR)
	}
	p.Leader, p.ISR = c.Leader, slices.Clone(c.ISR)
	p.LeaderEpoch++
	return nil
}

func (m *Metadata) changeISR(c *ChangeISR) error {
	p, err := m.partition(c.Topic, c.Partition)
	if err != nil {
		return err
	}
	if c.LeaderEpoch != p.LeaderEpoch {
		return rejected("ISR change of %s-%d at leader epoch %d; the partition is at %d",
			c.Topic, c.Partition, c.LeaderEpoch, p.LeaderEpoch)
	}
	if err := checkNodes(c.ISR); err != nil || !subset(c.ISR, p.Replicas) || !slices.Contains(c.ISR, p.Leader) {
		return rejected("ISR %v of %s-%d must be replicas %v including the leader %d",
			c.ISR, c.Topic, c.Partition, p.Replicas, p.Leader)
	}
	p.ISR = slices.Clone(c.ISR)
	return nil
}

func subset(a, b []int32) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
