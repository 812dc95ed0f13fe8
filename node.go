package creek

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/group"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/membership"
)

// Node is one creek broker: its topics and their partitions, in memory or
// in a directory. It is safe for concurrent use.
type Node struct {
	cfg Config
	fs  fsx.FS
	dir string
	log *slog.Logger
	now func() time.Time

	mu     sync.RWMutex // guards the fields below; held shared while a partition is looked up
	topics map[string]*topic
	closed bool
	// Producer IDs in [nextProducerID, producerIDLimit) may be handed out;
	// the registry records producerIDLimit, so none is ever reused.
	nextProducerID, producerIDLimit int64

	offsets offsetStore        // committed offsets, cached from __consumer_offsets
	groups  *group.Coordinator // consumer group membership
	// metadataChanged is closed, and replaced, when topics or partitions
	// come or go: group members watch it to rebalance.
	metadataChanged chan struct{}
	kafka           *kafka.Server // the Kafka listener, when Config.Listen is set
	stopListener    sync.Once
	members         *membership.Membership // the cluster's live nodes, when Config.Cluster is set
	controller      *clusterController     // this node's part in the cluster's Raft controller
	replicas        *replicaManager        // this node's side of replication, in a cluster
	peers           *peerConns             // connections to other nodes, for requests forwarded to them
	// fenced is set while a cluster node knows no controller leader: cut
	// off from the majority, it may have been deposed without hearing of
	// it, so it leads no partition and names no leader (fence.go).
	fenced atomic.Bool
	// incarnation tells this start of the node's process from the others
	// (controller.RegisterNode); random, fixed at Open.
	incarnation uint64
	autoCreates *tokenBucket // partitions auto-creation may make (Config.AutoCreateRate)
	seenMu      sync.Mutex
	seen        map[int32]ClusterMember // every node this one has seen live, by ID
}

// producerIDBlock is how many producer IDs one registry write reserves.
const producerIDBlock = 1000

// clusterProducerIDShift places a cluster node's ID above the producer IDs
// it counts, so that no two nodes hand out the same one. Kafka's
// controller hands out blocks instead; creek's nodes need no round trip.
const clusterProducerIDShift = 40

// topic is a topic on this node.
type topic struct {
	name       string
	id         [16]byte
	configs    map[string]string // set explicitly; the rest are defaults
	cfg        topicConfig
	partitions []*partition
	adopt      bool // held before the node joined its cluster, and not yet the cluster's (adopt.go)
}

// memDir is where a memory node keeps its files, in its own file system.
const memDir = "/creek"

// Open opens a node. With Config.Dir empty it keeps everything in memory
// and is ready in microseconds; otherwise it opens (creating if needed) the
// directory and recovers every partition. Close releases it.
func Open(cfg Config) (*Node, error) {
	if cfg.Dir == "" {
		return openNode(fsx.NewMem(), memDir, cfg, time.Now)
	}
	return openNode(fsx.OS(), cfg.Dir, cfg, time.Now)
}

func openNode(fs fsx.FS, dir string, cfg Config, now func() time.Time) (*Node, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Logger = limitRepeats(cfg.Logger)
	n := &Node{cfg: cfg, fs: fs, dir: dir, log: cfg.Logger, now: now, topics: map[string]*topic{},
		metadataChanged: make(chan struct{}), incarnation: mrand.Uint64() | 1, // never 0: unregistered
		autoCreates: newTokenBucket(cfg.AutoCreateRate, 10*cfg.AutoCreateRate, now)}
	groups := group.Config{Logger: cfg.Logger, MinSessionTimeout: cfg.GroupMinSessionTimeout,
		MaxSessionTimeout: cfg.GroupMaxSessionTimeout, InitialRebalanceDelay: cfg.GroupInitialRebalanceDelay,
		Store: n.storeGroup}
	if cfg.Cluster != nil { // a group belongs to the leader of its offsets partition
		n.offsets.loaded = map[int32]bool{}
		groups.Owns = n.ownsGroup
		n.fenced.Store(true) // until it has caught up with the controller (fence.go)
	}
	n.groups = group.New(groups)
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	reg, err := readRegistry(fs, dir)
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	n.nextProducerID, n.producerIDLimit = reg.NextProducerID, reg.NextProducerID
	for _, rt := range reg.Topics {
		t, err := n.openTopic(rt)
		if err != nil {
			return nil, errors.Join(err, n.closeTopics())
		}
		n.topics[t.name] = t
	}
	if err := n.removeOrphans(); err != nil {
		return nil, errors.Join(err, n.closeTopics())
	}
	if err := n.loadOffsets(); err != nil {
		return nil, errors.Join(err, n.closeTopics())
	}
	var ln net.Listener
	if cfg.Listen != "" {
		if ln, err = n.listen(); err != nil {
			return nil, errors.Join(err, n.closeTopics())
		}
	}
	if cfg.Cluster != nil {
		if err := n.joinCluster(ln); err != nil {
			return nil, errors.Join(err, closeListener(ln), n.Close())
		}
	}
	if ln != nil {
		if err := n.serve(ln); err != nil {
			return nil, errors.Join(err, ln.Close(), n.Close())
		}
	}
	return n, nil
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

// removeOrphans deletes partition directories of topics the registry does
// not hold: a topic deleted before its files were.
func (n *Node) removeOrphans() error {
	names, err := n.fs.ReadDir(n.dir)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, t := range n.topics {
		for i := range t.partitions {
			keep[filepath.Base(partitionDir(n.dir, t.name, int32(i)))] = true
		}
	}
	keep[clusterMetadataDir] = true // the controller's Raft state, not a partition
	for _, name := range names {
		if isStray(name) {
			continue // set aside for an operator (adopt.go)
		}
		if fi, err := n.fs.Stat(filepath.Join(n.dir, name)); err == nil && fi.IsDir() && !keep[name] {
			n.log.Warn("removing the files of a deleted topic", "dir", name)
			if err := removeDir(n.fs, filepath.Join(n.dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeDir removes a partition directory and the files in it.
func removeDir(fs fsx.FS, dir string) error {
	names, err := fs.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := fs.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := fs.Remove(dir); err != nil {
		return err
	}
	return fs.SyncDir(filepath.Dir(dir))
}

// saveLocked writes the registry from n.topics.
func (n *Node) saveLocked() error {
	var reg registry
	for _, name := range slices.Sorted(maps.Keys(n.topics)) {
		t := n.topics[name]
		reg.Topics = append(reg.Topics, registryTopic{Name: t.name, ID: t.id, Partitions: int32(len(t.partitions)),
			Configs: t.configs, Adopt: t.adopt})
	}
	reg.NextProducerID = n.producerIDLimit
	return writeRegistry(n.fs, n.dir, reg)
}

// InitProducerID gives an idempotent producer a new producer ID, with epoch
// 0, as Kafka's InitProducerId does for a producer without a transactional
// ID. Partitions then drop the producer's retried batches and refuse gaps
// in its sequences.
func (n *Node) InitProducerID(ctx context.Context) (id int64, epoch int16, err error) {
	if err := ctx.Err(); err != nil {
		return -1, -1, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return -1, -1, ErrClosed
	}
	if n.nextProducerID == n.producerIDLimit {
		n.producerIDLimit += producerIDBlock
		if err := n.saveLocked(); err != nil {
			n.producerIDLimit -= producerIDBlock
			return -1, -1, err
		}
	}
	id = n.nextProducerID
	n.nextProducerID++
	if n.cfg.Cluster != nil { // unique in the cluster: every node hands out IDs from its own range
		id |= int64(n.cfg.Cluster.NodeID) << clusterProducerIDShift
	}
	return id, 0, nil
}

// Close stops the Kafka listener (requests in flight finish first), ends
// every group, and closes every partition. A second Close returns nil.
func (n *Node) Close() error {
	var err error
	n.stopListener.Do(func() { // first, so requests in flight finish against an open node
		err = n.leaveCluster()
		if n.kafka != nil {
			err = errors.Join(err, n.kafka.Close())
		}
	})
	n.groups.Close() // before n.mu: a membership being stored needs it
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return err
	}
	n.closed = true
	return errors.Join(err, n.closeTopics())
}

// metadataChangedLocked wakes everything waiting for a change of topics or
// partitions.
func (n *Node) metadataChangedLocked() {
	close(n.metadataChanged)
	n.metadataChanged = make(chan struct{})
}

// watchMetadata returns a channel closed at the next change of topics or
// partitions.
func (n *Node) watchMetadata() <-chan struct{} {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.metadataChanged
}

func (n *Node) closeTopics() error {
	var err error
	for _, t := range n.topics {
		err = errors.Join(err, t.close())
	}
	return err
}

// TopicSpec describes a topic to create.
type TopicSpec struct {
	// Partitions is the number of partitions; default 1.
	Partitions int32
	// ReplicationFactor is the number of replicas; default 1, and at most
	// the number of nodes (1 until clusters exist).
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
// ErrInvalidReplicationFactor or ErrInvalidConfig, and creates nothing then.
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
// a topic: fewer gives ErrInvalidPartitions. In a cluster the controller
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

// partition returns a partition of a topic, or ErrUnknownTopic.
func (n *Node) partition(topic string, index int32) (*partition, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	t, err := n.topicLocked(topic)
	if err != nil {
		return nil, err
	}
	if index < 0 || int(index) >= len(t.partitions) {
		return nil, fmt.Errorf("%w: %s has no partition %d", ErrUnknownTopic, topic, index)
	}
	return t.partitions[index], nil
}

// ProduceBatch appends a Kafka record batch, as a producer sent it, to a
// partition and returns the offset of its first record. The node validates
// the batch, applies the topic's compression.type and
// message.timestamp.type, and waits as the topic's creek.sync says and
// until every in-sync replica has it (acks=all). In a cluster, a partition
// led by another node gets the batch there. It may write to b and does not
// retain it.
func (n *Node) ProduceBatch(ctx context.Context, topic string, partition int32, b []byte) (int64, error) {
	if _, err := n.partitionForProduce(ctx, topic, partition); err != nil {
		return -1, err
	}
	base, _, err := n.produceTo(ctx, topic, partition, b, true)
	return base, err
}

// partitionForProduce returns the partition a batch goes to, creating its
// topic first when the node creates topics on first use.
func (n *Node) partitionForProduce(ctx context.Context, topic string, partition int32) (*partition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := n.partition(topic, partition)
	if errors.Is(err, ErrUnknownTopic) && n.cfg.AutoCreateTopics && !n.hasTopic(topic) {
		if err = n.autoCreate(ctx, topic); err == nil {
			p, err = n.partition(topic, partition)
		}
	}
	return p, err
}

func (n *Node) hasTopic(name string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	_, ok := n.topics[name]
	return ok
}

// FetchBatches appends to dst the stored batches of a partition from
// offset on, as Kafka's Fetch does: up to opts.MaxBytes (but always one
// whole batch), waiting up to opts.MaxWait for opts.MinBytes to arrive. The
// first batch may begin below offset; skip the records before it.
func (n *Node) FetchBatches(ctx context.Context, dst []byte, topic string, partition int32, offset int64, opts FetchOptions) ([]byte, error) {
	p, err := n.partition(topic, partition)
	if err == nil {
		err = p.checkLeader(-1)
	}
	if err != nil {
		return dst, err
	}
	return p.fetch(ctx, dst, offset, opts)
}
