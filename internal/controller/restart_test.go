package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// applyAll applies commands in order, as Raft would.
func applyAll(t *testing.T, m *Metadata, cmds []Command) {
	t.Helper()
	for _, c := range cmds {
		mustApply(t, m, c)
	}
}

func TestOnRestartsRaisesEpochsAndRegisters(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2, 3}, {2, 3, 1}}}})
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "solo", Replicas: [][]int32{{1}}}})
	live := map[int32]uint64{1: 11, 2: 22, 3: 33}
	for id, inc := range live {
		mustApply(t, m, Command{RegisterNode: &RegisterNode{Node: id, Incarnation: inc}})
	}
	first := m.Clone()
	assert.Empty(t, OnRestarts(m, live), "registered incarnations call for nothing")

	live[1] = 12 // node 1's process started again
	cmds := OnRestarts(m, live)
	require.NotEmpty(t, cmds)
	assert.Equal(t, &RegisterNode{Node: 1, Incarnation: 12}, cmds[len(cmds)-1].RegisterNode, "registration comes last")
	applyAll(t, m, cmds)

	p0, p1, p2 := m.Topics["t"].Partitions[0], m.Topics["t"].Partitions[1], m.Topics["solo"].Partitions[0]
	assert.Equal(t, int32(2), p0.Leader, "another in-sync replica leads what the restarted node led")
	assert.Equal(t, first.Topics["t"].Partitions[0].LeaderEpoch+1, p0.LeaderEpoch)
	assert.Equal(t, []int32{2, 3}, p0.ISR)
	assert.Equal(t, []int32{2, 3}, p1.ISR, "the restarted follower leaves the ISR")
	assert.Equal(t, first.Topics["t"].Partitions[1].LeaderEpoch, p1.LeaderEpoch, "its leader keeps its epoch")
	assert.Equal(t, int32(1), p2.Leader, "the only replica leads again")
	assert.Equal(t, first.Topics["solo"].Partitions[0].LeaderEpoch+1, p2.LeaderEpoch, "but at a new epoch")
	assert.Equal(t, uint64(12), m.Nodes[1])
}

func TestOnRestartsIsDeterministic(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "a", Replicas: [][]int32{{1, 2}, {2, 1}}}})
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "b", Replicas: [][]int32{{2, 1}}}})
	live := map[int32]uint64{1: 5, 2: 6}
	assert.Equal(t, OnRestarts(m, live), OnRestarts(m.Clone(), live))
}

func TestDeletionIsRecordedByID(t *testing.T) {
	m := &Metadata{}
	id := [16]byte{7}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", ID: id, Replicas: [][]int32{{1}}}})
	assert.False(t, m.WasDeleted(id))
	mustApply(t, m, Command{DeleteTopic: &DeleteTopic{Name: "t"}})
	assert.True(t, m.WasDeleted(id))
	assert.False(t, m.WasDeleted([16]byte{8}))

	for i := range maxDeleted + 5 {
		name := "x"
		mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: name, ID: [16]byte{1, byte(i), byte(i >> 8)}, Replicas: [][]int32{{1}}}})
		mustApply(t, m, Command{DeleteTopic: &DeleteTopic{Name: name}})
	}
	assert.Len(t, m.Deleted, maxDeleted, "the record of deletions is bounded")
	assert.False(t, m.WasDeleted(id), "the oldest are forgotten")

	b, err := EncodeSnapshot(m)
	require.NoError(t, err)
	back, err := DecodeSnapshot(b)
	require.NoError(t, err)
	assert.Equal(t, m.Deleted, back.Deleted, "snapshots keep them")
}

func TestOnRestartsFirstRegistrationMovesNothing(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2}}}})
	before := m.Clone()
	applyAll(t, m, OnRestarts(m, map[int32]uint64{1: 3, 2: 4}))
	assert.Equal(t, before.Topics, m.Topics)
	assert.Equal(t, map[int32]uint64{1: 3, 2: 4}, m.Nodes)
}
