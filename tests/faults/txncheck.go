package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Anomaly kinds of the transactional workload, as its result line names
// them; KindDuplicated is an input record's output committed twice.
const (
	KindMissing         = "missing"          // an input record with no committed output
	KindTorn            = "torn"             // a committed transaction partly visible
	KindUnexpected      = "unexpected"       // a committed output no input record accounts for
	KindLiveUnknown     = "live_unknown"     // the live reader saw what the final read lacks
	KindInputLost       = "input_lost"       // an acknowledged input record not in TxnIn
	KindInputDuplicated = "input_duplicated" // an input value at two places in TxnIn
	KindCommitLost      = "commit_lost"      // a transaction End reported committed, absent from TxnOut
	KindAbortVisible    = "abort_visible"    // a transaction End reported aborted, visible in TxnOut
)

// TxnObservations is everything a transactional run collected.
type TxnObservations struct {
	InputAcks []Ack              // the filler's acknowledged records
	Input     map[int32][]Record // TxnIn, read to its high watermarks
	// Output is TxnOut read with read_committed to its high watermarks
	// (past every transaction's marker); OutputAll with read_uncommitted.
	Output, OutputAll map[int32][]Record
	// InputIncomplete and OutputIncomplete hold partitions a final read
	// did not finish, with the offset it reached.
	InputIncomplete, OutputIncomplete map[int32]int64
	LiveSeen                          map[Position]string // what the live reader saw where
	// Consumed holds the pipeline group's committed offset of each TxnIn
	// partition once the workers stopped: an input below it was consumed
	// in a committed transaction and must have its output; one at or
	// past it is unprocessed, not missing. Nil: every input is judged.
	Consumed map[int32]int64
	// Outcomes holds what End reported of each transaction: committed
	// (true) or aborted (false); one whose End failed is not in it.
	Outcomes map[string]bool
}

// TxnCounts are the transactional run's figures beside its anomalies.
type TxnCounts struct {
	Inputs      int // records in TxnIn
	Outputs     int // committed records in TxnOut
	Txns        int // committed transactions with a record in TxnOut
	AbortedSeen int // records of TxnOut that only read_uncommitted returns
	LiveSeen    int // positions the live reader saw
	SlowTxns    int // transactions that took txnSlow or longer, Begin to End
	Unprocessed int // inputs at or past the group's committed offsets: not judged missing
}

// output is one committed output record, parsed.
type output struct {
	pos   Position
	n     string // the input's number: "in-<n>" became "out-<n>"
	txn   string
	count int // the records the transaction declared
}

// parseOutput parses "out-<n> <txn> <count>".
func parseOutput(pos Position, v string) (output, bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return output{}, false
	}
	n, ok := strings.CutPrefix(f[0], "out-")
	count, err := strconv.Atoi(f[2])
	if !ok || err != nil || count < 1 {
		return output{}, false
	}
	return output{pos: pos, n: n, txn: f[1], count: count}, true
}

// CheckTxn checks exactly-once from outside: every acknowledged input
// record is in TxnIn once; every input record's output is committed
// exactly once and nothing else is; every committed transaction is
// wholly visible, and visible if and only if its End reported it
// committed (when End said either); the live reader saw nothing the final read does not
// hold where it saw it.
func CheckTxn(o TxnObservations) (map[string][]Anomaly, TxnCounts) {
	found := map[string][]Anomaly{}
	var counts TxnCounts
	add := func(kind string, pos Position, format string, args ...any) {
		found[kind] = append(found[kind], Anomaly{kind, pos.Partition, pos.Offset, fmt.Sprintf(format, args...)})
	}

	lost, moved := CheckAcks(o.InputAcks, o.Input, o.InputIncomplete)
	for _, a := range append(lost, moved...) {
		add(KindInputLost, Position{a.Partition, a.Offset}, "%s: %s", TxnIn, a.Detail)
	}
	inputs := map[string]Position{} // input number → where TxnIn holds it
	for _, p := range sortedKeys(o.Input) {
		for _, r := range o.Input[p] {
			counts.Inputs++
			pos := Position{p, r.Offset}
			n, ok := strings.CutPrefix(r.Value, "in-")
			if !ok {
				add(KindInputDuplicated, pos, "%s holds %q, which the filler never wrote", TxnIn, r.Value)
				continue
			}
			if first, dup := inputs[n]; dup {
				add(KindInputDuplicated, pos, "%s holds %q here and at p%d@%d", TxnIn, r.Value, first.Partition, first.Offset)
				continue
			}
			inputs[n] = pos
		}
	}

	committed := map[Position]string{}
	outputs := map[string][]Position{} // input number → committed outputs
	txns := map[string][]output{}      // transaction → its committed records
	for _, p := range sortedKeys(o.Output) {
		for _, r := range o.Output[p] {
			counts.Outputs++
			pos := Position{p, r.Offset}
			committed[pos] = r.Value
			out, ok := parseOutput(pos, r.Value)
			if !ok {
				add(KindUnexpected, pos, "%s holds %q, which no worker writes", TxnOut, r.Value)
				continue
			}
			txns[out.txn] = append(txns[out.txn], out)
			if _, ok := inputs[out.n]; !ok {
				add(KindUnexpected, pos, "%s holds %q, but %s has no %q", TxnOut, r.Value, TxnIn, "in-"+out.n)
			}
			outputs[out.n] = append(outputs[out.n], pos)
		}
	}
	counts.Txns = len(txns)
	for _, n := range sortedKeys(outputs) {
		if at := outputs[n]; len(at) > 1 {
			add(KindDuplicated, at[1], "%s holds the output of %q %d times: %v", TxnOut, "in-"+n, len(at), at)
		}
	}
	if len(o.OutputIncomplete) == 0 {
		for _, n := range sortedKeys(inputs) {
			pos := inputs[n]
			if consumed, ok := o.Consumed[pos.Partition]; o.Consumed != nil && (!ok || pos.Offset >= consumed) {
				counts.Unprocessed++
				continue
			}
			if len(outputs[n]) == 0 {
				add(KindMissing, pos, "%s's %q has no output in %s", TxnIn, "in-"+n, TxnOut)
			}
		}
	}
	for _, name := range sortedKeys(txns) {
		recs := txns[name]
		declared := recs[0].count
		for _, r := range recs {
			declared = max(declared, r.count)
		}
		if len(recs) != declared {
			add(KindTorn, recs[0].pos, "transaction %s declared %d records, %s shows %d (first at p%d@%d)",
				name, declared, TxnOut, len(recs), recs[0].pos.Partition, recs[0].pos.Offset)
		}
	}

	for _, name := range sortedKeys(o.Outcomes) {
		recs, visible := txns[name]
		switch committed := o.Outcomes[name]; {
		case committed && !visible:
			add(KindCommitLost, Position{-1, -1}, "End reported transaction %s committed; %s has none of its records", name, TxnOut)
		case !committed && visible:
			add(KindAbortVisible, recs[0].pos, "End reported transaction %s aborted; %s shows %d of its records", name, TxnOut, len(recs))
		}
	}

	counts.LiveSeen = len(o.LiveSeen)
	for _, pos := range sortedPositions(o.LiveSeen) {
		v := o.LiveSeen[pos]
		f, ok := committed[pos]
		switch {
		case !ok && !judged(o.OutputIncomplete, pos):
		case !ok:
			add(KindLiveUnknown, pos, "the live reader saw %q, the final read_committed read has nothing there", v)
		case f != v:
			add(KindLiveUnknown, pos, "the live reader saw %q, the final read_committed read %q", v, f)
		}
	}

	for p, recs := range o.OutputAll {
		for _, r := range recs {
			if _, ok := committed[Position{p, r.Offset}]; !ok {
				counts.AbortedSeen++
			}
		}
	}
	for _, as := range found {
		sortAnomalies(as)
	}
	return found, counts
}

// sortedPositions returns m's positions by partition, then offset.
func sortedPositions[V any](m map[Position]V) []Position {
	return slices.SortedFunc(maps.Keys(m), func(a, b Position) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
}
