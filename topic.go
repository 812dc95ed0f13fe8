// Topics: TopicSpec, creating, deleting, growing, configuring and describing
// them.

package creek

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"sort"
)

// topic is a topic on this node.
type topic struct {
	name       string
	id         [16]byte
	configs    map[string]string // set explicitly; the rest are defaults
	cfg        topicConfig
	partitions []*partition
	adopt      bool // held before the node joined its cluster, and not yet the cluster's (adopt.go)
}

// openTopic opens the partitions of a registered topic.
func (n *Node) openTopic(rt registryTopic) (*topic, error) {
	cfg, err := parseTopicConfig(n.cfg.TopicDefaults, rt.Configs)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", rt.Name, err)
	}
	t := &topic{name: rt.Name, id: rt.ID, configs: rt.Configs, cfg: cfg, adopt: rt.Adopt}
	if err := t.addPartitions(n, rt.Partitions); err != nil {
		return nil, errors.Join(err, t.close())
	}
	return t, nil
}

// addPartitions opens partitions until the topic has count.
func (t *topic) addPartitions(n *Node, count int32) error {
	for i := int32(len(t.partitions)); i < count; i++ {
		p, err := openPartition(n.fs, n.dir, t.name, i, t.cfg, LogConfig{Logger: n.log}, n.now)
		if err != nil {
			return err
		}
		if n.cfg.Cluster != nil {
			p.fenced = &n.fenced
			p.repl = replicaState{role: roleNone, leaderID: -1} // until the controller's metadata says
		}
		t.partitions = append(t.partitions, p)
	}
	return nil
}

func (t *topic) close() error {
	var err error
	for _, p := range t.partitions {
		err = errors.Join(err, p.close())
	}
	return err
}

// TopicSpec describes a topic to create.
type TopicSpec struct {
	// Partitions is the number of partitions; default 1.
	Partitions int32
	// ReplicationFactor is the number of replicas; default 1, at most the
	// number of live nodes in a cluster, and 1 on a node outside one.
	ReplicationFactor int16
	// Configs sets topic configs by Kafka's names (see TopicConfigNames);
	// the rest take the node's TopicDefaults, then Kafka's defaults.
	Configs map[string]string
	// Assignment places the replicas by hand, as kafka-topics'
	// --replica-assignment does: for each partition, the IDs of the live
	// nodes that hold it, its preferred leader first, as many for every
	// partition. Partitions and ReplicationFactor then follow from it
	// (leave them zero, or give the same). Empty, the cluster's controller
	// places the replicas. Only in a cluster.
	Assignment [][]int32

	id [16]byte // the topic ID the cluster gave it; zero: a new one
}

// CreateTopic creates a topic. It fails with ErrTopicExists,
// ErrInvalidTopic (a bad or internal name), ErrInvalidPartitions,
// ErrTooManyPartitions, ErrInvalidReplicationFactor,
// ErrInvalidReplicaAssignment or ErrInvalidConfig, and creates nothing then.
func (n *Node) CreateTopic(ctx context.Context, name string, spec TopicSpec) error {
	if err := validateTopicName(name); err != nil {
		return err
	}
	if internalTopic(name) {
		return fmt.Errorf("%w: %s is internal", ErrInvalidTopic, name)
	}
	count := max(int(spec.Partitions), len(spec.Assignment), 1) // 0: the default, one
	if err := n.checkPartitionBudget(name, count); err != nil {
		return err
	}
	if n.controller != nil {
		return n.createClusterTopic(ctx, name, spec)
	}
	return n.createTopic(ctx, name, spec)
}

// checkPartitionBudget refuses adding partitions to topic that would take
// the node past Config.MaxPartitions. It is a soft bound: creations that
// run at once may pass it by what each adds. A black-box probe with one
// Metadata request naming 100,000 topics to auto-create made 80,631
// partition directories, ran the process out of file descriptors, and
// left a node that could not start again.
func (n *Node) checkPartitionBudget(topic string, adding int) error {
	n.mu.RLock()
	held := 0
	for _, t := range n.topics {
		held += len(t.partitions)
	}
	n.mu.RUnlock()
	if held+adding > n.cfg.MaxPartitions {
		return fmt.Errorf("%w: %d more for %s, %d held, at most %d (Config.MaxPartitions)",
			ErrTooManyPartitions, adding, topic, held, n.cfg.MaxPartitions)
	}
	return nil
}

func (n *Node) createTopic(ctx context.Context, name string, spec TopicSpec) error {
	spec, cfg, err := n.checkTopicSpec(name, spec)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if _, ok := n.topics[name]; ok {
		return fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	t := &topic{name: name, id: spec.id, configs: maps.Clone(spec.Configs), cfg: cfg}
	if t.id == ([16]byte{}) {
		if _, err := rand.Read(t.id[:]); err != nil {
			return err
		}
	}
	if err := t.addPartitions(n, spec.Partitions); err != nil {
		return errors.Join(err, t.close(), n.removeTopicFiles(t))
	}
	n.topics[name] = t
	if err := n.saveLocked(); err != nil {
		delete(n.topics, name)
		return errors.Join(err, t.close(), n.removeTopicFiles(t))
	}
	n.metadataChangedLocked()
	return nil
}

// checkTopicSpec fills a spec's defaults and checks it.
func (n *Node) checkTopicSpec(name string, spec TopicSpec) (TopicSpec, topicConfig, error) {
	if len(spec.Assignment) > 0 {
		var err error
		if spec, err = n.checkAssignment(spec); err != nil {
			return spec, topicConfig{}, fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	if spec.Partitions == 0 {
		spec.Partitions = 1
	}
	if spec.ReplicationFactor == 0 {
		spec.ReplicationFactor = 1
	}
	if spec.Partitions < 0 {
		return spec, topicConfig{}, fmt.Errorf("%w: %d", ErrInvalidPartitions, spec.Partitions)
	}
	if spec.ReplicationFactor < 1 || spec.ReplicationFactor != 1 && n.controller == nil {
		return spec, topicConfig{}, fmt.Errorf("%w: %d on a node without a cluster", ErrInvalidReplicationFactor, spec.ReplicationFactor)
	}
	cfg, err := parseTopicConfig(n.cfg.TopicDefaults, spec.Configs)
	if err != nil {
		return spec, topicConfig{}, fmt.Errorf("create topic %s: %w", name, err)
	}
	return spec, cfg, nil
}

// validateCreateTopic checks what CreateTopic would, creating nothing
// (CreateTopics with validate_only).
func (n *Node) validateCreateTopic(name string, spec TopicSpec) error {
	if err := validateTopicName(name); err != nil {
		return err
	}
	if internalTopic(name) {
		return fmt.Errorf("%w: %s is internal", ErrInvalidTopic, name)
	}
	spec, _, err := n.checkTopicSpec(name, spec)
	if err != nil {
		return err
	}
	if len(spec.Assignment) > 0 {
		if err := n.checkLiveReplicas(spec.Assignment); err != nil {
			return err
		}
	}
	if n.hasTopic(name) {
		return fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	return nil
}

func (n *Node) removeTopicFiles(t *topic) error {
	var err error
	for i := range t.partitions {
		err = errors.Join(err, removeDir(n.fs, partitionDir(n.dir, t.name, int32(i))))
	}
	return err
}

// DeleteTopic deletes a topic and its data. The registry forgets it first,
// so a crash halfway leaves files that the next Open removes.
func (n *Node) DeleteTopic(ctx context.Context, name string) error {
	if n.controller != nil && !internalTopic(name) {
		return n.deleteClusterTopic(ctx, name)
	}
	return n.deleteLocalTopic(ctx, name)
}

// deleteLocalTopic deletes this node's copy of a topic.
func (n *Node) deleteLocalTopic(ctx context.Context, name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.changeableTopicLocked(ctx, name, false)
	if err != nil {
		return err
	}
	delete(n.topics, name)
	if err := n.saveLocked(); err != nil {
		n.topics[name] = t
		return err
	}
	n.metadataChangedLocked()
	return errors.Join(t.close(), n.removeTopicFiles(t))
}

// changeableTopicLocked returns a topic about to be changed: it exists, ctx
// has not ended, and it is not internal unless internalOK.
func (n *Node) changeableTopicLocked(ctx context.Context, name string, internalOK bool) (*topic, error) {
	if !internalOK && internalTopic(name) {
		return nil, fmt.Errorf("%w: %s is internal", ErrInvalidTopic, name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return n.topicLocked(name)
}

func (n *Node) topicLocked(name string) (*topic, error) {
	if n.closed {
		return nil, ErrClosed
	}
	t, ok := n.topics[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	return t, nil
}

// CreatePartitions grows a topic to total partitions. Kafka never shrinks
// a topic: no more than it has gives ErrInvalidPartitions. In a cluster the controller
// places the new partitions' replicas.
func (n *Node) CreatePartitions(ctx context.Context, name string, total int32) error {
	if info, err := n.DescribeTopic(name); err == nil && int(total) > len(info.Partitions) {
		if err := n.checkPartitionBudget(name, int(total)-len(info.Partitions)); err != nil {
			return err
		}
	}
	if n.controller != nil && !internalTopic(name) {
		return n.createClusterPartitions(ctx, name, total)
	}
	return n.createLocalPartitions(ctx, name, total)
}

// createLocalPartitions grows this node's copy of a topic.
func (n *Node) createLocalPartitions(ctx context.Context, name string, total int32) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.changeableTopicLocked(ctx, name, true)
	if err != nil {
		return err
	}
	if have := int32(len(t.partitions)); total <= have {
		return fmt.Errorf("%w: %s has %d partitions; asked for %d", ErrInvalidPartitions, name, have, total)
	}
	defer n.metadataChangedLocked() // some partitions may have opened even on error
	if err := t.addPartitions(n, total); err != nil {
		return err
	}
	return n.saveLocked()
}

// AlterTopicConfig sets and removes (back to their defaults) configs of a
// topic, as Kafka's IncrementalAlterConfigs does. Invalid values change
// nothing. Partitions apply the new settings at once: each reopens its log,
// after the reads and appends in flight.
func (n *Node) AlterTopicConfig(ctx context.Context, name string, set map[string]string, remove []string) error {
	return n.alterTopicConfig(ctx, name, set, remove, false)
}

// alterTopicConfig is AlterTopicConfig; with validateOnly it only checks.
// In a cluster the controller commits the change, and every node applies
// it.
func (n *Node) alterTopicConfig(ctx context.Context, name string, set map[string]string, remove []string, validateOnly bool) error {
	if n.controller != nil && !internalTopic(name) && !validateOnly {
		return n.alterClusterTopicConfig(ctx, name, set, remove)
	}
	return n.alterLocalTopicConfig(ctx, name, set, remove, validateOnly)
}

// alterLocalTopicConfig changes this node's copy of a topic's configs.
func (n *Node) alterLocalTopicConfig(ctx context.Context, name string, set map[string]string, remove []string, validateOnly bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.changeableTopicLocked(ctx, name, false)
	if err != nil {
		return err
	}
	configs := maps.Clone(t.configs)
	if configs == nil {
		configs = map[string]string{}
	}
	maps.Copy(configs, set)
	for _, k := range remove {
		delete(configs, k)
	}
	cfg, err := parseTopicConfig(n.cfg.TopicDefaults, configs)
	if err != nil || validateOnly {
		if err != nil {
			err = fmt.Errorf("alter topic %s: %w", name, err)
		}
		return err
	}
	old := t.configs
	t.configs = configs
	if err := n.saveLocked(); err != nil {
		t.configs = old
		return err
	}
	t.cfg = cfg
	n.metadataChangedLocked()
	for _, p := range t.partitions {
		if err := p.reconfigure(cfg); err != nil {
			return err
		}
	}
	return nil
}

// TopicInfo describes a topic.
type TopicInfo struct {
	Name       string
	ID         [16]byte
	Internal   bool
	Partitions []PartitionInfo
	// Configs holds every config with the value in force.
	Configs map[string]string
}

// PartitionInfo describes a partition.
type PartitionInfo struct {
	Partition      int32
	LogStartOffset int64
	HighWatermark  int64 // what consumers read below; on a single node, the log end offset
}

// Topics returns every topic, sorted by name.
func (n *Node) Topics() []TopicInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]TopicInfo, 0, len(n.topics))
	for _, t := range n.topics {
		out = append(out, n.describe(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DescribeTopic describes one topic, or gives ErrUnknownTopic.
func (n *Node) DescribeTopic(name string) (TopicInfo, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	t, err := n.topicLocked(name)
	if err != nil {
		return TopicInfo{}, err
	}
	return n.describe(t), nil
}

func (n *Node) describe(t *topic) TopicInfo {
	info := TopicInfo{Name: t.name, ID: t.id, Internal: internalTopic(t.name),
		Configs: effectiveTopicConfigs(n.cfg.TopicDefaults, t.configs)}
	for _, p := range t.partitions {
		p.mu.RLock()
		info.Partitions = append(info.Partitions, PartitionInfo{Partition: p.index,
			LogStartOffset: p.log.StartOffset(), HighWatermark: p.highWatermarkLocked()})
		p.mu.RUnlock()
	}
	return info
}

func (n *Node) hasTopic(name string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	_, ok := n.topics[name]
	return ok
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// partitionCount returns how many partitions a topic has, creating the
// topic when the node auto-creates topics.
func (n *Node) partitionCount(ctx context.Context, topic string) (int32, error) {
	count, err := n.existingPartitionCount(topic)
	if errors.Is(err, ErrUnknownTopic) && n.cfg.AutoCreateTopics {
		if err = n.autoCreate(ctx, topic); err == nil {
			return n.existingPartitionCount(topic)
		}
	}
	return count, err
}

// partitionCounts returns every topic's partition count: what a Poll needs
// of the topics, without describing each. The map is shared: the caller
// must not change it.
func (n *Node) partitionCounts() map[string]int32 {
	if snapshot := n.counts.Load(); snapshot.current() {
		return snapshot.counts
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.snapshotCountsRLocked().counts
}

// existingPartitionCount is partitionCount without creating the topic.
// A producer asks it for every record, so it answers from a snapshot of
// the counts, without n.mu, until the topics change.
func (n *Node) existingPartitionCount(topic string) (int32, error) {
	if snapshot := n.counts.Load(); snapshot.current() {
		if count, ok := snapshot.counts[topic]; ok {
			return count, nil
		}
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	t, err := n.topicLocked(topic)
	if err != nil {
		return 0, err
	}
	n.snapshotCountsRLocked()
	return int32(len(t.partitions)), nil
}

// snapshotCountsRLocked takes a snapshot of the partition counts, stores
// it for the lookups after, and returns it.
func (n *Node) snapshotCountsRLocked() *partitionCounts {
	old := n.counts.Load()
	snapshot := &partitionCounts{changed: n.metadataChanged, counts: make(map[string]int32, len(n.topics))}
	for name, t := range n.topics {
		snapshot.counts[name] = int32(len(t.partitions))
	}
	if !n.closed { // a closed node's lookups take the lock, and fail
		n.counts.CompareAndSwap(old, snapshot)
	}
	return snapshot
}

// partitionCounts is a snapshot of every topic's partition count, true
// until changed is closed.
type partitionCounts struct {
	changed <-chan struct{}
	counts  map[string]int32
}

// current reports whether the snapshot still holds: it is not nil and the
// topics have not changed since it was taken.
func (c *partitionCounts) current() bool {
	if c == nil {
		return false
	}
	select {
	case <-c.changed:
		return false
	default:
		return true
	}
}
