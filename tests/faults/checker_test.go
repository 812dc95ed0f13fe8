package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// recs builds records at offsets 0.. with values.
func recs(values ...string) []Record {
	out := make([]Record, len(values))
	for i, v := range values {
		out[i] = Record{Offset: int64(i), Value: v}
	}
	return out
}

// ack builds an acknowledgement.
func ack(p int32, off int64, v string) Ack {
	return Ack{Position: Position{Partition: p, Offset: off}, Value: v}
}

// counts is the number of anomalies of each kind.
func counts(found map[string][]Anomaly) map[string]int {
	c := map[string]int{}
	for k, as := range found {
		if len(as) > 0 {
			c[k] = len(as)
		}
	}
	return c
}

// healthy is a run with nothing wrong: two partitions, three replicas that
// hold what the read holds, a consumer that saw the same values.
func healthy() Observations {
	read := map[int32][]Record{0: recs("a", "b", "c"), 1: recs("x", "y")}
	replicas := map[int]map[int32][]Record{}
	for node := 1; node <= 3; node++ {
		replicas[node] = map[int32][]Record{0: recs("a", "b", "c"), 1: recs("x", "y")}
	}
	return Observations{
		Acks:           []Ack{ack(0, 0, "a"), ack(0, 1, "b"), ack(0, 2, "c"), ack(1, 0, "x"), ack(1, 1, "y")},
		Read:           read,
		HighWatermarks: map[int32]int64{0: 3, 1: 2},
		Replicas:       replicas,
		ConsumerSeen: map[Position]string{
			{0, 0}: "a", {0, 1}: "b", {1, 0}: "x",
		},
	}
}

func TestCheckHealthyFindsNothing(t *testing.T) {
	require.Empty(t, counts(Check(healthy())))
}

func TestCheckUnknownRecordsInTheLogAreFine(t *testing.T) {
	o := healthy()
	o.Acks = o.Acks[1:] // "a" failed, yet it was written: allowed
	require.Empty(t, counts(Check(o)))
}

func TestCheckLost(t *testing.T) {
	o := healthy()
	o.Acks = append(o.Acks, ack(1, 2, "z")) // acknowledged, never read
	found := Check(o)
	require.Equal(t, map[string]int{KindLost: 1}, counts(found))
	require.Equal(t, int32(1), found[KindLost][0].Partition)
	require.Equal(t, int64(2), found[KindLost][0].Offset)
}

func TestCheckLostWhenAcknowledgedInAnotherPartition(t *testing.T) {
	o := healthy()
	o.Acks = append(o.Acks, ack(1, 2, "b")) // "b" is in partition 0 only
	require.Equal(t, map[string]int{KindLost: 1}, counts(Check(o)))
}

func TestCheckMoved(t *testing.T) {
	o := healthy()
	o.Acks[1] = ack(0, 2, "b") // acknowledged at 2, read at 1
	o.Acks[2] = ack(0, 1, "c")
	found := Check(o)
	require.Equal(t, map[string]int{KindMoved: 2}, counts(found))
}

func TestCheckDuplicatedInTheRead(t *testing.T) {
	o := healthy()
	o.Read[0] = recs("a", "b", "c", "b")
	o.HighWatermarks[0] = 4
	for node := 1; node <= 3; node++ {
		o.Replicas[node][0] = recs("a", "b", "c", "b")
	}
	found := Check(o)
	require.Equal(t, map[string]int{KindDuplicated: 1}, counts(found), "one value, counted once over every source")
	require.Contains(t, found[KindDuplicated][0].Detail, "[1 3]")
}

func TestCheckDuplicatedInOneReplicasFiles(t *testing.T) {
	o := healthy()
	o.Replicas[2][1] = append(recs("x", "y"), Record{Offset: 5, Value: "x"}) // above the high watermark
	require.Equal(t, map[string]int{KindDuplicated: 1}, counts(Check(o)))
}

func TestCheckDivergedValue(t *testing.T) {
	o := healthy()
	o.Replicas[3][0] = recs("a", "B", "c")
	found := Check(o)
	require.Equal(t, map[string]int{KindDiverged: 1}, counts(found))
	require.Equal(t, Anomaly{KindDiverged, 0, 1, `[node 3 holds "B", the read "b"]`}, found[KindDiverged][0])
}

func TestCheckDivergedMissing(t *testing.T) {
	o := healthy()
	o.Replicas[2][0] = recs("a") // lacks 1 and 2
	require.Equal(t, map[string]int{KindDiverged: 2}, counts(Check(o)))
}

func TestCheckDivergedReplicaWithoutFiles(t *testing.T) {
	o := healthy()
	delete(o.Replicas[1], 1)
	o.Assignment = map[int32][]int32{0: {1, 2, 3}, 1: {1, 2, 3}}
	require.Equal(t, map[string]int{KindDiverged: 2}, counts(Check(o)))
	o.Assignment = nil // without the assignment, node 1 is no replica of 1
	require.Empty(t, counts(Check(o)))
}

func TestCheckDivergedTwoValuesAtOneOffset(t *testing.T) {
	o := healthy()
	o.Replicas[1][0] = append(recs("a", "b", "c"), Record{Offset: 1, Value: "q"})
	require.Equal(t, map[string]int{KindDiverged: 1}, counts(Check(o)))
}

func TestCheckDivergedReplicasDifferWhereTheReadHasNothing(t *testing.T) {
	o := healthy()
	o.Read[0] = []Record{{0, "a"}, {2, "c"}} // a gap at 1
	o.Acks = []Ack{ack(0, 0, "a")}
	o.ConsumerSeen = nil
	o.Replicas[1][0] = recs("a", "q", "c")
	require.Equal(t, map[string]int{KindDiverged: 1}, counts(Check(o)))
}

func TestCheckIgnoresReplicaTailsAboveTheHighWatermark(t *testing.T) {
	o := healthy()
	o.Replicas[1][0] = recs("a", "b", "c", "uncommitted")
	o.Replicas[2][0] = recs("a", "b", "c", "other")
	require.Empty(t, counts(Check(o)))
}

func TestCheckConsumerChanged(t *testing.T) {
	o := healthy()
	o.ConsumerChanged = []Change{{Position{0, 1}, "b", "b2"}, {Position{0, 1}, "b", "b3"}}
	found := Check(o)
	require.Equal(t, map[string]int{KindConsumerChanged: 1}, counts(found), "one position, once")
}

func TestCheckConsumerSawWhatTheFinalReadDiffersFrom(t *testing.T) {
	o := healthy()
	o.ConsumerSeen[Position{1, 1}] = "old"  // the final read has "y"
	o.ConsumerSeen[Position{1, 7}] = "gone" // the final read has nothing
	found := Check(o)
	require.Equal(t, map[string]int{KindConsumerChanged: 2}, counts(found))
	require.Equal(t, int64(1), found[KindConsumerChanged][0].Offset)
	require.Equal(t, int64(7), found[KindConsumerChanged][1].Offset)
}

func TestCheckPassesRecreatedThrough(t *testing.T) {
	o := healthy()
	o.Recreated = []Anomaly{{Kind: KindRecreated, Partition: 2}}
	require.Equal(t, map[string]int{KindRecreated: 1}, counts(Check(o)))
}

func TestResultLineAndFailure(t *testing.T) {
	r := Result{Seed: 7, Nodes: 3, Rounds: 4, Acked: 10, Settled: true, StrayDirs: 1,
		Anomalies: map[string][]Anomaly{KindLost: {{}, {}}}, Flood: Flood{Count: 3}}
	require.Equal(t, "faults: seed=7 nodes=3 rounds=4 acked=10 lost=2 moved=0 duplicated=0 diverged=0 consumer_changed=0 recreated=0 log_flood_max=3 stray_dirs=1 settled=true", r.Line())
	require.True(t, r.Failed())
	r.Anomalies = nil
	require.False(t, r.Failed())
	r.Flood.Count = LogFloodLimit + 1
	require.True(t, r.Failed())
	r.Flood.Count = LogFloodLimit
	r.Settled = false
	require.True(t, r.Failed())
	r.Settled = true
	r.Errors = []string{"cut: no namespace"}
	require.True(t, r.Failed())
}

func TestCheckDoesNotJudgeWhatTheReadDidNotReach(t *testing.T) {
	o := healthy()
	o.Read[0] = recs("a") // stopped at offset 1 of 3
	o.HighWatermarks[0] = 1
	o.Incomplete = map[int32]int64{0: 1, 2: 0}
	o.Acks = append(o.Acks, ack(2, 0, "p")) // a partition not read at all
	o.ConsumerSeen[Position{2, 0}] = "p"    // likewise
	o.Acks = append(o.Acks, ack(0, 5, "x")) // "x" is in partition 1 only: unreached, not judged
	require.Empty(t, counts(Check(o)))

	o.Acks = append(o.Acks, ack(0, 0, "zz")) // below where the read reached: lost
	require.Equal(t, map[string]int{KindLost: 1}, counts(Check(o)))
}
