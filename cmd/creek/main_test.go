package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/creekmq/creek"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cli runs creek command lines against one node.
type cli struct {
	t    *testing.T
	node *creek.Node
}

func newCLI(t *testing.T) *cli {
	n, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	return &cli{t: t, node: n}
}

// run runs a command line with stdin and returns its standard output.
func (c *cli) run(stdin string, args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	args = append(args, "--brokers", c.node.Addr().String())
	err := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	require.NoError(c.t, err, "creek %v: %s", args, errOut.String())
	return out.String()
}

func TestTopicCommands(t *testing.T) {
	c := newCLI(t)
	assert.Equal(t, "created topic logins\n", c.run("", "topic", "create", "logins", "--partitions", "3",
		"--config", "retention.ms=60000"))
	assert.Equal(t, "logins\t3 partitions\n", c.run("", "topic", "list"))
	described := c.run("", "topic", "describe", "logins")
	assert.Contains(t, described, "topic logins, 3 partitions")
	assert.Contains(t, described, "retention.ms=60000")
	c.run("", "topic", "alter", "logins", "--config", "cleanup.policy=compact")
	info, err := c.node.DescribeTopic("logins")
	require.NoError(t, err)
	assert.Equal(t, "compact", info.Configs["cleanup.policy"])
	c.run("", "topic", "delete", "logins")
	assert.Empty(t, c.run("", "topic", "list"))
}

func TestProduceConsume(t *testing.T) {
	c := newCLI(t)
	c.run("", "topic", "create", "logins", "--partitions", "1")
	c.run("alice:hello\nbob:world\n", "produce", "logins", "--key-separator", ":", "--header", "src=cli")
	out := c.run("", "consume", "logins", "--from", "beginning", "--count", "2", "--format", `%k=%v %h @%o\n`)
	assert.Equal(t, "alice=hello src=cli @0\nbob=world src=cli @1\n", out)
	assert.Equal(t, "world\n", c.run("", "consume", "logins", "--from", "1", "--count", "1"))
	assert.Equal(t, "hello\nworld\n", c.run("", "consume", "logins", "--from", "beginning", "--count", "2",
		"--isolation", "read_committed"), "records outside transactions are committed")
	err := run(t.Context(), []string{"consume", "logins", "--isolation", "serializable", "--brokers", c.node.Addr().String()},
		strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "--isolation")
}

func TestGroupCommands(t *testing.T) {
	c := newCLI(t)
	c.run("", "topic", "create", "events", "--partitions", "1")
	c.run("a\nb\nc\n", "produce", "events")
	assert.Equal(t, "a\nb\n", c.run("", "consume", "events", "--group", "readers", "--from", "beginning", "--count", "2"))
	assert.Equal(t, "c\n", c.run("", "consume", "events", "--group", "readers", "--count", "1"), "resumes after the commit")
	assert.Contains(t, c.run("", "group", "list"), "readers")
	described := c.run("", "group", "describe", "readers")
	assert.Contains(t, described, "events\t0\t3\t3\t0", "committed 3 of 3: no lag")
	c.run("", "group", "reset-offsets", "readers", "--topic", "events", "--to", "earliest")
	assert.Equal(t, int64(0), c.node.CommittedOffsets("readers")[creek.TopicPartition{Topic: "events"}].Offset)
	c.run("", "group", "delete", "readers")
	assert.NotContains(t, c.run("", "group", "list"), "readers")
}

func TestBench(t *testing.T) {
	c := newCLI(t)
	out := c.run("", "bench", "--records", "2000", "--size", "100", "--partitions", "2")
	assert.Contains(t, out, "produce: 2000 records of 100 B")
	assert.Contains(t, out, "consume: 2000 records")
}

func TestServeStopsOnSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	cancel() // as SIGINT does
	require.NoError(t, <-done)
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, errUsage, run(t.Context(), []string{"nonsense"}, nil, &out, &out))
	assert.Equal(t, errUsage, run(t.Context(), nil, nil, &out, &out))
	assert.Equal(t, errUsage, run(t.Context(), []string{"topic"}, nil, &out, &out))
}
