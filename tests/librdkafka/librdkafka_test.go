// Package librdkafka runs librdkafka, through its Python binding
// confluent_kafka (Debian's python3-confluent-kafka), against a creek node
// over loopback. CI installs it (.ci/run); elsewhere the test skips when no
// python3 imports confluent_kafka, and fails when CI is set.
package librdkafka

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek"
)

// python returns a python3 that imports confluent_kafka: the one on PATH,
// or Debian's, which the package installs into (a pyenv or venv python3
// first on PATH does not see it).
func python(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if exec.CommandContext(t.Context(), path, "-c", "import confluent_kafka").Run() == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no python3 imports confluent_kafka; .ci/run installs python3-confluent-kafka")
	}
	t.Skip("no python3 imports confluent_kafka (apt-get install -y python3-confluent-kafka)")
	return ""
}

// TestTransactions: a committed, an aborted and a consume-transform-produce
// transaction (send_offsets_to_transaction), read back read_committed and
// read_uncommitted, and the group offsets sent in the transaction (txn.py).
func TestTransactions(t *testing.T) {
	py := python(t)
	n, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer func() { assert.NoError(t, n.Close()) }()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "txn.py")
	cmd.Env = append(os.Environ(), "BROKER="+n.Addr().String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "librdkafka transactions: all checks passed")
	t.Logf("%s", out)
}
