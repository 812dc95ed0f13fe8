package group

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Config configures a Coordinator. The zero value is valid.
type Config struct {
	// Logger receives membership changes; default slog.Default().
	Logger *slog.Logger
	// MinSessionTimeout and MaxSessionTimeout bound the session timeout a
	// member may ask for (group.min/max.session.timeout.ms); default 6s
	// and 30 min.
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// InitialRebalanceDelay holds the first rebalance of an empty group
	// back, so that members starting together join one generation
	// (group.initial.rebalance.delay.ms). Default 0; Kafka's is 3s.
	InitialRebalanceDelay time.Duration
	// Owns, if set, says whether this coordinator serves a group now: in a
	// cluster, a group belongs to the node leading its partition of
	// __consumer_offsets. Every call about a group asks it first, under
	// the coordinator's lock, and returns its error (ErrNotCoordinator).
	// Evict drops the groups a node stops owning.
	Owns func(group string) error
	// Store, if set, makes a group's membership durable (store.go). The
	// coordinator calls it outside its lock, with the group's
	// description, when a generation's assignment is complete and before
	// the members receive it; a failure fails their SyncGroup with its
	// error and starts another rebalance. It is called again, in the
	// background, when a stored group empties (no members: delete it) or
	// a static member takes over its instance.
	Store func(ctx context.Context, d Description) error
}

// Coordinator runs Kafka's classic group membership protocol (JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup) for any number of groups. It keeps
// membership in memory; committed offsets are the caller's. Timeouts run
// on time.AfterFunc, so tests drive them with testing/synctest. It is safe
// for concurrent use.
type Coordinator struct {
	cfg Config

	mu     sync.Mutex
	groups map[string]*group
	seq    uint64        // orders members by their first join
	closed chan struct{} // closed by Close: waiting calls return ErrClosed

	stores       map[string]*storeSlot // groups with stores under way
	storeVersion uint64                // orders snapshots
	storeCtx     context.Context       // cancelled by Close: stores end
	stopStores   context.CancelFunc
	storing      sync.WaitGroup // background stores
}

// New returns a coordinator with no groups.
func New(cfg Config) *Coordinator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MinSessionTimeout <= 0 {
		cfg.MinSessionTimeout = 6 * time.Second
	}
	if cfg.MaxSessionTimeout <= 0 {
		cfg.MaxSessionTimeout = 30 * time.Minute
	}
	storeCtx, stopStores := context.WithCancel(context.Background())
	return &Coordinator{cfg: cfg, groups: map[string]*group{}, closed: make(chan struct{}),
		stores: map[string]*storeSlot{}, storeCtx: storeCtx, stopStores: stopStores}
}

// Protocol is one assignment protocol a member supports, with the
// metadata the group leader's assignor reads (for consumers, an encoded
// ConsumerMemberMetadata).
type Protocol struct {
	Name     string
	Metadata []byte
}

// JoinRequest is a JoinGroup request.
type JoinRequest struct {
	Group      string
	MemberID   string // empty on a member's first join
	InstanceID string // group.instance.id of a static member, or empty
	ClientID   string
	ClientHost string
	// SessionTimeout is how long the member may go without a heartbeat;
	// RebalanceTimeout how long a rebalance waits for it to rejoin.
	SessionTimeout, RebalanceTimeout time.Duration
	ProtocolType                     string // "consumer" for consumers
	Protocols                        []Protocol
	// RequireKnownMemberID answers a first join with ErrMemberIDRequired
	// and an ID to join with (KIP-394, JoinGroup v4 and later).
	RequireKnownMemberID bool
}

// JoinResponse is what a member learns when a rebalance's join phase ends.
type JoinResponse struct {
	Generation int32
	Protocol   string
	LeaderID   string
	MemberID   string
	// Members are every member with its metadata for Protocol; only the
	// leader receives them, and it computes the assignment.
	Members []Member
}

// Member is one member of a group as the leader sees it.
type Member struct {
	MemberID   string
	InstanceID string
	Metadata   []byte
}

// SyncRequest is a SyncGroup request; only the leader sends Assignments.
type SyncRequest struct {
	Group       string
	Generation  int32
	MemberID    string
	InstanceID  string
	Assignments map[string][]byte // member ID → its assignment
}

// Identity names a member in a Heartbeat, a LeaveGroup or an offset
// commit.
type Identity struct {
	MemberID   string
	InstanceID string
	Generation int32
}

// State is a group's state, with Kafka's names.
type State int8

// The states of a group. A group is Dead once it has no members and no
// rebalance; Coordinator then forgets it.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

// String names the state as Kafka's DescribeGroups does.
func (s State) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}[s]
}

// group is one group's membership.
type group struct {
	id           string
	state        State
	generation   int32
	protocolType string
	protocol     string // chosen for the current generation
	leader       string
	members      map[string]*member
	instances    map[string]string      // group.instance.id → member ID
	pending      map[string]*time.Timer // IDs given with ErrMemberIDRequired, not yet used
	joinTimer    *time.Timer            // ends the join phase: rebalance timeout or initial delay
	initialDelay bool                   // the join phase waits out InitialRebalanceDelay
	joinPhase    uint64                 // counts join phases: a timer of an earlier one does nothing
	stored       bool                   // its membership went to Config.Store
}

// member is one member of a group.
type member struct {
	id, instanceID    string
	clientID, host    string
	seq               uint64
	sessionTimeout    time.Duration
	rebalanceTimeout  time.Duration
	protocols         []Protocol
	assignment        []byte
	joining           chan joinResult // set while the member awaits its JoinGroup response
	syncing           chan syncResult // set while the member awaits its SyncGroup response
	session           *time.Timer
	sessionGeneration uint64 // invalidates a session timer that fired as it was reset
}

type joinResult struct {
	resp JoinResponse
	err  error
}

type syncResult struct {
	assignment []byte
	err        error
}

// Join adds a member to a group, or rejoins it, and waits until the
// rebalance it starts or joins has collected every member. Errors:
// ErrMemberIDRequired (with the ID to use in the response), ErrUnknownMemberID,
// ErrFencedInstanceID, ErrInconsistentGroupProtocol, ErrInvalidSessionTimeout,
// ErrRebalanceInProgress (the rebalance ended without this member), ErrClosed,
// or ctx's error.
func (c *Coordinator) Join(ctx context.Context, req JoinRequest) (JoinResponse, error) {
	wait, resp, err := c.join(req)
	if wait == nil {
		return resp, err
	}
	select {
	case r := <-wait:
		return r.resp, r.err
	case <-ctx.Done():
		return JoinResponse{}, ctx.Err()
	case <-c.closed:
		return JoinResponse{}, ErrClosed
	}
}

// join registers the join and returns the channel its response will come
// on, or the response now.
func (c *Coordinator) join(req JoinRequest) (<-chan joinResult, JoinResponse, error) {
	if req.Group == "" {
		return nil, JoinResponse{}, ErrInvalidGroupID
	}
	if req.SessionTimeout < c.cfg.MinSessionTimeout || req.SessionTimeout > c.cfg.MaxSessionTimeout {
		return nil, JoinResponse{}, fmt.Errorf("%w: %v is outside [%v, %v]", ErrInvalidSessionTimeout,
			req.SessionTimeout, c.cfg.MinSessionTimeout, c.cfg.MaxSessionTimeout)
	}
	if req.RebalanceTimeout <= 0 {
		req.RebalanceTimeout = req.SessionTimeout
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
		return nil, JoinResponse{}, ErrClosed
	default:
	}
	if err := c.ownsLocked(req.Group); err != nil {
		return nil, JoinResponse{}, err
	}
	g := c.groups[req.Group]
	if g == nil {
		if req.MemberID != "" && req.InstanceID == "" {
			return nil, JoinResponse{}, ErrUnknownMemberID
		}
		g = &group{id: req.Group, members: map[string]*member{}, instances: map[string]string{},
			pending: map[string]*time.Timer{}}
		c.groups[req.Group] = g
	}
	if !g.supports(req) {
		c.forgetIfDeadLocked(g)
		return nil, JoinResponse{}, fmt.Errorf("%w: group %s uses protocol type %q", ErrInconsistentGroupProtocol,
			g.id, g.protocolType)
	}
	if req.InstanceID != "" {
		return c.joinStaticLocked(g, req)
	}
	m := g.members[req.MemberID]
	switch {
	case m != nil:
	case req.MemberID == "" && req.RequireKnownMemberID:
		id := newMemberID(req.ClientID)
		g.pending[id] = time.AfterFunc(req.SessionTimeout, func() { c.expirePending(g, id) })
		return nil, JoinResponse{MemberID: id}, ErrMemberIDRequired
	case req.MemberID == "":
		m = c.addMemberLocked(g, newMemberID(req.ClientID), req)
	case g.pending[req.MemberID] != nil:
		g.pending[req.MemberID].Stop()
		delete(g.pending, req.MemberID)
		m = c.addMemberLocked(g, req.MemberID, req)
	default:
		return nil, JoinResponse{}, ErrUnknownMemberID
	}
	return c.rejoinLocked(g, m, req), JoinResponse{}, nil
}

// joinStaticLocked joins a member with a group.instance.id (KIP-345). A
// known instance joining without its member ID is the same consumer
// restarted: it takes a new member ID, the old one is fenced, and a stable
// group keeps its assignment without a rebalance.
func (c *Coordinator) joinStaticLocked(g *group, req JoinRequest) (<-chan joinResult, JoinResponse, error) {
	oldID, known := g.instances[req.InstanceID]
	switch {
	case !known && req.MemberID != "":
		c.forgetIfDeadLocked(g)
		return nil, JoinResponse{}, ErrUnknownMemberID
	case !known:
		return c.rejoinLocked(g, c.addMemberLocked(g, newMemberID(req.ClientID), req), req), JoinResponse{}, nil
	case req.MemberID != "" && req.MemberID != oldID:
		return nil, JoinResponse{}, ErrFencedInstanceID
	case req.MemberID == oldID:
		return c.rejoinLocked(g, g.members[oldID], req), JoinResponse{}, nil
	}
	// A restarted static member: replace the old member ID.
	old := g.members[oldID]
	m := &member{id: newMemberID(req.ClientID), instanceID: req.InstanceID, seq: old.seq,
		assignment: old.assignment}
	c.failWaitsLocked(old, ErrFencedInstanceID)
	old.stopSession()
	delete(g.members, oldID)
	g.members[m.id] = m
	g.instances[req.InstanceID] = m.id
	g.update(m, req)
	wasLeader := g.leader == oldID
	if wasLeader {
		g.leader = m.id
	}
	c.cfg.Logger.Info("static group member replaced", "group", g.id, "instance", req.InstanceID,
		"old_member", oldID, "member", m.id)
	// As Kafka: a rejoin that leaves the group's protocol as it was does
	// not rebalance; a leader's does, as the leader's job is to notice
	// changes.
	if g.state == Stable && !wasLeader && g.electProtocol() == g.protocol {
		c.touchLocked(g, m)
		c.storeLaterLocked(g)
		return nil, JoinResponse{Generation: g.generation, Protocol: g.protocol, LeaderID: g.leader,
			MemberID: m.id}, nil
	}
	return c.rejoinLocked(g, m, req), JoinResponse{}, nil
}

func (c *Coordinator) addMemberLocked(g *group, id string, req JoinRequest) *member {
	c.seq++
	m := &member{id: id, instanceID: req.InstanceID, seq: c.seq}
	g.members[id] = m
	if req.InstanceID != "" {
		g.instances[req.InstanceID] = id
	}
	if len(g.members) == 1 {
		g.protocolType = req.ProtocolType
	}
	c.cfg.Logger.Debug("group member joined", "group", g.id, "member", id, "instance", req.InstanceID,
		"client", req.ClientID)
	return m
}

// rejoinLocked enters m in the join phase, starting a rebalance if none is
// under way, and returns the channel its response will come on.
func (c *Coordinator) rejoinLocked(g *group, m *member, req JoinRequest) <-chan joinResult {
	g.update(m, req)
	c.failWaitsLocked(m, ErrRebalanceInProgress) // a join superseding one still waiting
	wait := make(chan joinResult, 1)
	m.joining = wait
	m.stopSession() // a member waiting in the join phase is alive
	if g.state != PreparingRebalance {
		c.prepareRebalanceLocked(g, "member "+m.id+" joined")
	}
	c.maybeCompleteJoinLocked(g) // may answer wait at once
	return wait
}

// update takes a member's settings from its join. A lone member may
// change the group's protocol type, as nobody else is bound by it.
func (g *group) update(m *member, req JoinRequest) {
	m.update(req)
	if len(g.members) == 1 {
		g.protocolType = req.ProtocolType
	}
}

func (m *member) update(req JoinRequest) {
	m.clientID, m.host = req.ClientID, req.ClientHost
	m.sessionTimeout, m.rebalanceTimeout = req.SessionTimeout, req.RebalanceTimeout
	m.protocols = req.Protocols
}

// prepareRebalanceLocked starts a rebalance: members must rejoin within
// the longest rebalance timeout among them.
func (c *Coordinator) prepareRebalanceLocked(g *group, reason string) {
	for _, m := range g.members {
		if m.syncing != nil {
			c.failWaitsLocked(m, ErrRebalanceInProgress)
		}
	}
	delay := time.Duration(0)
	for _, m := range g.members {
		delay = max(delay, m.rebalanceTimeout)
	}
	g.initialDelay = g.state == Empty && c.cfg.InitialRebalanceDelay > 0
	if g.initialDelay {
		delay = min(delay, c.cfg.InitialRebalanceDelay)
	}
	c.cfg.Logger.Debug("group rebalancing", "group", g.id, "generation", g.generation, "reason", reason)
	g.state = PreparingRebalance
	if g.joinTimer != nil {
		g.joinTimer.Stop()
	}
	g.joinPhase++
	phase := g.joinPhase
	g.joinTimer = time.AfterFunc(delay, func() { c.joinTimeout(g, phase) })
}

// joinTimeout ends a join phase whose time is up.
func (c *Coordinator) joinTimeout(g *group, phase uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g.state != PreparingRebalance || c.groups[g.id] != g || g.joinPhase != phase {
		return
	}
	c.completeJoinLocked(g)
}

// maybeCompleteJoinLocked ends the join phase once every member has
// joined, unless the initial delay still holds it open.
func (c *Coordinator) maybeCompleteJoinLocked(g *group) {
	if g.state != PreparingRebalance || g.initialDelay {
		return
	}
	for _, m := range g.members {
		if m.joining == nil {
			return
		}
	}
	c.completeJoinLocked(g)
}

// completeJoinLocked ends the join phase: dynamic members that did not
// rejoin leave, the generation advances, a protocol and a leader are
// chosen, and every waiting member gets its response.
func (c *Coordinator) completeJoinLocked(g *group) {
	if g.joinTimer != nil {
		g.joinTimer.Stop()
		g.joinTimer = nil
	}
	for id, m := range g.members {
		if m.joining == nil && m.instanceID == "" {
			c.cfg.Logger.Info("group member did not rejoin in time; removed", "group", g.id, "member", id)
			c.removeLocked(g, m)
		}
	}
	g.generation++
	if len(g.members) == 0 {
		g.state, g.protocol, g.leader = Empty, "", ""
		c.storeLaterLocked(g)
		c.forgetIfDeadLocked(g)
		return
	}
	g.protocol = g.electProtocol()
	if g.members[g.leader] == nil || g.members[g.leader].joining == nil {
		g.leader = g.electLeader()
	}
	g.state = CompletingRebalance
	c.cfg.Logger.Info("group generation formed", "group", g.id, "generation", g.generation,
		"protocol", g.protocol, "leader", g.leader, "members", len(g.members))
	members := g.memberList()
	for _, m := range g.members {
		if m.joining != nil {
			resp := JoinResponse{Generation: g.generation, Protocol: g.protocol, LeaderID: g.leader, MemberID: m.id}
			if m.id == g.leader {
				resp.Members = members
			}
			m.joining <- joinResult{resp: resp}
			m.joining = nil
		}
		c.touchLocked(g, m) // a leader that dies now must not leave the others waiting in Sync
	}
}

// electProtocol returns the protocol every member supports that most
// members prefer, ties going to the leader's (or the oldest member's)
// preference.
func (g *group) electProtocol() string {
	ordered := g.membersByAge()
	votes := map[string]int{}
	for _, m := range ordered {
		for _, p := range m.protocols {
			if g.allSupport(p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best := ""
	for _, p := range ordered[0].protocols {
		if g.allSupport(p.Name) && (best == "" || votes[p.Name] > votes[best]) {
			best = p.Name
		}
	}
	return best
}

func (g *group) allSupport(protocol string) bool {
	for _, m := range g.members {
		if m.metadata(protocol) == nil {
			return false
		}
	}
	return true
}

func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			if p.Metadata == nil {
				return []byte{}
			}
			return p.Metadata
		}
	}
	return nil
}

// electLeader returns the oldest member that rejoined.
func (g *group) electLeader() string {
	for _, m := range g.membersByAge() {
		if m.joining != nil {
			return m.id
		}
	}
	return g.membersByAge()[0].id
}

func (g *group) membersByAge() []*member {
	out := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (g *group) memberList() []Member {
	var out []Member
	for _, m := range g.membersByAge() {
		out = append(out, Member{MemberID: m.id, InstanceID: m.instanceID, Metadata: m.metadata(g.protocol)})
	}
	return out
}

// supports reports whether a join fits the group: the same protocol type,
// and a protocol every member shares.
func (g *group) supports(req JoinRequest) bool {
	if len(req.Protocols) == 0 || req.ProtocolType == "" {
		return false
	}
	others := 0
	for id, m := range g.members {
		if id == req.MemberID || (req.InstanceID != "" && m.instanceID == req.InstanceID) {
			continue
		}
		others++
	}
	if others == 0 {
		return true
	}
	if req.ProtocolType != g.protocolType {
		return false
	}
	for _, p := range req.Protocols {
		shared := true
		for id, m := range g.members {
			if id == req.MemberID || (req.InstanceID != "" && m.instanceID == req.InstanceID) {
				continue
			}
			if m.metadata(p.Name) == nil {
				shared = false
				break
			}
		}
		if shared {
			return true
		}
	}
	return false
}

// newMemberID returns a member ID as Kafka forms them: the client ID, a
// dash and a random UUID-sized suffix.
func newMemberID(clientID string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return clientID + "-" + hex.EncodeToString(b[:])
}
