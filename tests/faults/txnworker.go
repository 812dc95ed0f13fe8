package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// txnTimeout is the workers' transaction.timeout.ms: a transaction a
	// worker left open (its session gone with the coordinator
	// unreachable) is aborted by the coordinator after it.
	txnTimeout = 20 * time.Second
	// txnSessionTimeout is the workers' group session timeout, longer
	// than a pause the nemesis holds.
	txnSessionTimeout = 15 * time.Second
	// txnPollTimeout bounds one poll, so a worker sees a stop soon.
	txnPollTimeout = 500 * time.Millisecond
	// txnMaxRecords bounds the input records of one transaction.
	txnMaxRecords = 1000
	// txnSlow is how long a transaction, Begin to End, takes to count as
	// slow: a produce creek refused and franz-go retried after its 5 s
	// metadata refresh, say.
	txnSlow = 4 * time.Second
	// txnEndTimeout bounds one End; past it the worker starts anew.
	txnEndTimeout = 90 * time.Second
	// txnRetryPause separates a worker's attempts to start a session.
	txnRetryPause = time.Second
)

// inputValue is the filler's n-th record's value.
func inputValue(n int) string { return fmt.Sprintf("in-%d", n) }

// outputValue is the value a worker writes for the input record in, in
// transaction txn of count output records: "out-<n> <txn> <count>".
func outputValue(in, txn string, count int) string {
	n, ok := strings.CutPrefix(in, "in-")
	if !ok {
		n = "?" + in
	}
	return fmt.Sprintf("out-%s %s %d", n, txn, count)
}

// txnWorker is one pipeline worker: a GroupTransactSession in TxnGroup
// with its own transactional ID that, per poll, begins a transaction,
// writes one TxnOut record per TxnIn record and tries to commit.
type txnWorker struct {
	id      int
	clients ClientConfig
	w       *TxnWorkload
	stats   *workerStats
	txns    int // transactions begun, across sessions: names them
	log     *os.File
}

// session starts a new GroupTransactSession.
func (k *txnWorker) session() (*kgo.GroupTransactSession, error) {
	return kgo.NewGroupTransactSession(k.clients.Opts(
		kgo.TransactionalID(txnID(k.id)), kgo.TransactionTimeout(txnTimeout),
		kgo.ConsumerGroup(TxnGroup), kgo.ConsumeTopics(TxnIn), kgo.SessionTimeout(txnSessionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RequireStableFetchOffsets(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DefaultProduceTopic(TxnOut), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.WithLogger(kgo.BasicLogger(k.log, kgo.LogLevelInfo, func() string { return time.Now().Format("15:04:05.000 ") })))...)
}

// stopped reports whether the workload asked the workers to stop.
func (k *txnWorker) stopped() bool {
	select {
	case <-k.w.stopWorkers:
		return true
	default:
		return false
	}
}

// run transacts until the workload stops the workers. An End that aborts
// is normal under faults; one that returns an error (fenced, or retries
// exhausted: franz-go says none is retriable) ends the session, and the
// next starts a new one with the same transactional ID, which aborts
// whatever the old one left open.
func (k *txnWorker) run() {
	var s *kgo.GroupTransactSession
	defer func() {
		if s != nil {
			s.Close()
		}
		k.log.Close()
	}()
	restart := func(step string, err error) {
		k.w.mu.Lock()
		k.w.workerErrs[fmt.Sprintf("%s: %v", step, err)]++
		k.w.mu.Unlock()
		s.Close()
		s = nil
	}
	for !k.stopped() {
		if s == nil {
			var err error
			if s, err = k.session(); err != nil {
				k.w.mu.Lock()
				k.w.workerErrs[fmt.Sprintf("new session: %v", err)]++
				k.w.mu.Unlock()
				time.Sleep(txnRetryPause)
				continue
			}
			k.w.mu.Lock()
			k.stats.sessions++
			k.w.mu.Unlock()
		}
		ctx, cancel := context.WithTimeout(context.Background(), txnPollTimeout)
		fetches := s.PollRecords(ctx, txnMaxRecords)
		cancel()
		if fetches.IsClientClosed() {
			restart("poll", kgo.ErrClientClosed)
			continue
		}
		var in []*kgo.Record
		fetches.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				in = append(in, r)
			}
		})
		if len(in) == 0 {
			continue
		}
		if err := s.Begin(); err != nil {
			restart("begin", err)
			continue
		}
		k.txns++
		name := fmt.Sprintf("w%d.%d", k.id, k.txns)
		began := time.Now()
		for _, r := range in {
			// Keyed by the input value, so a transaction's records
			// spread over TxnOut's partitions.
			s.Produce(context.Background(), &kgo.Record{Key: r.Value, Value: []byte(outputValue(string(r.Value), name, len(in)))}, nil)
		}
		ctx, cancel = context.WithTimeout(context.Background(), txnEndTimeout)
		committed, err := s.End(ctx, kgo.TryCommit)
		cancel()
		took := time.Since(began)
		k.w.mu.Lock()
		k.stats.begun++
		k.stats.longest = max(k.stats.longest, took)
		if took >= txnSlow {
			k.stats.slow++
		}
		switch {
		case err != nil:
			k.stats.endErrors++
		case committed:
			k.stats.committed++
			k.w.outcomes[name] = true
		default:
			k.stats.aborted++
			k.w.outcomes[name] = false
		}
		k.w.mu.Unlock()
		if err != nil {
			restart("end", err)
		}
	}
}
