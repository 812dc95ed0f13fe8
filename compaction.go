// Log compaction (cleanup.policy=compact): the newest record of each key
// stays.

package creek

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/creekmq/creek/internal/batch"
)

// Compaction (cleanup.policy=compact) keeps the newest record of each key in
// the sealed segments, as Kafka's log cleaner does. One pass:
//
//  1. Map every key in the dirty segments (those at or above the cleaned
//     offset) to the offset of its newest record: xxhash64(key) → offset.
//  2. Rewrite the sealed segments, in groups that fit in one segment: a
//     record stays when it is the newest of its key (or has no key), and a
//     tombstone (null value) stays until it is DeleteRetention old. Batches
//     keep their base offsets and records their offsets; a batch with every
//     record kept is copied as it is, one with none is dropped.
//  3. Swap each group in, crash-safely:
//     write A.B.log.cleaned (and its indexes) and sync them; rename to
//     A.B.*.swap and sync the directory — the commit point; delete the old
//     segments with bases in [A, B); rename the swap files to A.*.
//     Recovery deletes .cleaned files (the pass did not commit) and finishes
//     any .swap (it did), so a crash at any point loses nothing and
//     duplicates nothing.
//
// Transactions (compactiontxn.go), as Kafka's cleaner treats them. A
// partition's log asks its partition, at the start of each pass, for the
// last stable offset and the aborted transactions below it (logTxns):
//
//   - Only sealed segments that end at or below the last stable offset are
//     read or rewritten: a record of a transaction still open neither
//     counts as the newest of its key nor goes.
//   - A batch of an aborted transaction (a transactional batch whose
//     producer and offset fall within an aborted transaction's first
//     offset and marker) is not mapped, so it never supersedes a committed
//     record, and is dropped whole. A committed transaction's records are
//     kept or dropped by key as any others; a rebuilt batch keeps its
//     producer, epoch, sequence and transactional flag.
//   - A marker (COMMIT or ABORT) stays while any data of its transaction
//     may be left. It goes in a pass that read no data batch of its
//     transaction (the pass after the one that removed the last, as in
//     Kafka's two passes), once older than DeleteRetention. Before that
//     pass swaps in a group without markers, the partition forgets those
//     aborted transactions (a read_committed reader told of one would wait
//     for a marker that is gone, skipping its producer's later
//     transactions) and removes its transaction snapshot (which may hold
//     the transaction open, or aborted), so that a restart replays the log,
//     which holds neither the transaction's data nor its marker, and finds
//     nothing open.
//
// Not done, as Kafka does: keeping each active producer's last batch
// (emptied) so that a replay of the log rebuilds its sequence and epoch.
// A pass drops a batch whose records all went, an aborted one and a
// marker alike, so after a crash (no fresh producer snapshot) the next
// batch of a producer whose newest batch went is refused as out of
// order.
//
// A Log opened on its own knows no transactions: it maps and cleans every
// data batch, and keeps every control batch as it is.
//
// Two keys whose hashes collide (a chance of about n²/2⁶⁵ for n keys) would
// let the older record of one go; Kafka's cleaner, keyed by MD5, accepts the
// same risk.
const (
	cleanedSuffix = ".cleaned"
	swapSuffix    = ".swap"
)

// CompactStats says what a compaction pass did.
type CompactStats struct {
	Segments       int   // sealed segments read
	RecordsRead    int64 // records read
	RecordsRemoved int64 // records dropped: superseded, expired tombstones, or of aborted transactions
	MarkersRemoved int64 // transaction markers dropped, once their transactions left nothing
	BytesBefore    int64 // sealed bytes before the pass
	BytesAfter     int64 // sealed bytes after it
}

// Compact runs one compaction pass over the sealed segments the recovery
// point has passed when at least MinCleanableRatio of their bytes are
// dirty, and returns what it did. The background loop calls it every
// CheckInterval under CleanupCompact and CleanupCompactDelete; under
// CleanupDelete it does nothing. Appends and reads go on while it runs;
// truncation and deletion wait.
func (l *Log) Compact() (CompactStats, error) { return l.compact(false) }

func (l *Log) compact(force bool) (CompactStats, error) {
	if !l.cfg.Cleanup.compacts() {
		return CompactStats{}, nil
	}
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	txns, ok := l.askTxns() // under cleanMu: no truncation lowers the bound during the pass
	if !ok {
		return CompactStats{}, nil
	}
	sealed, cleanedOffset, end, err := l.cleanableSegments(txns.stable)
	if err != nil || len(sealed) == 0 {
		return CompactStats{}, err
	}

	var st CompactStats
	var dirtyBytes int64
	for _, s := range sealed {
		st.BytesBefore += s.size.Load()
		if s.base >= cleanedOffset {
			dirtyBytes += s.size.Load()
		}
	}
	if dirtyBytes == 0 || !force && float64(dirtyBytes) < l.cfg.MinCleanableRatio*float64(st.BytesBefore) {
		return CompactStats{}, nil
	}
	st.Segments = len(sealed)

	pass := &cleanPass{txns: newTxnPass(txns, l.abortedIn(l.StartOffset(), txns.stable)), st: &st,
		deleteBefore: l.now().UnixMilli() - l.cfg.DeleteRetention.Milliseconds()}
	if pass.newest, err = l.mapNewestOffsets(sealed, cleanedOffset, pass.txns); err != nil {
		return st, err
	}
	for _, group := range l.cleaningGroups(sealed) {
		select {
		case <-l.closing:
			return st, ErrClosed // the groups swapped so far stay; the next pass redoes the rest
		default:
		}
		if err := l.compactGroup(group, pass); err != nil {
			return st, err
		}
	}

	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.cleanedOffset = max(l.cleanedOffset, end)
	if err := l.writeCheckpointLocked(); err != nil {
		return st, l.failLocked(err)
	}
	return st, nil
}

// cleanableSegments returns the sealed segments a pass may clean: from
// the first, those that end at or below both the recovery point and
// limit (the last stable offset); with the cleaned offset, and the
// offset after them, which the pass moves it to.
func (l *Log) cleanableSegments(limit int64) (sealed []*segment, cleanedOffset, end int64, err error) {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.appendableLocked(); err != nil {
		return nil, 0, 0, err
	}
	// Only segments the recovery point has passed: recovery reads a gap in
	// an unflushed segment as lost data, and compaction makes gaps.
	limit = min(limit, l.recoveryPoint)
	n := 0
	for n+1 < len(l.segments) && l.segments[n+1].base <= limit {
		n++
	}
	if n == 0 {
		return nil, 0, 0, nil
	}
	return append([]*segment(nil), l.segments[:n]...), l.cleanedOffset, l.segments[n].base, nil
}

// cleanPass is what one compaction pass carries from segment to segment.
type cleanPass struct {
	newest       map[uint64]int64 // hash of a key → offset of its newest record
	deleteBefore int64            // tombstones and markers older than this (Unix ms) may go
	txns         *txnPass
	st           *CompactStats
}

// compactGroup cleans one group of sealed segments and swaps the cleaned
// copy in.
func (l *Log) compactGroup(group []*segment, pass *cleanPass) error {
	pass.txns.startGroup()
	cleaned, err := l.cleanGroup(group, pass)
	if err != nil {
		return err
	}
	if err := l.forgetDropped(pass.txns); err != nil {
		return errors.Join(err, cleaned.close())
	}
	if err := l.swapIn(group, cleaned); err != nil {
		return err
	}
	pass.st.BytesAfter += cleaned.size.Load()
	return nil
}

// mapNewestOffsets maps the hash of every key in the dirty segments (base at
// or above from) to the offset of its newest record. Records of aborted
// transactions do not count: they never supersede a committed one.
func (l *Log) mapNewestOffsets(sealed []*segment, from int64, txns *txnPass) (map[uint64]int64, error) {
	newest := map[uint64]int64{}
	for _, s := range sealed {
		if s.base < from {
			continue
		}
		err := forEachBatch(s, func(b []byte, h batch.Header) error {
			if h.Control() {
				return nil // a marker's key is Kafka's control record key, no record's
			}
			if txns.isAborted(h) {
				return nil
			}
			records, err := decodeRecords(b)
			if err != nil {
				return err
			}
			for _, r := range records {
				if r.Key != nil {
					newest[xxhash.Sum64(r.Key)] = r.Offset(h)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return newest, nil
}

// cleaningGroups splits the sealed segments into runs that fit in one
// segment once cleaned: at most SegmentBytes before cleaning, and offsets
// that fit the 32-bit relative offsets of the indexes.
func (l *Log) cleaningGroups(sealed []*segment) [][]*segment {
	var groups [][]*segment
	var size int64
	for i, s := range sealed {
		n := len(groups)
		if n > 0 && size+s.size.Load() <= l.cfg.SegmentBytes && segmentEnd(sealed, i)-groups[n-1][0].base <= math.MaxInt32 {
			groups[n-1] = append(groups[n-1], s)
			size += s.size.Load()
			continue
		}
		groups = append(groups, []*segment{s})
		size = s.size.Load()
	}
	return groups
}

func segmentEnd(segments []*segment, i int) int64 {
	if i+1 < len(segments) {
		return segments[i+1].base
	}
	return segments[i].next.Load()
}

// groupEnd returns the offset after a group: the next segment's base.
func (l *Log) groupEnd(group []*segment) int64 {
	l.segsMu.RLock()
	defer l.segsMu.RUnlock()
	last := group[len(group)-1]
	for i, s := range l.segments {
		if s == last {
			return l.segments[i+1].base // a sealed segment always has a successor
		}
	}
	return last.next.Load()
}

// cleanFiles names the files of a cleaned group in a state (.cleaned or
// .swap): A.B.log<state>, where [A, B) are the offsets of the group.
func cleanFiles(dir string, first, end int64, state string) segmentFiles {
	prefix := filepath.Join(dir, fmt.Sprintf("%020d.%020d", first, end))
	return segmentFiles{
		log:       prefix + logSuffix + state,
		index:     prefix + indexSuffix + state,
		timeIndex: prefix + timeIndexSuffix + state,
		txnIndex:  prefix + txnIndexSuffix + state,
	}
}

// cleanGroup writes the cleaned copy of group to .cleaned files and syncs
// it.
func (l *Log) cleanGroup(group []*segment, pass *cleanPass) (*segment, error) {
	first, end := group[0].base, l.groupEnd(group)
	paths := cleanFiles(l.dir, first, end, cleanedSuffix)
	for _, p := range paths.all() {
		if err := l.fs.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	out, err := openSegmentFiles(l.fs, l.dir, first, paths, true)
	if err != nil {
		return nil, err
	}
	for _, s := range group {
		err := forEachBatch(s, func(b []byte, h batch.Header) error {
			kept, err := pass.cleanBatch(b, h)
			if err != nil || kept == nil {
				return err
			}
			kh, _ := batch.ParseHeader(kept)
			return out.append(kept, kh, l.cfg.IndexIntervalBytes)
		})
		if err != nil {
			return nil, errors.Join(err, out.close())
		}
	}
	if err := indexAbortedKept(out, group, pass.txns.forget); err != nil {
		return nil, errors.Join(err, out.close())
	}
	out.next.Store(end)
	if err := out.seal(); err != nil {
		return nil, errors.Join(err, out.close())
	}
	return out, nil
}

// cleanBatch returns b with only the records compaction keeps, b itself when
// it keeps them all, or nil when it keeps none. The transaction rules come
// first (cleanTxnBatch); a committed transaction's records are then kept
// or not by key as any others, in a batch rebuilt with its producer,
// sequence and transactional flag.
func (p *cleanPass) cleanBatch(b []byte, h batch.Header) ([]byte, error) {
	if kept, done, err := p.cleanTxnBatch(b, h); done || err != nil {
		return kept, err
	}
	records, err := decodeRecords(b)
	if err != nil {
		return nil, err
	}
	kept := records[:0:0]
	for _, r := range records {
		p.st.RecordsRead++
		keep := true
		if r.Key != nil {
			latest, ok := p.newest[xxhash.Sum64(r.Key)]
			keep = !ok || latest == r.Offset(h)
			if keep && r.Value == nil && r.Timestamp(h) < p.deleteBefore {
				keep = false // an expired tombstone
			}
		}
		if keep {
			kept = append(kept, r)
		} else {
			p.st.RecordsRemoved++
		}
	}
	switch len(kept) {
	case len(records):
		return b, nil
	case 0:
		return nil, nil
	}
	return rebuildBatch(h, kept)
}

// swapIn replaces group with its cleaned copy: the crash-safe swap described
// at the top of this file.
func (l *Log) swapIn(group []*segment, cleaned *segment) error {
	first, end := group[0].base, l.groupEnd(group)
	from := cleanFiles(l.dir, first, end, cleanedSuffix)
	swap := cleanFiles(l.dir, first, end, swapSuffix)
	// The log file is renamed last: its .swap name is the commit point.
	to := swap.all()
	for i, p := range from.all() {
		if err := l.fs.Rename(p, to[i]); err != nil {
			return errors.Join(err, cleaned.close())
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return errors.Join(err, cleaned.close())
	}

	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.segsMu.Lock()
	defer l.segsMu.Unlock()
	i := 0
	for l.segments[i] != group[0] {
		i++
	}
	rest := l.segments[i+len(group):]
	l.segments = append(append(l.segments[:i:i], cleaned), rest...)
	if err := l.finishSwap(first, end, group); err != nil {
		return l.failLocked(err)
	}
	return nil
}

// finishSwap deletes the segments a committed swap replaces and gives the
// swap files their final names. Recovery calls it with no open segments.
func (l *Log) finishSwap(first, end int64, open []*segment) error {
	var err error
	for _, s := range open {
		err = errors.Join(err, s.close())
	}
	bases, lerr := l.segmentBases()
	if lerr != nil {
		return lerr
	}
	for _, base := range bases {
		if base >= first && base < end {
			for _, p := range segmentFilesAt(l.dir, base).all() {
				if rerr := l.fs.Remove(p); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
					err = errors.Join(err, rerr)
				}
			}
		}
	}
	if err != nil {
		return err
	}
	swap, final := cleanFiles(l.dir, first, end, swapSuffix).all(), segmentFilesAt(l.dir, first).all()
	for i, p := range swap {
		if err := l.fs.Rename(p, final[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return l.fs.SyncDir(l.dir)
}

// segmentBases lists the base offsets of the .log files in l.dir.
func (l *Log) segmentBases() ([]int64, error) {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	for _, name := range names {
		if base, ok := parseSegmentName(name, logSuffix); ok {
			bases = append(bases, base)
		}
	}
	return bases, nil
}

// parseCleanName parses A.B.log<state> into A and B.
func parseCleanName(name, state string) (first, end int64, ok bool) {
	stem, ok := strings.CutSuffix(name, logSuffix+state)
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(stem, ".")
	if !ok || len(a) != 20 || len(b) != 20 {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	return first, end, err1 == nil && err2 == nil && first >= 0 && first < end
}

// forEachBatch calls fn for each batch of s, validated.
func forEachBatch(s *segment, fn func(b []byte, h batch.Header) error) error {
	sc := newScanner(s.log, 0, s.size.Load(), recoveryChunk)
	for sc.next(true) {
		b, err := sc.bytes()
		if err != nil {
			return err
		}
		if err := fn(b, sc.header); err != nil {
			return err
		}
	}
	return sc.err
}
