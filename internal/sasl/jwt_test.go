package sasl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signedJWT signs claims with key, naming kid in the header.
func signedJWT(t *testing.T, key *ecdsa.PrivateKey, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid))
	require.NoError(t, err)
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(t, err)
	return token
}

// TestVerifyJWT: a token signed by a key of the set, to come, of the
// issuer and audience asked for, names its user; anything else is
// refused, and a key ID the set lacks says so, for the set to be fetched
// again.
func TestVerifyJWT(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keys := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	now := time.Unix(1_800_000_000, 0)
	exp := jwt.NewNumericDate(now.Add(time.Hour))
	e := JWTExpectations{Issuer: "https://idp.example", Audience: []string{"creek"}}
	good := jwt.Claims{Subject: "alice", Issuer: "https://idp.example", Audience: jwt.Audience{"creek"}, Expiry: exp}

	user, expires, err := VerifyJWT(signedJWT(t, key, "k1", good), keys, e, now)
	require.NoError(t, err)
	assert.Equal(t, "alice", user)
	assert.Equal(t, exp.Time(), expires)

	custom := map[string]any{"client_id": "svc-1", "exp": exp, "iss": "https://idp.example", "aud": "creek"}
	user, _, err = VerifyJWT(signedJWT(t, key, "k1", custom), keys, JWTExpectations{SubjectClaim: "client_id"}, now)
	require.NoError(t, err)
	assert.Equal(t, "svc-1", user, "the subject claim asked for")

	_, _, err = VerifyJWT(signedJWT(t, other, "k2", good), keys, e, now)
	assert.ErrorIs(t, err, ErrUnknownJWTKey)
	for name, token := range map[string]string{
		"another key under k1's ID": signedJWT(t, other, "k1", good),
		"expired": signedJWT(t, key, "k1", jwt.Claims{Subject: "alice", Issuer: "https://idp.example",
			Audience: jwt.Audience{"creek"}, Expiry: jwt.NewNumericDate(now.Add(-time.Minute))}),
		"no expiry":        signedJWT(t, key, "k1", jwt.Claims{Subject: "alice", Issuer: "https://idp.example", Audience: jwt.Audience{"creek"}}),
		"another issuer":   signedJWT(t, key, "k1", jwt.Claims{Subject: "alice", Issuer: "https://evil", Audience: jwt.Audience{"creek"}, Expiry: exp}),
		"another audience": signedJWT(t, key, "k1", jwt.Claims{Subject: "alice", Issuer: "https://idp.example", Audience: jwt.Audience{"x"}, Expiry: exp}),
		"no subject":       signedJWT(t, key, "k1", jwt.Claims{Issuer: "https://idp.example", Audience: jwt.Audience{"creek"}, Expiry: exp}),
		"unsigned":         "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MTkwMDAwMDAwMH0.",
		"not a JWT":        "hello",
	} {
		_, _, err := VerifyJWT(token, keys, e, now)
		assert.Error(t, err, name)
		assert.NotErrorIs(t, err, ErrUnknownJWTKey, name)
	}
}

// FuzzVerifyJWT: whatever a client sends as a token is refused with an
// error or names a user; it never panics.
func FuzzVerifyJWT(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2ln")
	f.Add("a.b.c")
	f.Add("")
	keys := &jose.JSONWebKeySet{}
	f.Fuzz(func(t *testing.T, token string) {
		if user, _, err := VerifyJWT(token, keys, JWTExpectations{}, time.Unix(0, 0)); err == nil && user == "" {
			t.Fatal("a token accepted without a user")
		}
	})
}
