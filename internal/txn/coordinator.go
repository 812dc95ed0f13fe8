package txn

import (
	"errors"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka's defaults for the coordinator's limits.
const (
	DefaultMaxTimeout   = 15 * time.Minute   // transaction.max.timeout.ms
	DefaultIDExpiration = 7 * 24 * time.Hour // transactional.id.expiration.ms
)

// Config configures a Coordinator.
type Config struct {
	// MaxTimeout bounds the transaction timeout a producer may ask for
	// (transaction.max.timeout.ms); default 15 min.
	MaxTimeout time.Duration
	// IDExpiration is how long a transactional ID without a transaction is
	// kept after its last change (transactional.id.expiration.ms);
	// default 7 days.
	IDExpiration time.Duration
	// NewProducerID allocates a producer ID; required.
	NewProducerID func() (int64, error)
}

// Coordinator holds the transactional IDs of one __transaction_state
// partition and decides their transitions. It is not safe for concurrent
// use: its caller serializes the calls.
type Coordinator struct {
	cfg  Config
	txns map[string]*entry
}

type entry struct {
	m       Metadata
	pending *Transition // being written; the ID answers CONCURRENT_TRANSACTIONS meanwhile
}

// Transition is a change of one transactional ID's metadata, which takes
// effect once the caller has written To to __transaction_state and called
// Complete.
type Transition struct {
	From, To Metadata
	// Reply is the answer to the request that asked for the transition,
	// once it is written: nil, or kerr.ConcurrentTransactions when
	// InitProducerID found a transaction ongoing, which the transition
	// aborts (the producer asks again).
	Reply error
	// created: the ID is new, and goes again if the write fails.
	created bool
}

// ErrNotPending is Complete's answer to a transition that is not the one
// being written for its ID.
var ErrNotPending = errors.New("txn: the transition is not the one pending")

// New returns a coordinator with no transactional IDs.
func New(cfg Config) *Coordinator {
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = DefaultMaxTimeout
	}
	if cfg.IDExpiration <= 0 {
		cfg.IDExpiration = DefaultIDExpiration
	}
	return &Coordinator{cfg: cfg, txns: map[string]*entry{}}
}

// InitProducerID gives the producer of a transactional ID its producer ID
// and a new epoch, which fences every older instance (Kafka's
// InitProducerId). expectID and expectEpoch are what the producer had
// (KIP-360), NoProducerID and NoEpoch for none: a producer that lost the
// answer to its last call, or whose epoch ran out, keeps its place rather
// than being fenced. A transaction still ongoing is aborted first (the
// transition's Reply is kerr.ConcurrentTransactions), and one being
// committed or aborted is waited for: the producer asks again.
func (c *Coordinator) InitProducerID(id string, timeout time.Duration, expectID int64, expectEpoch int16, now time.Time) (*Transition, error) {
	if timeout <= 0 || timeout > c.cfg.MaxTimeout {
		return nil, kerr.InvalidTransactionTimeout
	}
	e, created := c.txns[id], false
	if e == nil {
		pid, err := c.cfg.NewProducerID()
		if err != nil {
			return nil, err
		}
		e, created = &entry{m: Metadata{TransactionalID: id, ProducerID: pid, PrevProducerID: NoProducerID,
			NextProducerID: NoProducerID, Epoch: NoEpoch, LastEpoch: NoEpoch, Timeout: timeout, State: Empty,
			LastUpdate: now}}, true
	}
	if e.pending != nil {
		return nil, kerr.ConcurrentTransactions
	}
	m := e.m
	expected := expectID != NoProducerID
	// Fenced unless the metadata is new, or the producer has this ID (its
	// epoch is checked below), or it had the ID before a rotation it never
	// heard of: one its exhausted epoch asked for, or one the end of its
	// last transaction made (at LastEpoch).
	if expected && m.Epoch != NoEpoch && expectID != m.ProducerID &&
		!(expectID == m.PrevProducerID && (epochExhausted(expectEpoch) || expectEpoch == m.LastEpoch)) {
		return nil, kerr.ProducerFenced
	}
	var to Metadata
	var reply error
	switch m.State {
	case Empty, CompleteCommit, CompleteAbort:
		var err error
		if epochExhausted(m.Epoch) && (!expected || expectEpoch == m.Epoch) {
			to, err = c.rotated(m, expected, now)
		} else {
			to, err = bumped(m, expected, expectEpoch, now)
		}
		if err != nil {
			return nil, err
		}
		to.Timeout = timeout
	case Ongoing:
		to, reply = fencedAbort(m, now), kerr.ConcurrentTransactions
	default: // being committed or aborted
		return nil, kerr.ConcurrentTransactions
	}
	if created {
		c.txns[id] = e
	}
	t := c.begin(e, to, reply)
	t.created = created
	return t, nil
}

// bumped is m with its next epoch and no transaction, as a producer
// that had expectEpoch asks for it (if expected): a producer with the
// current epoch (or any, if there is none yet) gets the next one; one with
// the epoch before the last bump it asked for is retrying that call, and
// gets the current one; any other is fenced.
// An exhausted epoch never comes here to be bumped: InitProducerID
// rotates it, so only a retry or a fenced instance meets one.
func bumped(m Metadata, expected bool, expectEpoch int16, now time.Time) (Metadata, error) {
	epoch, last := m.Epoch+1, NoEpoch
	if expected {
		switch {
		case m.Epoch == NoEpoch || expectEpoch == m.Epoch:
			last = m.Epoch
		case expectEpoch == m.LastEpoch:
			epoch, last = m.Epoch, m.LastEpoch
		default:
			return Metadata{}, kerr.ProducerFenced
		}
	}
	return idle(m, m.ProducerID, m.PrevProducerID, epoch, last, now), nil
}

// rotated is m under a new producer ID, epoch 0: its epoch ran out. The
// old ID is kept, and with it the old epoch if the producer asked by it,
// so that a retry of this call gets the new ID.
func (c *Coordinator) rotated(m Metadata, recordLast bool, now time.Time) (Metadata, error) {
	pid, err := c.cfg.NewProducerID()
	if err != nil {
		return Metadata{}, err
	}
	last := NoEpoch
	if recordLast {
		last = m.Epoch
	}
	return idle(m, pid, m.ProducerID, 0, last, now), nil
}

// idle is m with the given identity and no transaction.
func idle(m Metadata, pid, prev int64, epoch, last int16, now time.Time) Metadata {
	to := m.Clone()
	to.ProducerID, to.PrevProducerID, to.Epoch, to.LastEpoch = pid, prev, epoch, last
	to.State, to.Partitions, to.Started, to.LastUpdate = Empty, nil, time.Time{}, now
	return to
}

// fencedAbort is m's ongoing transaction being aborted under the next
// epoch, which fences the producer that began it: for a timeout, and for
// a new instance's InitProducerID. An epoch that cannot be bumped stays.
func fencedAbort(m Metadata, now time.Time) Metadata {
	to := m.Clone()
	if !epochExhausted(m.Epoch) {
		to.Epoch = m.Epoch + 1
	}
	to.LastEpoch, to.State, to.LastUpdate = NoEpoch, PrepareAbort, now
	return to
}

// AddPartitions adds partitions to the producer's transaction, beginning
// one if none is ongoing (Kafka's AddPartitionsToTxn, and AddOffsetsToTxn
// with the group's partition of __consumer_offsets). It returns nil, nil
// when the transaction has them all already: nothing to write.
func (c *Coordinator) AddPartitions(id string, pid int64, epoch int16, partitions []Partition, now time.Time) (*Transition, error) {
	e, err := c.producer(id, pid, epoch)
	if err != nil {
		return nil, err
	}
	m := e.m
	switch m.State {
	case PrepareCommit, PrepareAbort, PrepareEpochFence:
		return nil, kerr.ConcurrentTransactions
	case Dead:
		return nil, kerr.InvalidProducerIDMapping
	case Ongoing:
		if m.holds(partitions) {
			return nil, nil
		}
	}
	to := m.Clone()
	if m.State != Ongoing {
		to.Partitions, to.Started = nil, now
	}
	if to.Partitions == nil {
		to.Partitions = map[Partition]struct{}{}
	}
	for _, p := range partitions {
		to.Partitions[p] = struct{}{}
	}
	to.State, to.LastUpdate = Ongoing, now
	return c.begin(e, to, nil), nil
}

// Verify reports whether the producer's ongoing transaction holds the
// partitions (AddPartitionsToTxn v4+ with VerifyOnly, and a partition
// checking a transactional batch): nil if so; kerr.TransactionAbortable if
// not, or when no transaction is ongoing (the producer's batch came after
// its transaction ended), as Kafka's coordinator answers from 3.8;
// kerr.ConcurrentTransactions while one is being committed or aborted.
//
// An AddPartitions being written meanwhile does not make it answer
// CONCURRENT_TRANSACTIONS: adding partitions takes none away, so the
// partitions written before still are in the transaction, and a producer
// writes to each only once its add was answered (franz-go adds a
// transaction's partitions in one request per leader, and writes to the
// first leader's while the second's add is being written). An end being
// written does, so that a late batch is not appended.
func (c *Coordinator) Verify(id string, pid int64, epoch int16, partitions []Partition) error {
	e, err := c.producer(id, pid, epoch)
	if p := c.txns[id]; p != nil && p.pending != nil && p.pending.To.State == Ongoing {
		e, err = p, nil
		switch {
		case p.m.ProducerID != pid:
			err = kerr.InvalidProducerIDMapping
		case p.m.Epoch != epoch:
			err = kerr.ProducerFenced
		}
	}
	switch {
	case err != nil:
		return err
	case e.m.State == PrepareCommit || e.m.State == PrepareAbort:
		return kerr.ConcurrentTransactions
	case e.m.State != Ongoing || !e.m.holds(partitions):
		return kerr.TransactionAbortable
	}
	return nil
}

func (m Metadata) holds(partitions []Partition) bool {
	for _, p := range partitions {
		if _, ok := m.Partitions[p]; !ok {
			return false
		}
	}
	return true
}

// EndTxn begins committing or aborting the producer's transaction (the
// first phase of Kafka's EndTxn): once the transition is written, the
// caller writes the markers to every partition of To and calls
// MarkersWritten. A retry of an end already complete returns nil, nil;
// one under way, kerr.ConcurrentTransactions.
//
// At version V2 the end bumps the producer's epoch (To.Epoch, at which
// the markers are written), and the producer goes on at To.Next(): its ID
// at the new epoch, or a new ID at epoch 0 once the new epoch would be
// exhausted. A retry comes at the epoch before the bump. Aborting with no
// transaction ongoing bumps the epoch all the same (a producer whose
// produces all failed may have begun one it does not know of), writing
// CompleteAbort at once; ending while the last transaction's markers are
// written, which the producer's epoch is already past, is
// kerr.ConcurrentTransactions, whichever end it asks for.
func (c *Coordinator) EndTxn(id string, pid int64, epoch int16, commit bool, v Version, now time.Time) (*Transition, error) {
	prepare, complete := PrepareAbort, CompleteAbort
	if commit {
		prepare, complete = PrepareCommit, CompleteCommit
	}
	if e := c.txns[id]; v >= V2 && e != nil && e.pending == nil && e.m.endedBy(pid, epoch) {
		switch e.m.State {
		case prepare:
			return nil, kerr.ConcurrentTransactions
		case complete:
			return nil, nil
		}
	}
	e, err := c.producer(id, pid, epoch)
	if err != nil {
		return nil, err
	}
	switch e.m.State {
	case Ongoing:
		to := e.m.Clone()
		to.State, to.LastUpdate = prepare, now
		if v >= V2 {
			if err := c.bumpForEnd(&to); err != nil {
				return nil, err
			}
		}
		return c.begin(e, to, nil), nil
	case Empty, CompleteCommit, CompleteAbort:
		if v >= V2 && !commit {
			to := e.m.Clone()
			if err := c.bumpForEnd(&to); err != nil {
				return nil, err
			}
			to.State = PrepareAbort
			return c.begin(e, completed(to, now), nil), nil
		}
	case PrepareCommit, PrepareAbort:
		if v >= V2 {
			// The last transaction's end, whose bump gave the producer the
			// epoch it asks at: it ends the next one once those markers are
			// written.
			return nil, kerr.ConcurrentTransactions
		}
	}
	switch e.m.State {
	case complete:
		return nil, nil
	case prepare:
		return nil, kerr.ConcurrentTransactions
	default: // no transaction, or the other end of one
		return nil, kerr.InvalidTxnState
	}
}

// endedBy reports whether the producer pid at epoch ended the last
// transaction of m at version V2: m is that end's, whose bump (and
// rotation, if it rotated) the producer may not have heard of.
func (m Metadata) endedBy(pid int64, epoch int16) bool {
	return m.LastEpoch != NoEpoch && epoch == m.LastEpoch &&
		(pid == m.ProducerID || pid == m.PrevProducerID && m.NextProducerID == NoProducerID)
}

// bumpForEnd gives to, a transaction being ended at version V2, the next
// epoch for its markers, and a new producer ID for what follows when that
// epoch leaves too little to bump (epochExhausted).
func (c *Coordinator) bumpForEnd(to *Metadata) error {
	if to.Epoch == math.MaxInt16 {
		return kerr.InvalidProducerEpoch // never reached: producers rotate before it
	}
	to.LastEpoch, to.Epoch, to.NextProducerID = to.Epoch, to.Epoch+1, NoProducerID
	if epochExhausted(to.Epoch) {
		pid, err := c.cfg.NewProducerID()
		if err != nil {
			return err
		}
		to.NextProducerID = pid
	}
	return nil
}

// MarkersWritten completes a transaction being committed or aborted, once
// the caller has written its markers to every partition in it (the second
// phase).
func (c *Coordinator) MarkersWritten(id string, now time.Time) (*Transition, error) {
	e := c.txns[id]
	if e == nil {
		return nil, kerr.TransactionalIDNotFound
	}
	if e.pending != nil {
		return nil, kerr.ConcurrentTransactions
	}
	if e.m.State != PrepareCommit && e.m.State != PrepareAbort {
		return nil, kerr.InvalidTxnState
	}
	return c.begin(e, completed(e.m.Clone(), now), nil), nil
}

// completed is m, being committed or aborted, once complete: no
// transaction, and the producer under the ID its end rotated to, if it did.
func completed(m Metadata, now time.Time) Metadata {
	state := CompleteAbort
	if m.State == PrepareCommit {
		state = CompleteCommit
	}
	m.State = state
	if m.NextProducerID != NoProducerID {
		m.PrevProducerID, m.ProducerID, m.Epoch, m.NextProducerID = m.ProducerID, m.NextProducerID, 0, NoProducerID
	}
	m.Partitions, m.Started, m.LastUpdate = nil, time.Time{}, now
	return m
}

// Expire returns, by transactional ID, the transitions that time asks
// for: each ongoing transaction older than its timeout aborted under the
// next epoch, which fences its producer; each ID idle for longer than
// IDExpiration removed (State Dead, written as a tombstone).
func (c *Coordinator) Expire(now time.Time) []*Transition {
	var out []*Transition
	for _, id := range c.ids() {
		e := c.txns[id]
		if e.pending != nil {
			continue
		}
		switch m := e.m; m.State {
		case Ongoing:
			if now.Sub(m.Started) > m.Timeout {
				out = append(out, c.begin(e, fencedAbort(m, now), nil))
			}
		case Empty, CompleteCommit, CompleteAbort:
			if now.Sub(m.LastUpdate) > c.cfg.IDExpiration {
				to := m.Clone()
				to.State, to.LastUpdate = Dead, now
				out = append(out, c.begin(e, to, nil))
			}
		}
	}
	return out
}

// InDoubt returns the transactions being committed or aborted whose
// markers may not all be written: after Load, a new coordinator writes
// them again and calls MarkersWritten.
func (c *Coordinator) InDoubt() []Metadata {
	var out []Metadata
	for _, id := range c.ids() {
		if e := c.txns[id]; e.pending == nil && (e.m.State == PrepareCommit || e.m.State == PrepareAbort) {
			out = append(out, e.m.Clone())
		}
	}
	return out
}

// Complete makes a transition written to __transaction_state take effect.
func (c *Coordinator) Complete(t *Transition) error {
	e := c.txns[t.To.TransactionalID]
	if e == nil || e.pending != t {
		return ErrNotPending
	}
	e.pending = nil
	if t.To.State == Dead {
		delete(c.txns, t.To.TransactionalID)
		return nil
	}
	e.m = t.To
	return nil
}

// Abandon forgets a transition whose write failed: the ID is as before.
func (c *Coordinator) Abandon(t *Transition) {
	e := c.txns[t.To.TransactionalID]
	if e == nil || e.pending != t {
		return
	}
	e.pending = nil
	if t.created {
		delete(c.txns, t.To.TransactionalID)
	}
}

// Load sets a transactional ID's metadata as read from
// __transaction_state, replacing what was there: replaying the partition
// rebuilds the coordinator. Dead removes the ID, as its tombstone does.
func (c *Coordinator) Load(m Metadata) {
	if m.State == Dead {
		delete(c.txns, m.TransactionalID)
		return
	}
	c.txns[m.TransactionalID] = &entry{m: m.Clone()}
}

// Describe returns a transactional ID's metadata, as written.
func (c *Coordinator) Describe(id string) (Metadata, bool) {
	e := c.txns[id]
	if e == nil {
		return Metadata{}, false
	}
	return e.m.Clone(), true
}

// List returns every transactional ID's metadata, by ID.
func (c *Coordinator) List() []Metadata {
	var out []Metadata
	for _, id := range c.ids() {
		out = append(out, c.txns[id].m.Clone())
	}
	return out
}

// producer returns the entry of id if pid and epoch are its producer's,
// and no transition of it is being written.
func (c *Coordinator) producer(id string, pid int64, epoch int16) (*entry, error) {
	e := c.txns[id]
	switch {
	case e == nil:
		return nil, kerr.InvalidProducerIDMapping
	case e.pending != nil:
		return nil, kerr.ConcurrentTransactions
	case e.m.ProducerID != pid:
		return nil, kerr.InvalidProducerIDMapping
	case e.m.Epoch != epoch:
		return nil, kerr.ProducerFenced
	}
	return e, nil
}

func (c *Coordinator) begin(e *entry, to Metadata, reply error) *Transition {
	t := &Transition{From: e.m.Clone(), To: to, Reply: reply}
	e.pending = t
	return t
}

func (c *Coordinator) ids() []string { return slices.Sorted(maps.Keys(c.txns)) }
