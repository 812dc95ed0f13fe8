// A partition's producers: the sequence and transaction checks of the
// write path, what an append records of them, and their table rebuilt from
// its snapshot and the log.

package creek

import (
	"path/filepath"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/idempotence"
	"github.com/creekmq/creek/internal/txnlog"
)

// write appends b, validated or built here, whose header is h. For an
// idempotent producer it checks the sequence first, and answers a retried
// batch with the offset it was stored at (after waiting, as an append
// would, for it to be durable); for a batch of any producer, what its
// transactions on the partition allow (checkTxnLocked).
func (p *partition) write(b []byte, h batch.Header) (int64, pendingSync, error) {
	if h.ProducerID < 0 {
		return p.log.writeValidated(b, h)
	}
	marker, err := markerOf(b, h)
	if err != nil {
		return -1, pendingSync{}, err
	}
	p.producersMu.Lock()
	defer p.producersMu.Unlock()
	now := p.now().UnixMilli()
	dup, err := p.checkProducerLocked(h, marker, now)
	if err != nil {
		return -1, pendingSync{}, err
	}
	if dup != nil {
		p.log.appendMu.Lock()
		pending := p.log.pendingSyncLocked(dup.EndOffset())
		p.log.appendMu.Unlock()
		return dup.BaseOffset, pending, nil
	}
	if h.Transactional() && marker == nil {
		p.holdStableLocked()
	}
	base, pending, err := p.log.writeValidated(b, h)
	if err != nil {
		p.txnsChangedLocked() // back from holdStableLocked's bound
		return base, pending, err
	}
	h.BaseOffset = base
	if err := p.recordLocked(h, marker, now); err != nil {
		p.healLater(err)
		return -1, pendingSync{}, err
	}
	return base, pending, nil
}

// txnOpenLocked reports whether producer id has a transaction open in the
// partition. Call it holding p.producersMu.
func (p *partition) txnOpenLocked(id int64) bool {
	_, open := p.txns.Open(id)
	return open
}

// checkProducerLocked decides what to do with a batch of a producer
// (h.ProducerID ≥ 0): append it (nil, nil), answer it as the retry of the
// idempotent batch returned, or refuse it. A retry is found first, as
// Kafka finds a duplicate before it checks the producer's state; then the
// epoch (a marker's too) and the transaction. Call it holding
// p.producersMu.
func (p *partition) checkProducerLocked(h batch.Header, marker *txnlog.Marker, now int64) (*idempotence.Batch, error) {
	switch {
	case idempotence.Idempotent(h):
		for _, id := range p.producers.Expire(now, p.cfg.producerIDExpiration, p.txnOpenLocked) {
			p.txns.ForgetProducer(id)
		}
		if dup, err := p.producers.Check(h); err != nil || dup != nil {
			return dup, err
		}
	case marker != nil:
		if err := p.producers.CheckEpoch(h.ProducerID, h.ProducerEpoch); err != nil {
			return nil, err
		}
	}
	return nil, p.checkTxnLocked(h, marker)
}

// recordLocked records an appended batch of a producer, whose base offset
// h has, in the producer table and the partition's transactions, and an
// abort it ends in the log's index. When the index cannot take it the log
// fails, and the last stable offset stays below the aborted records until
// a reopen has replayed the log: a read_committed reader must not read
// them without the entry that says to skip them. Call it holding
// p.producersMu.
func (p *partition) recordLocked(h batch.Header, marker *txnlog.Marker, now int64) error {
	recordProducer(p.producers, h, now)
	if !h.Transactional() {
		return nil
	}
	// Checked before the write; a follower's copy of a batch the tracker
	// refuses changes nothing in it (see replayed).
	a, aborted, _ := p.txns.Append(h, marker)
	if aborted {
		if err := p.log.indexAborted(a); err != nil {
			return err
		}
	}
	p.txnsChangedLocked()
	return nil
}

// recordProducer records a batch in a producer table: an idempotent
// batch's sequences, a transaction marker's epoch.
func recordProducer(t *idempotence.Table, h batch.Header, now int64) {
	switch {
	case idempotence.Idempotent(h):
		t.Record(h, now)
	case h.ProducerID >= 0 && h.Control() && h.Transactional():
		t.RecordMarker(h.ProducerID, h.ProducerEpoch, now)
	}
}

// producerSnapshotName is the file in a partition's directory that holds
// its producer table (internal/idempotence's snapshot format), saved on
// close.
const producerSnapshotName = "creek.producers"

// loadProducersLocked rebuilds what the partition knows of its producers
// from its snapshots and log: their sequences and epochs, and their
// transactions. Call it holding p.mu exclusively, or before the partition
// is shared.
func (p *partition) loadProducersLocked() error {
	producers, err := loadProducerStates(p.fs, p.dir, p.log)
	if err != nil {
		return err
	}
	txns, err := loadTxnState(p.fs, p.dir, p.log)
	if err != nil {
		return err
	}
	p.producers = producers
	p.setTxnsLocked(txns)
	return nil
}

// reloadProducersLocked is loadProducersLocked after the log was cut or
// replaced: the snapshots go first, as they may describe offsets the log
// no longer holds as they were. Call it holding p.mu exclusively.
func (p *partition) reloadProducersLocked() error {
	if err := removeProducerSnapshots(p.fs, p.dir); err != nil {
		return err
	}
	return p.loadProducersLocked()
}

// loadProducerStates rebuilds a partition's producer table: from its
// snapshot when it is sound and not past the log's end (a truncated log
// makes it stale), then by replaying the batch headers after it.
func loadProducerStates(fs fsx.FS, dir string, l *Log) (*idempotence.Table, error) {
	states, from := idempotence.NewTable(), l.StartOffset()
	if b, err := framefile.ReadFile(fs, filepath.Join(dir, producerSnapshotName), 64<<20); err == nil {
		s, end, err := idempotence.UnmarshalSnapshot(b)
		switch {
		case err != nil:
			l.log.Warn("ignoring damaged producer snapshot; replaying the log", "err", err)
		case end > l.EndOffset():
			// The log lost what the snapshot covers (a machine crash
			// before it was synced): once it grows past it again, the
			// snapshot would pass for sound.
			if err := removeSnapshots(fs, dir, producerSnapshotName); err != nil {
				return nil, err
			}
		default:
			states, from = s, end
		}
	}
	err := l.forEachHeader(from, func(h batch.Header) {
		recordProducer(states, h, -1) // when is unknown: a record's timestamp is the client's clock
	})
	return states, err
}
