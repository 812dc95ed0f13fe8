package group

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A group's membership outlives its coordinator, as in Kafka: when a
// generation's assignment is complete, the coordinator hands the group's
// description to Config.Store (which writes it to __consumer_offsets)
// before any member learns its assignment. A coordinator that takes the
// group over — another node after a failover, or the same one after a
// restart — reads it back and calls Restore, and the members go on
// heartbeating in the same generation, without a rebalance.
//
// Stores of one group are written in the order their snapshots were
// taken; a snapshot older than one already written is dropped, so a slow
// write cannot bring back a membership that has since changed.

// pendingStore is a snapshot of a group's membership on its way to
// Config.Store.
type pendingStore struct {
	desc    Description
	version uint64 // orders the snapshots of a coordinator
}

// storeSlot orders the stores of one group.
type storeSlot struct {
	mu      sync.Mutex // held while storing
	newest  uint64     // the newest version stored or being stored; under mu
	waiting int        // snapshots taken and not yet stored; under Coordinator.mu
}

// assigning is a leader's assignment on its way to the store; the
// group turns Stable only once it is there.
type assigning struct {
	g           *group
	generation  int32
	assignments map[string][]byte
	store       pendingStore
}

// snapshotLocked takes a group's membership for Config.Store.
func (c *Coordinator) snapshotLocked(g *group) pendingStore {
	g.stored = true
	c.storeVersion++
	slot := c.stores[g.id]
	if slot == nil {
		slot = &storeSlot{}
		c.stores[g.id] = slot
	}
	slot.waiting++
	return pendingStore{desc: g.describe(), version: c.storeVersion}
}

// store writes a snapshot unless a newer one of the same group got there
// first. The write ends early when the coordinator closes.
func (c *Coordinator) store(ctx context.Context, p pendingStore) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.storeCtx, cancel)
	defer stop()
	c.mu.Lock()
	slot := c.stores[p.desc.Group]
	c.mu.Unlock()
	slot.mu.Lock()
	var err error
	if p.version > slot.newest {
		slot.newest = p.version
		err = c.cfg.Store(ctx, p.desc)
	}
	slot.mu.Unlock()
	c.mu.Lock()
	if slot.waiting--; slot.waiting == 0 {
		delete(c.stores, p.desc.Group)
	}
	c.mu.Unlock()
	return err
}

// storeLaterLocked stores a group's membership in the background, for a
// change no member waits on: the group emptied, or a static member took
// over its instance. A group never stored has nothing to overwrite.
func (c *Coordinator) storeLaterLocked(g *group) {
	if c.cfg.Store == nil || !g.stored {
		return
	}
	p := c.snapshotLocked(g)
	c.storing.Add(1)
	go func() {
		defer c.storing.Done()
		if err := c.store(context.Background(), p); err != nil && c.storeCtx.Err() == nil {
			c.cfg.Logger.Warn("could not store a group's membership", "group", p.desc.Group,
				"generation", p.desc.Generation, "err", err)
		}
	}()
}

// startAssigningLocked snapshots the group as the leader's assignment
// would make it, for the leader's Sync to store.
func (c *Coordinator) startAssigningLocked(g *group, assignments map[string][]byte) *assigning {
	p := c.snapshotLocked(g)
	p.desc.State = Stable
	for i := range p.desc.Members {
		p.desc.Members[i].Assignment = assignments[p.desc.Members[i].MemberID]
	}
	return &assigning{g: g, generation: g.generation, assignments: assignments, store: p}
}

// finishAssigning makes the group Stable once its assignment is stored.
// A failed store fails every waiting member with the store's error and
// starts another rebalance, as Kafka's coordinator does. A group that
// changed meanwhile has answered its members already.
func (c *Coordinator) finishAssigning(a *assigning, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := a.g
	if c.groups[g.id] != g || g.state != CompletingRebalance || g.generation != a.generation {
		return
	}
	if err != nil {
		c.cfg.Logger.Warn("could not store a group's assignment; rebalancing", "group", g.id,
			"generation", g.generation, "err", err)
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			for _, m := range g.members {
				if m.syncing != nil {
					m.syncing <- syncResult{err: err}
					m.syncing = nil
				}
			}
		}
		c.prepareRebalanceLocked(g, "storing the assignment failed")
		return
	}
	c.assignLocked(g, a.assignments)
}

// Restore installs a group's membership as Config.Store received it: the
// group is Stable in the stored generation, and every member's session
// starts now, so members that are gone expire and the rest go on. A
// description without members restores nothing. Call it before Owns
// accepts the group, so that no member of it joins anew first.
func (c *Coordinator) Restore(d Description) {
	if len(d.Members) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.groups[d.Group]; old != nil {
		c.dropLocked(old, ErrNotCoordinator)
	}
	g := &group{id: d.Group, state: Stable, generation: d.Generation, protocolType: d.ProtocolType,
		protocol: d.Protocol, leader: d.LeaderID, members: map[string]*member{}, instances: map[string]string{},
		pending: map[string]*time.Timer{}, stored: true}
	c.groups[d.Group] = g
	for _, md := range d.Members {
		c.seq++
		m := &member{id: md.MemberID, instanceID: md.InstanceID, clientID: md.ClientID, host: md.ClientHost,
			seq: c.seq, sessionTimeout: c.clampSession(md.SessionTimeout), rebalanceTimeout: md.RebalanceTimeout,
			protocols: []Protocol{{Name: d.Protocol, Metadata: md.Metadata}}, assignment: md.Assignment}
		if m.rebalanceTimeout <= 0 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		g.members[m.id] = m
		if m.instanceID != "" {
			g.instances[m.instanceID] = m.id
		}
		c.touchLocked(g, m)
	}
	c.cfg.Logger.Info("group restored", "group", g.id, "generation", g.generation, "members", len(g.members))
}

// clampSession keeps a stored session timeout within the configured
// bounds.
func (c *Coordinator) clampSession(d time.Duration) time.Duration {
	return min(max(d, c.cfg.MinSessionTimeout), c.cfg.MaxSessionTimeout)
}
