package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek"
)

// TestLoginEndToEnd starts the whole application — broker, login server,
// Node.js client — and drives the login page in headless Chromium: a
// successful login, a wrong password, and a login server that is down.
// Screenshots go to $LOGIN_SCREENSHOTS, or the test's temporary directory.
// CI installs Chromium and the client's packages; elsewhere the test skips
// without them, and fails when CI is set.
func TestLoginEndToEnd(t *testing.T) {
	requireTools(t)
	shots := os.Getenv("LOGIN_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	a, err := start(t.Context(), config{Data: t.TempDir(), Kafka: "127.0.0.1:0", HTTPPort: 0,
		Log: slog.New(slog.DiscardHandler), ClientOut: io.Discard, Timeout: 3 * time.Second})
	require.NoError(t, err)
	defer func() { require.NoError(t, a.Close()) }()

	browse(t, a.URL, "success", filepath.Join(shots, "login-success.png"))
	browse(t, a.URL, "wrong-password", filepath.Join(shots, "login-wrong-password.png"))
	require.NoError(t, a.StopServer())
	browse(t, a.URL, "server-down", filepath.Join(shots, "login-server-down.png"))
}

// browse runs one scenario of client/e2e.js.
func browse(t *testing.T, url, scenario, screenshot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "e2e.js", url, scenario, screenshot)
	cmd.Dir = clientDir()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s", out)
	_, err = os.Stat(screenshot)
	require.NoError(t, err, "screenshot saved")
}

func requireTools(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := os.Stat(filepath.Join(clientDir(), "node_modules", "playwright-core")); err != nil {
		missing = "the client's packages (npm ci in examples/login/client)"
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		missing = "chromium (apt-get install -y chromium)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("missing " + missing + "; .ci/run installs it")
	}
	t.Skip("missing " + missing)
}

// TestClientLeavesNoGroupBehind: the client deletes its own reply group,
// with the offsets it committed, when it stops.
func TestClientLeavesNoGroupBehind(t *testing.T) {
	requireTools(t)
	a, err := start(t.Context(), config{Data: t.TempDir(), Kafka: "127.0.0.1:0", HTTPPort: 0,
		Log: slog.New(slog.DiscardHandler), ClientOut: io.Discard})
	require.NoError(t, err)
	node := a.node
	// The client joins its group before it serves the page, so the group
	// is there now.
	i := slices.IndexFunc(node.ListGroups(t.Context()), func(g string) bool { return strings.HasPrefix(g, "login-client-") })
	require.GreaterOrEqual(t, i, 0)
	group := node.ListGroups(t.Context())[i]
	resp, err := http.Post(a.URL+"login", "application/json", strings.NewReader(`{"email":"test@email.com","password":"x"}`))
	require.NoError(t, err)
	resp.Body.Close() // the client read a reply, whose offset it commits at the latest when it stops
	require.NoError(t, a.client.Process.Signal(syscall.SIGTERM))
	require.NoError(t, <-a.clientDone)
	a.client = nil
	_, err = node.DescribeGroup(t.Context(), group)
	require.ErrorIs(t, err, creek.ErrGroupNotFound, "no members and no offsets left")
	require.NoError(t, a.Close())
}
