// Package kafkajs runs kafkajs, a stock Kafka client for Node.js, against
// a creek node over loopback. CI runs npm ci here first (.ci/run); elsewhere
// the test skips when node_modules is missing, and fails when CI is set.
package kafkajs

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/creekmq/creek"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKafkaJS(t *testing.T) {
	if _, err := os.Stat("node_modules/kafkajs"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kafkajs is not installed; .ci/run runs npm ci in tests/kafkajs")
		}
		t.Skip("kafkajs is not installed (npm ci in tests/kafkajs)")
	}
	n, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer func() { assert.NoError(t, n.Close()) }()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "check.js")
	cmd.Env = append(os.Environ(), "BROKER="+n.Addr().String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "all checks passed")
}
