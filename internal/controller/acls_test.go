package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/acl"
)

func binding(principal string, op acl.Operation) acl.Binding {
	return acl.Binding{Type: acl.Topic, Name: "orders", Pattern: acl.Literal, Principal: principal, Host: acl.Wildcard,
		Operation: op, Permission: acl.Allow}
}

// TestACLsCreateAndDelete: creations add what is not there, in order, on
// a copy (a clone from before is unchanged), and are rejected whole past
// their bounds; deletions remove what is named; the bindings survive a
// snapshot and their commands the Raft log's encoding.
func TestACLsCreateAndDelete(t *testing.T) {
	m := &Metadata{Topics: map[string]*Topic{}}
	apply := func(c Command) error { return applyEncoded(t, m, c) }
	alice, bob := binding("User:alice", acl.Read), binding("User:bob", acl.Write)
	create := func(max int, bs ...acl.Binding) error {
		return apply(Command{CreateACLs: &CreateACLs{Bindings: acl.Marshal(bs), Max: max, MaxBytes: 1 << 20}})
	}
	require.NoError(t, create(10, alice))
	before := m.Clone()
	require.NoError(t, create(10, alice, bob), "alice again changes nothing")
	assert.Equal(t, []acl.Binding{alice, bob}, m.ACLBindings())
	assert.Equal(t, []acl.Binding{alice}, before.ACLBindings(), "a clone from before is unchanged")

	require.ErrorIs(t, create(2, binding("User:carol", acl.Read)), ErrRejected)
	require.ErrorIs(t, apply(Command{CreateACLs: &CreateACLs{Bindings: acl.Marshal([]acl.Binding{binding("User:carol", acl.Read)}),
		Max: 10, MaxBytes: 10}}), ErrRejected, "past the bytes")
	assert.Equal(t, []acl.Binding{alice, bob}, m.ACLBindings(), "rejected whole")
	require.ErrorIs(t, apply(Command{CreateACLs: &CreateACLs{Bindings: []byte{0, 0, 0, 1}, Max: 10, MaxBytes: 10}}), ErrRejected)

	b, err := EncodeSnapshot(m)
	require.NoError(t, err)
	back, err := DecodeSnapshot(b)
	require.NoError(t, err)
	assert.Equal(t, m.ACLs, back.ACLs)

	require.NoError(t, apply(Command{DeleteACLs: &DeleteACLs{Bindings: acl.Marshal([]acl.Binding{alice, binding("User:x", acl.All)})}}))
	assert.Equal(t, []acl.Binding{bob}, m.ACLBindings())
}
