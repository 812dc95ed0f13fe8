package txnlog

import (
	"errors"
	"fmt"

	"github.com/creekmq/creek/internal/batch"
)

// Aborted is an aborted transaction of the log, an entry of Kafka's
// .txnindex: the producer, the offsets of its first batch and of its
// abort marker, and the last stable offset once it was aborted. Entries
// come in the order of their markers; every transaction aborted after one
// began at or after its LastStable, which bounds a lookup.
type Aborted struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64
	LastStable  int64
}

// Errors of Check, which a partition answers as Kafka does.
var (
	// ErrFencedEpoch: a batch or marker of a producer whose open
	// transaction has a newer epoch (INVALID_PRODUCER_EPOCH).
	ErrFencedEpoch = errors.New("txnlog: the producer's epoch is older than its open transaction's")
	// ErrNotTransactional: a batch outside a transaction from a producer
	// that has one open (INVALID_TXN_STATE).
	ErrNotTransactional = errors.New("txnlog: a non-transactional batch from a producer with a transaction open")
	// ErrCoordinatorFenced: a marker from a transaction coordinator older
	// than the one that wrote the producer's last marker here, a deposed
	// one (TRANSACTION_COORDINATOR_FENCED).
	ErrCoordinatorFenced = errors.New("txnlog: the marker's coordinator epoch is older than the producer's last marker's")
)

// Tracker follows the transactions of one partition's log. The aborted
// ones it finds are the log's to keep, in its segments' indexes: Append
// returns each.
type Tracker struct {
	open map[int64]openTxn // by producer ID
	// coordinatorEpochs is, by producer ID, the highest coordinator epoch
	// of the producer's markers, as Kafka's producer state keeps it: Check
	// refuses a marker of an older coordinator.
	coordinatorEpochs map[int64]int32
}

type openTxn struct {
	epoch int16
	first int64
}

// NewTracker returns a tracker of a log without transactions.
func NewTracker() *Tracker {
	return &Tracker{open: map[int64]openTxn{}, coordinatorEpochs: map[int64]int32{}}
}

// Check reports whether the batch with header h could be appended now;
// marker is its marker for a control batch, nil for a data batch. It
// changes nothing. Besides what Append refuses, it refuses a marker whose
// coordinator epoch is older than the producer's last marker's
// (ErrCoordinatorFenced): the leader's check, which a replay or a
// follower, taking the log as the leader wrote it, does not make (Kafka
// skips it for its replication origin).
func (t *Tracker) Check(h batch.Header, marker *Marker) error {
	if err := t.check(h, marker); err != nil {
		return err
	}
	if marker == nil {
		return nil
	}
	if last, ok := t.coordinatorEpochs[h.ProducerID]; ok && marker.CoordinatorEpoch < last {
		return fmt.Errorf("%w: producer %d, coordinator epoch %d, last %d",
			ErrCoordinatorFenced, h.ProducerID, marker.CoordinatorEpoch, last)
	}
	return nil
}

// check is what both Check and Append refuse: a batch the partition's
// transactions forbid.
func (t *Tracker) check(h batch.Header, marker *Marker) error {
	if h.ProducerID < 0 {
		return nil
	}
	o, isOpen := t.open[h.ProducerID]
	switch {
	case !h.Transactional():
		if isOpen {
			return fmt.Errorf("%w: producer %d", ErrNotTransactional, h.ProducerID)
		}
	case isOpen && h.ProducerEpoch < o.epoch:
		return fmt.Errorf("%w: producer %d epoch %d, open at %d", ErrFencedEpoch, h.ProducerID, h.ProducerEpoch, o.epoch)
	case h.Control() && marker == nil:
		return errors.New("txnlog: a control batch without its marker")
	}
	return nil
}

// Append records a batch the log appended, in offset order, after Check
// let it; marker is as for Check. A marker ends its producer's open
// transaction, if any, and its coordinator epoch is kept when it is the
// producer's highest. An abort that ends a transaction is returned, with
// aborted set, for the index of the segment that holds its marker, where
// read_committed readers find it.
func (t *Tracker) Append(h batch.Header, marker *Marker) (a Aborted, aborted bool, err error) {
	if err := t.check(h, marker); err != nil {
		return Aborted{}, false, err
	}
	if h.ProducerID < 0 || !h.Transactional() {
		return Aborted{}, false, nil
	}
	o, isOpen := t.open[h.ProducerID]
	if !h.Control() {
		if !isOpen {
			o.first = h.BaseOffset
		}
		o.epoch = max(o.epoch, h.ProducerEpoch)
		t.open[h.ProducerID] = o
		return Aborted{}, false, nil
	}
	if last, ok := t.coordinatorEpochs[h.ProducerID]; !ok || marker.CoordinatorEpoch > last {
		t.coordinatorEpochs[h.ProducerID] = marker.CoordinatorEpoch
	}
	if !isOpen {
		return Aborted{}, false, nil // a marker for a transaction with nothing here
	}
	delete(t.open, h.ProducerID)
	if marker.Commit {
		return Aborted{}, false, nil
	}
	stable := h.LastOffset() + 1
	if first, ok := t.firstUnstable(); ok {
		stable = first
	}
	return Aborted{ProducerID: h.ProducerID, FirstOffset: o.first, LastOffset: h.BaseOffset, LastStable: stable}, true, nil
}

// AppendBytes is Append for the bytes of one batch, as a replay of the
// log reads them: it parses the header, and a control batch's marker.
func (t *Tracker) AppendBytes(b []byte) (Aborted, bool, error) {
	h, err := batch.ParseHeader(b)
	if err != nil {
		return Aborted{}, false, err
	}
	if !h.Control() || !h.Transactional() || h.ProducerID < 0 {
		return t.Append(h, nil)
	}
	m, err := ParseMarker(b)
	if errors.Is(err, ErrNotMarker) {
		return Aborted{}, false, nil
	}
	if err != nil {
		return Aborted{}, false, err
	}
	return t.Append(h, &m)
}

// LastStable returns the last stable offset: the first offset of the
// oldest open transaction, or highWatermark if that is lower or none is
// open. A read_committed reader reads below it.
func (t *Tracker) LastStable(highWatermark int64) int64 {
	if first, ok := t.firstUnstable(); ok && first < highWatermark {
		return first
	}
	return highWatermark
}

func (t *Tracker) firstUnstable() (int64, bool) {
	first, found := int64(0), false
	for _, o := range t.open {
		if !found || o.first < first {
			first, found = o.first, true
		}
	}
	return first, found
}

// Open returns the epoch of the producer's open transaction, false for
// none.
func (t *Tracker) Open(producerID int64) (epoch int16, open bool) {
	o, open := t.open[producerID]
	return o.epoch, open
}

// ProducerTxn is what a Tracker knows of one producer's transactions.
type ProducerTxn struct {
	Epoch       int16 // of its open transaction
	FirstOffset int64 // of its open transaction; -1 when none is open
	// CoordinatorEpoch is the highest coordinator epoch of its markers; -1
	// when none is known.
	CoordinatorEpoch int32
}

// Producers returns what the tracker knows of each producer with a
// transaction open or a marker's coordinator epoch, by producer ID.
func (t *Tracker) Producers() map[int64]ProducerTxn {
	out := make(map[int64]ProducerTxn, len(t.open)+len(t.coordinatorEpochs))
	for id, epoch := range t.coordinatorEpochs {
		out[id] = ProducerTxn{FirstOffset: -1, CoordinatorEpoch: epoch}
	}
	for id, o := range t.open {
		p, ok := out[id]
		if !ok {
			p.CoordinatorEpoch = -1
		}
		p.Epoch, p.FirstOffset = o.epoch, o.first
		out[id] = p
	}
	return out
}

// ForgetProducer forgets a producer's coordinator epoch, once the partition has
// forgotten the producer (its producer ID expired), as Kafka drops its
// whole state: the table would otherwise grow with every producer ID that
// ever ended a transaction here. An open transaction is the log's, and
// stays.
func (t *Tracker) ForgetProducer(producerID int64) { delete(t.coordinatorEpochs, producerID) }

// OpenCount returns how many producers have a transaction open.
func (t *Tracker) OpenCount() int { return len(t.open) }
