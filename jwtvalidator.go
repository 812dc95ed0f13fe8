// OAUTHBEARER tokens as signed JWTs (issue 17): a validator for
// SASLConfig.OAuthBearer that verifies them against the keys an identity
// provider publishes (a JWKS endpoint), as Kafka's
// OAuthBearerValidatorCallbackHandler does.

package creek

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/creekmq/creek/internal/sasl"
)

// JWTConfig configures a JWTValidator, by the settings of Kafka's
// validator (sasl.oauthbearer.*).
type JWTConfig struct {
	// JWKSURL is where the identity provider publishes its signing keys,
	// a JSON Web Key Set (jwks.endpoint.url): an https:// (or http://)
	// URL, or file:// for a file read at each refresh.
	JWKSURL string
	// Issuer, when set, must be a token's "iss" (expected.issuer).
	Issuer string
	// Audience, when set, must share a value with a token's "aud"
	// (expected.audience).
	Audience []string
	// SubjectClaim names the claim that names the user (sub.claim.name);
	// default "sub".
	SubjectClaim string
	// ClockSkew is how far a token's times may be off
	// (clock.skew.seconds); default 30 s.
	ClockSkew time.Duration
	// RefreshInterval is how old the keys may grow before a validation
	// fetches them again (jwks.endpoint.refresh.ms); default 1 h. A token
	// signed with a key ID the keys lack fetches them at once too, at
	// most every UnknownKeyRefresh (default 10 s), so that a rotated key
	// is taken without waiting and made-up key IDs cannot make the node
	// hammer the provider.
	RefreshInterval, UnknownKeyRefresh time.Duration
	// HTTPClient fetches the keys; default one with a 10 s timeout.
	HTTPClient *http.Client
}

// maxJWKSBytes bounds a key set read from the provider.
const maxJWKSBytes = 1 << 20

// JWTValidator checks OAUTHBEARER tokens: signed JWTs, by a key of the
// provider's key set, unexpired, of the issuer and audience configured.
// Its Validate is a SASLConfig.OAuthBearer. It is safe for concurrent
// use and runs no goroutine: keys are fetched, when due, by the
// validation that finds them due.
type JWTValidator struct {
	cfg JWTConfig
	now func() time.Time

	mu        sync.Mutex
	keys      *jose.JSONWebKeySet
	fetched   time.Time // when keys were fetched
	triedSoon time.Time // the last fetch for an unknown key ID
}

// NewJWTValidator makes a validator and fetches the provider's keys
// once, so that a wrong URL fails at once, not at the first client.
func NewJWTValidator(ctx context.Context, cfg JWTConfig) (*JWTValidator, error) {
	if cfg.JWKSURL == "" {
		return nil, fmt.Errorf("%w: JWTConfig.JWKSURL is empty", ErrInvalidConfig)
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = time.Hour
	}
	if cfg.UnknownKeyRefresh <= 0 {
		cfg.UnknownKeyRefresh = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	v := &JWTValidator{cfg: cfg, now: time.Now}
	keys, err := v.fetch(ctx)
	if err != nil {
		return nil, err
	}
	v.keys, v.fetched = keys, v.now()
	return v, nil
}

// Validate checks token and returns the user it names and when it
// expires: SASLConfig.OAuthBearer's signature.
func (v *JWTValidator) Validate(token string) (string, time.Time, error) {
	e := sasl.JWTExpectations{Issuer: v.cfg.Issuer, Audience: v.cfg.Audience, SubjectClaim: v.cfg.SubjectClaim,
		ClockSkew: v.cfg.ClockSkew}
	user, expires, err := sasl.VerifyJWT(token, v.currentKeys(false), e, v.now())
	if errors.Is(err, sasl.ErrUnknownJWTKey) {
		user, expires, err = sasl.VerifyJWT(token, v.currentKeys(true), e, v.now())
	}
	return user, expires, err
}

// currentKeys returns the keys, fetched again first when they are older
// than RefreshInterval, or, with unknownKey, when no fetch for an
// unknown key ID was made within UnknownKeyRefresh. A fetch that fails
// leaves the keys as they were: a provider down for a while does not
// stop authentications.
func (v *JWTValidator) currentKeys(unknownKey bool) *jose.JSONWebKeySet {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	due := now.Sub(v.fetched) >= v.cfg.RefreshInterval
	if unknownKey && now.Sub(v.triedSoon) >= v.cfg.UnknownKeyRefresh {
		due, v.triedSoon = true, now
	}
	if !due {
		return v.keys
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if keys, err := v.fetch(ctx); err == nil {
		v.keys, v.fetched = keys, now
	}
	return v.keys
}

// fetch reads the key set from JWKSURL.
func (v *JWTValidator) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	body, err := v.fetchBody(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch the JWT keys from %s: %w", v.cfg.JWKSURL, err)
	}
	keys := &jose.JSONWebKeySet{}
	if err := json.Unmarshal(body, keys); err != nil || len(keys.Keys) == 0 {
		return nil, fmt.Errorf("the JWT keys from %s are no JSON Web Key Set with a key (%v)", v.cfg.JWKSURL, err)
	}
	return keys, nil
}

// fetchBody returns what JWKSURL holds, at most maxJWKSBytes.
func (v *JWTValidator) fetchBody(ctx context.Context) ([]byte, error) {
	if path, ok := strings.CutPrefix(v.cfg.JWKSURL, "file://"); ok {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return readBounded(f)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	return readBounded(resp.Body)
}

// readBounded reads r whole, at most maxJWKSBytes, and closes it.
func readBounded(r io.ReadCloser) ([]byte, error) {
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxJWKSBytes+1))
	if err == nil && len(b) > maxJWKSBytes {
		err = fmt.Errorf("more than %d bytes", maxJWKSBytes)
	}
	return b, err
}
