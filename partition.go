// A partition on this node: its log, producer table and configs; appends and
// reads.

package creek

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/idempotence"
	"github.com/creekmq/creek/internal/txnlog"
)

// partition is one partition of a topic on this node: its log, the topic
// settings it applies to batches, and the readers waiting for new data.
type partition struct {
	topic string
	index int32
	dir   string
	fs    fsx.FS
	now   func() time.Time

	// mu guards log and cfg. Produce and Fetch hold it shared while they use
	// the log; a config change holds it exclusively to swap in a log opened
	// with the new settings.
	mu  sync.RWMutex
	log *Log
	cfg topicConfig

	// producers is the idempotent producers' recent batches; producersMu
	// guards its fields, and is held from the sequence check through the
	// write to the record, so that two batches of one producer cannot both
	// pass as the next. producers itself is replaced only under mu held
	// exclusively.
	producers   *idempotence.Table
	producersMu sync.Mutex
	// txns is the partition's transactions (partitiontxn.go), fed every
	// transactional batch; guarded and replaced as producers is; the
	// aborted transactions it finds are in the log's indexes (txnindex.go).
	// firstUnstable is txns' first offset of the oldest open
	// transaction (math.MaxInt64 for none), set under producersMu, so that
	// a fetch reads the last stable offset without waiting for the
	// producers' appends.
	txns          *txnlog.Tracker
	firstUnstable atomic.Int64
	// snapshotRolls is the log's roll count when the producer and
	// transaction snapshots were last written at a roll
	// (snapshotAfterRoll); changed under producersMu.
	snapshotRolls atomic.Int64

	epochs *epochCache // where each leader epoch begins (KIP-101)

	repl       replicaState // guarded by mu
	trackMu    sync.Mutex   // guards repl.tracker's fields
	followerHW atomic.Int64 // a follower's high watermark, as its leader last reported
	// fenced is the node's: set while a cluster node has lost its
	// controller, when it may have been deposed without knowing (nil
	// outside a cluster).
	fenced *atomic.Bool

	waitMu  sync.Mutex
	arrived chan struct{} // closed, and replaced, when a batch is appended

	logger  *slog.Logger
	healing atomic.Bool    // a failed log is being healed (storageheal.go)
	healWG  sync.WaitGroup // the healing goroutine
	closing chan struct{}  // closed by close: healing stops
	closeMu sync.Once
}

func partitionDir(nodeDir, topic string, index int32) string {
	return filepath.Join(nodeDir, fmt.Sprintf("%s-%d", topic, index))
}

func openPartition(fs fsx.FS, nodeDir, topic string, index int32, cfg topicConfig, logger LogConfig, now func() time.Time) (*partition, error) {
	p := &partition{topic: topic, index: index, dir: partitionDir(nodeDir, topic, index), fs: fs, now: now, cfg: cfg,
		arrived: make(chan struct{}), logger: logger.Logger, closing: make(chan struct{})}
	// The log's compaction asks p of its transactions from the moment it
	// opens (cleanableTxns), and finds p.mu held until p is whole.
	p.mu.Lock()
	defer p.mu.Unlock()
	l, err := p.openLog(cfg)
	if err != nil {
		return nil, err
	}
	p.log = l
	if err := p.loadProducersLocked(); err != nil {
		return nil, errors.Join(fmt.Errorf("partition %s-%d: %w", topic, index, err), l.Close())
	}
	if p.epochs, err = openEpochCache(fs, p.dir, l); err == nil && p.epochs.latest() < 0 {
		err = p.epochs.assign(0, l.EndOffset()) // a lone node leads at epoch 0
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("partition %s-%d: %w", topic, index, err), l.Close())
	}
	return p, nil
}

// openLog opens the partition's log with cfg's settings.
func (p *partition) openLog(cfg topicConfig) (*Log, error) {
	lc := cfg.log
	lc.Logger = p.logger
	l, err := openOwnedLog(p.fs, p.dir, lc, p.now, p)
	if err != nil {
		return nil, fmt.Errorf("partition %s-%d: %w", p.topic, p.index, err)
	}
	return l, nil
}

// produce appends one batch as the topic's settings say: recompressed when
// compression.type names a codec other than the batch's, stamped with the
// log append time under LogAppendTime, and with the leader's epoch. It
// returns the base offset and the time the batch was stamped with (-1
// under CreateTime), once the batch is as durable as creek.sync says and,
// with acksAll, every in-sync replica has it. It writes to b and may
// return a new batch in its place.
func (p *partition) produce(ctx context.Context, b []byte, acksAll bool) (base, appendTime int64, err error) {
	base, appendTime, acked, err := p.appendBatch(b, acksAll, fromClient)
	if err == nil {
		err = acked(ctx, defaultReplicationTimeout)
	}
	return base, appendTime, err
}

// defaultReplicationTimeout bounds an in-process acks=all write's wait for
// its replicas, as a Kafka producer's request.timeout.ms does.
const defaultReplicationTimeout = 30 * time.Second

// batchOrigin says where a batch to append comes from, and so what of it
// must be checked.
type batchOrigin uint8

const (
	// fromClient is a batch as a client sent it: its CRC and every record
	// are validated before it is stored.
	fromClient batchOrigin = iota
	// builtHere is a batch this process's Producer built with
	// batch.Builder, correct by construction: only its header is read.
	builtHere
)

// appendBatch is produce in steps: it appends the batch now, in the
// caller's order, and returns acked, which waits until the batch is as
// durable as creek.sync says and, with acksAll, until every in-sync
// replica has it, for at most timeout (ErrReplicationTimeout) or until
// ctx ends. A caller can append several batches before it waits, so one
// fsync covers them all; it must call acked once.
func (p *partition) appendBatch(b []byte, acksAll bool, origin batchOrigin) (base, appendTime int64, acked func(ctx context.Context, timeout time.Duration) error, err error) {
	p.mu.RLock() // held until the batch is durable: a reconfigure waits for the wait
	fail := func(err error) (int64, int64, func(context.Context, time.Duration) error, error) {
		p.mu.RUnlock()
		return -1, -1, nil, fmt.Errorf("produce to %s-%d: %w", p.topic, p.index, err)
	}
	if err := p.checkLeaderLocked(-1); err != nil {
		return fail(err)
	}
	if acksAll {
		if err := p.checkReplicasLocked(); err != nil {
			return fail(err)
		}
	}
	h, err := batch.ParseHeader(b)
	if origin == fromClient {
		h, err = batch.ValidateProduced(b)
	}
	if errors.Is(err, batch.ErrInvalidRecords) {
		err = fmt.Errorf("%w: %v", ErrInvalidRecord, err) // INVALID_RECORD: a client must not send it again
	}
	if err == nil && origin == fromClient && h.Control() {
		// Only the transaction coordinator writes markers (writeMarker), as
		// Kafka's LogValidator refuses control batches from clients.
		err = fmt.Errorf("%w: a client may not write control batches", ErrInvalidRecord)
	}
	if err != nil {
		return fail(err)
	}
	if !p.cfg.keepCompression && h.Compression() != p.cfg.compression && !h.Control() {
		if b, err = recompress(b, h, p.cfg.compression); err != nil {
			return fail(err)
		}
	}
	batch.SetPartitionLeaderEpoch(b, p.repl.epoch)
	appendTime = -1
	if p.cfg.timestampType == batch.LogAppendTime {
		appendTime = p.now().UnixMilli()
		batch.SetLogAppendTime(b, appendTime)
	}
	if h, err = batch.ParseHeader(b); err != nil { // as recompressed and stamped
		return fail(err)
	}
	base, pending, err := p.write(b, h)
	if err != nil {
		p.healLater(err)
		return fail(err)
	}
	p.snapshotAfterRoll()
	replicated := p.replicatedLocked(base+int64(h.LastOffsetDelta)+1, acksAll)
	durable := func() error {
		defer p.mu.RUnlock()
		if err := pending.wait(); err != nil {
			p.healLater(err)
			return fmt.Errorf("produce to %s-%d: %w", p.topic, p.index, err)
		}
		p.wake()
		return nil
	}
	return base, appendTime, func(ctx context.Context, timeout time.Duration) error {
		if err := durable(); err != nil {
			return err
		}
		return awaitReplication(ctx, replicated, timeout)
	}, nil
}

// wake tells waiting readers that a batch arrived.
func (p *partition) wake() {
	p.waitMu.Lock()
	close(p.arrived)
	p.arrived = make(chan struct{})
	p.waitMu.Unlock()
}

func (p *partition) arrival() <-chan struct{} {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	return p.arrived
}

// FetchOptions bound a fetch, as a Kafka Fetch request does.
type FetchOptions struct {
	MaxBytes int           // at most this much, but always a whole batch; default 1 MiB
	MinBytes int           // wait until this much is there; default 1
	MaxWait  time.Duration // but no longer than this; zero returns at once

	replica   bool           // a follower's fetch: to the log end, not the high watermark
	isolation IsolationLevel // a consumer's: ReadCommitted reads below the last stable offset
}

// fetch appends to dst the batches from offset on, waiting as opts say for
// enough to arrive. It returns when ctx ends with what it has and ctx's
// error.
func (p *partition) fetch(ctx context.Context, dst []byte, offset int64, opts FetchOptions) ([]byte, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	opts.MinBytes = max(opts.MinBytes, 1)
	var deadline <-chan time.Time
	if opts.MaxWait > 0 {
		t := time.NewTimer(opts.MaxWait)
		defer t.Stop()
		deadline = t.C
	}
	p.mu.RLock()
	first, end := p.log.StartOffset(), p.log.EndOffset()
	p.mu.RUnlock()
	if offset < first || offset > end {
		return dst, fmt.Errorf("fetch %s-%d: %w: %d is outside [%d, %d]", p.topic, p.index, ErrOffsetOutOfRange, offset, first, end)
	}
	start, next := len(dst), offset
	for {
		arrived := p.arrival() // before reading, so an append after the read wakes us
		var err error
		p.mu.RLock()
		limit := p.log.EndOffset()
		if !opts.replica {
			limit = p.readLimitLocked(opts.isolation)
		}
		before := len(dst)
		dst, err = p.log.readWindow(dst, next, limit, opts.MaxBytes-(before-start), before == start)
		p.mu.RUnlock()
		if len(dst) > before {
			next = lastOffsetIn(dst[before:]) + 1
		}
		if err != nil && len(dst) > start {
			return dst, nil // what was read before the error is sound; the next fetch, from there, reports it
		}
		if err != nil || len(dst)-start >= opts.MinBytes || deadline == nil {
			return dst, err
		}
		select {
		case <-arrived:
		case <-deadline:
			return dst, nil
		case <-ctx.Done():
			return dst, ctx.Err()
		}
	}
}

// checkLeader fails unless this node leads the partition at requestEpoch
// (any epoch when it is negative).
func (p *partition) checkLeader(requestEpoch int32) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.checkLeaderLocked(requestEpoch)
}

// lastOffsetIn returns the last offset of the last batch in b, or -1.
func lastOffsetIn(b []byte) int64 {
	last := int64(-1)
	for len(b) > 0 {
		one, rest, err := batch.Next(b)
		if err != nil {
			break
		}
		h, _ := batch.ParseHeader(one)
		last = h.LastOffset()
		b = rest
	}
	return last
}

// recompress rebuilds b with codec, keeping every record and header field.
func recompress(b []byte, h batch.Header, codec batch.Compression) ([]byte, error) {
	records, err := decodeRecords(b)
	if err != nil {
		return nil, err
	}
	opts := h.BuildOptions()
	opts.Compression = codec
	out, err := batch.Build(opts, records...)
	if err != nil {
		return nil, err
	}
	batch.SetBaseOffset(out, h.BaseOffset)
	return out, nil
}

// reconfigure reopens the partition's log with cfg; reads and appends in
// flight finish first.
func (p *partition) reconfigure(cfg topicConfig) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.log.Close(); err != nil {
		return err
	}
	l, err := p.openLog(cfg)
	if err != nil {
		return err
	}
	p.log, p.cfg = l, cfg
	if t := p.repl.tracker; t != nil {
		p.trackMu.Lock()
		t.SetMinISR(cfg.minInsyncReplicas)
		p.trackMu.Unlock()
	}
	return nil
}

// close saves the producer table and the transactions, so that a restart
// need not replay the log, and closes the log.
func (p *partition) close() error {
	p.closeMu.Do(func() { close(p.closing) })
	p.healWG.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.producersMu.Lock()
	err := p.saveSnapshotsLocked()
	p.producersMu.Unlock()
	return errors.Join(err, p.log.Close())
}

// snapshotAfterRoll writes the producer and transaction snapshots once
// the log has rolled a segment since they were last written at one, as
// Kafka takes its producer snapshot at every roll: a restart after a
// crash replays the log from the newest snapshot, at most about a
// segment, rather than from the log start. A snapshot that cannot be
// written is only logged: the log is the truth, and a restart replays
// more of it. Call it holding p.mu shared and not p.producersMu, after an
// append.
func (p *partition) snapshotAfterRoll() {
	rolls := p.log.rolls.Load()
	if rolls == p.snapshotRolls.Load() {
		return
	}
	p.producersMu.Lock()
	defer p.producersMu.Unlock()
	if rolls == p.snapshotRolls.Load() {
		return // another append wrote it
	}
	p.snapshotRolls.Store(rolls)
	if err := p.saveSnapshotsLocked(); err != nil {
		p.log.log.Warn("could not write the producer snapshots at a roll; a restart replays more of the log",
			"topic", p.topic, "partition", p.index, "err", err)
	}
}

// saveSnapshotsLocked writes the producer table and the transactions to
// their snapshot files, as of the log end: p.producersMu, which every
// append of a producer's batch holds until it has recorded it, is held
// over the writes too, and compaction may be removing the transaction
// snapshot (forgetTxns), and must not find one taken before it forgot.
// Call it holding p.mu and p.producersMu.
func (p *partition) saveSnapshotsLocked() error {
	end := p.log.EndOffset()
	err := framefile.WriteAtomic(p.fs, p.dir, producerSnapshotName, p.producers.MarshalSnapshot(end))
	if err == nil {
		err = p.log.syncAborted() // the indexes below end are the snapshot's to trust
	}
	if err == nil {
		err = framefile.WriteAtomic(p.fs, p.dir, txnSnapshotName, p.txns.MarshalSnapshot(end))
	}
	return err
}
