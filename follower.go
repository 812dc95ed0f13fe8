// A follower's fetcher: copying its leaders' logs, truncating where they
// diverge.

package creek

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
)

// Follower fetch settings: how long the leader may hold a fetch that finds
// nothing new, and how much one fetch may bring.
const (
	replicaFetchMaxWait = 500 * time.Millisecond
	// replicaFetchSlack is how much longer than MaxWait a replica fetch
	// may take before the fetcher gives up on it.
	replicaFetchSlack          = 5 * time.Second
	replicaFetchMaxBytes       = 16 << 20
	replicaFetchPartitionBytes = 1 << 20
	// replicaRetryBackoff is the pause after a fetch that failed or that no
	// partition could use, so a follower whose metadata is ahead of its
	// leader's does not spin.
	replicaRetryBackoff = 50 * time.Millisecond
)

// fetcher copies the partitions this node follows from one leader node,
// as Kafka's replica fetcher thread does: one connection, one Fetch
// request at a time for all of them, with this node's ID as replica ID so
// the leader counts each fetch offset as the follower's log end offset. A
// partition that has just become a follower first truncates where its log
// diverges from the leader's.
type fetcher struct {
	m      *replicaManager
	leader int32

	mu    sync.Mutex
	parts map[*partition]bool
	wake  chan struct{} // signalled when parts changes

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func newFetcher(m *replicaManager, leader int32) *fetcher {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fetcher{m: m, leader: leader, parts: map[*partition]bool{}, wake: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go f.run()
	return f
}

func (f *fetcher) add(p *partition) {
	f.mu.Lock()
	f.parts[p] = true
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// remove stops copying p and reports whether the fetcher had it.
func (f *fetcher) remove(p *partition) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	had := f.parts[p]
	delete(f.parts, p)
	return had
}

func (f *fetcher) empty() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.parts) == 0
}

func (f *fetcher) snapshot() []*partition {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*partition, 0, len(f.parts))
	for p := range f.parts {
		out = append(out, p)
	}
	return out
}

// close stops the fetcher and waits for it.
func (f *fetcher) close() {
	f.cancel()
	<-f.done
}

func (f *fetcher) run() {
	defer close(f.done)
	var conn *kafka.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for f.ctx.Err() == nil {
		parts := f.snapshot()
		if len(parts) == 0 {
			f.pause(0)
			continue
		}
		if conn == nil {
			var err error
			if conn, err = f.dial(); err != nil {
				f.m.n.log.Debug("cannot reach a partition leader", "leader", f.leader, "err", err)
				f.pause(replicaRetryBackoff)
				continue
			}
		}
		progressed, err := f.round(conn, parts)
		if err != nil {
			if f.ctx.Err() == nil {
				f.m.n.log.Debug("replica fetch failed", "leader", f.leader, "err", err)
			}
			conn.Close()
			conn = nil
		}
		if err != nil || !progressed {
			f.pause(replicaRetryBackoff)
		}
	}
}

// pause waits d (for ever when 0) or until the partitions change or the
// fetcher stops.
func (f *fetcher) pause(d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-f.ctx.Done():
	case <-f.wake:
	case <-timeout:
	}
}

// dial connects to the leader's Kafka listener.
func (f *fetcher) dial() (*kafka.Conn, error) {
	addr := f.m.n.memberKafkaAddr(f.leader)
	if addr == "" {
		return nil, fmt.Errorf("node %d is not a live member", f.leader)
	}
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	return f.m.n.dialNode(ctx, addr, fmt.Sprintf("creek-replica-%d", f.m.self))
}

// round truncates the partitions that need it, then fetches once for all,
// and reports whether any partition got an answer it could use.
func (f *fetcher) round(conn *kafka.Conn, parts []*partition) (progressed bool, err error) {
	var ready []*partition
	var diverged []*partition
	for _, p := range parts {
		if st := p.followState(); st.truncate {
			diverged = append(diverged, p)
		} else if st.role == roleFollower && st.leaderID == f.leader {
			ready = append(ready, p)
		}
	}
	truncated := 0
	if len(diverged) > 0 {
		if truncated, err = f.truncate(conn, diverged); err != nil {
			return false, err
		}
	}
	if len(ready) == 0 {
		return truncated > 0, nil // none truncated: the leader is not ready; pause before asking again
	}
	progressed, err = f.fetch(conn, ready)
	return progressed || truncated > 0, err
}

// followState returns the partition's replication role.
func (p *partition) followState() replicaState {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.repl
}

// truncate asks the leader where each partition's newest epoch ends there
// and cuts the follower's log to match (KIP-101). It returns how many
// partitions it truncated: a leader that has not yet taken up its epoch
// answers with an error, and those wait for the next round.
func (f *fetcher) truncate(conn *kafka.Conn, parts []*partition) (truncated int, err error) {
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = f.m.self
	epochs := map[*partition]int32{}
	for _, p := range parts {
		st := p.followState()
		if p.epochs.latest() < 0 { // nothing to ask about: keep what is known to agree
			if err := p.truncateToLeader(st.epoch, -1, -1); err != nil {
				return truncated, err
			}
			truncated++
			continue
		}
		epochs[p] = st.epoch
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = p.topic
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = p.index, st.epoch, p.epochs.latest()
		rt.Partitions = []kmsg.OffsetForLeaderEpochRequestTopicPartition{rp}
		req.Topics = append(req.Topics, rt)
	}
	if len(req.Topics) == 0 {
		return truncated, nil
	}
	resp, err := conn.Request(f.ctx, req)
	if err != nil {
		return truncated, err
	}
	byPartition := map[TopicPartition]kmsg.OffsetForLeaderEpochResponseTopicPartition{}
	for _, rt := range resp.(*kmsg.OffsetForLeaderEpochResponse).Topics {
		for _, rp := range rt.Partitions {
			byPartition[TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = rp
		}
	}
	for p := range epochs {
		rp, ok := byPartition[TopicPartition{Topic: p.topic, Partition: p.index}]
		if !ok || rp.ErrorCode != 0 {
			f.m.n.log.Debug("leader cannot say where its epoch ends yet", "topic", p.topic, "partition", p.index,
				"leader", f.leader, "err", errorForCode(rp.ErrorCode, "offset for leader epoch"))
			continue // the leader is not ready (its metadata may lag ours); the next round asks again
		}
		if err := p.truncateToLeader(epochs[p], rp.LeaderEpoch, rp.EndOffset); err != nil {
			f.m.n.log.Error("could not truncate a follower's log", "topic", p.topic, "partition", p.index, "err", err)
			continue
		}
		truncated++
	}
	return truncated, nil
}

// fetch sends one replica Fetch for parts and appends what comes back.
func (f *fetcher) fetch(conn *kafka.Conn, parts []*partition) (progressed bool, err error) {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.ReplicaState.ID = f.m.self, f.m.self
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = int32(replicaFetchMaxWait/time.Millisecond), 1, replicaFetchMaxBytes
	index := map[TopicPartition]asked{}
	topics := map[string]int{}
	for _, p := range parts {
		st := p.followState()
		index[TopicPartition{Topic: p.topic, Partition: p.index}] = asked{p, st.epoch}
		i, ok := topics[p.topic]
		if !ok {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = p.topic, f.m.n.topicID(p.topic)
			req.Topics = append(req.Topics, rt)
			i = len(req.Topics) - 1
			topics[p.topic] = i
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch = p.index, st.epoch
		rp.FetchOffset, rp.PartitionMaxBytes = p.log.EndOffset(), replicaFetchPartitionBytes
		rp.LastFetchedEpoch = p.epochs.latest()
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	// A leader answers within MaxWait; one that does not has lost the
	// request or the connection, and the fetcher dials again.
	ctx, cancel := context.WithTimeout(f.ctx, replicaFetchMaxWait+replicaFetchSlack)
	defer cancel()
	resp, err := conn.Request(ctx, req)
	if err != nil {
		return false, err
	}
	fr := resp.(*kmsg.FetchResponse)
	if fr.ErrorCode != 0 {
		return false, errorForCode(fr.ErrorCode, "replica fetch")
	}
	for _, rt := range fr.Topics {
		name := rt.Topic
		if name == "" {
			name = f.m.n.topicName(rt.TopicID)
		}
		for _, rp := range rt.Partitions {
			a, ok := index[TopicPartition{Topic: name, Partition: rp.Partition}]
			if !ok {
				continue
			}
			if f.apply(a.p, a.epoch, name, &rp) {
				progressed = true
			}
		}
	}
	return progressed, nil
}

// asked is a partition a replica fetch asked for, at the epoch it followed.
type asked struct {
	p     *partition
	epoch int32
}

// apply applies the leader's answer for one partition, fetched at epoch,
// and reports whether the partition could use it: batches appended, the
// log cut where it diverges, or the log started again where the leader's
// starts.
func (f *fetcher) apply(p *partition, epoch int32, name string, rp *kmsg.FetchResponseTopicPartition) bool {
	var err error
	switch {
	case rp.ErrorCode == kerr.OffsetOutOfRange.Code && rp.LogStartOffset > p.log.EndOffset():
		err = p.restartAt(rp.LogStartOffset, f.leader, epoch) // the leader no longer has what this replica lacks
	case rp.ErrorCode == kerr.OffsetOutOfRange.Code && rp.HighWatermark >= 0 && rp.HighWatermark < p.log.EndOffset():
		// Past the leader's end, with no epoch to find where they part:
		// keep what the high watermark says both have.
		err = p.truncateDiverged(f.leader, epoch, -1, rp.HighWatermark)
	case rp.ErrorCode != 0:
		f.m.n.log.Debug("replica fetch refused", "topic", name, "partition", rp.Partition,
			"err", errorForCode(rp.ErrorCode, "fetch"))
		return false
	case rp.DivergingEpoch.EndOffset >= 0: // KIP-595: the logs part before the offset fetched
		err = p.truncateDiverged(f.leader, epoch, rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset)
	default:
		err = p.appendReplica(rp.RecordBatches, rp.HighWatermark, f.leader, epoch)
		if errors.Is(err, errNotFollowing) {
			return false // its role changed while the fetch was out
		}
		if errors.Is(err, errReplicaMisaligned) {
			err = p.refetchAll(rp.LogStartOffset, f.leader, epoch)
		}
		if err == nil {
			err = p.followLogStart(rp.LogStartOffset)
		}
	}
	if err != nil {
		f.m.n.log.Error("could not apply a leader's answer to a replica fetch", "topic", name, "partition", rp.Partition,
			"err", err)
		return false
	}
	return true
}

// memberKafkaAddr returns where a live member serves Kafka, or "".
func (n *Node) memberKafkaAddr(id int32) string {
	for _, m := range n.ClusterMembers() {
		if m.NodeID == id {
			return m.KafkaAddr
		}
	}
	return ""
}

// topicID returns a topic's ID, zero for none.
func (n *Node) topicID(name string) [16]byte {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if t := n.topics[name]; t != nil {
		return t.id
	}
	return [16]byte{}
}

// topicName returns the name of the topic with an ID, "" for none.
func (n *Node) topicName(id [16]byte) string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for name, t := range n.topics {
		if t.id == id {
			return name
		}
	}
	return ""
}
