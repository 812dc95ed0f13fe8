// Log, the segmented commit log: open, append, read, close.

package creek

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// Log is a segmented commit log of Kafka record batches: a partition's
// storage, or a write-ahead log on its own.
//
// Appends are serialised; any number of goroutines may read while one
// appends, and readers never wait for the appender. Append, Read and the
// offset methods are safe for concurrent use.
type Log struct {
	fs  fsx.FS
	dir string
	cfg LogConfig
	now func() time.Time
	log *slog.Logger
	// txns is the log's owner as compaction asks it of the transactions in
	// the log (compactiontxn.go); nil for a Log opened on its own. Set at
	// open, before the background loop starts, and never changed.
	txns logTxns

	// cleanMu is held by a compaction pass from start to end, and by
	// truncation and deletion, which must not change the sealed segments it
	// reads. Taken before appendMu.
	cleanMu sync.Mutex

	// appendMu serialises appends, rolls, truncation and deletion. It is not
	// held over the fsync that makes an append durable, so appenders that
	// arrive during a sync write their batches and share the next one.
	appendMu      sync.Mutex
	active        *segment // guarded by appendMu
	failed        error    // guarded by appendMu; set after a failed write or sync
	closed        bool     // guarded by appendMu
	recoveryPoint int64    // guarded by appendMu
	cleanedOffset int64    // guarded by appendMu; compaction has cleaned below it

	// segsMu guards segments. Readers hold it shared while they read files,
	// so that truncation and deletion, which hold it exclusively (and also
	// appendMu), never close a file under a reader.
	segsMu   sync.RWMutex
	segments []*segment

	startOffset atomic.Int64 // the log start offset
	endOffset   atomic.Int64 // the log end offset: the next offset to assign
	rolls       atomic.Int64 // segments rolled since the log opened

	group groupCommit
	stats logCounters

	// lastFlush is closed when the newest background flush of a rolled
	// segment has moved the recovery point; guarded by appendMu.
	lastFlush chan struct{}

	closing chan struct{}
	wg      sync.WaitGroup

	corruptMu sync.Mutex
	corrupt   map[CorruptError]bool // the damage reported, so each is logged once
}

// LogStats counts what a Log has done since it was opened.
type LogStats struct {
	Appends  int64 // batches appended
	Bytes    int64 // bytes appended
	Syncs    int64 // fsyncs of segment data
	Segments int   // segments now
}

type logCounters struct {
	appends, bytes, syncs atomic.Int64
}

// OpenLog opens the log in dir, creating it if needed, and recovers it: it
// validates every batch written after the last recovery point, cuts a torn
// tail, and rebuilds indexes that are missing or inconsistent. Sealed
// segments below the recovery point have only their indexes checked, and
// their batches are CRC-checked on first Read; without a checkpoint every
// sealed segment is validated, and a corrupt batch in one fails the open
// with a *CorruptError naming the file and position. creek never skips
// data silently.
func OpenLog(dir string, cfg LogConfig) (*Log, error) { return openLog(fsx.OS(), dir, cfg) }

func openLog(fs fsx.FS, dir string, cfg LogConfig) (*Log, error) {
	return openLogAt(fs, dir, cfg, time.Now)
}

func openLogAt(fs fsx.FS, dir string, cfg LogConfig, now func() time.Time) (*Log, error) {
	return openOwnedLog(fs, dir, cfg, now, nil)
}

// openOwnedLog opens a log whose compaction asks txns, its owner, of the
// transactions in it; nil for none.
func openOwnedLog(fs fsx.FS, dir string, cfg LogConfig, now func() time.Time, txns logTxns) (*Log, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Log{
		fs:      fs,
		dir:     dir,
		cfg:     cfg,
		now:     now,
		log:     cfg.Logger.With("log", dir),
		txns:    txns,
		closing: make(chan struct{}),
	}
	if err := l.recover(); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l.group.durable = l.endOffset.Load()
	l.startBackground()
	return l, nil
}

// Dir returns the directory the log lives in.
func (l *Log) Dir() string { return l.dir }

// StartOffset returns the log start offset: the first offset a read may ask
// for.
func (l *Log) StartOffset() int64 { return l.startOffset.Load() }

// EndOffset returns the log end offset: the offset the next append gets.
func (l *Log) EndOffset() int64 { return l.endOffset.Load() }

// Stats returns counters of the log's work.
func (l *Log) Stats() LogStats {
	l.segsMu.RLock()
	n := len(l.segments)
	l.segsMu.RUnlock()
	return LogStats{
		Appends:  l.stats.appends.Load(),
		Bytes:    l.stats.bytes.Load(),
		Syncs:    l.stats.syncs.Load(),
		Segments: n,
	}
}

// Append validates one record batch (length, magic, CRC), gives it the next
// offsets by setting its base offset in b, writes it and returns that base
// offset. Under SyncEveryAppend it returns once the batch is synced. Append
// writes to b (the base offset field, which the CRC does not cover) and does
// not retain it.
//
// A batch over MaxBatchBytes gives ErrMessageTooLarge and a malformed one a
// *CorruptError; neither touches the log. After a failed write or sync every
// append gives ErrLogFailed until the log is reopened.
func (l *Log) Append(b []byte) (int64, error) {
	base, pending, err := l.write(b)
	if err != nil {
		return -1, err
	}
	if err := pending.wait(); err != nil {
		return -1, err
	}
	return base, nil
}

// write is Append without the wait for durability: it validates and writes
// the batch and returns its base offset and what is left to wait for. A
// partition checks producer sequences around write and waits after, so
// that appenders still share fsyncs.
func (l *Log) write(b []byte) (base int64, pending pendingSync, err error) {
	h, err := batch.Validate(b)
	if err != nil {
		return -1, pendingSync{}, fmt.Errorf("append: %w", err)
	}
	return l.writeValidated(b, h)
}

// writeValidated is write for a batch the caller has validated, or built,
// and whose header h it has parsed: a partition checks a client's batch
// once, and its own Producer's not at all.
func (l *Log) writeValidated(b []byte, h batch.Header) (base int64, pending pendingSync, err error) {
	if len(b) > l.cfg.MaxBatchBytes {
		return -1, pendingSync{}, fmt.Errorf("%w: %d bytes, at most %d", ErrMessageTooLarge, len(b), l.cfg.MaxBatchBytes)
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.appendableLocked(); err != nil {
		return -1, pendingSync{}, err
	}
	base = l.endOffset.Load()
	batch.SetBaseOffset(b, base)
	h.BaseOffset = base
	if err := l.appendLocked(b, h); err != nil {
		return -1, pendingSync{}, err
	}
	return base, l.pendingSyncLocked(h.LastOffset() + 1), nil
}

// writeReplica appends a batch a follower fetched from its leader, at the
// offsets the leader gave it: its base offset must be the log end offset.
func (l *Log) writeReplica(b []byte) (pendingSync, error) {
	if len(b) > l.cfg.MaxBatchBytes {
		return pendingSync{}, fmt.Errorf("%w: %d bytes, at most %d", ErrMessageTooLarge, len(b), l.cfg.MaxBatchBytes)
	}
	h, err := batch.Validate(b)
	if err != nil {
		return pendingSync{}, fmt.Errorf("append replica: %w", err)
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.appendableLocked(); err != nil {
		return pendingSync{}, err
	}
	if end := l.endOffset.Load(); h.BaseOffset != end {
		return pendingSync{}, fmt.Errorf("append replica: batch at offset %d, the log ends at %d", h.BaseOffset, end)
	}
	if err := l.appendLocked(b, h); err != nil {
		return pendingSync{}, err
	}
	return l.pendingSyncLocked(h.LastOffset() + 1), nil
}

// pendingSync is what an append waits for after its write: a share of an
// fsync covering its end offset, or nothing.
type pendingSync struct {
	l   *Log // nil: nothing to wait for
	end int64
}

func (p pendingSync) wait() error {
	if p.l == nil {
		return nil
	}
	return p.l.waitDurable(p.end)
}

// pendingSyncLocked says what an append that ends at end waits for: under
// SyncEveryAppend a share of the next fsync, under SyncPeriodically one
// once SyncBytes are waiting, otherwise nothing.
func (l *Log) pendingSyncLocked(end int64) pendingSync {
	if l.cfg.Sync == SyncEveryAppend ||
		l.cfg.Sync == SyncPeriodically && l.cfg.SyncBytes > 0 && l.group.unsyncedBytes(l.stats.bytes.Load()) >= l.cfg.SyncBytes {
		return pendingSync{l: l, end: end}
	}
	return pendingSync{}
}

// appendable returns why appends are refused (ErrClosed, ErrLogFailed), or
// nil.
func (l *Log) appendable() error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	return l.appendableLocked()
}

func (l *Log) appendableLocked() error {
	if l.closed {
		return ErrClosed
	}
	if l.failed != nil {
		return fmt.Errorf("%w: %w", ErrLogFailed, l.failed)
	}
	return nil
}

// appendLocked writes a batch whose offsets are set, rolling first when the
// active segment is full or old.
func (l *Log) appendLocked(b []byte, h batch.Header) error {
	if l.shouldRollLocked(h, len(b)) {
		if err := l.rollLocked(); err != nil {
			return err
		}
	}
	if err := l.active.append(b, h, l.cfg.IndexIntervalBytes); err != nil {
		return l.failLocked(err)
	}
	l.endOffset.Store(h.LastOffset() + 1)
	l.stats.appends.Add(1)
	l.stats.bytes.Add(int64(len(b)))
	return nil
}

func (l *Log) shouldRollLocked(h batch.Header, size int) bool {
	s := l.active
	if s.size.Load() == 0 {
		return false
	}
	if s.size.Load()+int64(size) > l.cfg.SegmentBytes {
		return true
	}
	if h.LastOffset()-s.base > math.MaxInt32 {
		return true // relative offsets in the indexes are 32 bits
	}
	if l.cfg.SegmentAge > 0 && s.firstTimestamp >= 0 &&
		l.now().UnixMilli()-s.firstTimestamp >= l.cfg.SegmentAge.Milliseconds() {
		return true
	}
	return false
}

// rollLocked seals the active segment and starts a new one at the log end
// offset. Under SyncEveryAppend the old segment is synced first, so the
// recovery point moves to the new base at once; otherwise a background
// flush syncs it (as Kafka's roll does) and moves the recovery point when
// it is done, so appends do not wait for a whole segment to reach disk.
func (l *Log) rollLocked() error {
	old := l.active
	base := l.endOffset.Load()
	if err := old.sealIndexes(); err != nil {
		return l.failLocked(err)
	}
	flushNow := l.cfg.Sync == SyncEveryAppend
	if flushNow {
		if err := old.sync(true); err != nil {
			return l.failLocked(err)
		}
		l.stats.syncs.Add(1)
		l.group.markDurable(base)
	}
	s, err := openSegment(l.fs, l.dir, base, true)
	if err != nil {
		return l.failLocked(fmt.Errorf("roll segment %020d: %w", base, err))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.failLocked(errors.Join(fmt.Errorf("roll segment %020d: %w", base, err), s.close()))
	}
	l.segsMu.Lock()
	l.segments = append(l.segments, s)
	l.segsMu.Unlock()
	l.active = s
	l.rolls.Add(1)
	l.log.Debug("rolled segment", "base", base)
	if !flushNow {
		l.flushInBackgroundLocked(old, base)
		return nil
	}
	l.recoveryPoint = base
	if err := l.writeCheckpointLocked(); err != nil {
		return l.failLocked(err)
	}
	return nil
}

// failLocked records a write or sync failure; every later append refuses.
func (l *Log) failLocked(err error) error {
	if l.failed == nil {
		l.failed = err
		l.log.Error("log failed; appends refused until reopened", "err", err)
	}
	return fmt.Errorf("%w: %w", ErrLogFailed, err)
}

func (l *Log) writeCheckpointLocked() error {
	return writeCheckpoint(l.fs, l.dir, checkpoint{
		recoveryPoint:  l.recoveryPoint,
		logStartOffset: l.startOffset.Load(),
		cleanedOffset:  l.cleanedOffset,
	})
}

// Sync makes every appended batch durable, whatever the sync policy.
func (l *Log) Sync() error { return l.waitDurable(l.endOffset.Load()) }

// Close syncs the log, records a recovery point at its end so that the next
// open scans nothing, and closes its files. A second Close returns nil.
func (l *Log) Close() error {
	l.appendMu.Lock()
	if l.closed {
		l.appendMu.Unlock()
		return nil
	}
	l.closed = true
	l.appendMu.Unlock()
	close(l.closing)
	l.wg.Wait()

	l.cleanMu.Lock() // a Compact called directly finishes first
	defer l.cleanMu.Unlock()
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	var err error
	if l.failed == nil {
		if err = l.active.sync(true); err == nil {
			l.recoveryPoint = l.endOffset.Load()
			err = l.writeCheckpointLocked()
		}
	}
	l.segsMu.Lock()
	defer l.segsMu.Unlock()
	for _, s := range l.segments {
		err = errors.Join(err, s.close())
	}
	l.segments = nil
	if err != nil {
		return fmt.Errorf("close log %s: %w", l.dir, err)
	}
	return nil
}

// forEachHeader calls fn with the header of every batch that ends after
// offset from, in order, without checking CRCs: what a partition replays to
// rebuild its producer table.
func (l *Log) forEachHeader(from int64, fn func(batch.Header)) error {
	return l.scanFrom(from, func(sc *scanner) error {
		fn(sc.header)
		return nil
	})
}

// scanFrom calls fn with a scanner at every batch that ends after offset
// from, in order, without checking CRCs; fn reads the header, and the
// batch's bytes if it needs them (sc.bytes), and stops the scan with an
// error.
func (l *Log) scanFrom(from int64, fn func(sc *scanner) error) error {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	if l.segments == nil {
		return ErrClosed
	}
	for i := l.segmentIndexRLocked(from); i < len(l.segments); i++ {
		s := l.segments[i]
		start := int64(0)
		if i == l.segmentIndexRLocked(from) {
			start = s.index.lookup(from)
		}
		sc := newScanner(s.log, start, s.size.Load(), recoveryChunk)
		for sc.next(false) {
			if sc.header.LastOffset() < from {
				continue
			}
			if err := fn(sc); err != nil {
				return err
			}
		}
		if sc.err != nil {
			return sc.err
		}
	}
	return nil
}
