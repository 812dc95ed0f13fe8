package txnlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/creekmq/creek/internal/framefile"
)

// The transaction snapshot saves a Tracker when its partition rolls a
// segment or closes, so that a restart replays only the batches after it,
// not the whole log. Layout, big-endian:
//
//	magic (4) | version (2) | end offset (8) |
//	  open transactions (4) | per open: producer id (8) | epoch (2) | first offset (8) |
//	  aborted transactions (4, versions 1 and 2) | per aborted: an index entry (EntrySize) |
//	  coordinator epochs (4, from version 2) | per producer: producer id (8) | coordinator epoch (4)
//	| CRC-32C (4)
//
// The frame is internal/framefile's; open transactions and coordinator
// epochs are sorted by producer ID, aborted ones by marker. The end offset
// is the log end offset the tracker covers. From version 3 the aborted
// transactions are the segments' indexes', not the snapshot's; an older
// snapshot's are returned for the caller to index. A version 1 snapshot
// is read with no coordinator epochs known: the next marker of each
// producer is accepted whatever its coordinator's. Part of the format:
// never change these constants.
const (
	snapshotMagic   = 0x63726b78 // "crkx"
	snapshotVersion = 3
	// IndexesAborted is the first snapshot version that leaves the aborted
	// transactions to the segments' indexes.
	IndexesAborted   = 3
	openSize         = 8 + 2 + 8
	coordinatorSize  = 8 + 4
	snapshotHeader   = 8 + 4 // the body's: end offset, open transactions
	snapshotCountLen = 4
)

var snapshotFormat = framefile.Format{Name: "transaction snapshot", Magic: snapshotMagic,
	VersionWidth: framefile.Version16, Oldest: 1, Current: snapshotVersion}

// MarshalSnapshot returns the tracker's snapshot, covering the log up to
// end, the log end offset, in the current version.
func (t *Tracker) MarshalSnapshot(end int64) []byte {
	ids := sortedKeys(t.open)
	coordinated := sortedKeys(t.coordinatorEpochs)
	b := make([]byte, 0, snapshotHeader+len(ids)*openSize+4+len(coordinated)*coordinatorSize)
	b = binary.BigEndian.AppendUint64(b, uint64(end))
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		o := t.open[id]
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(o.epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(o.first))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(coordinated)))
	for _, id := range coordinated {
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint32(b, uint32(t.coordinatorEpochs[id]))
	}
	return snapshotFormat.Seal(b)
}

func sortedKeys[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Snapshot is a decoded transaction snapshot.
type Snapshot struct {
	Tracker *Tracker
	End     int64 // the log end offset it covers
	// Version is the snapshot's. Before version 3 (IndexesAborted) it held
	// the aborted transactions, which the segments' indexes hold from then.
	Version uint16
	// Aborted are the aborted transactions a snapshot before version 3
	// holds, in marker order, for the segments' indexes.
	Aborted []Aborted
}

// UnmarshalSnapshot decodes a snapshot of any version. It does not
// retain b. It returns framefile's errors for a bad frame, and an error
// naming the fault for a body that does not parse or is inconsistent
// (offsets past the end, a producer twice or out of order).
func UnmarshalSnapshot(b []byte) (Snapshot, error) {
	version, body, err := snapshotFormat.Open(b)
	if err != nil {
		return Snapshot{}, err
	}
	if len(body) < snapshotHeader {
		return Snapshot{}, errors.New("transaction snapshot is shorter than its header")
	}
	s := Snapshot{Tracker: NewTracker(), End: int64(binary.BigEndian.Uint64(body)), Version: version}
	if s.End < 0 {
		return Snapshot{}, errors.New("transaction snapshot has a negative end offset")
	}
	rest, err := s.Tracker.readOpen(body[8:], s.End)
	if err != nil {
		return Snapshot{}, err
	}
	if version < IndexesAborted {
		if s.Aborted, rest, err = readAborted(rest, s.End); err != nil {
			return Snapshot{}, err
		}
	}
	if version >= 2 {
		if rest, err = s.Tracker.readCoordinatorEpochs(rest); err != nil {
			return Snapshot{}, err
		}
	}
	if len(rest) != 0 {
		return Snapshot{}, errors.New("transaction snapshot has bytes after its last section")
	}
	return s, nil
}

// readSection reads a section's count of entries of size bytes each,
// and returns the section's bytes and what follows it.
func readSection(b []byte, size int, what string) (section, rest []byte, err error) {
	if len(b) < snapshotCountLen {
		return nil, nil, fmt.Errorf("transaction snapshot ends before its %s", what)
	}
	n := uint64(binary.BigEndian.Uint32(b))
	b = b[snapshotCountLen:]
	if n*uint64(size) > uint64(len(b)) {
		return nil, nil, fmt.Errorf("transaction snapshot's %s are inconsistent with its size", what)
	}
	return b[:n*uint64(size)], b[n*uint64(size):], nil
}

// readOpen reads the open transactions of a snapshot covering the log to
// end, and returns the bytes after them.
func (t *Tracker) readOpen(b []byte, end int64) ([]byte, error) {
	section, rest, err := readSection(b, openSize, "open transactions")
	if err != nil {
		return nil, err
	}
	last := int64(-1)
	for ; len(section) > 0; section = section[openSize:] {
		id, epoch, first := int64(binary.BigEndian.Uint64(section)), int16(binary.BigEndian.Uint16(section[8:])),
			int64(binary.BigEndian.Uint64(section[10:]))
		if id <= last || first < 0 || first >= end { // sorted, as written, so that it re-encodes the same
			return nil, fmt.Errorf("transaction snapshot has a bad open transaction of producer %d", id)
		}
		t.open[id], last = openTxn{epoch: epoch, first: first}, id
	}
	return rest, nil
}

// readAborted reads the aborted transactions of a snapshot of version 1
// or 2 covering the log to end, and returns the bytes after them.
func readAborted(b []byte, end int64) (aborted []Aborted, rest []byte, err error) {
	section, rest, err := readSection(b, EntrySize, "aborted transactions")
	if err != nil {
		return nil, nil, err
	}
	if aborted, err = ParseIndex(section); err != nil {
		return nil, nil, fmt.Errorf("transaction snapshot: %w", err)
	}
	if n := len(aborted); n > 0 && aborted[n-1].LastOffset >= end {
		return nil, nil, errors.New("transaction snapshot has an abort past its end")
	}
	return aborted, rest, nil
}

// readCoordinatorEpochs reads the coordinator epochs of a snapshot, from
// version 2, and returns the bytes after them.
func (t *Tracker) readCoordinatorEpochs(b []byte) ([]byte, error) {
	section, rest, err := readSection(b, coordinatorSize, "coordinator epochs")
	if err != nil {
		return nil, err
	}
	last := int64(-1)
	for ; len(section) > 0; section = section[coordinatorSize:] {
		id, epoch := int64(binary.BigEndian.Uint64(section)), int32(binary.BigEndian.Uint32(section[8:]))
		if id <= last { // sorted, as written, so that it re-encodes the same
			return nil, fmt.Errorf("transaction snapshot has producer %d's coordinator epoch out of order", id)
		}
		t.coordinatorEpochs[id], last = epoch, id
	}
	return rest, nil
}
