package group

// ownsLocked asks Config.Owns whether the coordinator serves a group.
func (c *Coordinator) ownsLocked(group string) error {
	if c.cfg.Owns == nil {
		return nil
	}
	return c.cfg.Owns(group)
}

// Evict forgets the groups match selects, as a node does when it stops
// leading their partition of __consumer_offsets: members waiting in a
// join or sync get ErrNotCoordinator, no timer of theirs fires after, and
// each member finds the group's new coordinator and joins there. Owns
// must already refuse the groups, or they could be joined again at once.
func (c *Coordinator) Evict(match func(group string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, g := range c.groups {
		if match(id) {
			c.dropLocked(g, ErrNotCoordinator)
			c.cfg.Logger.Info("group moved to another coordinator", "group", id, "members", len(g.members))
		}
	}
}

// dropLocked forgets a group: its timers stop and its waiting members get
// err.
func (c *Coordinator) dropLocked(g *group, err error) {
	g.stopTimers()
	for _, m := range g.members {
		c.failWaitsLocked(m, err)
	}
	delete(c.groups, g.id)
}
