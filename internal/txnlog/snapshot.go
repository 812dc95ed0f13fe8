package txnlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/creekmq/creek/internal/framefile"
)

// The transaction snapshot saves a Tracker when its partition closes, so
// that a restart replays only the batches after it, not the whole log.
// Layout, big-endian:
//
//	magic (4) | version (2) | end offset (8) |
//	  open transactions (4) | per open: producer id (8) | epoch (2) | first offset (8) |
//	  aborted transactions (4) | per aborted: an index entry (EntrySize)
//	| CRC-32C (4)
//
// The frame is internal/framefile's; open transactions are sorted by
// producer ID, aborted ones by marker as in the tracker. The end offset is
// the log end offset the tracker covers. Part of the format: never change
// these constants.
const (
	snapshotMagic   = 0x63726b78 // "crkx"
	snapshotVersion = 1
	openSize        = 8 + 2 + 8
)

var snapshotFormat = framefile.Format{Name: "transaction snapshot", Magic: snapshotMagic,
	VersionWidth: framefile.Version16, Oldest: 1, Current: snapshotVersion}

// MarshalSnapshot returns the tracker's snapshot, covering the log up to
// end, the log end offset.
func (t *Tracker) MarshalSnapshot(end int64) []byte {
	ids := make([]int64, 0, len(t.open))
	for id := range t.open {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := make([]byte, 0, 8+4+len(ids)*openSize+4+len(t.aborted)*EntrySize)
	b = binary.BigEndian.AppendUint64(b, uint64(end))
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		o := t.open[id]
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(o.epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(o.first))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(t.aborted)))
	for _, a := range t.aborted {
		b = AppendEntry(b, a)
	}
	return snapshotFormat.Seal(b)
}

// UnmarshalSnapshot decodes a snapshot into a new Tracker and returns the
// end offset it covers. It does not retain b. It returns framefile's
// errors for a bad frame, and an error naming the fault for a body that
// does not parse or is inconsistent (offsets past the end, a producer
// twice).
func UnmarshalSnapshot(b []byte) (*Tracker, int64, error) {
	_, body, err := snapshotFormat.Open(b)
	if err != nil {
		return nil, 0, err
	}
	if len(body) < 8+4 {
		return nil, 0, errors.New("transaction snapshot is shorter than its header")
	}
	end, count := int64(binary.BigEndian.Uint64(body)), binary.BigEndian.Uint32(body[8:])
	rest := body[12:]
	if end < 0 || uint64(count)*openSize+4 > uint64(len(rest)) {
		return nil, 0, errors.New("transaction snapshot is inconsistent with its size")
	}
	t := NewTracker()
	for range count {
		id, epoch, first := int64(binary.BigEndian.Uint64(rest)), int16(binary.BigEndian.Uint16(rest[8:])),
			int64(binary.BigEndian.Uint64(rest[10:]))
		rest = rest[openSize:]
		if _, dup := t.open[id]; dup || id < 0 || first < 0 || first >= end {
			return nil, 0, fmt.Errorf("transaction snapshot has a bad open transaction of producer %d", id)
		}
		t.open[id] = openTxn{epoch: epoch, first: first}
	}
	aborted := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(aborted)*EntrySize != uint64(len(rest)) {
		return nil, 0, errors.New("transaction snapshot's aborted transactions do not fill it")
	}
	if t.aborted, err = ParseIndex(rest); err != nil {
		return nil, 0, fmt.Errorf("transaction snapshot: %w", err)
	}
	if n := len(t.aborted); n > 0 && t.aborted[n-1].LastOffset >= end {
		return nil, 0, errors.New("transaction snapshot has an abort past its end")
	}
	if len(t.aborted) == 0 {
		t.aborted = nil // as a new tracker has it
	}
	return t, end, nil
}
