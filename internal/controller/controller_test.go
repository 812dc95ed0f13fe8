package controller

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustApply(t *testing.T, m *Metadata, c Command) {
	t.Helper()
	b, err := c.Encode()
	require.NoError(t, err)
	decoded, err := DecodeCommand(b)
	require.NoError(t, err)
	require.NoError(t, m.Apply(decoded))
}

func TestApplyTopicLifecycle(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2, 3}, {2, 3, 1}}}})
	p := m.Topics["t"].Partitions[1]
	assert.Equal(t, Partition{Replicas: []int32{2, 3, 1}, Leader: 2, ISR: []int32{2, 3, 1}}, p)
	mustApply(t, m, Command{CreatePartitions: &CreatePartitions{Name: "t", Replicas: [][]int32{{3, 1, 2}}}})
	assert.Len(t, m.Topics["t"].Partitions, 3)
	mustApply(t, m, Command{AlterConfigs: &AlterConfigs{Name: "t", Configs: map[string]string{"retention.ms": "1"}}})
	assert.Equal(t, "1", m.Topics["t"].Configs["retention.ms"])

	for name, bad := range map[string]Command{
		"exists":            {CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1}}}},
		"no partitions":     {CreateTopic: &CreateTopic{Name: "u"}},
		"repeated replica":  {CreateTopic: &CreateTopic{Name: "u", Replicas: [][]int32{{1, 1}}}},
		"uneven factor":     {CreateTopic: &CreateTopic{Name: "u", Replicas: [][]int32{{1, 2}, {1}}}},
		"partitions factor": {CreatePartitions: &CreatePartitions{Name: "t", Replicas: [][]int32{{1}}}},
		"unknown delete":    {DeleteTopic: &DeleteTopic{Name: "u"}},
		"leader not in isr": {ChangeLeader: &ChangeLeader{Topic: "t", Leader: 1, ISR: []int32{2}}},
		"isr not replicas":  {ChangeLeader: &ChangeLeader{Topic: "t", Leader: 9, ISR: []int32{9}}},
		"unknown partition": {ChangeLeader: &ChangeLeader{Topic: "t", Partition: 7, Leader: -1}},
	} {
		before := m.Clone()
		require.ErrorIs(t, m.Apply(bad), ErrRejected, name)
		require.Equal(t, before, m, "%s changed nothing", name)
	}
	mustApply(t, m, Command{DeleteTopic: &DeleteTopic{Name: "t"}})
	assert.Empty(t, m.Topics)
}

// TestStaleLeaderCannotChangeISR: an ISR change names the leader epoch it
// was asked at, so a deposed leader's request changes nothing.
func TestStaleLeaderCannotChangeISR(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2, 3}}}})
	mustApply(t, m, Command{ChangeLeader: &ChangeLeader{Topic: "t", Leader: 2, ISR: []int32{2, 3}}})
	assert.Equal(t, int32(1), m.Topics["t"].Partitions[0].LeaderEpoch)
	err := m.Apply(Command{ChangeISR: &ChangeISR{Topic: "t", LeaderEpoch: 0, ISR: []int32{1}}})
	require.ErrorIs(t, err, ErrRejected)
	mustApply(t, m, Command{ChangeISR: &ChangeISR{Topic: "t", LeaderEpoch: 1, ISR: []int32{2, 3, 1}}})
	require.ErrorIs(t, m.Apply(Command{ChangeISR: &ChangeISR{Topic: "t", LeaderEpoch: 1, ISR: []int32{3}}}), ErrRejected,
		"the leader stays in its ISR")
}

func TestPlaceSpreadsOverRacks(t *testing.T) {
	nodes := []Node{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}, {5, "c"}}
	replicas, err := Place(nodes, 10, 3, 0)
	require.NoError(t, err)
	leaders := map[int32]int{}
	for _, r := range replicas {
		racks := map[string]bool{}
		for _, id := range r {
			racks[nodes[id-1].Rack] = true
		}
		assert.Len(t, racks, 3, "three replicas on three racks: %v", r)
		leaders[r[0]]++
	}
	for _, n := range nodes {
		assert.Equal(t, 2, leaders[n.ID], "leaders rotate over the nodes")
	}
	_, err = Place(nodes, 1, 6, 0)
	require.ErrorIs(t, err, ErrNotEnoughNodes)
}

func TestOnNodesChangedElectsFromISR(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}}})
	mustApply(t, m, Command{ChangeISR: &ChangeISR{Topic: "t", Partition: 2, LeaderEpoch: 0, ISR: []int32{3}}})

	for _, c := range OnNodesChanged(m, []int32{2, 3}) { // node 1 died
		mustApply(t, m, c)
	}
	ps := m.Topics["t"].Partitions
	assert.Equal(t, int32(2), ps[0].Leader, "the next preferred replica in the ISR")
	assert.Equal(t, []int32{2, 3}, ps[0].ISR)
	assert.Equal(t, int32(1), ps[0].LeaderEpoch)
	assert.Equal(t, int32(2), ps[1].Leader, "its leader lives: only the ISR shrinks")
	assert.Equal(t, []int32{2, 3}, ps[1].ISR)
	assert.Equal(t, int32(0), ps[1].LeaderEpoch)

	for _, c := range OnNodesChanged(m, []int32{2}) { // node 3 died too: partition 2's only in-sync replica
		mustApply(t, m, c)
	}
	assert.Equal(t, int32(-1), ps[2].Leader, "no unclean election: no leader")
	assert.Equal(t, []int32{3}, ps[2].ISR)
	assert.Empty(t, OnNodesChanged(m, []int32{2}), "nothing more to do")

	for _, c := range OnNodesChanged(m, []int32{2, 3}) { // node 3 returns
		mustApply(t, m, c)
	}
	assert.Equal(t, int32(3), ps[2].Leader, "its in-sync replica leads again")
}

// TestApplyIsDeterministic applies the same random commands to two
// metadata, one restored from a snapshot halfway, and finds them equal.
func TestApplyIsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var commands []Command
	for i := range 400 {
		topic := fmt.Sprintf("t%d", rng.IntN(5))
		current := func() *Metadata {
			m := &Metadata{}
			for _, c := range commands {
				_ = m.Apply(c)
			}
			return m
		}
		switch rng.IntN(6) {
		case 0:
			replicas, _ := Place([]Node{{1, ""}, {2, ""}, {3, ""}}, 1+rng.IntN(3), 1+rng.IntN(3), i)
			commands = append(commands, Command{CreateTopic: &CreateTopic{Name: topic, Replicas: replicas}})
		case 1:
			commands = append(commands, Command{DeleteTopic: &DeleteTopic{Name: topic}})
		case 2:
			replicas := rng.Perm(4)[:1+rng.IntN(3)]
			var ids []int32
			for _, r := range replicas {
				ids = append(ids, int32(r+1))
			}
			commands = append(commands, Command{Reassign: &Reassign{Topic: topic, Partition: int32(rng.IntN(2)), Replicas: ids}})
		case 3:
			m := current()
			commands = append(commands, FinishReady(m)...)
			commands = append(commands, PreferredLeaders(m, []int32{1, 2, 3})...)
			commands = append(commands, ReplaceGone(m, []int32{1, 2, 4}, []int32{3})...)
		default:
			live := []int32{1, 2, 3}
			live = append(live[:rng.IntN(3)], live[rng.IntN(3)+1:]...)
			commands = append(commands, OnNodesChanged(current(), live)...)
		}
	}
	a, b := &Metadata{}, &Metadata{}
	for i, c := range commands {
		errA := a.Apply(c)
		if i == len(commands)/2 {
			snap, err := EncodeSnapshot(b)
			require.NoError(t, err)
			if b, err = DecodeSnapshot(snap); err != nil {
				t.Fatal(err)
			}
		}
		errB := b.Apply(c)
		require.Equal(t, errA == nil, errB == nil, "command %d", i)
	}
	require.Equal(t, a, b)
}

func FuzzDecodeCommand(f *testing.F) {
	good, _ := Command{ChangeISR: &ChangeISR{Topic: "t", ISR: []int32{1}}}.Encode()
	f.Add(good)
	f.Add([]byte{1, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			require.ErrorIs(t, err, ErrBadCommand)
			return
		}
		again, err := c.Encode()
		require.NoError(t, err)
		back, err := DecodeCommand(again)
		require.NoError(t, err)
		require.Equal(t, c, back)
		_ = (&Metadata{}).Apply(c) // must not panic
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	m := &Metadata{}
	_ = m.Apply(Command{CreateTopic: &CreateTopic{Name: "t", Replicas: [][]int32{{1, 2}}}})
	good, _ := EncodeSnapshot(m)
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeSnapshot(b)
		if err != nil {
			require.ErrorIs(t, err, ErrBadSnapshot)
			return
		}
		// A decoded snapshot must be safe to decide on.
		_ = OnNodesChanged(m, []int32{1})
		_ = FinishReady(m)
		_ = PreferredLeaders(m, []int32{1})
		_ = ReplaceGone(m, []int32{1}, []int32{2})
	})
}

// TestUncleanElection: with unclean.leader.election.enable, a partition
// whose in-sync replicas are all dead is led by a live out-of-sync
// replica, alone in its ISR; without it the partition waits leaderless.
func TestUncleanElection(t *testing.T) {
	m := &Metadata{}
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "clean", Replicas: [][]int32{{1, 2}}}})
	mustApply(t, m, Command{CreateTopic: &CreateTopic{Name: "unclean", Replicas: [][]int32{{1, 2}},
		Configs: map[string]string{UncleanElectionConfig: "true"}}})
	for _, topic := range []string{"clean", "unclean"} {
		mustApply(t, m, Command{ChangeISR: &ChangeISR{Topic: topic, Partition: 0, ISR: []int32{1}}}) // 2 lagged
	}
	for _, c := range OnNodesChanged(m, []int32{2}) { // node 1, the only in-sync replica, died
		mustApply(t, m, c)
	}
	clean, unclean := m.Topics["clean"].Partitions[0], m.Topics["unclean"].Partitions[0]
	assert.Equal(t, int32(-1), clean.Leader, "an out-of-sync replica never leads by default")
	assert.Equal(t, int32(2), unclean.Leader)
	assert.Equal(t, []int32{2}, unclean.ISR)
	assert.Equal(t, int32(1), unclean.LeaderEpoch)
	assert.Empty(t, OnNodesChanged(m, []int32{2}), "nothing more to do")
	for _, c := range OnNodesChanged(m, []int32{1, 2}) { // node 1 returns: the unclean leader keeps leading
		mustApply(t, m, c)
	}
	assert.Equal(t, int32(2), m.Topics["unclean"].Partitions[0].Leader)
}
