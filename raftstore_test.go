package creek

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/fsx"
)

func entries(first, last, term uint64) []*raft.Log {
	var out []*raft.Log
	for i := first; i <= last; i++ {
		out = append(out, &raft.Log{Index: i, Term: term, Type: raft.LogCommand,
			Data: []byte{byte(i)}, Extensions: []byte("x"), AppendedAt: time.Unix(0, int64(i))})
	}
	return out
}

func indexes(t *testing.T, s *raftStore) (uint64, uint64) {
	t.Helper()
	first, err := s.FirstIndex()
	require.NoError(t, err)
	last, err := s.LastIndex()
	require.NoError(t, err)
	return first, last
}

func TestRaftStoreLog(t *testing.T) {
	fs := fsx.NewMem()
	s, err := openRaftStore(fs, "/raft", LogConfig{Logger: discardLogger()})
	require.NoError(t, err)
	first, last := indexes(t, s)
	assert.Zero(t, first+last, "empty")

	require.NoError(t, s.StoreLogs(entries(1, 10, 1)))
	first, last = indexes(t, s)
	assert.Equal(t, [2]uint64{1, 10}, [2]uint64{first, last})
	var got raft.Log
	require.NoError(t, s.GetLog(5, &got))
	assert.Equal(t, *entries(5, 5, 1)[0], got)
	require.ErrorIs(t, s.GetLog(11, &got), raft.ErrLogNotFound)
	require.Error(t, s.StoreLogs(entries(12, 12, 1)), "a gap")

	require.NoError(t, s.DeleteRange(1, 4)) // compaction after a snapshot
	require.ErrorIs(t, s.GetLog(3, &got), raft.ErrLogNotFound)
	require.NoError(t, s.DeleteRange(8, 10)) // a diverged suffix
	first, last = indexes(t, s)
	assert.Equal(t, [2]uint64{5, 7}, [2]uint64{first, last})
	require.NoError(t, s.StoreLogs(entries(8, 9, 2)))
	require.NoError(t, s.GetLog(8, &got))
	assert.Equal(t, uint64(2), got.Term, "the new leader's entry")

	require.NoError(t, s.SetUint64([]byte("CurrentTerm"), 2))
	require.NoError(t, s.Set([]byte("LastVoteCand"), []byte("node-1")))
	require.NoError(t, s.Close())

	s, err = openRaftStore(fs, "/raft", LogConfig{Logger: discardLogger()})
	require.NoError(t, err)
	first, last = indexes(t, s)
	assert.Equal(t, [2]uint64{5, 9}, [2]uint64{first, last}, "survives a reopen")
	term, err := s.GetUint64([]byte("CurrentTerm"))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), term)
	vote, err := s.Get([]byte("LastVoteCand"))
	require.NoError(t, err)
	assert.Equal(t, "node-1", string(vote))
	missing, err := s.GetUint64([]byte("nothing"))
	require.NoError(t, err)
	assert.Zero(t, missing)

	require.NoError(t, s.DeleteRange(5, 9)) // all, as after installing a snapshot
	require.NoError(t, s.StoreLogs(entries(100, 101, 3)))
	require.NoError(t, s.Close())
	s, err = openRaftStore(fs, "/raft", LogConfig{Logger: discardLogger()})
	require.NoError(t, err)
	defer s.Close()
	first, last = indexes(t, s)
	assert.Equal(t, [2]uint64{100, 101}, [2]uint64{first, last}, "the new base survives a reopen")
	require.NoError(t, s.GetLog(101, &got))
	assert.Equal(t, []byte{101}, got.Data)
}

// TestRaftStoreRestartReplaysMetadata runs a one-node Raft controller on
// the store, applies a command, restarts it on the same files, and finds
// the metadata again.
func TestRaftStoreRestartReplaysMetadata(t *testing.T) {
	fs := fsx.NewMem()
	start := func() (*raft.Raft, *controller.FSM, *raftStore) {
		s, err := openRaftStore(fs, "/raft", LogConfig{Logger: discardLogger()})
		require.NoError(t, err)
		cfg := raft.DefaultConfig()
		cfg.LocalID = "node-1"
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
		cfg.Logger = hclog.NewNullLogger()
		addr, trans := raft.NewInmemTransport("node-1")
		if last, _ := s.LastIndex(); last == 0 {
			require.NoError(t, raft.BootstrapCluster(cfg, s, s, raft.NewInmemSnapshotStore(), trans,
				raft.Configuration{Servers: []raft.Server{{ID: "node-1", Address: addr}}}))
		}
		fsm := controller.NewFSM()
		r, err := raft.NewRaft(cfg, fsm, s, s, raft.NewInmemSnapshotStore(), trans)
		require.NoError(t, err)
		return r, fsm, s
	}
	r, fsm, s := start()
	cmd, err := controller.Command{CreateTopic: &controller.CreateTopic{Name: "orders", Replicas: [][]int32{{1}}}}.Encode()
	require.NoError(t, err)
	require.NoError(t, waitLeader(t, r))
	require.NoError(t, r.Apply(cmd, 10*time.Second).Error())
	assert.Contains(t, fsm.Metadata().Topics, "orders")
	require.NoError(t, r.Shutdown().Error())
	require.NoError(t, s.Close())

	r, fsm, s = start()
	defer func() {
		require.NoError(t, r.Shutdown().Error())
		require.NoError(t, s.Close())
	}()
	require.NoError(t, waitLeader(t, r))
	require.NoError(t, r.Barrier(10*time.Second).Error()) // every committed entry applied
	assert.Contains(t, fsm.Metadata().Topics, "orders", "replayed from the creek Log")
}

// waitLeader waits, on Raft's own leadership channel, until a one-node
// cluster's node leads.
func waitLeader(t *testing.T, r *raft.Raft) error {
	t.Helper()
	if r.State() == raft.Leader {
		return nil
	}
	select {
	case <-r.LeaderCh():
		return nil
	case <-time.After(30 * time.Second):
		return raft.ErrLeadershipLost
	}
}

func FuzzDecodeRaftEntry(f *testing.F) {
	f.Add(encodeRaftEntry(entries(7, 7, 3)[0]))
	f.Add(make([]byte, 21))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l raft.Log
		if err := decodeRaftEntry(b, &l); err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		var again raft.Log
		require.NoError(t, decodeRaftEntry(encodeRaftEntry(&l), &again))
		require.Equal(t, l, again)
	})
}

func FuzzDecodeRaftStable(f *testing.F) {
	f.Add(encodeRaftStable(map[string][]byte{"CurrentTerm": {0, 0, 0, 0, 0, 0, 0, 2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		values, err := decodeRaftStable(b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		again, err := decodeRaftStable(encodeRaftStable(values))
		require.NoError(t, err)
		require.Equal(t, len(values), len(again))
	})
}
