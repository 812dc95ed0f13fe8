package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A reassignment adds the new replicas beside the old, waits for them to
// join the ISR, then drops the old ones; a leader that is not wanted
// hands over to the first in-sync replica of the target.
func TestReassignAddsThenRemoves(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2, 3}}}})
	mustApply(t, m, Command{Reassign: &Reassign{Topic: "t", Replicas: []int32{4, 2, 3}}})
	p := &m.Topics["t"].Partitions[0]
	assert.Equal(t, []int32{4, 2, 3, 1}, p.Replicas, "the new set first, then the replicas leaving")
	assert.Equal(t, []int32{4}, p.Adding)
	assert.Equal(t, []int32{1}, p.Removing)
	assert.Equal(t, []int32{1, 2, 3}, p.ISR, "the new replica is not in sync yet")
	assert.Equal(t, int32(1), p.Leader)
	assert.Equal(t, int32(1), p.LeaderEpoch, "the leader takes up the new replica set")
	assert.Empty(t, FinishReady(m), "node 4 has not caught up")
	err := m.Apply(Command{FinishReassign: &FinishReassign{Topic: "t", LeaderEpoch: 1}})
	require.ErrorIs(t, err, ErrRejected)

	mustApply(t, m, Command{ChangeISR: &ChangeISR{Topic: "t", LeaderEpoch: 1, ISR: []int32{1, 2, 3, 4}}})
	ready := FinishReady(m)
	require.Len(t, ready, 1)
	mustApply(t, m, ready[0])
	assert.Equal(t, []int32{4, 2, 3}, p.Replicas)
	assert.Equal(t, []int32{2, 3, 4}, p.ISR)
	assert.Equal(t, int32(4), p.Leader, "the first in-sync replica of the target leads")
	assert.Equal(t, int32(2), p.LeaderEpoch)
	assert.False(t, p.Reassigning())
	require.ErrorIs(t, m.Apply(ready[0]), ErrRejected, "a finish applies once")
}

// Cancelling a reassignment restores the replicas it started from;
// reassigning to the current replicas changes nothing but the epoch.
func TestReassignCancel(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2}}}})
	require.ErrorIs(t, m.Apply(Command{Reassign: &Reassign{Topic: "t"}}), ErrRejected, "nothing to cancel")
	mustApply(t, m, Command{Reassign: &Reassign{Topic: "t", Replicas: []int32{3, 4}}})
	p := &m.Topics["t"].Partitions[0]
	assert.Equal(t, []int32{3, 4, 1, 2}, p.Replicas)
	mustApply(t, m, Command{Reassign: &Reassign{Topic: "t", Replicas: []int32{2, 3}}})
	assert.Equal(t, []int32{2, 3, 1}, p.Replicas, "a new reassignment starts from the original replicas")
	assert.Equal(t, []int32{3}, p.Adding)
	assert.Equal(t, []int32{1}, p.Removing)
	mustApply(t, m, Command{Reassign: &Reassign{Topic: "t"}})
	// As in Kafka, the original replicas are the current ones without the
	// added: their set is restored, their order may not be.
	assert.ElementsMatch(t, []int32{1, 2}, p.Replicas)
	assert.False(t, p.Reassigning())
	assert.ElementsMatch(t, []int32{1, 2}, p.ISR)
	require.ErrorIs(t, m.Apply(Command{Reassign: &Reassign{Topic: "t", Replicas: []int32{1, 1}}}), ErrRejected)
}

// Replicas on gone nodes move to the live nodes holding fewest replicas.
func TestReplaceGone(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2}, {2, 3}, {3, 1}}}})
	cmds := ReplaceGone(m, []int32{2, 3, 4}, []int32{1})
	require.Len(t, cmds, 2)
	assert.Equal(t, &Reassign{Topic: "t", Partition: 0, Replicas: []int32{4, 2}}, cmds[0].Reassign)
	assert.Equal(t, &Reassign{Topic: "t", Partition: 2, Replicas: []int32{3, 4}}, cmds[1].Reassign,
		"node 4 is still the least loaded")
	for _, c := range cmds {
		mustApply(t, m, c)
	}
	assert.Empty(t, ReplaceGone(m, []int32{2, 3, 4}, []int32{1}), "reassignments under way are left alone")
	assert.Empty(t, ReplaceGone(&Metadata{Topics: map[string]*Topic{"u": {Name: "u",
		Partitions: []Partition{{Replicas: []int32{1, 2}, Leader: 2, ISR: []int32{2}}}}}}, []int32{2}, []int32{1}),
		"no free live node: nothing to do")
}

// Preferred leader election moves leadership back to each partition's
// first replica when it is in sync.
func TestPreferredLeaders(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2}, {2, 1}}}})
	for _, c := range OnNodesChanged(m, []int32{2}) {
		mustApply(t, m, c)
	}
	assert.Empty(t, PreferredLeaders(m, []int32{2}), "node 1 is down")
	mustApply(t, m, Command{ChangeISR: &ChangeISR{Topic: "t", Partition: 0, LeaderEpoch: 1, ISR: []int32{2, 1}}})
	cmds := PreferredLeaders(m, []int32{1, 2})
	require.Len(t, cmds, 1)
	mustApply(t, m, cmds[0])
	p := m.Topics["t"].Partitions[0]
	assert.Equal(t, int32(1), p.Leader)
	assert.Equal(t, int32(2), p.LeaderEpoch)
	require.ErrorIs(t, m.Apply(cmds[0]), ErrRejected, "stale epoch")
	assert.Empty(t, PreferredLeaders(m, []int32{1, 2}))
}
