// A segment's aborted-transaction index (Kafka's .txnindex), and the
// log's lookups over the indexes of its segments.

package creek

import (
	"errors"
	"fmt"
	"sync"

	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/txnlog"
)

// txnIndex is the aborted transactions whose abort markers are in one
// segment, in the order of their markers: entries of internal/txnlog's
// format, in memory and in the segment's .txnindex file. The log's owner,
// which follows its transactions, adds them (Log.indexAborted); a read
// that meets them skips their records. Retention, truncation and
// compaction keep them with the segment that holds their markers.
//
// The file is synced when the segment is sealed and before the owner's
// transaction snapshot is written (Log.syncAborted): the entries before
// the snapshot's offset are then durable, and a restart rebuilds those
// after it by replaying the log from there (Log.cutAbortedFrom first).
type txnIndex struct {
	file fsx.File

	mu      sync.RWMutex
	entries []txnlog.Aborted
	dirty   bool // entries written since the last sync
	// damaged is set when the file did not parse: its entries are
	// unknown until the owner rebuilds them from the whole log.
	damaged bool
}

// load reads the index file. A torn last entry, which a crash mid-write
// leaves, is cut off. An entry that does not parse, or one out of order,
// marks the index damaged and leaves it empty, and the file as it is
// until cutFrom resets it, so that a crash before then finds it damaged
// again.
func (x *txnIndex) load() error {
	size, err := x.file.Size()
	if err != nil {
		return err
	}
	whole := size - size%txnlog.EntrySize
	buf := make([]byte, whole)
	if n, err := x.file.ReadAt(buf, 0); n < len(buf) {
		return fmt.Errorf("read %s: %w", x.file.Name(), err)
	}
	entries, err := txnlog.ParseIndex(buf)
	if err != nil {
		x.damaged = true
		return nil
	}
	if whole != size {
		if err := x.file.Truncate(whole); err != nil {
			return fmt.Errorf("truncate %s: %w", x.file.Name(), err)
		}
	}
	x.entries = entries
	return nil
}

// append adds a, whose marker is in the segment and after every other
// entry's.
func (x *txnIndex) append(a txnlog.Aborted) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n := len(x.entries); n > 0 && a.LastOffset <= x.entries[n-1].LastOffset {
		return fmt.Errorf("%s: aborted transaction ending at %d indexed after one ending at %d",
			x.file.Name(), a.LastOffset, x.entries[n-1].LastOffset)
	}
	if _, err := x.file.WriteAt(txnlog.AppendEntry(nil, a), int64(len(x.entries))*txnlog.EntrySize); err != nil {
		return fmt.Errorf("write %s: %w", x.file.Name(), err)
	}
	x.entries = append(x.entries, a)
	x.dirty = true
	return nil
}

// collect appends the entries a read of [from, upTo) meets (see
// txnlog.Collect).
func (x *txnIndex) collect(dst []txnlog.Aborted, from, upTo int64) ([]txnlog.Aborted, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return txnlog.Collect(dst, x.entries, from, upTo)
}

// all returns a copy of the entries.
func (x *txnIndex) all() []txnlog.Aborted {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append([]txnlog.Aborted(nil), x.entries...)
}

// cutFrom drops the entries whose markers are at or after offset, and
// every entry of a damaged index, which is sound again once the owner
// has rebuilt it.
func (x *txnIndex) cutFrom(offset int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	keep := txnlog.EndingFrom(x.entries, offset)
	if !x.damaged && keep == len(x.entries) {
		return nil
	}
	x.entries, x.damaged, x.dirty = x.entries[:keep], false, true // a damaged index has none
	return x.file.Truncate(int64(keep) * txnlog.EntrySize)
}

// sync makes the entries durable, if any changed since the last sync.
func (x *txnIndex) sync() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.dirty {
		return nil
	}
	if err := x.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", x.file.Name(), err)
	}
	x.dirty = false
	return nil
}

// indexAborted adds a, which its owner's tracker returned for an abort
// marker the log holds, to the index of the segment holding the marker;
// nowhere when retention deleted that segment. An index that cannot take
// it fails the log (ErrLogFailed): the reopen rebuilds the index.
func (l *Log) indexAborted(a txnlog.Aborted) error {
	err := l.appendAborted(a)
	if err == nil || errors.Is(err, ErrClosed) {
		return err
	}
	l.appendMu.Lock() // after segsMu is released: appendMu comes first
	defer l.appendMu.Unlock()
	return l.failLocked(err)
}

func (l *Log) appendAborted(a txnlog.Aborted) error {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	if l.segments == nil {
		return ErrClosed
	}
	if a.LastOffset < l.segments[0].base {
		return nil
	}
	return l.segments[l.segmentIndexRLocked(a.LastOffset)].txnIndex.append(a)
}

// abortedIn returns the aborted transactions a read of [from, upTo) meets,
// in the order of their markers: those with data before upTo whose markers
// are at or after from, found in the indexes of the segments from the one
// holding from on, until an entry's last stable offset says no later one
// began before upTo.
func (l *Log) abortedIn(from, upTo int64) []txnlog.Aborted {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	var out []txnlog.Aborted
	for i := l.segmentIndexRLocked(from); i < len(l.segments); i++ {
		var done bool
		if out, done = l.segments[i].txnIndex.collect(out, from, upTo); done {
			break
		}
	}
	return out
}

// cutAbortedFrom drops the indexed aborted transactions whose markers are
// at or after offset, for the owner to index them again as it replays the
// log from there; a damaged index loses all its entries, so the owner
// replays from the log start when any is (abortedIndexesSound).
func (l *Log) cutAbortedFrom(offset int64) error {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	for _, s := range l.segments {
		if err := s.txnIndex.cutFrom(offset); err != nil {
			return err
		}
	}
	return nil
}

// abortedIndexesSound reports whether every segment's index parsed.
func (l *Log) abortedIndexesSound() bool {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	for _, s := range l.segments {
		s.txnIndex.mu.RLock()
		damaged := s.txnIndex.damaged
		s.txnIndex.mu.RUnlock()
		if damaged {
			return false
		}
	}
	return true
}

// syncAborted makes every indexed aborted transaction durable, before the
// owner's transaction snapshot says the log up to its end needs no
// replay.
func (l *Log) syncAborted() error {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	for _, s := range l.segments {
		if err := s.txnIndex.sync(); err != nil {
			return err
		}
	}
	return nil
}
