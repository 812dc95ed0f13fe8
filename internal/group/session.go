package group

import (
	"context"
	"time"
)

// Sync ends a member's part in a rebalance. The leader sends the
// assignment of every member; each member, the leader included, waits for
// the leader's and receives its own. A member of a stable group receives
// its assignment at once. Errors: ErrUnknownMemberID, ErrFencedInstanceID,
// ErrIllegalGeneration, ErrRebalanceInProgress (rejoin), ErrClosed, or
// ctx's error.
func (c *Coordinator) Sync(ctx context.Context, req SyncRequest) ([]byte, error) {
	wait, assignment, assigned, err := c.sync(req)
	if wait == nil {
		return assignment, err
	}
	if assigned != nil { // the leader's: store it, then answer every member
		c.finishAssigning(assigned, c.store(ctx, assigned.store))
	}
	select {
	case r := <-wait:
		return r.assignment, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, ErrClosed
	}
}

// sync registers a member's sync and returns the channel its answer will
// come on, or the answer now. The leader's sync also returns its
// assignment when Config.Store must take it first.
func (c *Coordinator) sync(req SyncRequest) (<-chan syncResult, []byte, *assigning, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, m, err := c.memberLocked(req.Group, req.MemberID, req.InstanceID)
	if err != nil {
		return nil, nil, nil, err
	}
	if req.Generation != g.generation {
		return nil, nil, nil, ErrIllegalGeneration
	}
	switch g.state {
	case Stable:
		c.touchLocked(g, m)
		return nil, m.assignment, nil, nil
	case CompletingRebalance:
	default:
		return nil, nil, nil, ErrRebalanceInProgress
	}
	c.failWaitsLocked(m, ErrRebalanceInProgress) // a sync superseding one still waiting
	wait := make(chan syncResult, 1)
	m.syncing = wait
	m.stopSession()
	if m.id != g.leader {
		return wait, nil, nil, nil
	}
	if c.cfg.Store != nil {
		return wait, nil, c.startAssigningLocked(g, req.Assignments), nil
	}
	c.assignLocked(g, req.Assignments)
	return wait, nil, nil, nil
}

// assignLocked gives every member its part of the leader's assignment and
// makes the group Stable.
func (c *Coordinator) assignLocked(g *group, assignments map[string][]byte) {
	for id, member := range g.members {
		member.assignment = assignments[id]
	}
	g.state = Stable
	c.cfg.Logger.Debug("group stable", "group", g.id, "generation", g.generation)
	for _, member := range g.members {
		if member.syncing != nil {
			member.syncing <- syncResult{assignment: member.assignment}
			member.syncing = nil
			c.touchLocked(g, member)
		}
	}
}

// Heartbeat keeps a member's session alive. It returns
// ErrRebalanceInProgress when the member must rejoin, and
// ErrUnknownMemberID, ErrFencedInstanceID or ErrIllegalGeneration when it
// is no longer the member it thinks it is.
func (c *Coordinator) Heartbeat(group string, id Identity) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, m, err := c.memberLocked(group, id.MemberID, id.InstanceID)
	if err != nil {
		return err
	}
	if g.state == PreparingRebalance {
		c.touchLocked(g, m)
		return ErrRebalanceInProgress
	}
	if id.Generation != g.generation {
		return ErrIllegalGeneration
	}
	c.touchLocked(g, m)
	return nil
}

// Leave removes a member, which starts a rebalance of the members left. A
// static member may be named by its instance ID alone.
func (c *Coordinator) Leave(group string, id Identity) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, m, err := c.memberLocked(group, id.MemberID, id.InstanceID)
	if err != nil {
		return err
	}
	c.cfg.Logger.Info("group member left", "group", g.id, "member", m.id, "instance", m.instanceID)
	c.removeLocked(g, m)
	c.membersChangedLocked(g, "member "+m.id+" left")
	return nil
}

// ValidateCommit checks that a member may commit offsets for a group, as
// Kafka's OffsetCommit does. A commit without a member (generation -1) is
// allowed while the group has no members: a consumer that assigns itself
// partitions and only stores offsets. A commit counts as a heartbeat.
func (c *Coordinator) ValidateCommit(group string, id Identity) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ownsLocked(group); err != nil {
		return err
	}
	if id.Generation < 0 && id.MemberID == "" && id.InstanceID == "" {
		if g := c.groups[group]; g != nil && len(g.members) > 0 {
			return ErrUnknownMemberID
		}
		return nil
	}
	g, m, err := c.memberLocked(group, id.MemberID, id.InstanceID)
	if err != nil {
		return err
	}
	if id.Generation != g.generation {
		return ErrIllegalGeneration
	}
	if g.state == CompletingRebalance {
		return ErrRebalanceInProgress
	}
	c.touchLocked(g, m)
	return nil
}

// memberLocked finds a member by its member ID, or a static member by its
// instance ID when the member ID is empty.
func (c *Coordinator) memberLocked(group, memberID, instanceID string) (*group, *member, error) {
	if err := c.ownsLocked(group); err != nil {
		return nil, nil, err
	}
	g := c.groups[group]
	if g == nil {
		return nil, nil, ErrUnknownMemberID
	}
	if instanceID != "" {
		current, ok := g.instances[instanceID]
		switch {
		case !ok:
			return nil, nil, ErrUnknownMemberID
		case memberID == "":
			memberID = current
		case memberID != current:
			return nil, nil, ErrFencedInstanceID
		}
	}
	m := g.members[memberID]
	if m == nil {
		return nil, nil, ErrUnknownMemberID
	}
	return g, m, nil
}

// touchLocked restarts a member's session timer. A member waiting for a
// join or sync response is alive without it.
func (c *Coordinator) touchLocked(g *group, m *member) {
	m.stopSession()
	if m.joining != nil || m.syncing != nil {
		return
	}
	m.sessionGeneration++
	generation := m.sessionGeneration
	m.session = time.AfterFunc(m.sessionTimeout, func() { c.expire(g, m, generation) })
}

func (m *member) stopSession() {
	if m.session != nil {
		m.session.Stop()
		m.session = nil
	}
}

// expire removes a member whose session timed out.
func (c *Coordinator) expire(g *group, m *member, generation uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups[g.id] != g || g.members[m.id] != m || m.sessionGeneration != generation || m.session == nil {
		return // reset, removed or waiting meanwhile
	}
	c.cfg.Logger.Info("group member session expired", "group", g.id, "member", m.id,
		"instance", m.instanceID, "session_timeout", m.sessionTimeout)
	c.removeLocked(g, m)
	c.membersChangedLocked(g, "member "+m.id+" session expired")
}

// expirePending forgets a member ID handed out by ErrMemberIDRequired
// that was never used.
func (c *Coordinator) expirePending(g *group, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups[g.id] != g {
		return // the group was forgotten and made anew meanwhile
	}
	delete(g.pending, id)
	c.forgetIfDeadLocked(g)
}

func (c *Coordinator) removeLocked(g *group, m *member) {
	m.stopSession()
	c.failWaitsLocked(m, ErrUnknownMemberID)
	delete(g.members, m.id)
	if m.instanceID != "" && g.instances[m.instanceID] == m.id {
		delete(g.instances, m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
	}
}

// membersChangedLocked reacts to a member leaving: the others rebalance.
func (c *Coordinator) membersChangedLocked(g *group, reason string) {
	switch g.state {
	case Stable, CompletingRebalance:
		c.prepareRebalanceLocked(g, reason)
	}
	c.maybeCompleteJoinLocked(g)
}

// failWaitsLocked answers a member's waiting join or sync with err.
func (c *Coordinator) failWaitsLocked(m *member, err error) {
	if m.joining != nil {
		m.joining <- joinResult{err: err}
		m.joining = nil
	}
	if m.syncing != nil {
		m.syncing <- syncResult{err: err}
		m.syncing = nil
	}
}

// forgetIfDeadLocked drops a group with no members and nothing pending:
// Kafka's Dead state. Its committed offsets are the caller's and stay.
func (c *Coordinator) forgetIfDeadLocked(g *group) {
	if len(g.members) == 0 && len(g.pending) == 0 && g.state != PreparingRebalance {
		if g.joinTimer != nil {
			g.joinTimer.Stop()
		}
		delete(c.groups, g.id)
	}
}

// Done returns a channel closed by Close.
func (c *Coordinator) Done() <-chan struct{} { return c.closed }

// Close ends every group: waiting calls return ErrClosed, stores under way
// end, and no timer fires after it returns. A second Close does nothing.
func (c *Coordinator) Close() {
	c.mu.Lock()
	select {
	case <-c.closed:
		c.mu.Unlock()
		return
	default:
	}
	close(c.closed)
	c.stopStores()
	for _, g := range c.groups {
		g.stopTimers()
	}
	c.groups = map[string]*group{}
	c.mu.Unlock()
	c.storing.Wait()
}

// stopTimers stops a group's timers: none of them fires after.
func (g *group) stopTimers() {
	if g.joinTimer != nil {
		g.joinTimer.Stop()
	}
	for _, t := range g.pending {
		t.Stop()
	}
	for _, m := range g.members {
		m.stopSession()
	}
}
