// The idempotent-producer table of a partition, and its snapshot file.

package creek

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/framefile"
)

// producerWindow is how many of a producer's newest batches a partition
// remembers, to recognise a retried one: Kafka's limit of five in-flight
// requests per connection for an idempotent producer.
const producerWindow = 5

// producerBatch is what a partition remembers of an idempotent batch.
type producerBatch struct {
	firstSeq, lastSeq int32
	baseOffset        int64
	lastOffsetDelta   int32
}

func (b producerBatch) endOffset() int64 { return b.baseOffset + int64(b.lastOffsetDelta) + 1 }

type producerEntry struct {
	epoch   int16
	batches []producerBatch // oldest first, at most producerWindow
	// lastAppend is when the producer last appended, by the node's clock,
	// in Unix milliseconds; -1 when unknown (a batch replayed from the log,
	// whose timestamps are the clients' clocks; an older snapshot), which
	// the next sweep starts counting from.
	lastAppend int64
}

// producerStates is a partition's table of idempotent producers (DESIGN.md
// decision 9). mu is held from the sequence check through the write to the
// record, so two batches of one producer cannot both pass as the next.
type producerStates struct {
	mu        sync.Mutex
	producers map[int64]*producerEntry
	lastSweep int64 // when expireLocked last ran, in Unix milliseconds
}

func newProducerStates() *producerStates {
	return &producerStates{producers: map[int64]*producerEntry{}}
}

// lastSequence returns the sequence of a batch's last record. Sequences
// wrap from MaxInt32 to 0, as Kafka's do.
func lastSequence(h batch.Header) int32 { return incrementSequence(h.BaseSequence, h.LastOffsetDelta) }

func incrementSequence(seq, by int32) int32 {
	if seq > math.MaxInt32-by {
		return by - (math.MaxInt32 - seq) - 1
	}
	return seq + by
}

// checkLocked decides what to do with an idempotent batch: append it (nil,
// nil), acknowledge it as the retry of a batch already stored (that batch),
// or refuse it (ErrInvalidProducerEpoch for a fenced producer,
// ErrOutOfOrderSequence for a gap).
func (s *producerStates) checkLocked(h batch.Header) (*producerBatch, error) {
	e := s.producers[h.ProducerID]
	switch {
	case e == nil || h.ProducerEpoch > e.epoch:
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d epoch %d starts at sequence %d, not 0",
				ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	case h.ProducerEpoch < e.epoch:
		return nil, fmt.Errorf("%w: producer %d epoch %d is older than %d",
			ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.epoch)
	}
	last := lastSequence(h)
	for i := range e.batches {
		if b := &e.batches[i]; b.firstSeq == h.BaseSequence && b.lastSeq == last {
			dup := *b
			return &dup, nil
		}
	}
	if want := incrementSequence(e.batches[len(e.batches)-1].lastSeq, 1); h.BaseSequence != want {
		return nil, fmt.Errorf("%w: producer %d sent sequence %d, expected %d",
			ErrOutOfOrderSequence, h.ProducerID, h.BaseSequence, want)
	}
	return nil, nil
}

// recordLocked remembers a batch written at h.BaseOffset at time now
// (Unix milliseconds; -1: unknown). Replaying the log's batch headers
// through it rebuilds the table.
func (s *producerStates) recordLocked(h batch.Header, now int64) {
	e := s.producers[h.ProducerID]
	if e == nil || h.ProducerEpoch != e.epoch {
		e = &producerEntry{epoch: h.ProducerEpoch}
		s.producers[h.ProducerID] = e
	}
	e.lastAppend = now
	if len(e.batches) == producerWindow {
		e.batches = append(e.batches[:0], e.batches[1:]...)
	}
	e.batches = append(e.batches, producerBatch{firstSeq: h.BaseSequence, lastSeq: lastSequence(h),
		baseOffset: h.BaseOffset, lastOffsetDelta: h.LastOffsetDelta})
}

// producerSweepEvery is how often a partition looks for producers to
// forget (Kafka's producer.id.expiration.check.interval.ms is ten minutes).
const producerSweepEvery = time.Minute

// expireLocked forgets the producers that have not appended for longer
// than after, as Kafka's producer.id.expiration.ms does, at most once per
// producerSweepEvery: a producer seen again later starts afresh, at
// sequence 0 (Kafka's UNKNOWN_PRODUCER_ID case). Before, the table never
// forgot a producer ID, and a client minting IDs grew it without bound.
func (s *producerStates) expireLocked(now int64, after time.Duration) {
	if now-s.lastSweep < producerSweepEvery.Milliseconds() {
		return
	}
	s.lastSweep = now
	for id, e := range s.producers {
		switch {
		case e.lastAppend < 0:
			e.lastAppend = now
		case now-e.lastAppend > after.Milliseconds():
			delete(s.producers, id)
		}
	}
}

// idempotent reports whether a batch carries producer sequences to check.
func idempotent(h batch.Header) bool { return h.ProducerID >= 0 && h.BaseSequence >= 0 && !h.Control() }

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
// every producer's last append unknown.
const (
	producerSnapshotName    = "creek.producers"
	producerSnapshotMagic   = 0x63726b70 // "crkp"
	producerSnapshotVersion = 2
	producerSnapshotHeader  = 8 + 4 // the body's: end offset, producers
	producerEntryHeader     = 8 + 2 + 8 + 1
	producerEntryHeaderV1   = 8 + 2 + 1
	producerBatchSize       = 4 + 4 + 8 + 4
)

var producerSnapshotFormat = framefile.Format{Name: "producer snapshot", Magic: producerSnapshotMagic,
	VersionWidth: framefile.Version16, Oldest: 1, Current: producerSnapshotVersion}

func (s *producerStates) marshalLocked(end int64) []byte {
	b := make([]byte, producerSnapshotHeader, producerSnapshotHeader+len(s.producers)*(producerEntryHeader+producerWindow*producerBatchSize))
	binary.BigEndian.PutUint64(b[0:], uint64(end))
	binary.BigEndian.PutUint32(b[8:], uint32(len(s.producers)))
	for id, e := range s.producers {
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(e.epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.lastAppend))
		b = append(b, byte(len(e.batches)))
		for _, pb := range e.batches {
			b = binary.BigEndian.AppendUint32(b, uint32(pb.firstSeq))
			b = binary.BigEndian.AppendUint32(b, uint32(pb.lastSeq))
			b = binary.BigEndian.AppendUint64(b, uint64(pb.baseOffset))
			b = binary.BigEndian.AppendUint32(b, uint32(pb.lastOffsetDelta))
		}
	}
	return producerSnapshotFormat.Seal(b)
}

// unmarshalProducerSnapshot decodes a snapshot and the end offset it covers.
func unmarshalProducerSnapshot(b []byte) (*producerStates, int64, error) {
	version, body, err := producerSnapshotFormat.Open(b)
	if err != nil {
		return nil, 0, err
	}
	if len(body) < producerSnapshotHeader {
		return nil, 0, errors.New("producer snapshot is shorter than its header")
	}
	end := int64(binary.BigEndian.Uint64(body))
	count := binary.BigEndian.Uint32(body[8:])
	entryHeader := producerEntryHeader
	if version == 1 {
		entryHeader = producerEntryHeaderV1
	}
	if end < 0 || uint64(count)*uint64(entryHeader) > uint64(len(body)-producerSnapshotHeader) {
		return nil, 0, errors.New("producer snapshot is inconsistent with its size")
	}
	s := newProducerStates()
	rest := body[producerSnapshotHeader:]
	for range count {
		if len(rest) < entryHeader {
			return nil, 0, errors.New("producer snapshot ends inside a producer")
		}
		id, epoch, n := int64(binary.BigEndian.Uint64(rest)), int16(binary.BigEndian.Uint16(rest[8:])), int(rest[entryHeader-1])
		lastAppend := int64(-1)
		if entryHeader == producerEntryHeader {
			lastAppend = int64(binary.BigEndian.Uint64(rest[10:]))
		}
		rest = rest[entryHeader:]
		if n < 1 || n > producerWindow || len(rest) < n*producerBatchSize || s.producers[id] != nil || id < 0 {
			return nil, 0, fmt.Errorf("producer snapshot has a bad entry for producer %d", id)
		}
		e := &producerEntry{epoch: epoch, lastAppend: lastAppend}
		for range n {
			e.batches = append(e.batches, producerBatch{
				firstSeq:        int32(binary.BigEndian.Uint32(rest)),
				lastSeq:         int32(binary.BigEndian.Uint32(rest[4:])),
				baseOffset:      int64(binary.BigEndian.Uint64(rest[8:])),
				lastOffsetDelta: int32(binary.BigEndian.Uint32(rest[16:])),
			})
			rest = rest[producerBatchSize:]
		}
		s.producers[id] = e
	}
	if len(rest) != 0 {
		return nil, 0, errors.New("producer snapshot has bytes after its last producer")
	}
	return s, end, nil
}
