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

// TestACLCommands: creek acl adds, lists and deletes the ACLs that decide
// what a user may do through the other client commands; a user without
// ALTER on the cluster may not add one.
func TestACLCommands(t *testing.T) {
	acls, err := aclFromFlags(true, "User:admin", false)
	require.NoError(t, err)
	n, err := creek.Open(creek.Config{Listen: "127.0.0.1:0", ACL: acls, Logger: slog.New(slog.DiscardHandler),
		SASL: &creek.SASLConfig{Plain: func(user, password string) bool { return password == user+"-pw" }}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, n.Close()) })
	require.NoError(t, n.CreateTopic(t.Context(), "orders", creek.TopicSpec{}))
	creekAs := func(user, stdin string, args ...string) (string, error) {
		t.Helper()
		t.Setenv("CREEK_SASL_PASSWORD", user+"-pw")
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var out, errOut bytes.Buffer
		args = append(args, "--brokers", n.Addr().String(), "--sasl-mechanism", "PLAIN", "--sasl-user", user)
		err := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}

	_, err = creekAs("alice", "hello\n", "produce", "orders")
	require.ErrorContains(t, err, "AUTHORIZATION_FAILED") // CLUSTER_: an idempotent producer needs WRITE on some topic
	out, err := creekAs("admin", "", "acl", "add", "--principal", "User:alice", "--operation", "write,describe",
		"--topic", "ord", "--pattern", "prefixed")
	require.NoError(t, err)
	assert.Equal(t, "added 2 ACL(s)\n", out)
	_, err = creekAs("alice", "hello\n", "produce", "orders")
	require.NoError(t, err)

	out, err = creekAs("admin", "", "acl", "list", "--principal", "User:alice")
	require.NoError(t, err)
	assert.Equal(t, "User:alice\tALLOW\tWRITE\tPREFIXED TOPIC:ord\t*\nUser:alice\tALLOW\tDESCRIBE\tPREFIXED TOPIC:ord\t*\n", out)
	_, err = creekAs("alice", "", "acl", "add", "--principal", "User:alice", "--operation", "all", "--cluster")
	require.ErrorContains(t, err, "CLUSTER_AUTHORIZATION_FAILED")

	out, err = creekAs("admin", "", "acl", "delete", "--principal", "User:alice", "--operation", "write")
	require.NoError(t, err)
	assert.Equal(t, "deleted 1 ACL(s)\n", out)
	_, err = creekAs("alice", "hello\n", "produce", "orders")
	require.ErrorContains(t, err, "AUTHORIZATION_FAILED") // CLUSTER_: an idempotent producer needs WRITE on some topic

	_, err = creekAs("admin", "", "acl", "add", "--principal", "User:alice", "--operation", "read")
	assert.ErrorContains(t, err, "name one of")
	_, err = creekAs("admin", "", "acl", "add", "--principal", "User:alice", "--operation", "fly", "--group", "g")
	assert.ErrorContains(t, err, "not an operation")
	_, err = aclFromFlags(false, "User:admin", false)
	assert.Error(t, err, "--super-users without --acl")
}
