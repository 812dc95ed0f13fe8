package sasl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCredentialsRoundTrip(t *testing.T) {
	c := Credentials{}
	for _, user := range []string{"bob", "alice", "b,o=b"} {
		for _, m := range []ScramMechanism{ScramSHA512, ScramSHA256} {
			cred, err := NewScramCredential(m, "pw-"+user, nil, MinScramIterations)
			require.NoError(t, err)
			c.Set(user, cred)
		}
	}
	assert.True(t, c.Delete("bob", ScramSHA256))
	assert.False(t, c.Delete("bob", ScramSHA256), "gone already")
	assert.Equal(t, []string{"alice", "b,o=b", "bob"}, c.Users())
	assert.Equal(t, []ScramMechanism{ScramSHA512}, c.Mechanisms("bob"))
	got, err := UnmarshalCredentials(c.Marshal())
	require.NoError(t, err)
	assert.Equal(t, c, got)
	assert.Equal(t, c.Marshal(), got.Marshal())
	cred, ok := got.Lookup(ScramSHA512, "bob")
	assert.True(t, ok)
	assert.Equal(t, MinScramIterations, cred.Iterations)
	assert.True(t, c.Delete("bob", ScramSHA512))
	assert.NotContains(t, c.Users(), "bob", "a user with no credential left is gone")

	empty, err := UnmarshalCredentials(Credentials{}.Marshal())
	require.NoError(t, err)
	assert.Empty(t, empty)
	good := got.Marshal()
	for name, b := range map[string][]byte{
		"cut short": good[:len(good)-1],
		"extra":     append(append([]byte(nil), good...), 0),
		"empty":     nil,
	} {
		_, err := UnmarshalCredentials(b)
		assert.Error(t, err, name)
	}
}

// FuzzCredentials: any bytes give credentials or an error, never a panic,
// and what decodes encodes to the same bytes.
func FuzzCredentials(f *testing.F) {
	c := Credentials{}
	cred, err := NewScramCredential(ScramSHA256, "pw", []byte("salt"), MinScramIterations)
	require.NoError(f, err)
	c.Set("alice", cred)
	f.Add(c.Marshal())
	f.Add([]byte{0, 0, 0, 1, 0, 1, 'a', 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := UnmarshalCredentials(b)
		if err != nil {
			return
		}
		assert.Equal(t, b, got.Marshal())
	})
}
