// A partition's role on this node: leader (with its replica tracker),
// follower or neither.

package creek

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/replica"
	"github.com/creekmq/creek/internal/txnlog"
)

// replicaRole is what this node does for a partition.
type replicaRole uint8

const (
	// roleLeader takes writes and serves reads. The zero value: a node
	// outside a cluster leads every partition it has.
	roleLeader replicaRole = iota
	// roleFollower copies the leader's log and serves no client.
	roleFollower
	// roleNone: the node keeps the partition's (empty) log but is not one
	// of its replicas.
	roleNone
)

// replicaState is a partition's part in replication, guarded by
// partition.mu: changed under the write lock, read under the read lock,
// so a change of role waits for the appends and reads in flight.
type replicaState struct {
	role     replicaRole
	leaderID int32 // the node that leads the partition; -1 for none
	epoch    int32 // the leader epoch; 0 outside a cluster
	// tracker is the leader's view of its followers, in a cluster; nil
	// outside one, where the log end offset is the high watermark. Its
	// own fields are guarded by partition.trackMu.
	tracker *replica.Tracker
	// truncate is set when the node becomes a follower: before fetching
	// it asks the leader where their logs diverge (KIP-101).
	truncate bool
}

// checkLeader fails unless the node leads the partition, at the leader
// epoch the request names when it names one (≥ 0). Call it holding p.mu.
func (p *partition) checkLeaderLocked(requestEpoch int32) error {
	switch {
	case p.repl.role != roleLeader:
		return fmt.Errorf("%w: %s-%d is led by node %d", ErrNotLeader, p.topic, p.index, p.repl.leaderID)
	case p.fenced != nil && p.fenced.Load():
		return fmt.Errorf("%w: %s-%d: this node has lost the cluster's controller, and may have been deposed",
			ErrNotLeader, p.topic, p.index)
	case requestEpoch >= 0 && requestEpoch < p.repl.epoch:
		return fmt.Errorf("%w: %s-%d at %d, asked at %d", ErrFencedLeaderEpoch, p.topic, p.index, p.repl.epoch, requestEpoch)
	case requestEpoch > p.repl.epoch:
		return fmt.Errorf("%w: %s-%d at %d, asked at %d", ErrUnknownLeaderEpoch, p.topic, p.index, p.repl.epoch, requestEpoch)
	}
	return nil
}

// highWatermarkLocked returns the offset consumers read below: the
// leader's high watermark; on a follower what its leader last reported;
// outside a cluster the log end offset. Call it holding p.mu.
func (p *partition) highWatermarkLocked() int64 {
	end := p.log.EndOffset()
	if t := p.repl.tracker; t != nil {
		p.trackMu.Lock()
		defer p.trackMu.Unlock()
		return min(t.HighWatermark(), end)
	}
	if p.repl.role != roleLeader {
		return min(p.followerHW.Load(), end)
	}
	return end
}

// highWatermark is highWatermarkLocked for a caller not holding p.mu.
func (p *partition) highWatermark() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.highWatermarkLocked()
}

// leaderState is the partition's role as the controller committed it.
type leaderState struct {
	leader   int32
	epoch    int32
	replicas []int32
	isr      []int32
}

// becomeLeader makes this node the partition's leader at st.epoch, and
// reports whether it did: the epoch starts at the log's end, and the high
// watermark starts where this node last knew it, to advance as followers
// fetch. Already leading at that epoch, it only applies a new ISR.
func (p *partition) becomeLeader(self int32, st leaderState, lagMax time.Duration) (bool, error) {
	if p.applyISR(st) {
		return false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.epochs.assign(st.epoch, p.log.EndOffset()); err != nil {
		return false, fmt.Errorf("lead %s-%d: %w", p.topic, p.index, err)
	}
	start := p.highWatermarkLocked()
	p.log.log.Debug("leading a partition", "topic", p.topic, "partition", p.index, "epoch", st.epoch,
		"log_end", p.log.EndOffset(), "high_watermark", start, "isr", st.isr)
	p.trackMu.Lock()
	p.repl = replicaState{role: roleLeader, leaderID: self, epoch: st.epoch,
		tracker: replica.NewTracker(self, st.epoch, st.replicas, st.isr, start, p.log.EndOffset(),
			p.cfg.minInsyncReplicas, lagMax, p.now())}
	p.trackMu.Unlock()
	p.wake()
	return true, nil
}

// applyISR applies a committed ISR when this node already leads at
// st.epoch, and reports whether it did. It takes the partition's lock
// shared: every metadata change reaches every partition, and an exclusive
// lock would wait for the appends in flight.
func (p *partition) applyISR(st leaderState) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.repl.tracker
	if p.repl.role != roleLeader || p.repl.epoch != st.epoch || t == nil {
		return false
	}
	p.trackMu.Lock()
	t.SetISR(st.isr)
	p.trackMu.Unlock()
	p.wake() // the high watermark may have moved; and tests watch the ISR
	return true
}

// follow makes this node a follower of leader at epoch (role
// roleFollower), or a non-replica (roleNone). A deposed leader's writes
// still waiting for replication fail with ErrNotLeader: the new leader
// may not have them. It reports whether anything changed.
func (p *partition) follow(role replicaRole, leader, epoch int32) bool {
	p.mu.RLock()
	same := p.repl.role == role && p.repl.leaderID == leader && p.repl.epoch == epoch
	p.mu.RUnlock()
	if same { // the common case, without waiting for the appends in flight
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl.role == role && p.repl.leaderID == leader && p.repl.epoch == epoch {
		return false
	}
	hw := p.highWatermarkLocked()
	if t := p.repl.tracker; t != nil {
		p.trackMu.Lock()
		t.Abandon()
		p.trackMu.Unlock()
	}
	p.followerHW.Store(hw)
	p.repl = replicaState{role: role, leaderID: leader, epoch: epoch, truncate: role == roleFollower}
	p.wake() // readers waiting here must learn they now ask the wrong node
	return true
}

// replicaFetched records a follower's fetch from offset on the leader and
// returns whether the follower should join the ISR, with the ISR it would
// make.
func (p *partition) replicaFetched(follower int32, offset int64) (expand bool, isr []int32) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.repl.tracker
	if t == nil {
		return false, nil
	}
	p.trackMu.Lock()
	moved, expand := t.Fetched(follower, offset, p.now())
	if expand {
		isr = append(t.InSync(), follower)
	}
	p.trackMu.Unlock()
	if moved {
		p.wake()
	}
	return expand, isr
}

// divergence checks a follower's fetch from offset, whose newest batch is
// of lastEpoch (-1: it has none), against the leader's log (KIP-595): the
// follower's log matches the leader's up to offset only if the leader's
// lastEpoch, as far as the leader has it, ends at or after offset. If it
// does not, the leader's answer is where the follower must truncate to: the
// leader's newest epoch at or below lastEpoch and where it ends. A
// follower with no epoch fetching past the leader's log end is out of
// range.
func (p *partition) divergence(lastEpoch int32, offset int64) (diverged bool, epoch int32, end int64, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	logEnd := p.log.EndOffset()
	if lastEpoch < 0 {
		if offset > logEnd {
			return false, -1, -1, fmt.Errorf("%w: replica fetch of %s-%d at %d, past the log end %d",
				ErrOffsetOutOfRange, p.topic, p.index, offset, logEnd)
		}
		return false, -1, -1, nil
	}
	epoch, end = p.epochs.endOffsetFor(lastEpoch, logEnd)
	switch {
	case epoch < 0: // the leader has no epoch at or below it: all that is known to agree is the high watermark
		return true, -1, p.highWatermarkLocked(), nil
	case epoch != lastEpoch || end < offset:
		return true, epoch, end, nil
	}
	return false, -1, -1, nil
}

// laggingReplicas returns the ISR without the followers that have not
// caught up within replica.lag.time.max.ms, when there are any such.
func (p *partition) laggingReplicas() (epoch int32, isr []int32, shrink bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.repl.tracker
	if t == nil {
		return 0, nil, false
	}
	p.trackMu.Lock()
	defer p.trackMu.Unlock()
	lagging := t.Tick(p.now())
	if len(lagging) == 0 {
		return 0, nil, false
	}
	for _, r := range t.InSync() {
		if !slices.Contains(lagging, r) {
			isr = append(isr, r)
		}
	}
	return p.repl.epoch, isr, true
}

// replicated returns what an append that ends at end waits for after it
// is durable here: with acks=all, the high watermark passing end; with
// fewer acks, nothing. Call it holding p.mu.
func (p *partition) replicatedLocked(end int64, acksAll bool) <-chan error {
	t := p.repl.tracker
	if t == nil {
		return nil
	}
	p.trackMu.Lock()
	var done <-chan error
	var moved bool
	if acksAll {
		done = t.Appended(end)
	} else {
		moved = t.Grew(end)
	}
	p.trackMu.Unlock()
	if moved {
		p.wake()
	}
	return done
}

// checkReplicasLocked refuses an acks=all write while the ISR is smaller
// than min.insync.replicas. Call it holding p.mu.
func (p *partition) checkReplicasLocked() error {
	t := p.repl.tracker
	if t == nil {
		return nil
	}
	p.trackMu.Lock()
	defer p.trackMu.Unlock()
	return t.CheckAppend()
}

// errNotFollowing is returned for a fetched answer that arrives after the
// partition stopped following that leader at that epoch.
var errNotFollowing = errors.New("the partition no longer follows that leader")

// errReplicaMisaligned is returned for a leader's batch that does not
// begin where the follower's log ends: their logs differ at the same
// offsets, which no truncation by epoch can mend.
var errReplicaMisaligned = errors.New("a leader's batch does not begin at the follower's log end")

// appendReplica appends batches a follower fetched from leader at epoch,
// at the leader's offsets, recording new leader epochs first and the
// batches' producers after, then waits for them to be as durable as
// creek.sync says.
func (p *partition) appendReplica(batches []byte, leaderHW int64, leader, epoch int32) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.repl.role != roleFollower || p.repl.leaderID != leader || p.repl.epoch != epoch || p.repl.truncate {
		return errNotFollowing
	}
	var last pendingSync
	appended := false
	for len(batches) > 0 {
		b, rest, err := batch.Next(batches)
		if err != nil {
			break // a partial batch at the end of a fetch: the next fetch has it whole
		}
		batches = rest
		h, err := batch.ParseHeader(b)
		if err != nil {
			return err
		}
		if h.LastOffset() < p.log.EndOffset() {
			continue // a batch that began before the offset fetched
		}
		if h.BaseOffset != p.log.EndOffset() {
			return fmt.Errorf("%w: %s-%d: the leader's batch at offset %d, the log ends at %d",
				errReplicaMisaligned, p.topic, p.index, h.BaseOffset, p.log.EndOffset())
		}
		if h.PartitionLeaderEpoch > p.epochs.latest() {
			if err := p.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset); err != nil {
				return err
			}
		}
		if last, err = p.log.writeReplica(b); err != nil {
			p.healLater(err)
			return fmt.Errorf("replicate %s-%d: %w", p.topic, p.index, err)
		}
		if h.ProducerID >= 0 {
			// The leader decided; a marker that does not parse changes
			// nothing, as in a replay.
			marker, _ := markerOf(b, h)
			p.producersMu.Lock()
			err := p.recordLocked(h, marker, p.now().UnixMilli())
			p.producersMu.Unlock()
			if err != nil {
				p.healLater(err)
				return fmt.Errorf("replicate %s-%d: %w", p.topic, p.index, err)
			}
		}
		appended = true
	}
	p.followerHW.Store(min(leaderHW, p.log.EndOffset()))
	if !appended {
		return nil
	}
	p.snapshotAfterRoll()
	if err := last.wait(); err != nil {
		p.healLater(err)
		return fmt.Errorf("replicate %s-%d: %w", p.topic, p.index, err)
	}
	p.wake()
	return nil
}

// followLogStart moves a follower's log start offset up to its leader's,
// as far as its log reaches: records deleted on the leader (DeleteRecords)
// go on the followers too.
func (p *partition) followLogStart(leaderStart int64) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.repl.role != roleFollower || leaderStart <= p.log.StartOffset() {
		return nil
	}
	if err := p.log.DeleteRecordsBefore(min(leaderStart, p.log.EndOffset())); err != nil {
		return fmt.Errorf("follow the log start of %s-%d: %w", p.topic, p.index, err)
	}
	p.wake()
	return nil
}

// refetchAll empties a follower's log, starting it at its leader's log
// start, for a log that cannot continue from the leader's
// (errReplicaMisaligned): rather than fail the same way at every fetch, it
// copies the leader's log again. Nothing it held was the leader's.
func (p *partition) refetchAll(leaderStart int64, leader, epoch int32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl.role != roleFollower || p.repl.leaderID != leader || p.repl.epoch != epoch {
		return nil
	}
	before := p.log.EndOffset()
	err := p.log.discard()
	if err == nil && leaderStart > 0 {
		err = p.log.resetTo(leaderStart)
	}
	if err == nil {
		err = p.epochs.truncateFrom(0)
	}
	if err == nil {
		err = p.reloadProducersLocked()
	}
	if err != nil {
		return fmt.Errorf("copy %s-%d from its leader again: %w", p.topic, p.index, err)
	}
	p.log.log.Warn("follower copies its leader's log again: its own could not continue it", "topic", p.topic,
		"partition", p.index, "log_end", before, "leader_start", leaderStart)
	p.wake()
	return nil
}

// restartAt empties a follower's log and starts it at its leader's log
// start, when the log ends below it: the records between are gone from
// the leader (retention, DeleteRecords), as for a new replica of an old
// partition. The follower forgets its leader epochs with its records.
func (p *partition) restartAt(leaderStart int64, leader, epoch int32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl.role != roleFollower || p.repl.leaderID != leader || p.repl.epoch != epoch ||
		leaderStart <= p.log.EndOffset() {
		return nil // its role or log changed meanwhile
	}
	if err := p.log.resetTo(leaderStart); err != nil {
		return fmt.Errorf("restart %s-%d at its leader's log start: %w", p.topic, p.index, err)
	}
	if err := p.epochs.truncateFrom(0); err != nil {
		return fmt.Errorf("restart %s-%d at its leader's log start: %w", p.topic, p.index, err)
	}
	if err := removeProducerSnapshots(p.fs, p.dir); err != nil {
		return fmt.Errorf("restart %s-%d at its leader's log start: %w", p.topic, p.index, err)
	}
	p.setTxnsLocked(txnlog.NewTracker()) // none left in a log with nothing in it
	p.wake()
	return nil
}

// truncateToLeader cuts the follower's log where it diverges from the
// leader's: the leader's end offset for the follower's newest epoch, or
// for the newest epoch the leader has below it (KIP-101, KIP-279).
// leaderEpoch and leaderEnd are the leader's answer to OffsetForLeaderEpoch
// for this node's newest epoch; -1 when it has no such epoch, in which
// case the log is cut to the high watermark, all that is known to agree.
func (p *partition) truncateToLeader(askedAt, leaderEpoch int32, leaderEnd int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl.role != roleFollower || p.repl.epoch != askedAt || !p.repl.truncate {
		return nil // its role changed meanwhile; the new one decides
	}
	if leaderEpoch < 0 {
		leaderEnd = -1 // the leader has no such epoch: cut to the high watermark
	}
	if err := p.cutDivergedLocked(leaderEpoch, leaderEnd); err != nil {
		return err
	}
	p.repl.truncate = false
	return nil
}

// truncateDiverged cuts a follower's log where its leader's fetch answer
// says it diverges (KIP-595): the leader's epoch divergingEpoch (-1: none
// at or below the follower's) ends at divergingEnd there.
func (p *partition) truncateDiverged(leader, epoch, divergingEpoch int32, divergingEnd int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl.role != roleFollower || p.repl.leaderID != leader || p.repl.epoch != epoch {
		return nil // its role changed meanwhile; the new one decides
	}
	return p.cutDivergedLocked(divergingEpoch, divergingEnd)
}

// cutDivergedLocked truncates the follower's log to where it agrees with
// its leader's, which has leaderEpoch ending at leaderEnd: the lesser of
// that end and the follower's own end of that epoch. With leaderEpoch -1
// the leader's end alone counts; with leaderEnd -1 as well, the high
// watermark, all that is known to agree. The follower forgets the epochs
// the cut leaves empty and the leader does not have (epochCache.forgetAfter),
// even when nothing was cut: a follower that led an epoch without writing
// to it would otherwise name it again in its next fetch. Call it holding
// p.mu.
func (p *partition) cutDivergedLocked(leaderEpoch int32, leaderEnd int64) error {
	to := p.log.EndOffset()
	switch {
	case leaderEnd < 0:
		to = min(to, p.followerHW.Load())
	case leaderEpoch < 0:
		to = min(to, leaderEnd)
	default:
		_, ownEnd := p.epochs.endOffsetFor(leaderEpoch, to)
		if ownEnd < 0 {
			ownEnd = to
		}
		to = min(to, leaderEnd, ownEnd)
	}
	to = max(to, p.log.StartOffset())
	before := p.log.EndOffset()
	end, err := p.log.Truncate(to)
	if err != nil {
		return fmt.Errorf("truncate %s-%d to %d: %w", p.topic, p.index, to, err)
	}
	if err := p.epochs.forgetAfter(end, leaderEpoch); err != nil {
		return err
	}
	if end < before { // the producers' recent batches may be among those cut
		p.log.log.Info("follower truncated where its log diverged from its leader's", "topic", p.topic,
			"partition", p.index, "from", before, "to", end, "leader_epoch", leaderEpoch, "leader_end", leaderEnd)
		if err := p.reloadProducersLocked(); err != nil {
			return err
		}
	}
	return nil
}
