// Consumer: its config, assignment and subscription, pause and resume, and
// Close.

package creek

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"
)

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
	// Isolation is what the consumer reads of transactions
	// (isolation.level): ReadUncommitted (the default) every record below
	// the high watermark; ReadCommitted only below the last stable offset,
	// without the records of aborted transactions. It also sets where
	// ResetLatest and SeekToEnd start and what Lag counts to.
	Isolation IsolationLevel
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
	// Principal, when set with Config.ACL, is who the consumer acts as
	// ("User:reports"): the node's ACLs decide what it does as they
	// decide a Kafka client's — READ on each topic it reads (Poll fails
	// with ErrTopicAuthorizationFailed), READ on its Group to join and
	// commit, DESCRIBE on the Group for Committed
	// (ErrGroupAuthorizationFailed). Empty: the application's own, not
	// checked.
	Principal string
	// Assignors decide which member reads which partitions, in order of
	// preference (partition.assignment.strategy); of those every member
	// lists, the group uses the one most members prefer, as Kafka's
	// coordinator does. Default CooperativeStickyAssignor. They
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
	as   *actingAs // its Principal; nil: the application's, not checked

	mu            sync.Mutex
	assigned      map[TopicPartition]*consumerPosition
	topics        map[string]bool // subscribed topics
	pattern       *regexp.Regexp  // subscribed pattern
	nextFirst     int             // where the next Poll starts, for fairness
	closed        bool
	closedChan    chan struct{}
	lastCommit    time.Time
	wg            sync.WaitGroup                 // CommitAsync calls
	prefetched    map[TopicPartition][]*prefetch // windows read ahead, in order (consumerprefetch.go)
	prefetchBytes int                            // what they hold, at most maxPrefetchBytes
	prefetching   sync.WaitGroup                 // their reads
	// asyncCommits ends the CommitAsync calls still running when Close's
	// CloseTimeout has passed.
	asyncCommits     context.Context
	stopAsyncCommits context.CancelFunc

	member     *groupMember     // set once the consumer subscribes with a Group
	steps      []*rebalanceStep // assignment changes for Poll to apply, in order
	stepPosted chan struct{}    // wakes a waiting Poll for steps
	groupErr   error            // why the member left its group for good
	pollErr    error            // met by a poll that handed out records: the next returns it
	eachBuffer []byte           // what PollEach reads into, kept between calls (consumereach.go)
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
		stepPosted: make(chan struct{}, 1), prefetched: map[TopicPartition][]*prefetch{}}
	c.asyncCommits, c.stopAsyncCommits = context.WithCancel(context.Background())
	c.as = newActingAs(n, cfg.Principal)
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
	if cfg.Isolation != ReadUncommitted && cfg.Isolation != ReadCommitted {
		errs = append(errs, fmt.Errorf("%w: unknown Isolation %d", ErrInvalidConfig, cfg.Isolation))
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
	c.prefetching.Wait()
	defer c.stopAsyncCommits()
	switch {
	case member != nil:
		return c.leaveGroup(ctx)
	case c.cfg.Group != "" && !c.cfg.DisableAutoCommit:
		return c.Commit(ctx)
	}
	return nil
}
