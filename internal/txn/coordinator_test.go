package txn

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

var t0 = time.UnixMilli(1_700_000_000_000)

// harness steps a Coordinator by messages at times it sets, writing every
// transition it returns (Complete) unless told to leave it pending.
type harness struct {
	t       *testing.T
	c       *Coordinator
	now     time.Time
	nextPID int64
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, now: t0, nextPID: 1000}
	h.c = New(Config{NewProducerID: func() (int64, error) { h.nextPID++; return h.nextPID - 1, nil }})
	return h
}

func (h *harness) after(d time.Duration) { h.now = h.now.Add(d) }

// write completes t, if any, and returns its reply.
func (h *harness) write(t *Transition, err error) error {
	h.t.Helper()
	if err != nil {
		require.Nil(h.t, t, "an error writes nothing")
		return err
	}
	if t == nil {
		return nil
	}
	require.NoError(h.t, h.c.Complete(t))
	return t.Reply
}

func (h *harness) init(id string, expectID int64, expectEpoch int16) error {
	h.t.Helper()
	return h.write(h.c.InitProducerID(id, time.Minute, expectID, expectEpoch, h.now))
}

func (h *harness) add(id string, pid int64, epoch int16, ps ...Partition) error {
	h.t.Helper()
	return h.write(h.c.AddPartitions(id, pid, epoch, ps, h.now))
}

func (h *harness) end(id string, pid int64, epoch int16, commit bool) error {
	h.t.Helper()
	return h.write(h.c.EndTxn(id, pid, epoch, commit, V1, h.now))
}

// endV2 is end at transaction version 2; it returns the producer ID and
// epoch the producer goes on with, as EndTxn v5 answers them.
func (h *harness) endV2(id string, pid int64, epoch int16, commit bool) (int64, int16, error) {
	h.t.Helper()
	if err := h.write(h.c.EndTxn(id, pid, epoch, commit, V2, h.now)); err != nil {
		return -1, -1, err
	}
	m, _ := h.c.Describe(id)
	next, nextEpoch := m.Next()
	return next, nextEpoch, nil
}

func (h *harness) markers(id string) error {
	h.t.Helper()
	return h.write(h.c.MarkersWritten(id, h.now))
}

// is checks the ID's producer, epoch and state.
func (h *harness) is(id string, pid int64, epoch int16, state State) Metadata {
	h.t.Helper()
	m, ok := h.c.Describe(id)
	require.True(h.t, ok, "%s is known", id)
	assert.Equal(h.t, [3]any{pid, epoch, state}, [3]any{m.ProducerID, m.Epoch, m.State}, "producer, epoch, state of %s", id)
	return m
}

var (
	a0 = Partition{"a", 0}
	a1 = Partition{"a", 1}
	b0 = Partition{"b", 0}
)

func TestInitProducerIDBumpsTheEpoch(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	h.is("x", 1000, 0, Empty)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch), "a second instance")
	h.is("x", 1000, 1, Empty)
	assert.ErrorIs(t, h.add("x", 1000, 0, a0), kerr.ProducerFenced, "the first instance is fenced")
	assert.ErrorIs(t, h.add("x", 1001, 1, a0), kerr.InvalidProducerIDMapping)
	assert.ErrorIs(t, h.add("y", 1000, 1, a0), kerr.InvalidProducerIDMapping, "an unknown ID")
	require.NoError(t, h.init("y", NoProducerID, NoEpoch))
	h.is("y", 1001, 0, Empty)
}

func TestInitProducerIDRefusesABadTimeout(t *testing.T) {
	h := newHarness(t)
	for _, timeout := range []time.Duration{0, -time.Second, DefaultMaxTimeout + time.Millisecond} {
		_, err := h.c.InitProducerID("x", timeout, NoProducerID, NoEpoch, h.now)
		assert.ErrorIs(t, err, kerr.InvalidTransactionTimeout, "%v", timeout)
	}
	_, known := h.c.Describe("x")
	assert.False(t, known, "nothing kept")
}

func TestATransactionCommits(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.add("x", 1000, 0, a0))
	m := h.is("x", 1000, 0, Ongoing)
	assert.Equal(t, t0, m.Started)
	h.after(time.Second)
	tr, err := h.c.AddPartitions("x", 1000, 0, []Partition{a0}, h.now)
	require.NoError(t, err)
	assert.Nil(t, tr, "a partition it holds already: nothing to write")
	require.NoError(t, h.add("x", 1000, 0, a1, b0))
	m = h.is("x", 1000, 0, Ongoing)
	assert.Equal(t, []Partition{a0, a1, b0}, m.SortedPartitions())
	assert.Equal(t, t0, m.Started, "the transaction began with its first partition")
	require.NoError(t, h.c.Verify("x", 1000, 0, []Partition{a1, b0}))
	assert.ErrorIs(t, h.c.Verify("x", 1000, 0, []Partition{{"c", 0}}), kerr.TransactionAbortable)

	// While another add is written, what was added before stays verified;
	// what is being added is not yet.
	pending, err := h.c.AddPartitions("x", 1000, 0, []Partition{{"c", 0}}, h.now)
	require.NoError(t, err)
	require.NoError(t, h.c.Verify("x", 1000, 0, []Partition{a1, b0}))
	assert.ErrorIs(t, h.c.Verify("x", 1000, 0, []Partition{{"c", 0}}), kerr.TransactionAbortable)
	assert.ErrorIs(t, h.c.Verify("x", 1000, 1, []Partition{a1}), kerr.ProducerFenced, "another epoch")
	assert.ErrorIs(t, h.c.Verify("x", 1001, 0, []Partition{a1}), kerr.InvalidProducerIDMapping, "another producer")
	require.NoError(t, h.c.Complete(pending))
	require.NoError(t, h.c.Verify("x", 1000, 0, []Partition{{"c", 0}}))

	require.NoError(t, h.end("x", 1000, 0, true))
	h.is("x", 1000, 0, PrepareCommit)
	assert.ErrorIs(t, h.end("x", 1000, 0, true), kerr.ConcurrentTransactions, "a retry while markers are written")
	assert.ErrorIs(t, h.end("x", 1000, 0, false), kerr.InvalidTxnState, "abort after commit")
	assert.ErrorIs(t, h.add("x", 1000, 0, a0), kerr.ConcurrentTransactions)
	assert.ErrorIs(t, h.c.Verify("x", 1000, 0, []Partition{a0}), kerr.ConcurrentTransactions, "a late batch of a transaction being committed")
	assert.Equal(t, []string{"x"}, ids(h.c.InDoubt()))

	require.NoError(t, h.markers("x"))
	m = h.is("x", 1000, 0, CompleteCommit)
	assert.Empty(t, m.Partitions)
	assert.Empty(t, h.c.InDoubt())
	assert.NoError(t, h.end("x", 1000, 0, true), "a retry of a completed commit")
	assert.ErrorIs(t, h.end("x", 1000, 0, false), kerr.InvalidTxnState)
	assert.ErrorIs(t, h.c.Verify("x", 1000, 0, []Partition{a0}), kerr.TransactionAbortable, "a batch after its transaction ended")

	h.after(time.Second)
	require.NoError(t, h.add("x", 1000, 0, b0), "the next transaction")
	m = h.is("x", 1000, 0, Ongoing)
	assert.Equal(t, []Partition{b0}, m.SortedPartitions(), "none of the last one's")
	assert.Equal(t, h.now, m.Started)
	require.NoError(t, h.end("x", 1000, 0, false))
	require.NoError(t, h.markers("x"))
	h.is("x", 1000, 0, CompleteAbort)
	assert.ErrorIs(t, h.markers("x"), kerr.InvalidTxnState, "nothing to complete")
}

func TestEndTxnWithoutATransaction(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	assert.ErrorIs(t, h.end("x", 1000, 0, true), kerr.InvalidTxnState)
	assert.ErrorIs(t, h.end("x", 1000, 1, true), kerr.ProducerFenced)
	assert.ErrorIs(t, h.markers("y"), kerr.TransactionalIDNotFound)
}

func TestAPendingTransitionHoldsTheID(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	tr, err := h.c.AddPartitions("x", 1000, 0, []Partition{a0}, h.now)
	require.NoError(t, err)
	assert.ErrorIs(t, h.add("x", 1000, 0, a1), kerr.ConcurrentTransactions)
	assert.ErrorIs(t, h.end("x", 1000, 0, true), kerr.ConcurrentTransactions)
	assert.ErrorIs(t, h.init("x", NoProducerID, NoEpoch), kerr.ConcurrentTransactions)
	assert.Empty(t, h.c.Expire(h.now.Add(time.Hour)), "time waits for the write too")
	h.c.Abandon(tr) // the write failed
	h.is("x", 1000, 0, Empty)
	assert.ErrorIs(t, h.c.Complete(tr), ErrNotPending, "an abandoned transition never takes effect")
	require.NoError(t, h.add("x", 1000, 0, a1))
	assert.Equal(t, []Partition{a1}, h.is("x", 1000, 0, Ongoing).SortedPartitions())
}

func TestANewIDWhoseWriteFailsIsForgotten(t *testing.T) {
	h := newHarness(t)
	tr, err := h.c.InitProducerID("x", time.Minute, NoProducerID, NoEpoch, h.now)
	require.NoError(t, err)
	h.c.Abandon(tr)
	_, known := h.c.Describe("x")
	assert.False(t, known)

	boom := errors.New("no IDs")
	c := New(Config{NewProducerID: func() (int64, error) { return 0, boom }})
	_, err = c.InitProducerID("x", time.Minute, NoProducerID, NoEpoch, h.now)
	assert.ErrorIs(t, err, boom)
	assert.Empty(t, c.List())
}

// TestANewInstanceAbortsTheOngoingTransaction: InitProducerID of a new
// instance aborts the old one's transaction under the next epoch, which
// fences the old instance, and answers CONCURRENT_TRANSACTIONS until the
// abort is complete; then it bumps the epoch again.
func TestANewInstanceAbortsTheOngoingTransaction(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.add("x", 1000, 0, a0, b0))
	assert.ErrorIs(t, h.init("x", NoProducerID, NoEpoch), kerr.ConcurrentTransactions)
	m := h.is("x", 1000, 1, PrepareAbort)
	assert.Equal(t, []Partition{a0, b0}, m.SortedPartitions(), "the markers go to its partitions")
	assert.ErrorIs(t, h.end("x", 1000, 0, true), kerr.ProducerFenced, "the old instance")
	assert.ErrorIs(t, h.init("x", NoProducerID, NoEpoch), kerr.ConcurrentTransactions, "until the markers are written")
	require.NoError(t, h.markers("x"))
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	h.is("x", 1000, 2, Empty)
}

func TestATransactionPastItsTimeoutIsAborted(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.init("y", NoProducerID, NoEpoch))
	require.NoError(t, h.add("x", 1000, 0, a0))
	h.after(30 * time.Second)
	require.NoError(t, h.add("y", 1001, 0, a1))
	h.after(30 * time.Second)
	assert.Empty(t, h.c.Expire(h.now), "at its timeout, not past it")
	h.after(time.Millisecond)
	expired := h.c.Expire(h.now)
	require.Len(t, expired, 1)
	assert.Equal(t, "x", expired[0].To.TransactionalID)
	require.NoError(t, h.write(expired[0], nil))
	h.is("x", 1000, 1, PrepareAbort)
	h.is("y", 1001, 0, Ongoing)
	assert.ErrorIs(t, h.end("x", 1000, 0, true), kerr.ProducerFenced, "its producer is fenced")
	require.NoError(t, h.markers("x"))
	h.is("x", 1000, 1, CompleteAbort)
	assert.Empty(t, h.c.Expire(h.now), "an aborted transaction is not aborted again")
}

func TestAnIdleIDExpires(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.init("busy", NoProducerID, NoEpoch))
	h.after(DefaultIDExpiration)
	require.NoError(t, h.add("busy", 1001, 0, a0))
	assert.Empty(t, h.c.Expire(h.now))
	h.after(time.Millisecond)
	expired := h.c.Expire(h.now)
	require.Len(t, expired, 1)
	assert.Equal(t, Dead, expired[0].To.State)
	assert.Nil(t, MarshalValue(expired[0].To), "written as a tombstone")
	require.NoError(t, h.write(expired[0], nil))
	_, known := h.c.Describe("x")
	assert.False(t, known)
	assert.Equal(t, []string{"busy"}, ids(h.c.List()))
}

// TestKIP360: a producer that asks by the ID and epoch it had gets the
// next epoch, and again the same one when it retries the call whose
// answer it lost; an instance with an older epoch is fenced.
func TestKIP360(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.init("x", 1000, 1), "after an error, by its ID and epoch")
	assert.Equal(t, int16(1), h.is("x", 1000, 2, Empty).LastEpoch)
	require.NoError(t, h.init("x", 1000, 1), "the same call again: its answer was lost")
	h.is("x", 1000, 2, Empty)
	assert.ErrorIs(t, h.init("x", 1000, 0), kerr.ProducerFenced, "an older instance")
	assert.ErrorIs(t, h.init("x", 999, 2), kerr.ProducerFenced, "another producer ID")
	h.is("x", 1000, 2, Empty)
}

// TestAnExhaustedEpochRotatesTheProducerID: past the last epoch the
// producer gets a new ID at epoch 0, and a retry by the old ID and epoch
// gets the new ID again rather than being fenced.
func TestAnExhaustedEpochRotatesTheProducerID(t *testing.T) {
	h := newHarness(t)
	last := int16(math.MaxInt16 - 1)
	h.c.Load(Metadata{TransactionalID: "x", ProducerID: 7, PrevProducerID: NoProducerID, NextProducerID: NoProducerID, Epoch: last,
		LastEpoch: NoEpoch, Timeout: time.Minute, State: CompleteCommit, LastUpdate: t0})
	require.NoError(t, h.init("x", 7, last))
	m := h.is("x", 1000, 0, Empty)
	assert.Equal(t, [2]any{int64(7), last}, [2]any{m.PrevProducerID, m.LastEpoch})
	require.NoError(t, h.init("x", 7, last), "a retry by the old ID")
	h.is("x", 1000, 0, Empty)
	assert.ErrorIs(t, h.init("x", 7, 3), kerr.ProducerFenced, "the old ID with another epoch")

	// An ongoing transaction at the last epoch is aborted under it: there
	// is none to bump to.
	h.c.Load(Metadata{TransactionalID: "y", ProducerID: 8, PrevProducerID: NoProducerID, NextProducerID: NoProducerID, Epoch: last,
		LastEpoch: NoEpoch, Timeout: time.Minute, State: Ongoing, Partitions: map[Partition]struct{}{a0: {}},
		Started: t0, LastUpdate: t0})
	assert.ErrorIs(t, h.init("y", NoProducerID, NoEpoch), kerr.ConcurrentTransactions)
	h.is("y", 8, last, PrepareAbort)
	require.NoError(t, h.markers("y"))
	require.NoError(t, h.init("y", NoProducerID, NoEpoch))
	h.is("y", 1001, 0, Empty)
}

// TestLoadRebuildsAndFinishesWhatWasInFlight: a coordinator rebuilt from
// the records of another finds the transactions being ended, whose
// markers it writes again.
func TestLoadRebuildsAndFinishesWhatWasInFlight(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.init("x", NoProducerID, NoEpoch))
	require.NoError(t, h.add("x", 1000, 0, a0))
	tr, err := h.c.EndTxn("x", 1000, 0, true, V1, h.now)
	require.NoError(t, err)
	require.NoError(t, h.c.Complete(tr))
	require.NoError(t, h.init("gone", NoProducerID, NoEpoch))

	next := New(Config{NewProducerID: h.c.cfg.NewProducerID})
	for _, m := range h.c.List() {
		decoded, err := Unmarshal(MarshalKey(m.TransactionalID), MarshalValue(m))
		require.NoError(t, err)
		next.Load(decoded)
	}
	gone, err := Unmarshal(MarshalKey("gone"), nil)
	require.NoError(t, err)
	next.Load(gone)
	assert.Equal(t, []string{"x"}, ids(next.InDoubt()))
	assert.Equal(t, []Partition{a0}, next.InDoubt()[0].SortedPartitions())
	h.c = next
	require.NoError(t, h.markers("x"))
	h.is("x", 1000, 0, CompleteCommit)
	_, known := next.Describe("gone")
	assert.False(t, known, "a tombstone removes the ID")
}

func ids(ms []Metadata) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.TransactionalID)
	}
	return out
}
