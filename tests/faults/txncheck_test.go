package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// txnCase is a clean run: three inputs, two committed transactions over
// two output partitions, one aborted transaction's record left in the log.
func txnCase() TxnObservations {
	return TxnObservations{
		InputAcks: []Ack{{Position{0, 0}, "in-0"}, {Position{1, 0}, "in-1"}, {Position{0, 1}, "in-2"}},
		Input:     map[int32][]Record{0: {{0, "in-0"}, {1, "in-2"}}, 1: {{0, "in-1"}}},
		Output: map[int32][]Record{
			0: {{1, "out-0 w1.2 2"}, {3, "out-2 w2.1 1"}},
			1: {{0, "out-1 w1.2 2"}},
		},
		OutputAll: map[int32][]Record{
			0: {{0, "out-0 w1.1 1"}, {1, "out-0 w1.2 2"}, {3, "out-2 w2.1 1"}},
			1: {{0, "out-1 w1.2 2"}},
		},
		LiveSeen: map[Position]string{{0, 1}: "out-0 w1.2 2", {1, 0}: "out-1 w1.2 2"},
		Outcomes: map[string]bool{"w1.1": false, "w1.2": true, "w2.1": true},
	}
}

// kinds counts the anomalies of each kind that found any.
func kinds(found map[string][]Anomaly) map[string]int {
	n := map[string]int{}
	for k, as := range found {
		if len(as) > 0 {
			n[k] = len(as)
		}
	}
	return n
}

func TestCheckTxnClean(t *testing.T) {
	found, counts := CheckTxn(txnCase())
	assert.Empty(t, kinds(found))
	assert.Equal(t, TxnCounts{Inputs: 3, Outputs: 3, Txns: 2, AbortedSeen: 1, LiveSeen: 2}, counts)
}

func TestCheckTxnAnomalies(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(o *TxnObservations)
		want  map[string]int
	}{
		{"an output lost", func(o *TxnObservations) {
			o.Output[0] = o.Output[0][:1] // out-2, the whole of w2.1
		}, map[string]int{KindMissing: 1, KindCommitLost: 1}},
		{"an output twice", func(o *TxnObservations) {
			o.Output[1] = append(o.Output[1], Record{5, "out-2 w2.9 1"})
		}, map[string]int{KindDuplicated: 1}},
		{"a transaction half visible", func(o *TxnObservations) {
			o.Output[1] = nil
		}, map[string]int{KindMissing: 1, KindTorn: 1, KindLiveUnknown: 1}},
		{"an output of no input", func(o *TxnObservations) {
			o.Output[1] = append(o.Output[1], Record{5, "out-7 w2.9 1"}, Record{6, "garbage"})
		}, map[string]int{KindUnexpected: 2}},
		{"the live reader saw an aborted record", func(o *TxnObservations) {
			o.LiveSeen[Position{0, 0}] = "out-0 w1.1 1"
		}, map[string]int{KindLiveUnknown: 1}},
		{"an aborted transaction visible", func(o *TxnObservations) {
			o.Output[0] = append(o.Output[0], Record{0, "out-0 w1.1 1"})
		}, map[string]int{KindAbortVisible: 1, KindDuplicated: 1}},
		{"an input lost and one duplicated", func(o *TxnObservations) {
			o.Input[1] = []Record{{0, "in-0"}}
			o.Output[1] = []Record{{0, "out-0 w1.2 2"}}
		}, map[string]int{KindInputLost: 1, KindInputDuplicated: 1, KindDuplicated: 1, KindLiveUnknown: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := txnCase()
			tc.spoil(&o)
			found, _ := CheckTxn(o)
			assert.Equal(t, tc.want, kinds(found), "%v", found)
		})
	}
}

func TestCheckTxnIncompleteOutput(t *testing.T) {
	o := txnCase()
	o.Output[0] = o.Output[0][:1]
	o.OutputIncomplete = map[int32]int64{0: 2}
	o.LiveSeen[Position{0, 3}] = "out-2 w2.1 1"
	found, _ := CheckTxn(o)
	require.Empty(t, found[KindMissing], "not judged: the read did not finish")
	require.Empty(t, found[KindLiveUnknown], "not judged past where the read got")
}

func TestCheckTxnUnprocessed(t *testing.T) {
	o := txnCase()
	o.Output[0] = o.Output[0][:1] // no output for in-2, at p0@1
	o.Outcomes = nil
	o.Consumed = map[int32]int64{0: 1, 1: 1}
	found, counts := CheckTxn(o)
	assert.Empty(t, kinds(found), "past the committed offset: not missing")
	assert.Equal(t, 1, counts.Unprocessed)
	o.Consumed[0] = 2
	found, _ = CheckTxn(o)
	assert.Equal(t, map[string]int{KindMissing: 1}, kinds(found), "consumed in a committed transaction")
}

func TestOutputValue(t *testing.T) {
	v := outputValue(inputValue(42), "w1.7", 3)
	require.Equal(t, "out-42 w1.7 3", v)
	out, ok := parseOutput(Position{}, v)
	require.True(t, ok)
	assert.Equal(t, output{n: "42", txn: "w1.7", count: 3}, out)
}
