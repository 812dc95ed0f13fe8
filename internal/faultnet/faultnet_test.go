package faultnet

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo serves one echo listener on loopback until the test ends.
func echo(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln
}

func TestPartitionAndHeal(t *testing.T) {
	n := New()
	ln := echo(t)
	n.Register(2, ln.Addr().String())
	dial := n.Node(1).DialContext

	c, err := dial(t.Context(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("hi"))
	require.NoError(t, err)
	buf := make([]byte, 2)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)

	n.Partition([]int32{1}, []int32{2})
	require.True(t, n.Cut(2, 1), "links are both ways")
	_, err = c.Write([]byte("x"))
	require.ErrorIs(t, err, ErrCut, "an open connection breaks")
	_, err = dial(t.Context(), "tcp", ln.Addr().String())
	require.ErrorIs(t, err, ErrCut)
	c3, err := n.Node(3).DialContext(t.Context(), "tcp", ln.Addr().String())
	require.NoError(t, err, "other links stay up")
	c3.Close()

	n.HealAll()
	c2, err := dial(t.Context(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	c2.Close()
}

// Injected faults come from the seed: two networks with the same seed
// decide the same fates, and the zero Faults stops them.
func TestInjectIsSeeded(t *testing.T) {
	fates := func(seed uint64) []string {
		n := New()
		n.Register(2, "b")
		n.Inject(Faults{Seed: seed, Delay: time.Millisecond, DropPacket: 0.3, DuplicatePacket: 0.3})
		send := n.Node(1).GossipFate
		var out []string
		for range 50 {
			drop, dup, delay := send("b")
			out = append(out, fmt.Sprint(drop, dup, delay))
		}
		n.Inject(Faults{})
		drop, dup, delay := send("b")
		require.Equal(t, []any{false, false, time.Duration(0)}, []any{drop, dup, delay}, "no faults after the zero Faults")
		n.Partition([]int32{1}, []int32{2})
		drop, _, _ = send("b")
		require.True(t, drop, "a cut link loses every packet")
		return out
	}
	require.Equal(t, fates(7), fates(7))
	require.NotEqual(t, fates(7), fates(8))
}

// A write that breaks its connection fails, and the connection with it.
func TestInjectBreaksConnections(t *testing.T) {
	n := New()
	ln := echo(t)
	n.Register(2, ln.Addr().String())
	c, err := n.Node(1).DialContext(t.Context(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	n.Inject(Faults{Seed: 1, BreakConn: 1})
	_, err = c.Write([]byte("x"))
	require.ErrorIs(t, err, ErrCut)
	n.Inject(Faults{})
	_, err = c.Write([]byte("x"))
	require.Error(t, err, "a broken connection stays broken")
}
