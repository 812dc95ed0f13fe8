package creek

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// OffsetReset says where a consumer starts in a partition it has no
// position in, or whose position fell out of the log (auto.offset.reset).
type OffsetReset int8

const (
	// ResetLatest starts after the last record: only new records are read.
	// Kafka's default.
	ResetLatest OffsetReset = iota
	// ResetEarliest starts at the log start offset.
	ResetEarliest
)

// ConsumerConfig configures a Consumer. The zero value is valid.
type ConsumerConfig struct {
	// Reset says where to start without a position; default ResetLatest.
	Reset OffsetReset
	// MaxPollRecords bounds the records one Poll returns; default 500.
	MaxPollRecords int
	// PartitionMaxBytes bounds what one Poll reads from a partition
	// (max.partition.fetch.bytes); default 1 MiB.
	PartitionMaxBytes int
	// Group is the consumer group (group.id) whose committed offsets the
	// consumer starts from and commits to. A consumer with a Group that
	// subscribes is a member: the group shares the partitions of its
	// topics among its members and moves them as members come and go. One
	// that assigns itself partitions only stores offsets there, which the
	// group allows while it has no members. Empty: no group, no commits.
	Group string
	// InstanceID makes the consumer a static member (group.instance.id,
	// KIP-345): it does not leave the group on Close, and when it comes
	// back within SessionTimeout it gets its partitions back without a
	// rebalance.
	InstanceID string
	// ClientID names the consumer in the group's member IDs and
	// descriptions; default "creek".
	ClientID string
	// Assignors decide which member reads which partitions, in order of
	// preference (partition.assignment.strategy); the group uses the first
	// that every member lists. Default CooperativeStickyAssignor. They
	// must all be cooperative or all eager.
	Assignors []Assignor
	// SessionTimeout is how long the group waits for a member's heartbeat
	// before it hands the member's partitions to the others; default 45s.
	SessionTimeout time.Duration
	// HeartbeatInterval is the time between heartbeats; default 3s.
	HeartbeatInterval time.Duration
	// RebalanceTimeout is how long a rebalance waits for members to
	// rejoin: a member that cannot give up its partitions in time, because
	// nothing calls Poll, leaves the group (max.poll.interval.ms); default
	// 5 min.
	RebalanceTimeout time.Duration
	// OnAssigned, OnRevoked and OnLost are called, from inside Poll (or
	// Close) on its goroutine, when the group gives the consumer
	// partitions, takes them back in a rebalance, or finds them lost: the
	// consumer fell out of the group, and another member may read them
	// already, so committing them is no longer possible. OnAssigned is
	// called after every rebalance, with the partitions added. Optional.
	OnAssigned, OnRevoked, OnLost func([]TopicPartition)
	// DisableAutoCommit stops Poll from committing on its own. By default,
	// as in Kafka, a consumer with a Group commits its positions every
	// AutoCommitInterval from inside Poll, and on Close: what the previous
	// Poll returned counts as processed (at-least-once).
	DisableAutoCommit bool
	// AutoCommitInterval is the time between automatic commits; default 5s.
	AutoCommitInterval time.Duration
	// CloseTimeout bounds Close: its commit, the revocation of its
	// partitions and its LeaveGroup, and the CommitAsync calls it waits
	// for (Kafka's close(Duration)); default 30s.
	CloseTimeout time.Duration
}

// Consumer reads records from partitions it is assigned or subscribed to.
// It is safe for concurrent use, though Poll is meant for one goroutine.
type Consumer struct {
	node *Node
	cfg  ConsumerConfig

	mu         sync.Mutex
	assigned   map[TopicPartition]*consumerPosition
	topics     map[string]bool // subscribed topics
	pattern    *regexp.Regexp  // subscribed pattern
	nextFirst  int             // where the next Poll starts, for fairness
	closed     bool
	closedChan chan struct{}
	lastCommit time.Time
	wg         sync.WaitGroup // CommitAsync calls
	// asyncCommits ends the CommitAsync calls still running when Close's
	// CloseTimeout has passed.
	asyncCommits     context.Context
	stopAsyncCommits context.CancelFunc

	member     *groupMember     // set once the consumer subscribes with a Group
	steps      []*rebalanceStep // assignment changes for Poll to apply, in order
	stepPosted chan struct{}    // wakes a waiting Poll for steps
	groupErr   error            // why the member left its group for good
}

type consumerPosition struct {
	offset int64 // -1: not yet known; Reset decides
	paused bool
}

// NewConsumer returns a consumer of this node's topics.
func (n *Node) NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	if cfg.MaxPollRecords <= 0 {
		cfg.MaxPollRecords = 500
	}
	if cfg.PartitionMaxBytes <= 0 {
		cfg.PartitionMaxBytes = 1 << 20
	}
	if cfg.AutoCommitInterval <= 0 {
		cfg.AutoCommitInterval = 5 * time.Second
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 30 * time.Second
	}
	cfg = cfg.withGroupDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Consumer{node: n, cfg: cfg, assigned: map[TopicPartition]*consumerPosition{},
		topics: map[string]bool{}, closedChan: make(chan struct{}), lastCommit: n.now(),
		stepPosted: make(chan struct{}, 1)}
	c.asyncCommits, c.stopAsyncCommits = context.WithCancel(context.Background())
	return c, nil
}

func (cfg ConsumerConfig) withGroupDefaults() ConsumerConfig {
	if cfg.ClientID == "" {
		cfg.ClientID = "creek"
	}
	if len(cfg.Assignors) == 0 {
		cfg.Assignors = []Assignor{CooperativeStickyAssignor()}
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 45 * time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 3 * time.Second
	}
	if cfg.RebalanceTimeout <= 0 {
		cfg.RebalanceTimeout = 5 * time.Minute
	}
	return cfg
}

func (cfg ConsumerConfig) validate() error {
	var errs []error
	if cfg.Reset != ResetLatest && cfg.Reset != ResetEarliest {
		errs = append(errs, fmt.Errorf("%w: unknown Reset %d", ErrInvalidConfig, cfg.Reset))
	}
	names := map[string]bool{}
	for _, a := range cfg.Assignors {
		if names[a.Name()] {
			errs = append(errs, fmt.Errorf("%w: assignor %q listed twice", ErrInvalidConfig, a.Name()))
		}
		names[a.Name()] = true
		if a.Cooperative() != cfg.Assignors[0].Cooperative() {
			errs = append(errs, fmt.Errorf("%w: assignors %q and %q follow different rebalance protocols",
				ErrInvalidConfig, cfg.Assignors[0].Name(), a.Name()))
		}
	}
	if cfg.HeartbeatInterval >= cfg.SessionTimeout {
		errs = append(errs, fmt.Errorf("%w: HeartbeatInterval %v must be below SessionTimeout %v",
			ErrInvalidConfig, cfg.HeartbeatInterval, cfg.SessionTimeout))
	}
	return errors.Join(errs...)
}

// Assign adds partitions to read, from their Reset position. Assigning an
// unknown partition is not an error: Poll reports it.
func (c *Consumer) Assign(partitions ...TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tp := range partitions {
		if c.assigned[tp] == nil {
			c.assigned[tp] = &consumerPosition{offset: -1}
		}
	}
}

// Unassign stops reading partitions.
func (c *Consumer) Unassign(partitions ...TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tp := range partitions {
		delete(c.assigned, tp)
	}
}

// Assignment returns the partitions the consumer reads: those it assigned
// itself, or those its group gave it, sorted.
func (c *Consumer) Assignment() []TopicPartition {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]TopicPartition, 0, len(c.assigned))
	for tp := range c.assigned {
		out = append(out, tp)
	}
	slices.SortFunc(out, compareTopicPartitions)
	return out
}

// Subscribe reads topics, including partitions added later. With a Group,
// the consumer joins it and reads the partitions the group assigns it;
// without one, it reads every partition itself.
func (c *Consumer) Subscribe(topics ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range topics {
		c.topics[t] = true
	}
	c.subscriptionChangedLocked()
}

// SubscribeRegexp reads every topic whose name matches pattern, including
// topics created later, as Subscribe does.
func (c *Consumer) SubscribeRegexp(pattern *regexp.Regexp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pattern = pattern
	c.subscriptionChangedLocked()
}

// subscriptionChangedLocked joins the group, or rejoins it with the new
// topics.
func (c *Consumer) subscriptionChangedLocked() {
	switch {
	case c.cfg.Group == "" || c.closed:
	case c.member == nil:
		c.member = startGroupMember(c)
	default:
		c.member.askRejoin()
	}
}

// Seek sets the offset of the next record Poll returns from a partition,
// assigning the partition if needed.
func (c *Consumer) Seek(tp TopicPartition, offset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.positionLocked(tp).offset = offset
}

func (c *Consumer) positionLocked(tp TopicPartition) *consumerPosition {
	pos := c.assigned[tp]
	if pos == nil {
		pos = &consumerPosition{offset: -1}
		c.assigned[tp] = pos
	}
	return pos
}

// SeekToBeginning moves to the log start offset of partitions, asking
// their leaders in a cluster until ctx ends.
func (c *Consumer) SeekToBeginning(ctx context.Context, partitions ...TopicPartition) error {
	return c.seekTo(ctx, partitions, listEarliest)
}

// SeekToEnd moves past the last record of partitions that consumers can
// read (to the high watermark), asking their leaders until ctx ends.
func (c *Consumer) SeekToEnd(ctx context.Context, partitions ...TopicPartition) error {
	return c.seekTo(ctx, partitions, listLatest)
}

// SeekToTime moves to the first record at or after t in partitions, or to
// their end when every record is older, asking their leaders until ctx
// ends.
func (c *Consumer) SeekToTime(ctx context.Context, t time.Time, partitions ...TopicPartition) error {
	return c.seekTo(ctx, partitions, t.UnixMilli())
}

// The timestamps ListOffsets takes for the ends of a partition.
const (
	listLatest   = -1
	listEarliest = -2
)

// seekTo moves to the offset for timestamp (or for listLatest or
// listEarliest) in partitions, asking their leaders in a cluster.
func (c *Consumer) seekTo(ctx context.Context, partitions []TopicPartition, timestamp int64) error {
	for _, tp := range partitions {
		offset, err := c.node.listOffset(ctx, tp.Topic, tp.Partition, timestamp)
		if err == nil && offset < 0 { // every record is older
			offset, err = c.node.listOffset(ctx, tp.Topic, tp.Partition, listLatest)
		}
		if err != nil {
			return err
		}
		c.Seek(tp, offset)
	}
	return nil
}

// Pause stops Poll from returning records of partitions until Resume; their
// positions are kept.
func (c *Consumer) Pause(partitions ...TopicPartition) { c.setPaused(partitions, true) }

// Resume lets Poll return records of paused partitions again.
func (c *Consumer) Resume(partitions ...TopicPartition) { c.setPaused(partitions, false) }

func (c *Consumer) setPaused(partitions []TopicPartition, paused bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tp := range partitions {
		if pos := c.assigned[tp]; pos != nil {
			pos.paused = paused
		}
	}
}

// Position returns the offset of the next record Poll returns from a
// partition, resolving Reset if the consumer has not read it yet: from the
// group's committed offset, or the partition's start or end, which may
// ask other nodes until ctx ends.
func (c *Consumer) Position(ctx context.Context, tp TopicPartition) (int64, error) {
	if _, err := c.node.partition(tp.Topic, tp.Partition); err != nil {
		return -1, err
	}
	c.mu.Lock()
	pos := c.assigned[tp]
	if pos == nil {
		c.mu.Unlock()
		return -1, fmt.Errorf("%w: %s-%d is not assigned", ErrUnknownTopic, tp.Topic, tp.Partition)
	}
	offset := pos.offset
	c.mu.Unlock()
	if offset >= 0 {
		return offset, nil
	}
	committed, ok, err := c.Committed(ctx, tp)
	if err != nil {
		return -1, err
	}
	if ok {
		offset = committed.Offset
	} else if offset, err = c.resetOffset(ctx, tp); err != nil {
		return -1, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if pos := c.assigned[tp]; pos != nil && pos.offset < 0 { // unless a Seek came meanwhile
		pos.offset = offset
	} else if pos != nil {
		offset = pos.offset
	}
	return offset, nil
}

// Lag returns how many records of a partition the consumer has not read:
// the high watermark minus its position, asking the partition's leader
// until ctx ends.
func (c *Consumer) Lag(ctx context.Context, tp TopicPartition) (int64, error) {
	offset, err := c.Position(ctx, tp)
	if err != nil {
		return -1, err
	}
	hw, err := c.node.listOffset(ctx, tp.Topic, tp.Partition, listLatest)
	if err != nil {
		return -1, err
	}
	return max(hw-offset, 0), nil
}

// resetOffset returns where Config.Reset starts a partition without a
// position: its log start offset or its high watermark.
func (c *Consumer) resetOffset(ctx context.Context, tp TopicPartition) (int64, error) {
	if c.cfg.Reset == ResetEarliest {
		return c.node.listOffset(ctx, tp.Topic, tp.Partition, listEarliest)
	}
	return c.node.listOffset(ctx, tp.Topic, tp.Partition, listLatest)
}

// PartitionRecords are the records Poll read from one partition, in offset
// order.
type PartitionRecords struct {
	TopicPartition
	Records []Record
}

// Poll returns records from the assigned partitions that are not paused,
// waiting until at least one is there or ctx ends. Each call starts with a
// different partition, so none starves. The records are the caller's.
func (c *Consumer) Poll(ctx context.Context) ([]PartitionRecords, error) {
	c.applySteps(ctx)
	c.maybeAutoCommit(ctx)
	for {
		out, wake, err := c.pollOnce(ctx)
		if err != nil || len(out) > 0 {
			return out, err
		}
		cases := []reflect.SelectCase{
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.closedChan)},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.stepPosted)},
		}
		for _, ch := range wake {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		switch chosen, _, _ := reflect.Select(cases); chosen {
		case 0:
			return nil, ctx.Err()
		case 1:
			return nil, ErrClosed
		case 2:
			c.applySteps(ctx)
		}
	}
}

// remotePollInterval is how often Poll, waiting, reads again the
// partitions led by other nodes: no local append announces their records
// (a replica here grows about when the leader's does, and wakes Poll
// sooner).
const remotePollInterval = 100 * time.Millisecond

// pollOnce reads what is there now, and returns the channels that announce
// new records when there was nothing.
func (c *Consumer) pollOnce(ctx context.Context) ([]PartitionRecords, []<-chan struct{}, error) {
	partitions, err := c.readable()
	if err != nil {
		return nil, nil, err
	}
	var out []PartitionRecords
	var wake []<-chan struct{}
	polling := false
	budget := c.cfg.MaxPollRecords
	for _, tp := range partitions {
		if budget == 0 {
			break
		}
		p, err := c.node.partition(tp.Topic, tp.Partition)
		if err != nil {
			return nil, nil, err
		}
		wake = append(wake, p.arrival()) // before reading: an append after the read still wakes Poll
		records, remote, err := c.readPartition(ctx, tp, p, budget)
		if err != nil {
			return nil, nil, err
		}
		if remote && !polling { // led elsewhere: no local append announces its records
			tick := make(chan struct{})
			time.AfterFunc(remotePollInterval, func() { close(tick) })
			wake = append(wake, tick)
			polling = true
		}
		if len(records) > 0 {
			out = append(out, PartitionRecords{TopicPartition: tp, Records: records})
			budget -= len(records)
		}
	}
	return out, wake, nil
}

// readable returns the partitions to read, assigning those of subscribed
// topics, in the order this Poll visits them.
func (c *Consumer) readable() ([]TopicPartition, error) {
	subscribed := c.subscribedPartitions()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.groupErr != nil {
		return nil, c.groupErr
	}
	if c.member == nil { // without a group, a subscriber reads every partition
		for _, tp := range subscribed {
			c.positionLocked(tp)
		}
	}
	var tps []TopicPartition
	for tp, pos := range c.assigned {
		if !pos.paused {
			tps = append(tps, tp)
		}
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	if len(tps) > 0 {
		c.nextFirst = (c.nextFirst + 1) % len(tps)
		tps = append(tps[c.nextFirst:], tps[:c.nextFirst]...)
	}
	return tps, nil
}

func (c *Consumer) subscribedPartitions() []TopicPartition {
	var out []TopicPartition
	for topic, count := range c.subscribedTopics() {
		for p := range count {
			out = append(out, TopicPartition{topic, p})
		}
	}
	return out
}

// subscribedTopics returns the partition count of each existing topic the
// consumer subscribes to, by name or by pattern.
func (c *Consumer) subscribedTopics() map[string]int32 {
	c.mu.Lock()
	topics, pattern := make([]string, 0, len(c.topics)), c.pattern
	for t := range c.topics {
		topics = append(topics, t)
	}
	c.mu.Unlock()
	out := map[string]int32{}
	for _, info := range c.node.Topics() {
		named := containsString(topics, info.Name)
		if named || pattern != nil && !info.Internal && pattern.MatchString(info.Name) {
			out[info.Name] = int32(len(info.Partitions))
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readPartition reads up to budget records from the consumer's position in
// tp and moves the position past them. A position outside the log is reset
// as Config.Reset says, as Kafka's auto.offset.reset does.
func (c *Consumer) readPartition(ctx context.Context, tp TopicPartition, p *partition, budget int) ([]Record, bool, error) {
	offset, err := c.Position(ctx, tp)
	if err != nil {
		return nil, false, err
	}
	b, remote, err := c.node.fetchFrom(ctx, p, offset, c.cfg.PartitionMaxBytes)
	if errors.Is(err, ErrOffsetOutOfRange) {
		reset, err := c.resetOffset(ctx, tp)
		if err != nil {
			return nil, remote, err
		}
		c.node.log.Info("consumer position out of range; reset", "topic", tp.Topic, "partition", tp.Partition,
			"position", offset, "reset_to", reset)
		if !c.moveIf(tp, offset, reset) || reset == offset {
			return nil, remote, nil
		}
		return c.readPartition(ctx, tp, p, budget) // from the new position, now
	}
	if errors.Is(err, ErrNotLeader) && c.node.controller != nil {
		return nil, true, nil // no leader for now: Poll looks again after remotePollInterval
	}
	if err != nil {
		return nil, remote, err
	}
	records, err := appendRecords(nil, b, offset, budget)
	if err != nil {
		return nil, remote, err
	}
	for i := range records {
		records[i].Topic, records[i].Partition = tp.Topic, tp.Partition
	}
	switch {
	case len(records) > 0:
		c.moveIf(tp, offset, records[len(records)-1].Offset+1)
	case len(b) > 0:
		// Only control batches, or records below the position (compaction
		// left a gap): step past them, or Poll would wait with data ahead.
		if c.moveIf(tp, offset, lastOffsetIn(b)+1) {
			return c.readPartition(ctx, tp, p, budget)
		}
	}
	return records, remote, nil
}

// moveIf moves a partition's position from old to new, unless a Seek or an
// Unassign changed it meanwhile, and reports whether it did.
func (c *Consumer) moveIf(tp TopicPartition, old, new int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pos := c.assigned[tp]; pos != nil && pos.offset == old {
		pos.offset = new
		return true
	}
	return false
}

// Commit commits the consumer's positions in every assigned partition it
// has read, or has a position in, to its Group, and waits. A group member
// whose generation a rebalance ended gets ErrIllegalGeneration or
// ErrUnknownMemberID, and its commit is not stored.
func (c *Consumer) Commit(ctx context.Context) error { return c.commit(ctx, nil) }

// commit commits the positions in partitions, or in all assigned ones when
// partitions is nil.
func (c *Consumer) commit(ctx context.Context, partitions []TopicPartition) error {
	if c.cfg.Group == "" {
		return fmt.Errorf("%w: the consumer has no Group", ErrInvalidGroupID)
	}
	c.mu.Lock()
	offsets := map[TopicPartition]CommittedOffset{}
	for tp, pos := range c.assigned {
		if pos.offset >= 0 && (partitions == nil || slices.Contains(partitions, tp)) {
			offsets[tp] = CommittedOffset{Offset: pos.offset, LeaderEpoch: -1}
		}
	}
	c.lastCommit = c.node.now()
	member := c.member
	c.mu.Unlock()
	id := groupIdentity{Generation: -1}
	if member != nil {
		id = member.identity()
	}
	return c.node.commitOffsets(ctx, c.cfg.Group, id, offsets)
}

// CommitAsync commits as Commit does without waiting; done, if not nil, is
// called with the result from another goroutine. Close waits for it.
func (c *Consumer) CommitAsync(ctx context.Context, done func(error)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(c.asyncCommits, cancel)()
		err := c.Commit(ctx)
		if done != nil {
			done(err)
		}
	}()
}

// Committed returns the Group's committed offset in a partition, and
// false when it has none, asking the group's coordinator until ctx ends.
func (c *Consumer) Committed(ctx context.Context, tp TopicPartition) (CommittedOffset, bool, error) {
	if c.cfg.Group == "" {
		return CommittedOffset{}, false, nil
	}
	committed, err := c.node.FetchCommittedOffsets(ctx, c.cfg.Group, tp)
	if err != nil {
		return CommittedOffset{}, false, fmt.Errorf("committed offset of group %s in %s-%d: %w", c.cfg.Group, tp.Topic, tp.Partition, err)
	}
	co, ok := committed[tp]
	return co, ok, nil
}

// maybeAutoCommit commits when auto-commit is on and AutoCommitInterval has
// passed: the positions then cover what earlier Polls returned. A failure
// is logged, as Kafka's consumers do; the next commit covers it.
func (c *Consumer) maybeAutoCommit(ctx context.Context) {
	if c.cfg.Group == "" || c.cfg.DisableAutoCommit {
		return
	}
	c.mu.Lock()
	due := c.node.now().Sub(c.lastCommit) >= c.cfg.AutoCommitInterval
	c.mu.Unlock()
	if !due {
		return
	}
	if err := c.Commit(ctx); err != nil {
		c.node.log.Warn("consumer auto-commit failed", "group", c.cfg.Group, "err", err)
	}
}

// Close ends the consumer; a Poll waiting returns ErrClosed. With
// auto-commit it commits its positions first. A group member then gives
// up its partitions (OnRevoked is called) and, unless static, leaves the
// group so the others rebalance at once. All of it, and the CommitAsync
// calls still running, take at most CloseTimeout. A second Close returns
// nil.
func (c *Consumer) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.closedChan)
	member := c.member
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CloseTimeout)
	defer cancel()
	defer context.AfterFunc(ctx, c.stopAsyncCommits)()
	c.wg.Wait()
	defer c.stopAsyncCommits()
	switch {
	case member != nil:
		return c.leaveGroup(ctx)
	case c.cfg.Group != "" && !c.cfg.DisableAutoCommit:
		return c.Commit(ctx)
	}
	return nil
}
