package membership

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// memberlist's Shutdown does not wait for a probe in flight, which ends
// by itself when its ack times out; on a loaded machine that can outlast
// goleak's retries. Every goroutine of this package's own is checked.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"))
}

func join(t *testing.T, id int32, key []byte, seeds ...string) *Membership {
	t.Helper()
	m, err := Join(Config{NodeID: id, BindAddr: "127.0.0.1:0", Seeds: seeds, KafkaAddr: fmt.Sprintf("127.0.0.1:%d", 9000+id),
		Rack: fmt.Sprintf("rack-%d", id%2), EncryptionKey: key, Logger: slog.New(slog.DiscardHandler), LocalNetwork: true})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// waitFor waits, on membership changes and not on a clock, until m sees
// exactly the nodes ids.
func waitFor(t *testing.T, m *Membership, ids ...int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		changed := m.Changed()
		var got []int32
		for _, member := range m.Members() {
			got = append(got, member.NodeID)
		}
		if fmt.Sprint(got) == fmt.Sprint(ids) {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("members %v, want %v", got, ids)
		}
	}
}

func TestJoinLeaveAndFailure(t *testing.T) {
	a := join(t, 1, nil)
	b := join(t, 2, nil, a.GossipAddr())
	c := join(t, 3, nil, a.GossipAddr())
	for _, m := range []*Membership{a, b, c} {
		waitFor(t, m, 1, 2, 3)
	}
	members := a.Members()
	assert.Equal(t, Member{NodeID: 2, KafkaAddr: "127.0.0.1:9002", Rack: "rack-0", GossipAddr: b.GossipAddr()}, members[1])

	require.NoError(t, c.Leave(time.Second)) // graceful
	waitFor(t, a, 1, 2)
	waitFor(t, b, 1, 2)

	require.NoError(t, b.Close()) // a crash: a finds out by failure detection
	waitFor(t, a, 1)
}

func TestEncryptedGossip(t *testing.T) {
	key := []byte("0123456789abcdef")
	a := join(t, 1, key)
	b := join(t, 2, key, a.GossipAddr())
	waitFor(t, a, 1, 2)
	waitFor(t, b, 1, 2)
	_, err := Join(Config{NodeID: 3, BindAddr: "127.0.0.1:0", Seeds: []string{a.GossipAddr()}, KafkaAddr: "x:1",
		EncryptionKey: []byte("fedcba9876543210"), Logger: slog.New(slog.DiscardHandler), LocalNetwork: true})
	require.Error(t, err, "a node with another key cannot join")
	_, err = Join(Config{NodeID: 4, BindAddr: "127.0.0.1:0", KafkaAddr: "x:1", EncryptionKey: []byte("short")})
	require.ErrorContains(t, err, "EncryptionKey")
}

func TestMetaRoundTrip(t *testing.T) {
	want := nodeMeta{NodeID: 7, KafkaAddr: "10.0.0.7:9092", Rack: "eu-1a",
		Listeners: map[string]string{"INTERNAL": "10.0.0.7:9092", "CLIENTS": "kafka-7.example:9093"}}
	b, err := encodeMeta(want)
	require.NoError(t, err)
	got, err := decodeMeta(b)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	got, err = decodeMeta([]byte("\x01" + `{"id":7,"kafka":"10.0.0.7:9092"}`))
	require.NoError(t, err, "a node from before listeners had names")
	assert.Equal(t, nodeMeta{NodeID: 7, KafkaAddr: "10.0.0.7:9092"}, got)
	_, err = encodeMeta(nodeMeta{NodeID: 1, KafkaAddr: string(make([]byte, 500))})
	require.Error(t, err)
	for _, bad := range [][]byte{nil, {2, '{', '}'}, {1, '{', '}'}, {1, 'x'}} {
		_, err := decodeMeta(bad)
		require.ErrorIs(t, err, errBadMeta, "%q", bad)
	}
}

func FuzzDecodeMeta(f *testing.F) {
	good, _ := encodeMeta(nodeMeta{NodeID: 1, KafkaAddr: "127.0.0.1:9092", Rack: "a"})
	f.Add(good)
	named, _ := encodeMeta(nodeMeta{NodeID: 1, KafkaAddr: "127.0.0.1:9092", Listeners: map[string]string{"A": "h:1"}})
	f.Add(named)
	f.Add([]byte{1, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			require.ErrorIs(t, err, errBadMeta)
			return
		}
		again, err := encodeMeta(m)
		if err != nil {
			return // a valid decode may not re-encode within the bound after JSON escaping
		}
		back, err := decodeMeta(again)
		require.NoError(t, err)
		assert.Equal(t, m, back)
	})
}

// TestPartitionHeals: three nodes cut off from each other each find the
// others dead; once the links are back, they find each other again.
func TestPartitionHeals(t *testing.T) {
	var cut atomic.Bool
	blocked := func(string) bool { return cut.Load() }
	open := func(id int32, seeds ...string) *Membership {
		m, err := Join(Config{NodeID: id, BindAddr: "127.0.0.1:0", Seeds: seeds, KafkaAddr: "127.0.0.1:9000",
			Logger: slog.New(slog.DiscardHandler), LocalNetwork: true, Blocked: blocked})
		require.NoError(t, err)
		t.Cleanup(func() { m.Close() })
		return m
	}
	a := open(1)
	b := open(2, a.GossipAddr())
	c := open(3, a.GossipAddr())
	all := []*Membership{a, b, c}
	for _, m := range all {
		waitFor(t, m, 1, 2, 3)
	}
	cut.Store(true)
	waitFor(t, a, 1)
	waitFor(t, b, 2)
	waitFor(t, c, 3)
	cut.Store(false)
	for _, m := range all {
		waitFor(t, m, 1, 2, 3)
	}
}
