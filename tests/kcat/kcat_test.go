// Package kcat runs kcat (librdkafka), a stock Kafka client, against a
// creek node over loopback. CI installs kcat (.ci/run); elsewhere the test
// skips when kcat is missing, and fails when CI is set.
package kcat

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek"
)

// broker is a node serving Kafka on a loopback port of its choosing.
type broker struct {
	t    *testing.T
	node *creek.Node
}

func startBroker(t *testing.T) *broker {
	t.Helper()
	if _, err := exec.LookPath("kcat"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kcat is not installed; .ci/run installs it")
		}
		t.Skip("kcat is not installed (apt-get install -y kcat)")
	}
	n, err := creek.Open(creek.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", AutoCreateTopics: true,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	return &broker{t: t, node: n}
}

// kcat runs kcat against the broker with stdin and returns its stdout.
func (b *broker) kcat(stdin string, args ...string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", append([]string{"-b", b.node.Addr().String()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(b.t, cmd.Run(), "kcat %v: %s", args, stderr.String())
	return stdout.String()
}

func TestMetadata(t *testing.T) {
	b := startBroker(t)
	require.NoError(t, b.node.CreateTopic(t.Context(), "logins", creek.TopicSpec{Partitions: 3}))
	out := b.kcat("", "-L")
	assert.Contains(t, out, "1 brokers:")
	assert.Contains(t, out, "broker 0 at "+b.node.Addr().String())
	assert.Contains(t, out, `topic "logins" with 3 partitions`)
}

func TestProduceConsumeKeysAndHeaders(t *testing.T) {
	b := startBroker(t)
	b.kcat("alice:hello\nbob:world\n", "-P", "-t", "logins", "-K:", "-H", "source=kcat", "-p", "0")
	out := b.kcat("", "-C", "-t", "logins", "-o", "beginning", "-e", "-f", `%k=%s %h @%o\n`)
	assert.Equal(t, "alice=hello source=kcat @0\nbob=world source=kcat @1\n", out)
	stored, err := b.node.DescribeTopic("logins")
	require.NoError(t, err)
	assert.Equal(t, int64(2), stored.Partitions[0].HighWatermark)
}

// TestGroupResumes: a kcat group consumer reads, commits, and the next one
// of the group starts after the commit.
func TestGroupResumes(t *testing.T) {
	b := startBroker(t)
	b.kcat("a\nb\n", "-P", "-t", "events")
	group := []string{"-G", "readers", "-X", "auto.offset.reset=earliest", "-e", "-f", `%s\n`, "events"}
	assert.Equal(t, "a\nb\n", b.kcat("", group...))
	b.kcat("c\n", "-P", "-t", "events")
	assert.Equal(t, "c\n", b.kcat("", group...), "the group resumes after its commit")
	committed := b.node.CommittedOffsets("readers")
	assert.Equal(t, int64(3), committed[creek.TopicPartition{Topic: "events", Partition: 0}].Offset)
}

func TestCodecs(t *testing.T) {
	b := startBroker(t)
	for _, codec := range []string{"gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			topic := "codec-" + codec
			b.kcat(strings.Repeat(codec+" record\n", 50), "-P", "-t", topic, "-z", codec)
			out := b.kcat("", "-C", "-t", topic, "-o", "beginning", "-e", "-f", `%s\n`)
			assert.Equal(t, strings.Repeat(codec+" record\n", 50), out)
		})
	}
}
