package sasl

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// unsecured makes an unsecured JWT of header and claims.
func unsecured(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "."
}

// TestOAuthBearerWithFranzGo: franz-go's OAUTHBEARER client authenticates
// with a token the validator takes, as the user it names, and the server
// says when the token ends; a refused token is answered with RFC 7628's
// invalid_token status, then fails with it in the client's message.
func TestOAuthBearerWithFranzGo(t *testing.T) {
	now := time.Unix(1e9, 0)
	validate := UnsecuredJWT(func() time.Time { return now })
	exp := now.Add(time.Hour)

	server := NewOAuthBearer(validate)
	user, err := converse(t, oauth.Auth{Token: unsecured(`{"alg":"none"}`, fmt.Sprintf(`{"sub":"admin","exp":%d}`, exp.Unix())),
		Extensions: map[string]string{"traceId": "x"}}.AsMechanism(), server)
	require.NoError(t, err)
	assert.Equal(t, "admin", user)
	assert.Equal(t, exp, server.(interface{ SessionEnd() time.Time }).SessionEnd())

	for name, token := range map[string]string{
		"expired":      unsecured(`{"alg":"none"}`, fmt.Sprintf(`{"sub":"admin","exp":%d}`, now.Add(-time.Minute).Unix())),
		"signed":       unsecured(`{"alg":"HS256"}`, fmt.Sprintf(`{"sub":"admin","exp":%d}`, exp.Unix())),
		"no sub":       unsecured(`{"alg":"none"}`, fmt.Sprintf(`{"exp":%d}`, exp.Unix())),
		"no exp":       unsecured(`{"alg":"none"}`, `{"sub":"admin"}`),
		"not JSON":     unsecured(`{"alg":"none"}`, `sub=admin`),
		"a signature":  unsecured(`{"alg":"none"}`, `{"sub":"admin"}`) + "c2ln",
		"not base64":   "!!.!!.",
		"not even JWT": "opaque",
	} {
		_, err := converse(t, oauth.Auth{Token: token}.AsMechanism(), NewOAuthBearer(validate))
		var refusal *Refusal
		require.True(t, errors.As(err, &refusal), name)
		assert.ErrorIs(t, err, ErrAuthentication, name)
		assert.Equal(t, `{"status":"invalid_token"}`, refusal.Message, name)
	}
	_, err = converse(t, oauth.Auth{Token: "x"}.AsMechanism(), NewOAuthBearer(nil))
	assert.ErrorIs(t, err, ErrAuthentication, "no validator: nobody gets in")
}

// TestOAuthBearerRefusesBadMessages: client messages that are not RFC
// 7628's end the authentication.
func TestOAuthBearerRefusesBadMessages(t *testing.T) {
	take := func(string) (string, time.Time, error) { return "u", time.Time{}, nil }
	for name, msg := range map[string]string{
		"channel binding": "p=x,,\x01auth=Bearer t\x01\x01",
		"no pairs":        "n,,",
		"no last 0x01":    "n,,\x01auth=Bearer t\x01",
		"no auth":         "n,,\x01host=x\x01\x01",
		"not bearer":      "n,,\x01auth=Basic t\x01\x01",
		"empty token":     "n,,\x01auth=Bearer \x01\x01",
		"a bare key":      "n,,\x01auth=Bearer t\x01x\x01\x01",
	} {
		_, _, _, err := NewOAuthBearer(take).Step([]byte(msg))
		assert.ErrorIs(t, err, ErrAuthentication, name)
	}
	s := NewOAuthBearer(func(string) (string, time.Time, error) { return "", time.Time{}, errors.New("no") })
	out, _, done, err := s.Step([]byte("n,,\x01auth=Bearer t\x01\x01"))
	require.NoError(t, err)
	require.False(t, done)
	assert.Equal(t, `{"status":"invalid_token"}`, string(out))
	_, _, _, err = s.Step([]byte("again"))
	assert.ErrorIs(t, err, ErrAuthentication, "after an error status only 0x01")
}

// FuzzOAuthBearer: any client message ends in a token taken, an error
// status, or ErrAuthentication, never a panic.
func FuzzOAuthBearer(f *testing.F) {
	f.Add([]byte("n,,\x01auth=Bearer t\x01\x01"), []byte{1})
	f.Add([]byte("n,a=u,\x01auth=Bearer t\x01k=v\x01\x01"), []byte{})
	f.Fuzz(func(t *testing.T, first, second []byte) {
		s := NewOAuthBearer(UnsecuredJWT(nil))
		_, _, done, err := s.Step(first)
		if err != nil || done {
			return
		}
		_, _, done, err = s.Step(second)
		require.False(t, done)
		require.ErrorIs(t, err, ErrAuthentication)
	})
}
