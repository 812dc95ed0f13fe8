// Package idempotence holds a partition's table of idempotent producers
// (DESIGN.md decision 9): the newest batches of each producer ID and
// epoch, the sequence check that tells a new batch from a retried one or a
// lost one, the expiry of idle producers, and the snapshot format the
// table is saved in. It does no I/O; the root package reads and writes the
// snapshot file and exports the errors under the same names.
package idempotence

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/creekmq/creek/internal/batch"
)

// The errors Check refuses a batch with; the root package exports them
// under the same names.
var (
	// ErrOutOfOrderSequence refuses an idempotent producer's batch whose
	// sequence does not follow the last one stored: a batch was lost
	// between them.
	ErrOutOfOrderSequence = errors.New("creek: out of order sequence number")
	// ErrInvalidProducerEpoch refuses a producer fenced by a newer epoch
	// of the same producer ID.
	ErrInvalidProducerEpoch = errors.New("creek: producer epoch is fenced by a newer one")
)

// Window is how many of a producer's newest batches a Table remembers, to
// recognise a retried one: Kafka's limit of five in-flight requests per
// connection for an idempotent producer.
const Window = 5

// SweepEvery is how often Expire looks for producers to forget (Kafka's
// producer.id.expiration.check.interval.ms is ten minutes).
const SweepEvery = time.Minute

// Batch is what a Table remembers of an idempotent batch.
type Batch struct {
	FirstSeq, LastSeq int32 // the sequences of its first and last records
	BaseOffset        int64 // where the partition stored it
	LastOffsetDelta   int32 // its last record's offset less BaseOffset
}

// EndOffset returns the offset after the batch's last record.
func (b Batch) EndOffset() int64 { return b.BaseOffset + int64(b.LastOffsetDelta) + 1 }

// producer is what a Table remembers of one producer ID.
type producer struct {
	epoch   int16
	batches []Batch // oldest first, at most Window
	// lastAppend is when the producer last appended, by the node's clock,
	// in Unix milliseconds; -1 when unknown (a batch replayed from the log,
	// whose timestamps are the clients' clocks; an older snapshot), which
	// the next sweep starts counting from.
	lastAppend int64
}

// Table is a partition's idempotent producers: for each producer ID its
// epoch, its newest Window batches and when it last appended. It is not
// safe for concurrent use: the caller holds one lock from Check through
// the write of the batch to Record, so that two batches of one producer
// cannot both pass as the next.
type Table struct {
	producers map[int64]*producer
	lastSweep int64 // when Expire last swept, in Unix milliseconds
}

// NewTable returns an empty Table.
func NewTable() *Table { return &Table{producers: map[int64]*producer{}} }

// Idempotent reports whether a batch carries producer sequences to check.
func Idempotent(h batch.Header) bool { return h.ProducerID >= 0 && h.BaseSequence >= 0 && !h.Control() }

// IncrementSequence returns seq advanced by by. Sequences wrap from
// MaxInt32 to 0, as Kafka's do.
func IncrementSequence(seq, by int32) int32 {
	if seq > math.MaxInt32-by {
		return by - (math.MaxInt32 - seq) - 1
	}
	return seq + by
}

// lastSequence returns the sequence of a batch's last record.
func lastSequence(h batch.Header) int32 { return IncrementSequence(h.BaseSequence, h.LastOffsetDelta) }

// Check decides what to do with an idempotent batch: append it (nil,
// nil), acknowledge it as the retry of a batch already stored (that batch,
// a copy), or refuse it (ErrInvalidProducerEpoch for a fenced producer,
// ErrOutOfOrderSequence for a gap).
func (t *Table) Check(h batch.Header) (*Batch, error) {
	e := t.producers[h.ProducerID]
	if err := t.CheckEpoch(h.ProducerID, h.ProducerEpoch); err != nil {
		return nil, err
	}
	if e == nil || h.ProducerEpoch > e.epoch || len(e.batches) == 0 {
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d epoch %d starts at sequence %d, not 0",
				ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	last := lastSequence(h)
	for i := range e.batches {
		if b := &e.batches[i]; b.FirstSeq == h.BaseSequence && b.LastSeq == last {
			dup := *b
			return &dup, nil
		}
	}
	if want := IncrementSequence(e.batches[len(e.batches)-1].LastSeq, 1); h.BaseSequence != want {
		return nil, fmt.Errorf("%w: producer %d sent sequence %d, expected %d",
			ErrOutOfOrderSequence, h.ProducerID, h.BaseSequence, want)
	}
	return nil, nil
}

// Record remembers a batch written at h.BaseOffset at time now (Unix
// milliseconds; -1: unknown). Replaying the log's batch headers through it
// rebuilds the table.
func (t *Table) Record(h batch.Header, now int64) {
	e := t.producers[h.ProducerID]
	if e == nil || h.ProducerEpoch != e.epoch {
		e = &producer{epoch: h.ProducerEpoch}
		t.producers[h.ProducerID] = e
	}
	e.lastAppend = now
	if len(e.batches) == Window {
		e.batches = append(e.batches[:0], e.batches[1:]...)
	}
	e.batches = append(e.batches, Batch{FirstSeq: h.BaseSequence, LastSeq: lastSequence(h),
		BaseOffset: h.BaseOffset, LastOffsetDelta: h.LastOffsetDelta})
}

// CheckEpoch refuses, with ErrInvalidProducerEpoch, a batch or
// transaction marker of producer id at an epoch older than the table's.
func (t *Table) CheckEpoch(id int64, epoch int16) error {
	if e := t.producers[id]; e != nil && epoch < e.epoch {
		return fmt.Errorf("%w: producer %d epoch %d is older than %d", ErrInvalidProducerEpoch, id, epoch, e.epoch)
	}
	return nil
}

// RecordMarker remembers a transaction marker of producer id at epoch,
// written at time now (as for Record). A marker carries no sequence, but
// its epoch counts, as in Kafka's appendEndTxnMarker: the coordinator
// bumps a producer's epoch when it aborts a transaction to fence the
// producer, whose older epoch is then refused, and whose batches at the
// new epoch start at sequence 0. A marker at the producer's own epoch
// leaves its batches: its sequences go on into its next transaction.
func (t *Table) RecordMarker(id int64, epoch int16, now int64) {
	e := t.producers[id]
	if e == nil || epoch > e.epoch {
		e = &producer{epoch: epoch}
		t.producers[id] = e
	}
	e.lastAppend = now
}

// Expire forgets the producers that have not appended for longer than
// after, as Kafka's producer.id.expiration.ms does, at most once per
// SweepEvery of now (Unix milliseconds): a producer seen again later
// starts afresh, at sequence 0 (Kafka's UNKNOWN_PRODUCER_ID case). Before,
// the table never forgot a producer ID, and a client minting IDs grew it
// without bound. A producer for which keep says true (one with a
// transaction open, which Kafka never expires) stays whatever its age. It
// returns the IDs forgotten, for the caller to forget what else it keeps
// of them.
func (t *Table) Expire(now int64, after time.Duration, keep func(id int64) bool) []int64 {
	if now-t.lastSweep < SweepEvery.Milliseconds() {
		return nil
	}
	t.lastSweep = now
	var forgotten []int64
	for id, e := range t.producers {
		switch {
		case e.lastAppend < 0:
			e.lastAppend = now
		case now-e.lastAppend > after.Milliseconds() && !keep(id):
			delete(t.producers, id)
			forgotten = append(forgotten, id)
		}
	}
	return forgotten
}

// Producer is what a Table knows of one producer, as Kafka's
// DescribeProducers reports it.
type Producer struct {
	ID    int64
	Epoch int16
	// LastSequence is the sequence of the last record of its newest batch;
	// -1 when the table has none (its epoch came from a marker).
	LastSequence int32
	// LastAppend is when it last appended, as for Record; -1 when unknown.
	LastAppend int64
}

// Producers returns the producers the table knows, by ID.
func (t *Table) Producers() []Producer {
	out := make([]Producer, 0, len(t.producers))
	for id, e := range t.producers {
		p := Producer{ID: id, Epoch: e.epoch, LastSequence: -1, LastAppend: e.lastAppend}
		if n := len(e.batches); n > 0 {
			p.LastSequence = e.batches[n-1].LastSeq
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Producer) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
