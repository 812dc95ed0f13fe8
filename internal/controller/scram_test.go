package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/sasl"
)

// applyEncoded applies c to m as the Raft log carries it: encoded, then
// decoded.
func applyEncoded(t *testing.T, m *Metadata, c Command) error {
	t.Helper()
	b, err := c.Encode()
	require.NoError(t, err)
	decoded, err := DecodeCommand(b)
	require.NoError(t, err)
	return m.Apply(decoded)
}

func scramCreds(t *testing.T, users ...string) sasl.Credentials {
	t.Helper()
	c := sasl.Credentials{}
	for _, u := range users {
		cred, err := sasl.NewScramCredential(sasl.ScramSHA256, "pw-"+u, []byte("salt-"+u), sasl.MinScramIterations)
		require.NoError(t, err)
		c.Set(u, cred)
	}
	return c
}

// TestScramSeedAndAlter: a seed gives a new cluster its users once; an
// alteration sets and deletes on a copy (the metadata before it, which
// readers may hold, is unchanged), is rejected whole past its bound, and
// ends any later seed; the credentials survive a snapshot and their
// commands the Raft log's encoding.
func TestScramSeedAndAlter(t *testing.T) {
	m := &Metadata{}
	apply := func(c Command) error { return applyEncoded(t, m, c) }
	require.NoError(t, apply(Command{SeedScram: &SeedScram{Creds: scramCreds(t, "alice", "bob").Marshal()}}))
	assert.Equal(t, []string{"alice", "bob"}, m.Credentials().Users())
	require.NoError(t, apply(Command{SeedScram: &SeedScram{Creds: scramCreds(t, "carol").Marshal()}}))
	assert.Equal(t, []string{"alice", "bob"}, m.Credentials().Users(), "seeded once")

	before := m.Clone()
	require.NoError(t, apply(Command{AlterScram: &AlterScram{Set: scramCreds(t, "dave").Marshal(),
		Delete: []ScramKey{{User: "alice", Mechanism: int8(sasl.ScramSHA256)}, {User: "nobody", Mechanism: 1}}, Max: 10}}))
	assert.Equal(t, []string{"bob", "dave"}, m.Credentials().Users())
	assert.Equal(t, []string{"alice", "bob"}, before.Credentials().Users(), "a clone from before is unchanged")

	err := apply(Command{AlterScram: &AlterScram{Set: scramCreds(t, "erin").Marshal(), Max: 2}})
	require.ErrorIs(t, err, ErrRejected)
	assert.Equal(t, []string{"bob", "dave"}, m.Credentials().Users(), "rejected whole")
	require.ErrorIs(t, apply(Command{AlterScram: &AlterScram{Set: []byte{1, 2}, Max: 10}}), ErrRejected)

	m.Topics = map[string]*Topic{}
	b, err := EncodeSnapshot(m)
	require.NoError(t, err)
	back, err := DecodeSnapshot(b)
	require.NoError(t, err)
	assert.Equal(t, m.Scram, back.Scram)

	fresh := &Metadata{}
	require.NoError(t, fresh.Apply(Command{AlterScram: &AlterScram{Set: scramCreds(t, "frank").Marshal(), Max: 10}}))
	require.NoError(t, fresh.Apply(Command{SeedScram: &SeedScram{Creds: scramCreds(t, "alice").Marshal()}}))
	assert.Equal(t, []string{"frank"}, fresh.Credentials().Users(), "an alteration ends seeding")
}
