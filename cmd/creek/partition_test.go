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

	"github.com/creekmq/creek"
)

// TestPartitionCommands runs the partition commands against a one-node
// cluster; the reassignments themselves are tested with three nodes in
// package creek.
func TestPartitionCommands(t *testing.T) {
	n, err := creek.Open(creek.Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
		Cluster: &creek.ClusterConfig{NodeID: 1, GossipAddr: "127.0.0.1:0"}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	c := &cli{t: t, node: n}
	c.run("", "topic", "create", "orders", "--partitions", "2", "--replication-factor", "1")
	assert.Equal(t, "created topic placed\n", c.run("", "topic", "create", "placed", "--replica-assignment", "1,1,1"))
	assert.Contains(t, c.run("", "topic", "describe", "placed"), "topic placed, 3 partitions\n  partition 0\tleader 1\treplicas [1]")

	assert.Equal(t, "reassigning orders-0 to replicas 1\n",
		c.run("", "partition", "reassign", "orders", "--partition", "0", "--replicas", "1"))
	assert.Equal(t, "no reassignment under way\n", c.run("", "partition", "reassignments"))
	assert.Equal(t, "orders-0\talready led by its preferred replica\norders-1\talready led by its preferred replica\n",
		c.run("", "partition", "elect-leaders", "orders"))

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"partition", "reassign", "orders", "--partition", "0", "--replicas", "2",
		"--brokers", n.Addr().String()}, strings.NewReader(""), &out, &errOut)
	require.Error(t, err, "node 2 is not a member")
	assert.Contains(t, err.Error(), "INVALID_REPLICA_ASSIGNMENT")
	err = run(ctx, []string{"partition", "reassign", "orders", "--partition", "0", "--cancel",
		"--brokers", n.Addr().String()}, strings.NewReader(""), &out, &errOut)
	assert.ErrorContains(t, err, "NO_REASSIGNMENT_IN_PROGRESS")
	assert.ErrorIs(t, run(ctx, []string{"partition", "reassign", "orders"}, strings.NewReader(""), &out, &errOut), errUsage)
	err = run(ctx, []string{"topic", "create", "elsewhere", "--replica-assignment", "1:2",
		"--brokers", n.Addr().String()}, strings.NewReader(""), &out, &errOut)
	assert.ErrorContains(t, err, "INVALID_REPLICA_ASSIGNMENT", "node 2 is not a member")
	assert.ErrorIs(t, run(ctx, []string{"topic", "create", "both", "--replica-assignment", "1", "--partitions", "1",
		"--brokers", n.Addr().String()}, strings.NewReader(""), &out, &errOut), errUsage)
}
