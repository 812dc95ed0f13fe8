// A subscribed consumer's membership of its group: join, sync, heartbeat,
// leave.

package creek

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/creekmq/creek/internal/group"
)

// groupMember runs a subscribed consumer's membership of its group: it
// joins, syncs and heartbeats on its own goroutine, as Kafka's clients do,
// and hands every change of assignment to Poll as a rebalanceStep. So the
// callbacks, and the commits of partitions given up, run on the goroutine
// that processes records, and a partition is given up only once the records
// Poll returned from it count as processed.
type groupMember struct {
	c           *Consumer
	coord       *groupClient
	cooperative bool // every assignor follows KIP-429

	mu         sync.Mutex // guards the identity, read by commits
	memberID   string
	generation int32

	// The fields below belong to the member's goroutine.
	owned      []TopicPartition // assigned and not given up
	previous   []TopicPartition // eager: owned before the last revocation
	rejoinNow  bool             // a cooperative revocation asks for a second rebalance
	metadata   <-chan struct{}  // closed when topics change after the join
	subscribed map[string]int32 // partition counts of the subscribed topics at the join

	rejoin chan struct{} // Subscribe asks for a rejoin
	cancel context.CancelFunc
	done   chan struct{}
}

func startGroupMember(c *Consumer) *groupMember {
	ctx, cancel := context.WithCancel(context.Background())
	m := &groupMember{c: c, coord: newGroupClient(c.node, c.cfg.Group, c.cfg.ClientID, c.as), cooperative: allCooperative(c.cfg.Assignors), generation: -1,
		rejoin: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m
}

// leaveTimeout bounds a LeaveGroup sent as a consumer closes.
const leaveTimeout = 5 * time.Second

// coordinatorRetryBackoff is how long a member waits before looking for a
// coordinator that moved or is loading.
const coordinatorRetryBackoff = 100 * time.Millisecond

// movedCoordinator reports whether err says to find the group's
// coordinator again.
func movedCoordinator(err error) bool {
	return errors.Is(err, ErrNotCoordinator) || errors.Is(err, ErrCoordinatorNotAvailable) ||
		errors.Is(err, ErrCoordinatorLoading)
}

// whileCoordinatorMoves runs op until it succeeds or fails with an error
// other than one saying the coordinator moved or is loading (or also),
// looking again every coordinatorRetryBackoff, as a Kafka client retries
// these, until ctx ends: a group's or a transactional ID's coordinator.
func whileCoordinatorMoves(ctx context.Context, also error, op func() error) error {
	for {
		err := op()
		if err == nil || !movedCoordinator(err) && (also == nil || !errors.Is(err, also)) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%w)", err, ctx.Err())
		case <-time.After(coordinatorRetryBackoff):
		}
	}
}

func allCooperative(assignors []Assignor) bool {
	for _, a := range assignors {
		if !a.Cooperative() {
			return false
		}
	}
	return true
}

// identity names the member in commits and heartbeats.
func (m *groupMember) identity() group.Identity {
	m.mu.Lock()
	defer m.mu.Unlock()
	return group.Identity{MemberID: m.memberID, InstanceID: m.c.cfg.InstanceID, Generation: m.generation}
}

func (m *groupMember) setIdentity(memberID string, generation int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.memberID, m.generation = memberID, generation
}

// askRejoin makes the member rejoin, as a changed subscription needs.
func (m *groupMember) askRejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// stop ends the member's goroutine without leaving the group.
func (m *groupMember) stop() {
	m.cancel()
	<-m.done
	m.coord.close()
}

// leave tells the coordinator the member is gone, so the others rebalance
// at once instead of after its session timeout. A static member does not
// leave: a restart within the session timeout keeps its partitions.
func (m *groupMember) leave(ctx context.Context) {
	id := m.identity()
	if id.InstanceID != "" || id.MemberID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, leaveTimeout)
	defer cancel()
	if err := m.coord.leave(ctx, id); err != nil {
		m.c.node.log.Debug("leave group", "group", m.c.cfg.Group, "member", id.MemberID, "err", err)
	}
}

func (m *groupMember) run(ctx context.Context) {
	defer close(m.done)
	for ctx.Err() == nil {
		err := m.joinAndSync(ctx)
		if err == nil && !m.rejoinNow {
			err = m.heartbeatUntilRejoin(ctx)
		}
		m.rejoinNow = false
		if err != nil && ctx.Err() == nil && !m.recover(ctx, err) {
			m.c.node.log.Error("consumer left its group", "group", m.c.cfg.Group, "err", err)
			m.c.fail(err)
			return
		}
	}
}

// recover reacts to an error of the protocol and reports whether the
// member can rejoin.
func (m *groupMember) recover(ctx context.Context, err error) bool {
	switch {
	case errors.Is(err, ErrRebalanceInProgress):
		return true
	case movedCoordinator(err):
		// The coordinator moved, or its node is loading the group: look
		// again shortly, as the same member.
		m.c.node.log.Debug("group coordinator unavailable; looking again", "group", m.c.cfg.Group, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(coordinatorRetryBackoff):
		}
		return true
	case errors.Is(err, ErrUnknownMemberID), errors.Is(err, ErrIllegalGeneration):
		// A rebalance went on without this member: its partitions may be
		// someone else's already, so they are lost, not revoked.
		m.c.node.log.Info("consumer fell out of its group; rejoining", "group", m.c.cfg.Group, "err", err)
		if len(m.owned) > 0 {
			m.c.post(stepLose, m.owned)
		}
		m.owned, m.previous = nil, nil
		if errors.Is(err, ErrUnknownMemberID) {
			m.setIdentity("", -1)
		}
		return true
	}
	return false
}

// joinAndSync takes the member through one rebalance.
func (m *groupMember) joinAndSync(ctx context.Context) error {
	if !m.cooperative && len(m.owned) > 0 {
		m.previous = m.owned
		if err := m.handOff(ctx, stepRevoke, m.owned); err != nil {
			return err
		}
		m.owned = nil
	}
	m.metadata = m.c.node.watchMetadata() // before reading topics: no change goes unseen
	m.subscribed = m.c.subscribedTopics()
	id := m.identity()
	owned := m.owned
	if !m.cooperative {
		owned = m.previous
	}
	sub := GroupSubscription{Topics: slices.Sorted(maps.Keys(m.subscribed)), Owned: owned, Generation: id.Generation}
	protocols := make([]group.Protocol, len(m.c.cfg.Assignors))
	for i, a := range m.c.cfg.Assignors {
		protocols[i] = group.Protocol{Name: a.Name(), Metadata: encodeSubscription(sub, a)}
	}
	resp, err := m.coord.join(ctx, group.JoinRequest{Group: m.c.cfg.Group, MemberID: id.MemberID,
		InstanceID: id.InstanceID, ClientID: m.c.cfg.ClientID, ClientHost: "in-process",
		SessionTimeout: m.c.cfg.SessionTimeout, RebalanceTimeout: m.c.cfg.RebalanceTimeout,
		ProtocolType: consumerProtocolType, Protocols: protocols})
	if err != nil {
		return err
	}
	m.setIdentity(resp.MemberID, resp.Generation)
	var assignments map[string][]byte
	if resp.LeaderID == resp.MemberID && len(resp.Members) > 0 {
		if assignments, err = m.assign(resp); err != nil {
			return err
		}
	}
	data, err := m.coord.sync(ctx, group.SyncRequest{Group: m.c.cfg.Group, Generation: resp.Generation,
		MemberID: resp.MemberID, InstanceID: id.InstanceID, Assignments: assignments}, m.c.cfg.RebalanceTimeout)
	if err != nil {
		return err
	}
	assigned, err := decodeAssignment(data)
	if err != nil {
		return err
	}
	return m.apply(ctx, assigned)
}

// apply hands a new assignment to Poll: for a cooperative member, the
// partitions it gives up (then it rejoins, so they can move) and those it
// gains; for an eager one, all of them.
func (m *groupMember) apply(ctx context.Context, assigned []TopicPartition) error {
	if !m.cooperative {
		m.owned = assigned
		m.c.post(stepAssign, assigned)
		return nil
	}
	revoked, added := without(m.owned, assigned), without(assigned, m.owned)
	if len(revoked) > 0 {
		if err := m.handOff(ctx, stepRevoke, revoked); err != nil {
			return err
		}
		m.rejoinNow = true
	}
	m.owned = assigned
	m.c.post(stepAssign, added)
	return nil
}

// without returns the partitions of a that are not in b.
func without(a, b []TopicPartition) []TopicPartition {
	var out []TopicPartition
	for _, tp := range a {
		if !slices.Contains(b, tp) {
			out = append(out, tp)
		}
	}
	return out
}

// assign runs the group's assignor, as the leader does.
func (m *groupMember) assign(resp group.JoinResponse) (map[string][]byte, error) {
	var assignor Assignor
	for _, a := range m.c.cfg.Assignors {
		if a.Name() == resp.Protocol {
			assignor = a
		}
	}
	if assignor == nil {
		return nil, fmt.Errorf("%w: the group chose assignor %q, which this consumer lacks",
			ErrInconsistentGroupProtocol, resp.Protocol)
	}
	members := make([]GroupSubscription, 0, len(resp.Members))
	partitions := map[string]int32{}
	for _, gm := range resp.Members {
		sub, err := decodeSubscription(gm.MemberID, gm.InstanceID, gm.Metadata)
		if err != nil {
			return nil, err
		}
		members = append(members, sub)
		for _, topic := range sub.Topics {
			if count, err := m.c.node.existingPartitionCount(topic); err == nil { // an assignor never creates topics
				partitions[topic] = count
			}
		}
	}
	out := map[string][]byte{}
	for id, tps := range assignor.Assign(members, partitions) {
		out[id] = encodeAssignment(tps)
	}
	return out, nil
}

// handOff posts a step to Poll and waits until Poll has taken it,
// heartbeating meanwhile.
func (m *groupMember) handOff(ctx context.Context, kind rebalanceKind, partitions []TopicPartition) error {
	done := m.c.post(kind, partitions)
	ticker := time.NewTicker(m.c.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-m.c.node.groups.Done():
			return ErrClosed
		case <-ticker.C:
			if err := m.coord.heartbeat(ctx, m.identity()); err != nil &&
				!errors.Is(err, ErrRebalanceInProgress) && !movedCoordinator(err) {
				return err
			}
		}
	}
}

// heartbeatUntilRejoin keeps the member's session alive until a rebalance
// needs it: the coordinator says so, the subscription changes, or topics
// it subscribes to gain partitions or come and go.
func (m *groupMember) heartbeatUntilRejoin(ctx context.Context) error {
	ticker := time.NewTicker(m.c.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.c.node.groups.Done():
			return ErrClosed
		case <-m.rejoin:
			return nil
		case <-m.metadata:
			m.metadata = m.c.node.watchMetadata()
			if !maps.Equal(m.subscribed, m.c.subscribedTopics()) {
				return nil
			}
		case <-ticker.C:
			err := m.coord.heartbeat(ctx, m.identity())
			switch {
			case errors.Is(err, ErrRebalanceInProgress):
				return nil
			case movedCoordinator(err):
				// The next heartbeat goes to the new coordinator, which
				// knows the member from the group's stored membership.
				m.c.node.log.Debug("group coordinator unavailable; heartbeating again", "group", m.c.cfg.Group, "err", err)
			case err != nil:
				return err
			}
		}
	}
}
