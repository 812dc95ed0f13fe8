package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// liveCatchUpTimeout bounds the wait for the live reader to reach the end
// of TxnOut before it stops; one that lags is no anomaly.
const liveCatchUpTimeout = 10 * time.Second

// runTxn does the steps of one seed of the transactional workload in dir:
// fill TxnIn and run the pipeline and the live reader under the nemesis,
// which also targets the transaction coordinator and the topics'
// leaders; heal; let the pipeline catch up; stop it; read both topics
// through Kafka and check exactly-once.
func (r *Run) runTxn(ctx context.Context, dir string) Result {
	o := r.Opts
	ev := NewEvents(r.Out)
	res := Result{Workload: WorkloadTxn, Seed: r.Seed, Nodes: o.Nodes, Dir: dir, Anomalies: map[string][]Anomaly{}}
	fail := func(err error) { res.Errors = append(res.Errors, err.Error()); ev.Printf("error: %v", err) }
	ev.Printf("workload=txn seed=%d nodes=%d rounds=%d partitions=%d rate=%d workers=%d faults=%s dir=%s",
		r.Seed, o.Nodes, o.Rounds, o.Partitions, o.Rate, txnWorkers, strings.Join(o.Faults, ","), dir)
	if r.Net.Unavailable != "" {
		ev.Printf("cuts unavailable: %s", r.Net.Unavailable)
	}

	c, err := StartCluster(ctx, r.Bin, dir, o.Nodes, o.Security, r.Net, ev)
	defer c.Close()
	for _, n := range c.Nodes {
		res.Logs = append(res.Logs, n.LogPath())
	}
	for k := 1; k <= txnWorkers; k++ {
		res.Logs = append(res.Logs, filepath.Join(dir, fmt.Sprintf("worker-%d.log", k)))
	}
	if err != nil {
		fail(err)
		return res
	}
	for _, topic := range []string{TxnIn, TxnOut} {
		if err := createTopic(ctx, c, topic, o.Partitions); err != nil {
			fail(err)
			return res
		}
		ev.Printf("topic %s: %d partitions, every one led", topic, o.Partitions)
	}

	w, err := StartTxnWorkload(c.Clients(), dir, o.Partitions, o.Rate, ev)
	if err != nil {
		fail(err)
		return res
	}
	// The records workload's file identity checks read only Topic's
	// directories: nothing to record before a stop.
	nemesis := NewNemesis(r.Seed, c, o.Faults, ev, func(*Node, string) {})
	nemesis.Target([]string{TxnIn, TxnOut}, TxnIDs())
	res.Rounds = r.rounds(ctx, c, nemesis, ev, fail)
	w.StopFilling()
	ev.Printf("settling (up to %v)", o.Settle)
	settleBy := time.Now().Add(o.Settle)
	err = waitFor(ctx, o.Settle, "settle", func(ctx context.Context) (bool, error) {
		for _, n := range c.Nodes {
			for _, topic := range []string{TxnIn, TxnOut} {
				if _, err := inSyncEverywhere(ctx, c, n, topic, o.Partitions); err != nil {
					return false, err
				}
			}
		}
		return pipelineCaughtUp(ctx, c.Admin(), o.Partitions)
	})
	w.StopWorkers()
	consumed, cerr := groupOffsets(ctx, c.Admin())
	if cerr != nil {
		ev.Printf("offsets of %s after the workers stopped: %v; every input is judged", TxnGroup, cerr)
	}
	if err == nil {
		err = waitFor(ctx, max(time.Until(settleBy), time.Second), "every transaction on "+TxnOut+" ended", func(ctx context.Context) (bool, error) {
			return transactionsEnded(ctx, c.Admin(), o.Partitions)
		})
	}
	res.Settled = err == nil
	if res.Settled {
		ev.Printf("settled: the pipeline caught up and stopped, no transaction open")
	} else {
		ev.Printf("not settled: %v", err)
	}

	readFor := finalReadTimeout
	if res.Settled {
		readFor = max(time.Until(settleBy), readTimeout)
	}
	read := func(topic string, isolation kgo.IsolationLevel, how string) KafkaRead {
		rctx, cancel := context.WithTimeout(ctx, readFor)
		defer cancel()
		kr, err := ReadTopic(rctx, c.Clients(), topic, o.Partitions, isolation)
		total := 0
		for _, recs := range kr.Records {
			total += len(recs)
		}
		ev.Printf("read %d records of %s %s; high watermarks %v", total, topic, how, kr.HighWatermarks)
		if err != nil {
			res.Settled = false
			ev.Printf("read of %s %s incomplete: %v", topic, how, err)
		}
		return kr
	}
	in := read(TxnIn, kgo.ReadUncommitted(), "read_uncommitted")
	out := read(TxnOut, kgo.ReadCommitted(), "read_committed")
	all := read(TxnOut, kgo.ReadUncommitted(), "read_uncommitted")
	caughtUp := waitFor(ctx, liveCatchUpTimeout, "the live reader at the end", func(context.Context) (bool, error) {
		return w.LiveReached(out.HighWatermarks), nil
	})
	if caughtUp != nil {
		ev.Printf("the live reader did not reach the end of %s: what it saw is judged, what it missed is not", TxnOut)
	}
	w.StopReading()

	ev.Printf("stopping every node")
	if err := c.StopAll(); err != nil {
		fail(err)
	}
	for _, n := range c.Nodes {
		if f := MaxFlood(n.ID, n.Lines()); f.Count > res.Flood.Count {
			res.Flood = f
		}
	}
	if res.Flood.Count > 0 {
		ev.Printf("worst log burst: node %d printed %q %d times within a second", res.Flood.Node, res.Flood.Msg, res.Flood.Count)
	}

	res.Anomalies, res.Txn = CheckTxn(TxnObservations{
		InputAcks: w.Acks(), Input: in.Records, InputIncomplete: in.Incomplete,
		Output: out.Records, OutputIncomplete: out.Incomplete, OutputAll: all.Records,
		LiveSeen: w.LiveSeen(), Outcomes: w.Outcomes(), Consumed: consumed,
	})
	if res.Txn.Unprocessed > 0 {
		ev.Printf("%d input records past the pipeline's committed offsets: unprocessed, not judged missing", res.Txn.Unprocessed)
	}
	res.Txn.SlowTxns = w.Slow()
	res.Acked = len(w.Acks())
	return res
}

// pipelineCaughtUp reports whether TxnGroup's committed offsets have
// reached TxnIn's high watermarks, partition by partition.
func pipelineCaughtUp(ctx context.Context, adm *kadm.Client, partitions int) (bool, error) {
	ends, err := adm.ListEndOffsets(ctx, TxnIn)
	if err != nil {
		return false, fmt.Errorf("high watermarks of %s: %w", TxnIn, err)
	}
	if n := len(ends[TxnIn]); n != partitions {
		return false, fmt.Errorf("high watermarks of %d of %d partitions of %s", n, partitions, TxnIn)
	}
	committed, err := adm.FetchOffsets(ctx, TxnGroup)
	if err != nil {
		return false, fmt.Errorf("offsets of %s: %w", TxnGroup, err)
	}
	// TxnIn has no transactions: a last stable offset below the high
	// watermark would keep the read_committed workers from its end.
	stable, _ := adm.ListCommittedOffsets(ctx, TxnIn)
	var behind []string
	for _, p := range sortedKeys(ends[TxnIn]) {
		e := ends[TxnIn][p]
		c, ok := committed.Lookup(TxnIn, p)
		switch {
		case e.Err != nil:
			behind = append(behind, fmt.Sprintf("partition %d: %v", p, e.Err))
		case !ok || c.Err != nil || c.At < e.Offset:
			lso := "?"
			if s, ok := stable.Lookup(TxnIn, p); ok && s.Err == nil {
				lso = fmt.Sprint(s.Offset)
			}
			behind = append(behind, fmt.Sprintf("partition %d: committed %d, last stable %s, high watermark %d", p, c.At, lso, e.Offset))
		}
	}
	if len(behind) > 0 {
		return false, fmt.Errorf("the pipeline is behind: %v", behind)
	}
	return true, nil
}

// groupOffsets returns TxnGroup's committed offset of each TxnIn
// partition it has one for.
func groupOffsets(ctx context.Context, adm *kadm.Client) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	committed, err := adm.FetchOffsets(ctx, TxnGroup)
	if err != nil {
		return nil, err
	}
	offsets := map[int32]int64{}
	for p, o := range committed[TxnIn] {
		if o.Err != nil {
			return nil, fmt.Errorf("partition %d: %w", p, o.Err)
		}
		offsets[p] = o.At
	}
	return offsets, nil
}

// transactionsEnded reports whether every partition of TxnOut has its
// last stable offset at its high watermark: no transaction is open.
func transactionsEnded(ctx context.Context, adm *kadm.Client, partitions int) (bool, error) {
	ends, err := adm.ListEndOffsets(ctx, TxnOut)
	if err != nil {
		return false, err
	}
	if n := len(ends[TxnOut]); n != partitions {
		return false, fmt.Errorf("high watermarks of %d of %d partitions of %s", n, partitions, TxnOut)
	}
	stable, err := adm.ListCommittedOffsets(ctx, TxnOut)
	if err != nil {
		return false, err
	}
	var open []string
	ends.Each(func(e kadm.ListedOffset) {
		s, ok := stable.Lookup(TxnOut, e.Partition)
		if e.Err != nil || !ok || s.Err != nil || s.Offset != e.Offset {
			open = append(open, fmt.Sprintf("partition %d: last stable %d, high watermark %d (%v %v)", e.Partition, s.Offset, e.Offset, e.Err, s.Err))
		}
	})
	if len(open) > 0 {
		return false, errors.New(strings.Join(open, "; "))
	}
	return true, nil
}
