// A partition's transactions (issue 16): the batches of its producers
// checked and tracked as they are appended, transaction markers, the last
// stable offset and the aborted transactions a read_committed reader skips.

package creek

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/txnlog"
)

// IsolationLevel is what a reader sees of transactions, as Kafka's
// isolation.level says.
type IsolationLevel int8

const (
	// ReadUncommitted reads every record below the high watermark, those of
	// open and aborted transactions too. The default.
	ReadUncommitted IsolationLevel = 0
	// ReadCommitted reads below the last stable offset, where every
	// transaction is decided, and skips the records of aborted ones.
	ReadCommitted IsolationLevel = 1
)

// String returns Kafka's name of the level: read_uncommitted or
// read_committed.
func (l IsolationLevel) String() string {
	switch l {
	case ReadUncommitted:
		return "read_uncommitted"
	case ReadCommitted:
		return "read_committed"
	}
	return fmt.Sprintf("IsolationLevel(%d)", int8(l))
}

// txnSnapshotName is the file in a partition's directory that holds its
// transactions (internal/txnlog's snapshot format), saved on close beside
// the producer snapshot.
const txnSnapshotName = "creek.txns"

// loadTxnState rebuilds a partition's transactions: from its snapshot when
// it is sound and within the log, then by replaying the log after it
// (from the log start without one): every transactional batch's
// header, and the marker of every control batch. The aborted ones the
// replay finds go to the segments' indexes, whose entries from there on
// are dropped first: they may be missing, or be of a log since cut. A
// snapshot past the end is removed: the log was cut below it, and once it
// grows past it again the snapshot would pass for sound. A damaged index
// makes the replay start at the log start, to rebuild it whole, and the
// snapshot go.
func loadTxnState(fs fsx.FS, dir string, l *Log) (*txnlog.Tracker, error) {
	t, from := txnlog.NewTracker(), l.StartOffset()
	var older []txnlog.Aborted // a snapshot's from before the indexes held them
	if b, err := framefile.ReadFile(fs, filepath.Join(dir, txnSnapshotName), 64<<20); err == nil {
		s, err := txnlog.UnmarshalSnapshot(b)
		switch {
		case err != nil:
			l.log.Warn("ignoring damaged transaction snapshot; replaying the log", "err", err)
		case s.End > l.EndOffset():
			if err := removeTxnSnapshot(fs, dir); err != nil {
				return nil, err
			}
		case !l.abortedIndexesSound():
			// Durably gone before the damaged index is reset, so that a
			// crash before the replay has rebuilt it replays it again.
			l.log.Warn("damaged aborted-transaction index; replaying the log")
			if err := removeTxnSnapshot(fs, dir); err != nil {
				return nil, err
			}
		case s.End >= from: // else retention deleted records after it, which may have ended its transactions
			t, from = s.Tracker, s.End
			if s.Version < txnlog.IndexesAborted {
				older = s.Aborted
			}
		}
	}
	cut := from
	if older != nil {
		cut = l.StartOffset()
	}
	if err := l.cutAbortedFrom(cut); err != nil {
		return nil, err
	}
	aborted := older
	record := func(a txnlog.Aborted, isAbort bool, err error) error {
		if isAbort {
			aborted = append(aborted, a)
		}
		return replayed(err)
	}
	err := l.scanFrom(from, func(sc *scanner) error {
		h := sc.header
		if h.ProducerID < 0 || !h.Transactional() {
			return nil // changes nothing: the log holds no batch the tracker refused
		}
		if !h.Control() {
			return record(t.Append(h, nil))
		}
		b, err := sc.bytes()
		if err != nil {
			return err
		}
		return record(t.AppendBytes(b))
	})
	if err != nil {
		return nil, fmt.Errorf("replay the transactions: %w", err)
	}
	for _, a := range aborted { // after the scan, which holds the log's segments
		if err := l.indexAborted(a); err != nil {
			return nil, fmt.Errorf("index the aborted transactions: %w", err)
		}
	}
	return t, nil
}

// removeTxnSnapshot removes a partition's transaction snapshot, durably.
func removeTxnSnapshot(fs fsx.FS, dir string) error { return removeSnapshots(fs, dir, txnSnapshotName) }

// removeProducerSnapshots removes both of a partition's snapshots, the
// producer table's and the transactions', durably, when its log is cut or
// replaced: a snapshot of offsets the log no longer holds as they were
// must not survive a crash, where the log may have grown past it again
// with other batches and it would pass for sound.
func removeProducerSnapshots(fs fsx.FS, dir string) error {
	return removeSnapshots(fs, dir, producerSnapshotName, txnSnapshotName)
}

// removeSnapshots removes snapshot files of a partition's directory,
// durably; a file that is not there is removed already.
func removeSnapshots(fs fsx.FS, dir string, names ...string) error {
	removed := false
	for _, name := range names {
		err := fs.Remove(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
		removed = true
	}
	if !removed {
		return nil
	}
	if err := fs.SyncDir(dir); err != nil {
		return fmt.Errorf("remove the snapshots: %w", err)
	}
	return nil
}

// replayed is the error of one batch's replay, or of a follower's append:
// a batch the tracker refuses changes nothing in it, and the replay goes
// on. A leader refuses such batches, so its log holds none; a follower
// copies the leader's log as it is.
func replayed(err error) error {
	if errors.Is(err, txnlog.ErrFencedEpoch) || errors.Is(err, txnlog.ErrNotTransactional) {
		return nil
	}
	return err
}

// markerOf returns the marker of a transactional control batch, nil for
// any other batch.
func markerOf(b []byte, h batch.Header) (*txnlog.Marker, error) {
	if !h.Control() || !h.Transactional() || h.ProducerID < 0 {
		return nil, nil
	}
	m, err := txnlog.ParseMarker(b)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// checkTxnLocked refuses a batch of a producer (h.ProducerID ≥ 0) that
// its transaction on the partition forbids: ErrInvalidTxnState for one
// outside a transaction while the producer has one open,
// ErrInvalidProducerEpoch for one older than the open transaction's
// epoch, ErrTxnCoordinatorFenced for a marker from an older coordinator
// than the producer's last marker's. marker is a control batch's marker,
// nil for a data batch. Call it holding p.producersMu.
func (p *partition) checkTxnLocked(h batch.Header, marker *txnlog.Marker) error {
	err := p.txns.Check(h, marker)
	switch {
	case errors.Is(err, txnlog.ErrNotTransactional):
		return fmt.Errorf("%w: %w", ErrInvalidTxnState, err)
	case errors.Is(err, txnlog.ErrFencedEpoch):
		return fmt.Errorf("%w: %w", ErrInvalidProducerEpoch, err)
	case errors.Is(err, txnlog.ErrCoordinatorFenced):
		return fmt.Errorf("%w: %w", ErrTxnCoordinatorFenced, err)
	}
	return err
}

// writeMarker appends the control batch that ends producer m.ProducerID's
// transaction on this partition, commit or abort, and returns once it is
// durable and every in-sync replica has it, as an acks=all produce does.
// The transaction coordinator calls it for each partition of a
// transaction. Only the leader writes one; a marker for a producer with no
// transaction open here is appended all the same, as Kafka does, and
// changes nothing but the producer's epoch and coordinator epoch. It fails
// with ErrInvalidProducerEpoch for a marker older than the producer's
// epoch, ErrTxnCoordinatorFenced for one from an older coordinator than
// the producer's last marker's.
func (p *partition) writeMarker(ctx context.Context, m txnlog.Marker) error {
	b, err := txnlog.BuildMarker(m, p.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("marker for %s-%d: %w", p.topic, p.index, err)
	}
	_, _, acked, err := p.appendBatch(b, true, builtHere)
	if err != nil {
		return err
	}
	return acked(ctx, defaultReplicationTimeout)
}

// lastStableLocked returns the last stable offset: the first offset of
// the oldest transaction still open, or the high watermark when that is
// lower or none is open; never below the log start offset. A
// read_committed reader reads below it. Call it holding p.mu.
func (p *partition) lastStableLocked() int64 {
	hw := p.highWatermarkLocked()
	return max(min(p.firstUnstable.Load(), hw), min(p.log.StartOffset(), hw))
}

// holdStableLocked keeps the last stable offset at or below the log end
// while a transactional batch is written, which may open a transaction:
// between the write, which moves the log end (and so the high watermark
// of a lone node), and the tracker's record of it after, a read_committed
// reader would otherwise read the batch. Call it holding p.mu and
// p.producersMu, then txnsChangedLocked (recordLocked calls it).
func (p *partition) holdStableLocked() {
	p.firstUnstable.Store(min(p.firstUnstable.Load(), p.log.EndOffset()))
}

// txnsChangedLocked publishes the tracker's first unstable offset after
// it changed. Call it holding p.producersMu, or p.mu exclusively.
func (p *partition) txnsChangedLocked() {
	p.firstUnstable.Store(p.txns.LastStable(math.MaxInt64))
}

// setTxnsLocked replaces the partition's transactions with t. Call it
// holding p.mu exclusively, or before the partition is shared. It takes
// p.producersMu for the swap, for the compaction of the log, which
// forgets transactions holding that alone (forgetTxns).
func (p *partition) setTxnsLocked(t *txnlog.Tracker) {
	p.producersMu.Lock()
	defer p.producersMu.Unlock()
	p.txns = t
	p.txnsChangedLocked()
}

// cleanableTxns tells the compaction of the partition's log what it may
// clean (logTxns): below the last stable offset, with the aborted
// transactions whose data is there, read under p.mu and then
// p.producersMu, as abortedIn reads them. The last stable offset is read
// first: one read after could pass a transaction aborted after the list
// was taken, whose records would then count as committed.
//
// The pass asks holding the log's cleanMu, and a holder of p.mu
// exclusively may be waiting for it (a truncation) or for the log's
// background loop (Close, by a reconfigure or a heal), so p.mu is only
// tried: while one holds it, or waits for it, the pass cleans nothing and
// the next one tries again.
func (p *partition) cleanableTxns() (cleanableTxns, bool) {
	if !p.mu.TryRLock() {
		return cleanableTxns{}, false
	}
	defer p.mu.RUnlock()
	stable := p.lastStableLocked()
	p.producersMu.Lock()
	defer p.producersMu.Unlock()
	if p.txns == nil {
		return cleanableTxns{}, false // not loaded yet
	}
	return cleanableTxns{stable: stable, markers: true}, true
}

// forgetTxns is told, before compaction removes them, of markers whose
// transactions left nothing in the log (logTxns): it removes the
// transaction snapshot, which may hold one of them open (taken before its
// marker), for a restart to replay the log, which holds neither its data
// nor its marker, instead. Until the next roll or close saves a new one, a
// restart replays from the log start. It holds p.producersMu alone, not
// p.mu (see cleanableTxns): a roll and close write the snapshot holding
// it too, so a snapshot taken before is removed.
func (p *partition) forgetTxns() error {
	p.producersMu.Lock()
	defer p.producersMu.Unlock()
	return removeTxnSnapshot(p.fs, p.dir)
}

// readLimitLocked returns the offset a reader with isolation reads below:
// the last stable offset under ReadCommitted, the high watermark
// otherwise. Call it holding p.mu.
func (p *partition) readLimitLocked(isolation IsolationLevel) int64 {
	if isolation == ReadCommitted {
		return p.lastStableLocked()
	}
	return p.highWatermarkLocked()
}

// fetchIsolated is fetch for a reader at opts.isolation: under
// ReadCommitted it also returns the aborted transactions the batches read
// meet, for the reader to skip their records, as a Kafka broker answers a
// read_committed Fetch: a list, empty when there are none. Under
// ReadUncommitted, and for a replica, that list is nil.
func (p *partition) fetchIsolated(ctx context.Context, dst []byte, offset int64, opts FetchOptions) ([]byte, []kafka.AbortedTxn, error) {
	b, err := p.fetch(ctx, dst, offset, opts)
	if opts.isolation != ReadCommitted || opts.replica {
		return b, nil, err
	}
	aborted := []kafka.AbortedTxn{}
	if len(b) > len(dst) {
		for _, a := range p.abortedIn(offset, lastOffsetIn(b[len(dst):])+1) {
			aborted = append(aborted, kafka.AbortedTxn{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
		}
	}
	return b, aborted, err
}

// abortedIn returns the aborted transactions a read_committed read of
// [from, upTo) meets, for its reader to skip their records: the log's
// indexes hold them, from before the last stable offset passed them.
func (p *partition) abortedIn(from, upTo int64) []txnlog.Aborted { return p.log.abortedIn(from, upTo) }
