// TransactSession: the consume-transform-produce loop, exactly once, for
// the embedded Consumer and Producer, as franz-go's GroupTransactSession
// runs it.

package creek

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// TransactSession reads a consumer group's records with ReadCommitted and
// writes what the caller makes of them, with the group's offsets, in one
// transaction per round: Poll begins a round, End commits or aborts it.
// A round in which a rebalance took partitions from the member is aborted
// rather than committed, since another member may read them already; an
// aborted round's records are read again, from the group's committed
// offsets. Each record read is then handled exactly once in what commits,
// across rebalances, crashes and restarts. Use it from one goroutine.
type TransactSession struct {
	consumer *Consumer
	producer *Producer
	round    bool        // a transaction is begun
	revoked  atomic.Bool // a rebalance took partitions since the round began
}

// NewTransactSession returns a session reading as cc says, with its Group
// required, its Isolation ReadCommitted and its auto-commit off, and
// writing as pc says, with its TransactionalID required (one per
// session: a new session with the ID fences the old).
func (n *Node) NewTransactSession(pc ProducerConfig, cc ConsumerConfig) (*TransactSession, error) {
	if cc.Group == "" || pc.TransactionalID == "" {
		return nil, fmt.Errorf("%w: a TransactSession needs a Group and a TransactionalID", ErrInvalidConfig)
	}
	s := &TransactSession{}
	cc.Isolation, cc.DisableAutoCommit = ReadCommitted, true
	cc.OnRevoked, cc.OnLost = s.noteRevoked(cc.OnRevoked), s.noteRevoked(cc.OnLost)
	var err error
	if s.consumer, err = n.NewConsumer(cc); err != nil {
		return nil, err
	}
	if s.producer, err = n.NewProducer(pc); err != nil {
		return nil, errors.Join(err, s.consumer.Close())
	}
	return s, nil
}

// noteRevoked wraps a rebalance callback: partitions taken away abort the
// round.
func (s *TransactSession) noteRevoked(then func([]TopicPartition)) func([]TopicPartition) {
	return func(partitions []TopicPartition) {
		if len(partitions) > 0 {
			s.revoked.Store(true)
		}
		if then != nil {
			then(partitions)
		}
	}
}

// Consumer returns the session's consumer, to Subscribe or Assign.
func (s *TransactSession) Consumer() *Consumer { return s.consumer }

// Producer returns the session's producer: records produced between Poll
// and End belong to the round's transaction.
func (s *TransactSession) Producer() *Producer { return s.producer }

// Poll begins a round if none is begun and returns the next records, as
// Consumer.Poll does.
func (s *TransactSession) Poll(ctx context.Context) ([]PartitionRecords, error) {
	if !s.round {
		if err := s.producer.BeginTransaction(); err != nil {
			return nil, err
		}
		s.round = true
		s.revoked.Store(false)
	}
	return s.consumer.Poll(ctx)
}

// End ends the round: with commit, it sends the consumer's positions and
// commits, unless a rebalance took partitions during the round or a
// record of it failed, in which case it aborts; without, it aborts. It
// reports whether the round committed. After an abort the consumer reads
// again from the group's committed offsets. An error that leaves the
// outcome to be decided (the coordinator unreachable until ctx ended)
// leaves the round open: call End again.
func (s *TransactSession) End(ctx context.Context, commit bool) (committed bool, err error) {
	if !s.round {
		return false, nil
	}
	if commit && !s.revoked.Load() {
		err = s.producer.SendOffsets(ctx, s.consumer)
		if err == nil {
			err = s.producer.CommitTransaction(ctx)
		}
		switch {
		case err == nil:
			s.round = false
			return true, nil
		case errors.Is(err, ErrProducerFenced), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return false, err
		}
		// A member fenced by a rebalance (ILLEGAL_GENERATION), a failed
		// record: the round cannot commit.
	}
	if err := s.producer.AbortTransaction(ctx); err != nil {
		return false, err
	}
	s.round = false
	s.consumer.rewindToCommitted()
	return false, nil
}

// Close aborts a round left open and closes the producer and the
// consumer.
func (s *TransactSession) Close() error {
	err := s.producer.Close()
	return errors.Join(err, s.consumer.Close())
}
