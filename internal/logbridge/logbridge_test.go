package logbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captured returns a logger writing JSON lines to a buffer, at any level,
// and a function decoding what it wrote.
func captured(t *testing.T) (*slog.Logger, func() []map[string]any) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return l, func() []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			m := map[string]any{}
			require.NoError(t, json.Unmarshal([]byte(line), &m))
			out = append(out, m)
		}
		return out
	}
}

// TestHCLog: Raft's warnings and errors reach the node's logger with
// their fields and module; its chatter below warnings does not.
func TestHCLog(t *testing.T) {
	l, lines := captured(t)
	h := HCLog(l, "raft")
	h.Info("entering follower state")
	h.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "127.0.0.1:7000")
	h.Named("net").Error("failed to accept connection", "error", errors.New("reset"))
	got := lines()
	require.Len(t, got, 2)
	assert.Equal(t, "WARN", got[0]["level"])
	assert.Equal(t, "heartbeat timeout reached, starting election", got[0]["msg"])
	assert.Equal(t, "raft", got[0]["module"])
	assert.Equal(t, "127.0.0.1:7000", got[0]["last-leader-addr"])
	assert.Equal(t, "ERROR", got[1]["level"])
	assert.Equal(t, "raft.net", got[1]["module"])
	assert.Equal(t, "reset", got[1]["error"])
}

// TestStdLog: memberlist's bracketed lines reach the node's logger at
// their level, warnings and up.
func TestStdLog(t *testing.T) {
	l, lines := captured(t)
	std := StdLog(l)
	std.Printf("[DEBUG] memberlist: Stream connection from=127.0.0.1:1")
	std.Printf("[WARN] memberlist: Was able to connect to n2 over TCP but UDP probes failed")
	std.Printf("[ERR] memberlist: Failed to send gossip to 127.0.0.1:2")
	std.Printf("no level at all")
	got := lines()
	require.Len(t, got, 3)
	assert.Equal(t, "WARN", got[0]["level"])
	assert.Equal(t, "memberlist", got[0]["module"])
	assert.Equal(t, "Was able to connect to n2 over TCP but UDP probes failed", got[0]["msg"])
	assert.Equal(t, "ERROR", got[1]["level"])
	assert.Equal(t, "WARN", got[2]["level"])
	assert.Equal(t, "no level at all", got[2]["msg"])
}
