package main

import (
	"fmt"
	"io"
)

// examplesShown is how many examples of each anomaly a failure prints.
const examplesShown = 5

// Result is the outcome of one seed.
type Result struct {
	Workload  string // WorkloadRecords or WorkloadTxn
	Seed      uint64
	Nodes     int
	Rounds    int
	Acked     int
	Txn       TxnCounts            // the transactional workload's figures
	Anomalies map[string][]Anomaly // by kind
	Flood     Flood                // the worst log flood of any node
	StrayDirs int
	Settled   bool
	Unjudged  int      // acknowledged records the final read did not reach
	Errors    []string // what went wrong in the harness's own steps
	Dir       string   // the run directory
	Logs      []string // the node logs' paths
}

// failingKinds are the anomaly kinds that fail a run, in the line's order.
var failingKinds = []string{KindLost, KindMoved, KindDuplicated, KindDiverged, KindConsumerChanged, KindRecreated,
	KindMissing, KindTorn, KindUnexpected, KindLiveUnknown, KindCommitLost, KindAbortVisible, KindInputLost, KindInputDuplicated}

// Line is the run's one-line summary.
func (r Result) Line() string {
	n := func(kind string) int { return len(r.Anomalies[kind]) }
	if r.Workload == WorkloadTxn {
		return fmt.Sprintf("faults: workload=txn seed=%d nodes=%d rounds=%d inputs=%d outputs=%d txns=%d missing=%d duplicated=%d torn=%d unexpected=%d live_unknown=%d live_seen=%d commit_lost=%d abort_visible=%d input_lost=%d input_duplicated=%d aborted_seen=%d unprocessed=%d slow_txns=%d log_flood_max=%d settled=%t",
			r.Seed, r.Nodes, r.Rounds, r.Txn.Inputs, r.Txn.Outputs, r.Txn.Txns, n(KindMissing), n(KindDuplicated), n(KindTorn),
			n(KindUnexpected), n(KindLiveUnknown), r.Txn.LiveSeen, n(KindCommitLost), n(KindAbortVisible), n(KindInputLost),
			n(KindInputDuplicated), r.Txn.AbortedSeen, r.Txn.Unprocessed, r.Txn.SlowTxns, r.Flood.Count, r.Settled)
	}
	return fmt.Sprintf("faults: seed=%d nodes=%d rounds=%d acked=%d lost=%d moved=%d duplicated=%d diverged=%d consumer_changed=%d recreated=%d log_flood_max=%d stray_dirs=%d settled=%t",
		r.Seed, r.Nodes, r.Rounds, r.Acked, n(KindLost), n(KindMoved), n(KindDuplicated), n(KindDiverged),
		n(KindConsumerChanged), n(KindRecreated), r.Flood.Count, r.StrayDirs, r.Settled)
}

// Failed reports whether the run found an anomaly, a log flood, did not
// settle, or could not do one of its steps.
func (r Result) Failed() bool {
	for _, k := range failingKinds {
		if len(r.Anomalies[k]) > 0 {
			return true
		}
	}
	return r.Flood.Count > LogFloodLimit || !r.Settled || len(r.Errors) > 0
}

// PrintDetails prints, for a failed run, the harness's errors, the first
// examples of each anomaly, the worst flood and where the logs are.
func (r Result) PrintDetails(w io.Writer) {
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	for _, k := range failingKinds {
		as := r.Anomalies[k]
		for i, a := range as {
			if i == examplesShown {
				fmt.Fprintf(w, "  ... and %d more %s\n", len(as)-i, k)
				break
			}
			fmt.Fprintf(w, "  %s\n", a)
		}
	}
	if r.Unjudged > 0 {
		fmt.Fprintf(w, "  not judged: %d acknowledged records the final read did not reach\n", r.Unjudged)
	}
	if r.Flood.Count > 0 {
		fmt.Fprintf(w, "  worst log flood: node %d printed %q %d times in the second from %s\n",
			r.Flood.Node, r.Flood.Msg, r.Flood.Count, r.Flood.At.Format("15:04:05.000"))
	}
	fmt.Fprintf(w, "  run directory: %s\n", r.Dir)
	for _, l := range r.Logs {
		fmt.Fprintf(w, "  node log: %s\n", l)
	}
}
