package kafka_test

import (
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/kafka"
)

// exhaustedListener fails its first accepts as a process out of file
// descriptors does.
type exhaustedListener struct {
	net.Listener
	failures atomic.Int32
}

func (l *exhaustedListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestListenerOutlivesTooManyOpenFiles: accepts that fail with EMFILE
// leave the listener serving; once descriptors are free again, clients
// are answered. A black-box probe with 400 connections under `ulimit -n
// 256` stopped the listener for good.
func TestListenerOutlivesTooManyOpenFiles(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	el := &exhaustedListener{Listener: ln}
	el.failures.Store(5)
	s := kafka.Serve(nil, kafka.Config{Logger: slog.New(slog.DiscardHandler)}, kafka.Listener{Listener: el})
	defer func() { assert.NoError(t, s.Close()) }()

	w := dial(t, ln.Addr())
	w.send(kmsg.NewPtrApiVersionsRequest(), 3, 7)
	resp := kmsg.NewPtrApiVersionsResponse()
	assert.Equal(t, int32(7), w.receive(resp, 3))
	assert.Zero(t, resp.ErrorCode)
	assert.LessOrEqual(t, el.failures.Load(), int32(-1), "every failed accept was tried again")
}
