// Node: opening and closing one, its registry, producer IDs, the batch API.

package creek

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
	txns    txnStore           // the transaction coordinator
	// metadataChanged is closed, and replaced, when topics or partitions
	// come or go: group members watch it to rebalance.
	metadataChanged chan struct{}
	// counts is a snapshot of the partition counts, read without mu by
	// producers and Poll (existingPartitionCount, partitionCounts).
	counts       atomic.Pointer[partitionCounts]
	kafka        *kafka.Server    // the Kafka listener, when Config.Listen is set
	scram        *scramStore      // SCRAM users' credentials (scramstore.go)
	scramAlters  sync.Mutex       // on the controller's leader, one SCRAM alteration at a time (clusterscram.go)
	acls         kafka.Authorizer // with Config.ACL: the node's (aclstore.go), or in a cluster the cluster's (clusteracl.go)
	stopListener sync.Once
	members      *membership.Membership // the cluster's live nodes, when Config.Cluster is set
	identities   *identityChecks        // with node identities, the members proven to be nodes (nodeverify.go)
	controller   *clusterController     // this node's part in the cluster's Raft controller
	replicas     *replicaManager        // this node's side of replication, in a cluster
	peers        *peerConns             // connections to other nodes, for requests forwarded to them
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

// memDir is where a memory node keeps its files, in its own file system.
const memDir = "/creek"

// Open opens a node. With Config.Dir empty it keeps everything in memory
// and is ready in microseconds; otherwise it opens (creating if needed) the
// directory and recovers every partition. Close releases it.
func Open(cfg Config) (*Node, error) {
	if cfg.Dir == "" {
		return openNode(fsx.NewMem(), memDir, cfg, newWallClock().now)
	}
	return openNode(fsx.OS(), cfg.Dir, cfg, newWallClock().now)
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
	var seed map[string]string
	if cfg.SASL != nil {
		seed = cfg.SASL.ScramUsers
	}
	if cfg.Cluster != nil {
		n.scram = n.clusterScramStore() // seeded by the controller's leader
	} else if n.scram, err = openScramStore(fs, dir, seed); err != nil {
		return nil, fmt.Errorf("open node %s: %w", dir, err)
	}
	if cfg.ACL != nil {
		if cfg.Cluster != nil {
			n.acls = &clusterACLs{n: n, empty: cfg.ACL.emptyAuthorizer(),
				caughtUp: func() bool { return n.controller != nil && n.controller.awaitCaughtUp(catchUpWait) }}
		} else if n.acls, err = openACLStore(fs, dir, cfg.ACL); err != nil {
			return nil, fmt.Errorf("open node %s: %w", dir, err)
		}
	}
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
	n.startTxns()
	if err := n.loadTxnCoordinators(); err != nil {
		n.stopTxns()
		return nil, errors.Join(err, n.closeTopics())
	}
	listeners, err := n.listen()
	if err != nil {
		return nil, errors.Join(err, n.closeTopics())
	}
	if cfg.Cluster != nil {
		if err := n.joinCluster(listeners); err != nil {
			return nil, errors.Join(err, closeListeners(listeners), n.Close())
		}
	}
	if len(listeners) > 0 {
		if err := n.serve(listeners); err != nil {
			return nil, errors.Join(err, closeListeners(listeners), n.Close())
		}
	}
	return n, nil
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

// Close leaves the node's cluster, stops the Kafka listener (requests in
// flight finish first), ends every group, and closes every partition. A
// second Close returns nil.
func (n *Node) Close() error {
	var err error
	n.stopListener.Do(func() { // first, so requests in flight finish against an open node
		err = n.leaveCluster()
		if n.kafka != nil {
			err = errors.Join(err, n.kafka.Close())
		}
	})
	n.groups.Close() // before n.mu: a membership being stored needs it
	n.stopTxns()     // before the partitions close: markers may be being written
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return err
	}
	n.closed = true
	n.counts.Store(nil) // no snapshot answers for a closed node, and none is taken again
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

// FetchBatches appends to dst the stored batches of a partition from
// offset on, as Kafka's Fetch does: up to opts.MaxBytes (but always one
// whole batch), waiting up to opts.MaxWait for opts.MinBytes to arrive. The
// first batch may begin below offset; skip the records before it. In a
// cluster, a partition this node does not lead gives ErrNotLeader.
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
