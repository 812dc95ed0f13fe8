package netx

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDialerFrom(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	for host, want := range map[string]string{"127.0.0.2": "127.0.0.2", "": "127.0.0.1", "0.0.0.0": "127.0.0.1"} {
		d := DialerFrom(host, time.Second)
		c, err := d.Dial("tcp", ln.Addr().String())
		require.NoError(t, err, "from %q", host)
		accepted, err := ln.Accept()
		require.NoError(t, err)
		assert.Equal(t, want, c.LocalAddr().(*net.TCPAddr).IP.String(), "from %q", host)
		assert.Equal(t, c.LocalAddr().String(), accepted.RemoteAddr().String())
		c.Close()
		accepted.Close()
	}
}
