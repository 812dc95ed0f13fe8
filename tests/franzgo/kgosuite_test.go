package franzgo

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/blackbox"
	"github.com/creekmq/creek/internal/testcert"
)

// servingLine is the line `creek serve` logs once it serves Kafka.
var servingLine = regexp.MustCompile(`creek serving the Kafka protocol" addr=(\S+)`)

// TestFranzGoOwnSuite runs franz-go's own kgo integration tests (every
// test of its pkg/kgo, TestTxnEtl and TestGroupETL among them) against a
// `creek serve` process, as franz-go's CI runs them against its kfake:
// the module's sources, as this module requires them, with KGO_SEEDS
// naming the node and KGO_TEST_RF=1; its SCRAM tests against a second
// node whose clients authenticate with SCRAM-SHA-512 (KGO_TEST_SCRAM_SEEDS,
// KGO_TEST_SCRAM), and its OAUTHBEARER test against a third that takes
// unsigned JWTs (KGO_TEST_OAUTH_SEEDS). It takes a minute or two; -short
// skips it.
//
//	go test -run FranzGoOwnSuite -v .
func TestFranzGoOwnSuite(t *testing.T) {
	ctx, suite, bin := kgoSuite(t)
	addr := serveCreek(ctx, t, bin)
	users := filepath.Join(t.TempDir(), "users")
	require.NoError(t, os.WriteFile(users, []byte("kgo:kgo-secret\n"), 0o600))
	scramAddr := serveCreek(ctx, t, bin, "--sasl-users", users)
	oauthAddr := serveCreek(ctx, t, bin, "--sasl-oauth-unsecured")
	runKgoSuite(ctx, t, suite, nil, "KGO_SEEDS="+addr,
		"KGO_TEST_SCRAM_SEEDS="+scramAddr, "KGO_TEST_SCRAM=kgo:kgo-secret:512", "KGO_TEST_OAUTH_SEEDS="+oauthAddr)
}

// TestFranzGoOwnSuiteOverTLS runs franz-go's kgo suite as
// TestFranzGoOwnSuite does, but every connection over TLS to a `creek
// serve --tls-cert --tls-key` with a certificate the test made
// (KGO_TEST_TLS naming its CA). TestIssue769 is skipped: it sets its own
// Dialer, which franz-go refuses with a TLS configuration, and then uses
// the client it did not get. -short skips it.
//
//	go test -run FranzGoOwnSuiteOverTLS -v .
func TestFranzGoOwnSuiteOverTLS(t *testing.T) {
	ctx, suite, bin := kgoSuite(t)
	certs := testcert.New(t)
	certFile, keyFile := certs.ServerFiles(t)
	addr := serveCreek(ctx, t, bin, "--tls-cert", certFile, "--tls-key", keyFile)
	runKgoSuite(ctx, t, suite, []string{"-skip", "TestIssue769"}, "KGO_SEEDS="+addr, "KGO_TEST_TLS=ca:"+certs.CAFile(t))
}

// kgoSuite skips under -short, and returns the suite's context (15
// minutes), a copy of franz-go's module to run it in, and a creek binary.
func kgoSuite(t *testing.T) (context.Context, string, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("franz-go's own suite takes minutes")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	t.Cleanup(cancel)
	suite := copyModule(t, "github.com/twmb/franz-go")
	bin, err := blackbox.BuildCreek(ctx, t.TempDir())
	require.NoError(t, err)
	return ctx, suite, bin
}

// runKgoSuite runs franz-go's pkg/kgo tests in suite, with flags before
// the package and env added to KGO_TEST_RF=1, and fails unless they pass.
func runKgoSuite(ctx context.Context, t *testing.T, suite string, flags []string, env ...string) {
	t.Helper()
	args := append(append([]string{"test", "-count=1", "-timeout", "12m"}, flags...), "./pkg/kgo")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = suite
	cmd.Env = append(append(os.Environ(), "KGO_TEST_RF=1", "GOFLAGS=-mod=mod"), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "franz-go's kgo tests against creek (%v):\n%s", env, tail(out, 200))
	t.Logf("%s", tail(out, 5))
}

// serveCreek starts `creek serve` on a free port of its own, with args
// after the rest, stopped when the test ends, and returns its address.
func serveCreek(ctx context.Context, t *testing.T, bin string, args ...string) string {
	t.Helper()
	var mu sync.Mutex
	var addr string
	serving := make(chan struct{})
	proc, err := blackbox.StartProcess(append([]string{bin, "serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(),
		"--log-level", "info"}, args...), func(line string) {
		mu.Lock()
		defer mu.Unlock()
		if m := servingLine.FindStringSubmatch(line); m != nil && addr == "" {
			addr = m[1]
			close(serving)
		}
	}, func(error) {})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, proc.Stop(30*time.Second)) })
	require.NoError(t, proc.WaitReady(ctx, serving, time.Minute))
	mu.Lock()
	defer mu.Unlock()
	return addr
}

// copyModule copies the sources of a module this one requires, at the
// version it requires, into a directory of the test's own that its tests
// can build in (the module cache is read-only), and returns it.
func copyModule(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", path).Output()
	require.NoError(t, err, "go mod download %s", path)
	var mod struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &mod))
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	err = filepath.WalkDir(mod.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(mod.Dir, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	return dst
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(string(bytes.TrimRight(out, "\n")), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
