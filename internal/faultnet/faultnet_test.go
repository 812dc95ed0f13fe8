package faultnet

import (
	"io"
	"net"
	"testing"

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
	dial := n.Dialer(1)

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
	c3, err := n.Dialer(3)(t.Context(), "tcp", ln.Addr().String())
	require.NoError(t, err, "other links stay up")
	c3.Close()

	n.HealAll()
	c2, err := dial(t.Context(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	c2.Close()
}
