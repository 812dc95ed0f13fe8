package txnlog

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/batch"
)

// Marker is what a control batch that ends a transaction says.
type Marker struct {
	ProducerID int64
	Epoch      int16
	Commit     bool // false: abort
	// CoordinatorEpoch is the epoch of the transaction coordinator that
	// wrote it, which fences markers from a coordinator that moved.
	CoordinatorEpoch int32
}

// BuildMarker returns the control batch of m: one control record whose
// key is Kafka's ControlRecordKey (version 0, ABORT or COMMIT) and whose
// value its EndTxnMarker (version 0, the coordinator epoch), in a batch
// marked transactional and control, with the producer's ID and epoch and
// no sequence.
func BuildMarker(m Marker, timestamp int64) ([]byte, error) {
	key := kmsg.NewControlRecordKey()
	key.Type = kmsg.ControlRecordKeyTypeAbort
	if m.Commit {
		key.Type = kmsg.ControlRecordKeyTypeCommit
	}
	value := kmsg.NewEndTxnMarker()
	value.CoordinatorEpoch = m.CoordinatorEpoch
	return batch.Build(batch.BuildOptions{BaseTimestamp: timestamp, Idempotent: true, ProducerID: m.ProducerID,
		ProducerEpoch: m.Epoch, BaseSequence: -1, Transactional: true, Control: true},
		batch.Record{Key: key.AppendTo(nil), Value: value.AppendTo(nil)})
}

// ErrNotMarker is ParseMarker's answer to a control batch that does not
// end a transaction (Kafka has others, for KRaft).
var ErrNotMarker = errors.New("txnlog: not a transaction marker")

// ParseMarker decodes the marker a control batch holds. It checks the
// batch's CRC.
func ParseMarker(b []byte) (Marker, error) {
	var r batch.Reader
	if err := r.Reset(b); err != nil {
		return Marker{}, err
	}
	h := r.Header()
	if !h.Control() || !h.Transactional() {
		return Marker{}, fmt.Errorf("txnlog: a marker batch must be control and transactional (attributes %#x)", h.Attributes)
	}
	var rec batch.Record
	if err := r.Next(&rec); err != nil {
		return Marker{}, fmt.Errorf("txnlog: marker batch: %w", err)
	}
	key := kmsg.NewControlRecordKey()
	if err := key.ReadFrom(rec.Key); err != nil {
		return Marker{}, fmt.Errorf("txnlog: marker key: %w", err)
	}
	if key.Type != kmsg.ControlRecordKeyTypeAbort && key.Type != kmsg.ControlRecordKeyTypeCommit {
		return Marker{}, ErrNotMarker
	}
	value := kmsg.NewEndTxnMarker()
	if err := value.ReadFrom(rec.Value); err != nil {
		return Marker{}, fmt.Errorf("txnlog: marker value: %w", err)
	}
	return Marker{ProducerID: h.ProducerID, Epoch: h.ProducerEpoch,
		Commit: key.Type == kmsg.ControlRecordKeyTypeCommit, CoordinatorEpoch: value.CoordinatorEpoch}, nil
}
