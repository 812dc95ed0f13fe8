package idempotence

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/creekmq/creek/internal/framefile"
)

// The producer snapshot saves a partition's table when the partition
// closes, so that a restart replays only the batches after it. Layout,
// big-endian:
//
//	magic (4) | version (2) | end offset (8) | producers (4) |
//	  per producer: id (8) | epoch (2) | last append (8, from version 2) | batches (1) |
//	    per batch: first seq (4) | last seq (4) | base offset (8) | last offset delta (4)
//	| CRC-32C (4)
//
// The frame (magic, version, CRC of the bytes before it) is
// internal/framefile's; the rest is the snapshot's body. The end offset is
// the log end offset the table covers. A version 1 snapshot is read with
// every producer's last append unknown. Version 3 has version 2's layout
// and lets a producer have no batches: its epoch came from a transaction
// marker (RecordMarker); version 2 and 1 need at least one. Part of the
// format: never change these constants.
const (
	snapshotMagic    = 0x63726b70 // "crkp"
	snapshotVersion  = 3
	snapshotHeader   = 8 + 4 // the body's: end offset, producers
	producerHeader   = 8 + 2 + 8 + 1
	producerHeaderV1 = 8 + 2 + 1
	batchSize        = 4 + 4 + 8 + 4
)

var snapshotFormat = framefile.Format{Name: "producer snapshot", Magic: snapshotMagic,
	VersionWidth: framefile.Version16, Oldest: 1, Current: snapshotVersion}

// MarshalSnapshot returns the table's snapshot, covering the log up to
// end, the log end offset, in the current version.
func (t *Table) MarshalSnapshot(end int64) []byte {
	b := make([]byte, snapshotHeader, snapshotHeader+len(t.producers)*(producerHeader+Window*batchSize))
	binary.BigEndian.PutUint64(b[0:], uint64(end))
	binary.BigEndian.PutUint32(b[8:], uint32(len(t.producers)))
	for id, e := range t.producers {
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(e.epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.lastAppend))
		b = append(b, byte(len(e.batches)))
		for _, pb := range e.batches {
			b = binary.BigEndian.AppendUint32(b, uint32(pb.FirstSeq))
			b = binary.BigEndian.AppendUint32(b, uint32(pb.LastSeq))
			b = binary.BigEndian.AppendUint64(b, uint64(pb.BaseOffset))
			b = binary.BigEndian.AppendUint32(b, uint32(pb.LastOffsetDelta))
		}
	}
	return snapshotFormat.Seal(b)
}

// UnmarshalSnapshot decodes a snapshot of any version into a new
// Table, and returns the end offset it covers. It does not retain b. It
// returns framefile's errors for a bad frame, and an error naming the
// fault for a body that does not parse.
func UnmarshalSnapshot(b []byte) (*Table, int64, error) {
	version, body, err := snapshotFormat.Open(b)
	if err != nil {
		return nil, 0, err
	}
	if len(body) < snapshotHeader {
		return nil, 0, errors.New("producer snapshot is shorter than its header")
	}
	end := int64(binary.BigEndian.Uint64(body))
	count := binary.BigEndian.Uint32(body[8:])
	entryHeader := producerHeader
	if version == 1 {
		entryHeader = producerHeaderV1
	}
	if end < 0 || uint64(count)*uint64(entryHeader) > uint64(len(body)-snapshotHeader) {
		return nil, 0, errors.New("producer snapshot is inconsistent with its size")
	}
	t := NewTable()
	rest := body[snapshotHeader:]
	for range count {
		if len(rest) < entryHeader {
			return nil, 0, errors.New("producer snapshot ends inside a producer")
		}
		id, epoch, n := int64(binary.BigEndian.Uint64(rest)), int16(binary.BigEndian.Uint16(rest[8:])), int(rest[entryHeader-1])
		lastAppend := int64(-1)
		if entryHeader == producerHeader {
			lastAppend = int64(binary.BigEndian.Uint64(rest[10:]))
		}
		rest = rest[entryHeader:]
		if n < 1 && version < 3 || n > Window || len(rest) < n*batchSize || t.producers[id] != nil || id < 0 {
			return nil, 0, fmt.Errorf("producer snapshot has a bad entry for producer %d", id)
		}
		e := &producer{epoch: epoch, lastAppend: lastAppend}
		for range n {
			e.batches = append(e.batches, Batch{
				FirstSeq:        int32(binary.BigEndian.Uint32(rest)),
				LastSeq:         int32(binary.BigEndian.Uint32(rest[4:])),
				BaseOffset:      int64(binary.BigEndian.Uint64(rest[8:])),
				LastOffsetDelta: int32(binary.BigEndian.Uint32(rest[16:])),
			})
			rest = rest[batchSize:]
		}
		t.producers[id] = e
	}
	if len(rest) != 0 {
		return nil, 0, errors.New("producer snapshot has bytes after its last producer")
	}
	return t, end, nil
}
