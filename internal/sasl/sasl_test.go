package sasl

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// converse runs client's mechanism against server until either ends, and
// returns the user the server authenticated, or the first error.
func converse(t *testing.T, client kgosasl.Mechanism, server Server) (string, error) {
	t.Helper()
	session, msg, err := client.Authenticate(context.Background(), "127.0.0.1:9092")
	require.NoError(t, err)
	for range 4 {
		out, user, done, err := server.Step(msg)
		if err != nil {
			return "", err
		}
		clientDone, next, cerr := session.Challenge(out)
		if done {
			require.NoError(t, cerr, "the client takes the server's last answer")
			assert.True(t, clientDone)
			return user, nil
		}
		require.NoError(t, cerr)
		require.False(t, clientDone)
		msg = next
	}
	t.Fatal("the conversation does not end")
	return "", nil
}

// credentials is a ScramLookup of users and passwords.
func credentials(t testing.TB, iterations int, users map[string]string) ScramLookup {
	t.Helper()
	creds := map[ScramMechanism]map[string]ScramCredential{}
	for _, m := range []ScramMechanism{ScramSHA256, ScramSHA512} {
		creds[m] = map[string]ScramCredential{}
		for user, pass := range users {
			c, err := NewScramCredential(m, pass, nil, iterations)
			require.NoError(t, err)
			creds[m][user] = c
		}
	}
	return func(m ScramMechanism, user string) (ScramCredential, bool) {
		c, ok := creds[m][user]
		return c, ok
	}
}

// TestScramWithFranzGo: franz-go's SCRAM client authenticates, with
// either hash, a user whose password is right, names with "," and "="
// escaped; a wrong password, an unknown user and another's authorization
// identity fail with ErrAuthentication, and say nothing of the password.
func TestScramWithFranzGo(t *testing.T) {
	lookup := credentials(t, MinScramIterations, map[string]string{"alice": "s3cret", "b,o=b": "pw"})
	for _, m := range []ScramMechanism{ScramSHA256, ScramSHA512} {
		t.Run(m.Name(), func(t *testing.T) {
			mech := func(a scram.Auth) kgosasl.Mechanism {
				if m == ScramSHA512 {
					return a.AsSha512Mechanism()
				}
				return a.AsSha256Mechanism()
			}
			require.Equal(t, m.Name(), mech(scram.Auth{}).Name())
			user, err := converse(t, mech(scram.Auth{User: "alice", Pass: "s3cret"}), NewScram(m, lookup, nil))
			require.NoError(t, err)
			assert.Equal(t, "alice", user)
			user, err = converse(t, mech(scram.Auth{User: "b,o=b", Pass: "pw"}), NewScram(m, lookup, nil))
			require.NoError(t, err)
			assert.Equal(t, "b,o=b", user)

			for name, a := range map[string]scram.Auth{
				"wrong password": {User: "alice", Pass: "s3cre7"},
				"unknown user":   {User: "mallory", Pass: "s3cret"},
				"another's":      {User: "alice", Pass: "s3cret", Zid: "b,o=b"},
			} {
				_, err := converse(t, mech(a), NewScram(m, lookup, nil))
				require.ErrorIs(t, err, ErrAuthentication, name)
				assert.NotContains(t, err.Error(), "s3cre", name)
			}
		})
	}
}

// TestScramRefusesBadMessages: client messages that do not follow RFC
// 5802 end the authentication with ErrAuthentication.
func TestScramRefusesBadMessages(t *testing.T) {
	lookup := credentials(t, MinScramIterations, map[string]string{"alice": "s3cret"})
	for name, first := range map[string]string{
		"channel binding":    "p=tls-unique,,n=alice,r=abc",
		"no header":          "n=alice,r=abc",
		"no nonce":           "n,,n=alice",
		"bad name escape":    "n,,n=al=ice,r=abc",
		"empty name":         "n,,n=,r=abc",
		"nonce with a space": "n,,n=alice,r=a c",
		"token auth":         "n,,n=alice,r=abc,tokenauth=true",
		"bad authzid":        "n,b=x,n=alice,r=abc",
	} {
		_, _, _, err := NewScram(ScramSHA256, lookup, nil).Step([]byte(first))
		assert.ErrorIs(t, err, ErrAuthentication, name)
	}

	first := func() Server {
		s := NewScram(ScramSHA256, lookup, bytes.NewReader(bytes.Repeat([]byte{1}, 24)))
		out, _, _, err := s.Step([]byte("n,,n=alice,r=abc"))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(out), "r=abc"))
		return s
	}
	nonce := "r=abc" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{1}, 24))
	proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, final := range map[string]string{
		"a nonce without the server's": "c=biws,r=abc,p=" + proof,
		"no proof":                     "c=biws," + nonce,
		"wrong binding":                "c=eSws," + nonce + ",p=" + proof,
		"wrong nonce":                  "c=biws,r=abcd,p=" + proof,
		"short proof":                  "c=biws," + nonce + ",p=AAAA",
		"wrong proof":                  "c=biws," + nonce + ",p=" + proof,
	} {
		_, _, _, err := first().Step([]byte(final))
		assert.ErrorIs(t, err, ErrAuthentication, name)
	}
	s := first()
	_, _, _, err := s.Step([]byte("c=biws," + nonce + ",p=" + proof))
	require.Error(t, err)
	_, _, _, err = s.Step(nil)
	assert.ErrorIs(t, err, ErrAuthentication, "nothing after the end")
}

func TestNewScramCredential(t *testing.T) {
	_, err := NewScramCredential(ScramSHA256, "pw", nil, MinScramIterations-1)
	assert.Error(t, err)
	_, err = NewScramCredential(ScramSHA256, "pw", nil, MaxScramIterations+1)
	assert.Error(t, err)
	_, err = NewScramCredential(3, "pw", nil, MinScramIterations)
	assert.Error(t, err)
	a, err := NewScramCredential(ScramSHA512, "pw", []byte("salt"), MinScramIterations)
	require.NoError(t, err)
	b, err := NewScramCredential(ScramSHA512, "pw", []byte("salt"), MinScramIterations)
	require.NoError(t, err)
	assert.Equal(t, a, b, "the same password, salt and iterations")
	assert.Len(t, a.StoredKey, 64)
	c, err := NewScramCredential(ScramSHA512, "pw", nil, MinScramIterations)
	require.NoError(t, err)
	assert.Len(t, c.Salt, 32)
	assert.NotEqual(t, a.StoredKey, c.StoredKey, "another salt")
	salted, err := pbkdf2.Key(sha512.New, "pw", []byte("salt"), MinScramIterations, 64)
	require.NoError(t, err)
	fromSalted, err := ScramCredentialFromSalted(ScramSHA512, []byte("salt"), MinScramIterations, salted)
	require.NoError(t, err)
	assert.Equal(t, a, fromSalted, "what a client's AlterUserScramCredentials sends gives the same")
	_, err = ScramCredentialFromSalted(ScramSHA512, []byte("salt"), MinScramIterations, salted[:32])
	assert.Error(t, err, "a salted password of the wrong size")
	_, err = ScramCredentialFromSalted(ScramSHA512, nil, MinScramIterations, salted)
	assert.Error(t, err, "no salt")
	m, ok := ScramMechanismNamed("SCRAM-SHA-512")
	assert.True(t, ok)
	assert.Equal(t, ScramSHA512, m)
	_, ok = ScramMechanismNamed("SCRAM-SHA-1")
	assert.False(t, ok)
}

// TestPlainWithFranzGo: franz-go's PLAIN client authenticates through the
// application's check; a wrong password, another's authorization
// identity and malformed messages fail with ErrAuthentication.
func TestPlainWithFranzGo(t *testing.T) {
	check := func(user, pass string) bool { return user == "alice" && pass == "s3cret" }
	user, err := converse(t, plain.Auth{User: "alice", Pass: "s3cret"}.AsMechanism(), NewPlain(check))
	require.NoError(t, err)
	assert.Equal(t, "alice", user)
	user, err = converse(t, plain.Auth{Zid: "alice", User: "alice", Pass: "s3cret"}.AsMechanism(), NewPlain(check))
	require.NoError(t, err)
	assert.Equal(t, "alice", user, "an authorization identity of the user's own")
	for name, a := range map[string]plain.Auth{
		"wrong password": {User: "alice", Pass: "nope"},
		"another's":      {Zid: "bob", User: "alice", Pass: "s3cret"},
	} {
		_, err := converse(t, a.AsMechanism(), NewPlain(check))
		assert.ErrorIs(t, err, ErrAuthentication, name)
	}
	for name, msg := range map[string][]byte{
		"two parts":     []byte("alice\x00s3cret"),
		"no user":       []byte("\x00\x00s3cret"),
		"no password":   []byte("\x00alice\x00"),
		"not UTF-8":     []byte("\x00al\xffice\x00s3cret"),
		"a long part":   append([]byte("\x00"), append(bytes.Repeat([]byte{'a'}, 256), []byte("\x00pw")...)...),
		"no check made": nil,
	} {
		_, _, _, err := NewPlain(check).Step(msg)
		assert.ErrorIs(t, err, ErrAuthentication, name)
	}
	_, _, _, err = NewPlain(nil).Step([]byte("\x00alice\x00s3cret"))
	assert.ErrorIs(t, err, ErrAuthentication, "no check: nobody gets in")
}

// FuzzScram: any client messages end the authentication with an answer,
// done, or ErrAuthentication, never a panic; only the right proof is
// done.
func FuzzScram(f *testing.F) {
	f.Add([]byte("n,,n=alice,r=abc"), []byte("c=biws,r=abc,p=AAAA"))
	f.Add([]byte("y,a=alice,n=alice,r=abc,ext=1"), []byte("c=eSxhPWFsaWNlLA==,r=abcAQ,x=1,p=AAAA"))
	f.Add([]byte("n,,n=b=2Co=3Db,r=!~"), []byte(""))
	lookup := credentials(f, MinScramIterations, map[string]string{"alice": "s3cret", "b,o=b": "pw"})
	f.Fuzz(func(t *testing.T, first, final []byte) {
		s := NewScram(ScramSHA256, lookup, bytes.NewReader(make([]byte, 24)))
		_, _, done, err := s.Step(first)
		if err != nil {
			require.ErrorIs(t, err, ErrAuthentication)
			return
		}
		require.False(t, done)
		_, _, done, err = s.Step(final)
		if err != nil {
			require.ErrorIs(t, err, ErrAuthentication)
			return
		}
		require.True(t, done)
		t.Fatalf("a made-up proof authenticated: %q then %q", first, final)
	})
}

// FuzzParsePlain: any bytes give three parts or ErrAuthentication, never
// a panic, and the parts joined give the message back.
func FuzzParsePlain(f *testing.F) {
	f.Add([]byte("\x00alice\x00s3cret"))
	f.Add([]byte("a\x00b\x00c\x00d"))
	f.Fuzz(func(t *testing.T, b []byte) {
		authz, user, pass, err := ParsePlain(b)
		if err != nil {
			require.ErrorIs(t, err, ErrAuthentication)
			return
		}
		assert.Equal(t, string(b), authz+"\x00"+user+"\x00"+pass)
	})
}
