package creek

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// testIdP is an identity provider for tests: signing keys by ID and the
// JWKS endpoint that publishes the public ones, on loopback.
type testIdP struct {
	t       *testing.T
	mu      sync.Mutex
	keys    map[string]*ecdsa.PrivateKey
	fetches atomic.Int32
	url     string
}

func newTestIdP(t *testing.T, kids ...string) *testIdP {
	idp := &testIdP{t: t, keys: map[string]*ecdsa.PrivateKey{}}
	for _, kid := range kids {
		idp.addKey(kid)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		idp.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(idp.published())
	}))
	t.Cleanup(srv.Close)
	idp.url = srv.URL
	return idp
}

func (idp *testIdP) addKey(kid string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(idp.t, err)
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.keys[kid] = key
}

func (idp *testIdP) published() jose.JSONWebKeySet {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	var set jose.JSONWebKeySet
	for kid, key := range idp.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	return set
}

// token signs a token for user with key kid, expiring at exp.
func (idp *testIdP) token(kid, user string, exp time.Time) string {
	idp.mu.Lock()
	key := idp.keys[kid]
	idp.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid))
	require.NoError(idp.t, err)
	token, err := jwt.Signed(signer).Claims(jwt.Claims{Subject: user, Issuer: "https://idp.test",
		Audience: jwt.Audience{"creek"}, Expiry: jwt.NewNumericDate(exp)}).Serialize()
	require.NoError(idp.t, err)
	return token
}

// TestJWTValidatorOverSASL: a node whose OAUTHBEARER tokens a
// JWTValidator checks serves a stock client with a token the provider
// signed, and refuses one expired or of another issuer with invalid_token.
func TestJWTValidatorOverSASL(t *testing.T) {
	idp := newTestIdP(t, "k1")
	v, err := NewJWTValidator(t.Context(), JWTConfig{JWKSURL: idp.url, Issuer: "https://idp.test", Audience: []string{"creek"}})
	require.NoError(t, err)
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: discardLogger(), SASL: &SASLConfig{OAuthBearer: v.Validate}})
	require.NoError(t, n.CreateTopic(t.Context(), "t", TopicSpec{}))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, roundTrip(ctx, securedClient(t, n, nil,
		oauth.Auth{Token: idp.token("k1", "svc", time.Now().Add(time.Hour))}.AsMechanism())))
	err = securedClient(t, n, nil, oauth.Auth{Token: idp.token("k1", "svc", time.Now().Add(-time.Hour))}.AsMechanism()).Ping(ctx)
	require.ErrorIs(t, err, kerr.SaslAuthenticationFailed)
	assert.Contains(t, err.Error(), "invalid_token")

	_, err = NewJWTValidator(t.Context(), JWTConfig{JWKSURL: idp.url + "/nowhere-is-this-either"})
	require.NoError(t, err, "the test provider answers every path")
	_, err = NewJWTValidator(t.Context(), JWTConfig{JWKSURL: "http://127.0.0.1:1/jwks"})
	assert.Error(t, err, "a provider that cannot be reached fails at once")
}

// TestJWTValidatorFetchesKeys: a key rotated in is fetched the first time
// a token names it, but made-up key IDs fetch at most once per
// UnknownKeyRefresh; the keys are fetched again once RefreshInterval has
// passed; a file:// key set is read too.
func TestJWTValidatorFetchesKeys(t *testing.T) {
	idp := newTestIdP(t, "k1")
	clock := time.Now()
	v, err := NewJWTValidator(t.Context(), JWTConfig{JWKSURL: idp.url, RefreshInterval: time.Hour, UnknownKeyRefresh: time.Minute})
	require.NoError(t, err)
	v.now = func() time.Time { return clock }
	exp := clock.Add(2 * time.Hour)
	require.Equal(t, int32(1), idp.fetches.Load())

	idp.addKey("k2")
	user, _, err := v.Validate(idp.token("k2", "alice", exp))
	require.NoError(t, err, "the rotated key, fetched at once")
	assert.Equal(t, "alice", user)
	require.Equal(t, int32(2), idp.fetches.Load())

	idp.addKey("k3")
	_, _, err = v.Validate(idp.token("k3", "bob", exp))
	assert.Error(t, err, "within UnknownKeyRefresh of the last fetch for an unknown key, none")
	assert.Equal(t, int32(2), idp.fetches.Load())

	clock = clock.Add(61 * time.Minute)
	_, _, err = v.Validate(idp.token("k1", "carol", exp))
	require.NoError(t, err)
	assert.Equal(t, int32(3), idp.fetches.Load(), "fetched again past RefreshInterval")
	_, _, err = v.Validate(idp.token("k3", "bob", exp))
	require.NoError(t, err, "k3 came with that fetch")

	path := filepath.Join(t.TempDir(), "jwks.json")
	b, err := json.Marshal(idp.published())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	fromFile, err := NewJWTValidator(t.Context(), JWTConfig{JWKSURL: "file://" + path})
	require.NoError(t, err)
	user, _, err = fromFile.Validate(idp.token("k2", "dave", time.Now().Add(time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, "dave", user)
}
