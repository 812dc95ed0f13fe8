// Compaction of a log with transactions: what its owner tells the
// cleaner of them, and the rules a pass follows for their batches and
// markers.

package creek

import (
	"math"
	"sort"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/txnlog"
)

// logTxns is what compaction asks a Log's owner of the transactions in the
// log: its partition, which tracks them (partitiontxn.go). A Log opened on
// its own has none, and compacts as if no batch were transactional.
//
// The pass holds cleanMu while it asks, and no other lock of the log: an
// owner may take its own locks, as long as no holder of them waits for
// cleanMu or for the log's background goroutine (Close) — so an owner's
// lock held over a truncation or a Close must be tried, never waited for.
type logTxns interface {
	// cleanableTxns returns the transactions a pass may clean below, or
	// false when the owner cannot say now (the pass then cleans nothing).
	cleanableTxns() (cleanableTxns, bool)
	// forgetTxns is called before a pass commits the removal of markers:
	// the owner forgets anything saved of its transactions that a restart
	// would read instead of the log (a snapshot taken before the markers
	// went would hold such a transaction open). An error fails the pass;
	// the markers stay. The aborted transactions whose markers go leave
	// the index with them: the cleaned segment's holds the rest.
	forgetTxns() error
}

// cleanableTxns is an owner's answer to a compaction pass.
type cleanableTxns struct {
	// stable is the last stable offset: every transaction with data below
	// it is decided. A pass reads and rewrites only segments that end at or
	// below it, and takes the aborted transactions with data below it from
	// the segments' indexes, having read it first: one aborted after would
	// pass the list, and its records count as committed.
	stable int64
	// markers says whether the pass may remove markers: only an owner that
	// forgets what it saved of them (forgetTxns) lets it.
	markers bool
}

// noTxns is the answer for a Log without an owner: nothing to wait for,
// and markers (which a Log opened on its own does not read) kept as they
// are. Its segments' indexes are empty unless an owner wrote them.
var noTxns = cleanableTxns{stable: math.MaxInt64}

// askTxns returns what the Log's owner says of its transactions.
func (l *Log) askTxns() (cleanableTxns, bool) {
	if l.txns == nil {
		return noTxns, true
	}
	return l.txns.cleanableTxns()
}

// txnPass is what one compaction pass knows and learns of the
// transactions in the segments it cleans, which it reads from the first in
// offset order.
type txnPass struct {
	aborted map[int64][]txnlog.Aborted // by producer, in marker order
	markers bool                       // markers may go
	// hasData holds the producers whose current transaction had a data
	// batch read in this pass; its marker clears it.
	hasData map[int64]bool
	// forget are the aborted transactions whose markers the group being
	// cleaned drops, which leave the index of its cleaned copy.
	forget  []txnlog.Aborted
	dropped int // markers the group being cleaned drops
}

// newTxnPass starts a pass below txns.stable, where aborted are the
// aborted transactions with data.
func newTxnPass(txns cleanableTxns, aborted []txnlog.Aborted) *txnPass {
	tp := &txnPass{aborted: map[int64][]txnlog.Aborted{}, markers: txns.markers, hasData: map[int64]bool{}}
	for _, a := range aborted {
		tp.aborted[a.ProducerID] = append(tp.aborted[a.ProducerID], a)
	}
	return tp
}

// isAborted reports whether a transactional data batch with header h
// belongs to an aborted transaction: its producer's whose offsets, first
// batch to marker, hold the batch's. One producer's transactions do not
// overlap.
func (tp *txnPass) isAborted(h batch.Header) bool {
	if !h.Transactional() || h.Control() || h.ProducerID < 0 {
		return false
	}
	a, ok := tp.endingFrom(h.ProducerID, h.BaseOffset)
	return ok && a.FirstOffset <= h.BaseOffset
}

// endingFrom returns the producer's first aborted transaction whose marker
// is at or after offset.
func (tp *txnPass) endingFrom(producerID, offset int64) (txnlog.Aborted, bool) {
	list := tp.aborted[producerID]
	i := sort.Search(len(list), func(i int) bool { return list[i].LastOffset >= offset })
	if i == len(list) {
		return txnlog.Aborted{}, false
	}
	return list[i], true
}

// sawData records a transactional data batch read by the pass, kept or
// not: its transaction's marker stays through this pass.
func (tp *txnPass) sawData(h batch.Header) {
	if h.Transactional() && !h.Control() && h.ProducerID >= 0 {
		tp.hasData[h.ProducerID] = true
	}
}

// dropsMarker reports whether the pass drops the marker m, the control
// batch with header h: a marker goes in a pass that read no data batch of
// its transaction, once it is older than DeleteRetention (deleteBefore).
// The data of a transaction lies between the producer's previous marker
// and this one, and the pass reads every segment from the log start up
// to here, so no data read means none is left: a replay of the log
// without the marker then finds neither the transaction's data nor its
// end, and nothing opens. The pass that removes the data keeps the marker,
// as Kafka's cleaner does, so that a reader that met the data has until a
// later pass, and DeleteRetention, to meet the marker that ends it.
func (tp *txnPass) dropsMarker(m txnlog.Marker, h batch.Header, deleteBefore int64) bool {
	hadData := tp.hasData[m.ProducerID]
	delete(tp.hasData, m.ProducerID)
	if !tp.markers || hadData || h.MaxTimestamp >= deleteBefore {
		return false
	}
	if !m.Commit {
		if a, ok := tp.abortedEndingAt(m.ProducerID, h.BaseOffset); ok {
			tp.forget = append(tp.forget, a)
		}
	}
	tp.dropped++
	return true
}

// abortedEndingAt returns the aborted transaction of the producer whose
// marker is at offset. None is there for a marker that ended nothing, or
// whose transaction a restart found no data of.
func (tp *txnPass) abortedEndingAt(producerID, offset int64) (txnlog.Aborted, bool) {
	a, ok := tp.endingFrom(producerID, offset)
	return a, ok && a.LastOffset == offset
}

// startGroup resets what the pass gathers for one group's swap.
func (tp *txnPass) startGroup() { tp.forget, tp.dropped = nil, 0 }

// forgetDropped has the Log's owner forget what it saved of the
// transactions whose markers the group just cleaned drops, before its
// swap commits.
func (l *Log) forgetDropped(tp *txnPass) error {
	if tp.dropped == 0 {
		return nil
	}
	return l.txns.forgetTxns()
}

// cleanTxnBatch applies the transaction rules to one batch of a group
// being cleaned: it returns the batch itself and done when they decide
// it (a control batch, kept or dropped; an aborted transaction's data
// batch, dropped), and done false for a data batch to clean by key.
func (p *cleanPass) cleanTxnBatch(b []byte, h batch.Header) (kept []byte, done bool, err error) {
	if h.Control() {
		m, err := markerOf(b, h)
		if err != nil || m == nil || !p.txns.dropsMarker(*m, h, p.deleteBefore) {
			return b, true, err // other control batches stay as they are
		}
		p.st.MarkersRemoved++
		return nil, true, nil
	}
	p.txns.sawData(h)
	if p.txns.isAborted(h) {
		p.st.RecordsRead += int64(h.NumRecords)
		p.st.RecordsRemoved += int64(h.NumRecords)
		return nil, true, nil
	}
	return nil, false, nil
}

// indexAbortedKept gives the cleaned copy of group the aborted
// transactions of group's indexes but those whose markers the pass
// dropped (forget): read_committed readers of the copy skip the same
// records, and wait for no marker that is gone.
func indexAbortedKept(cleaned *segment, group []*segment, forget []txnlog.Aborted) error {
	gone := make(map[[2]int64]bool, len(forget))
	for _, a := range forget {
		gone[[2]int64{a.ProducerID, a.LastOffset}] = true
	}
	for _, s := range group {
		for _, a := range s.txnIndex.all() {
			if gone[[2]int64{a.ProducerID, a.LastOffset}] {
				continue
			}
			if err := cleaned.txnIndex.append(a); err != nil {
				return err
			}
		}
	}
	return nil
}
