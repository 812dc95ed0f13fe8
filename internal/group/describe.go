package group

import (
	"sort"
	"time"
)

// Description is a group's membership at one moment.
type Description struct {
	Group        string
	State        State
	ProtocolType string
	Protocol     string
	Generation   int32
	LeaderID     string
	Members      []MemberDescription // oldest first
}

// MemberDescription is one member as DescribeGroups reports it.
type MemberDescription struct {
	MemberID   string
	InstanceID string
	ClientID   string
	ClientHost string
	Metadata   []byte // for the group's protocol
	Assignment []byte // from the last SyncGroup
	// SessionTimeout and RebalanceTimeout are the member's, from its
	// last join.
	SessionTimeout, RebalanceTimeout time.Duration
}

// Describe returns a group's membership; a group with no members is
// Dead, as Kafka reports a group it does not hold.
func (c *Coordinator) Describe(group string) Description {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[group]
	if g == nil || len(g.members) == 0 {
		return Description{Group: group, State: Dead}
	}
	return g.describe()
}

func (g *group) describe() Description {
	d := Description{Group: g.id, State: g.state, ProtocolType: g.protocolType, Protocol: g.protocol,
		Generation: g.generation, LeaderID: g.leader}
	for _, m := range g.membersByAge() {
		d.Members = append(d.Members, MemberDescription{MemberID: m.id, InstanceID: m.instanceID,
			ClientID: m.clientID, ClientHost: m.host, Metadata: m.metadata(g.protocol), Assignment: m.assignment,
			SessionTimeout: m.sessionTimeout, RebalanceTimeout: m.rebalanceTimeout})
	}
	return d
}

// Groups returns the IDs of the groups with members, sorted.
func (c *Coordinator) Groups() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id, g := range c.groups {
		if len(g.members) > 0 {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// CheckDeletable returns ErrNonEmptyGroup if a group has members: only an
// empty group's offsets may be deleted. It asks Config.Owns first.
func (c *Coordinator) CheckDeletable(group string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ownsLocked(group); err != nil {
		return err
	}
	if g := c.groups[group]; g != nil && len(g.members) > 0 {
		return ErrNonEmptyGroup
	}
	return nil
}
