package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek"
)

// TestCheckCommand: check reports a stopped node's logs sound; after a
// byte of a sealed segment is flipped it names the damage and fails;
// --repair cuts it, and the node opens and serves what is left.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	n, err := creek.Open(creek.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, n.CreateTopic(t.Context(), "logins", creek.TopicSpec{Configs: map[string]string{"segment.bytes": "1024"}}))
	p, err := n.NewProducer(creek.ProducerConfig{})
	require.NoError(t, err)
	for range 20 {
		require.NoError(t, p.Produce(t.Context(), &creek.Record{Topic: "logins", Value: bytes.Repeat([]byte("x"), 200)}))
	}
	require.NoError(t, p.Close())
	require.NoError(t, n.Close())

	checkCmd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), append([]string{"check", "--data", dir}, args...), nil, &out, &errOut)
		return out.String(), err
	}
	out, err := checkCmd()
	require.NoError(t, err, out)
	assert.Contains(t, out, "ok       logins-0: ")

	segment := filepath.Join(dir, "logins-0", "00000000000000000000.log")
	b, err := os.ReadFile(segment)
	require.NoError(t, err)
	b[100] ^= 0x40 // a record byte of the first batch
	require.NoError(t, os.WriteFile(segment, b, 0o644))
	out, err = checkCmd()
	require.ErrorIs(t, err, errDamaged)
	assert.Contains(t, out, "DAMAGED  logins-0: 00000000000000000000.log at byte 0: ")

	out, err = checkCmd("--repair")
	require.NoError(t, err, out)
	assert.Contains(t, out, "REPAIRED logins-0")
	out, err = checkCmd()
	require.NoError(t, err, out)

	n, err = creek.Open(creek.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer n.Close()
	c, err := n.NewConsumer(creek.ConsumerConfig{Reset: creek.ResetEarliest})
	require.NoError(t, err)
	defer c.Close()
	c.Assign(creek.TopicPartition{Topic: "logins"})
	polled, err := c.Poll(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, polled)
	assert.Positive(t, polled[0].Records[0].Offset, "the records of the cut segment are gone; the later ones read")
}
