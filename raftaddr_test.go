package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

// TestRaftKeepsItsFreePortAcrossRestarts: a node given a free port for
// Raft takes the same one when it starts again, so the Raft configuration
// still names it; the fault harness found a cluster that never recovered
// after two of its three nodes restarted at once on new ports.
func TestRaftKeepsItsFreePortAcrossRestarts(t *testing.T) {
	fs := fsx.NewMem()
	require.NoError(t, fs.MkdirAll("/m", 0o755))
	first, err := listenRaft(fs, "/m", "127.0.0.1:0")
	require.NoError(t, err)
	addr := first.Addr().String()
	require.NoError(t, first.Close())

	again, err := listenRaft(fs, "/m", "127.0.0.1:0")
	require.NoError(t, err)
	assert.Equal(t, addr, again.Addr().String())

	taken, err := listenRaft(fs, "/m", "127.0.0.1:0") // the port is in use: another one, remembered
	require.NoError(t, err)
	assert.NotEqual(t, addr, taken.Addr().String())
	require.NoError(t, again.Close())
	require.NoError(t, taken.Close())

	fixed, err := listenRaft(fs, "/m", taken.Addr().String())
	require.NoError(t, err, "a port given is used as given")
	require.NoError(t, fixed.Close())
}
