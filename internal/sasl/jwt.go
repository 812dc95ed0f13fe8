package sasl

import (
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JWTExpectations are what a signed OAUTHBEARER token must hold beside a
// signature by one of a key set's keys, as Kafka's JWT validator
// (OAuthBearerValidatorCallbackHandler) checks it: an expiry to come, a
// subject, and the issuer and audience asked for.
type JWTExpectations struct {
	// Issuer, when set, must be the "iss" claim.
	Issuer string
	// Audience, when set, must share a value with the "aud" claim.
	Audience []string
	// SubjectClaim names the claim that names the user; default "sub".
	SubjectClaim string
	// ClockSkew is how far the claims' times may be off; default 30 s.
	ClockSkew time.Duration
}

// JWTAlgorithms are the signature algorithms a token may be signed with:
// the asymmetric ones, as a key set publishes public keys; "none" and the
// HMACs never.
var JWTAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// ErrUnknownJWTKey marks a token signed with a key ID the key set lacks:
// the set may have been rotated since it was fetched.
var ErrUnknownJWTKey = errors.New("sasl: JWT signed with a key not in the key set")

// VerifyJWT checks token, a compact signed JWT, against keys and e at
// now, and returns the user its subject claim names and when it expires.
func VerifyJWT(token string, keys *jose.JSONWebKeySet, e JWTExpectations, now time.Time) (string, time.Time, error) {
	if e.SubjectClaim == "" {
		e.SubjectClaim = "sub"
	}
	if e.ClockSkew == 0 {
		e.ClockSkew = 30 * time.Second
	}
	parsed, err := jwt.ParseSigned(token, JWTAlgorithms)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sasl: not a signed JWT: %w", err)
	}
	if kid := parsed.Headers[0].KeyID; kid != "" && len(keys.Key(kid)) == 0 {
		return "", time.Time{}, fmt.Errorf("%w: %q", ErrUnknownJWTKey, kid)
	}
	var claims jwt.Claims
	var all map[string]any
	if err := parsed.Claims(keys, &claims, &all); err != nil {
		return "", time.Time{}, fmt.Errorf("sasl: JWT: %w", err)
	}
	if claims.Expiry == nil {
		return "", time.Time{}, errors.New("sasl: JWT without an expiry (exp)")
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: e.Issuer, AnyAudience: e.Audience, Time: now}, e.ClockSkew); err != nil {
		return "", time.Time{}, fmt.Errorf("sasl: JWT: %w", err)
	}
	user, _ := all[e.SubjectClaim].(string)
	if user == "" {
		return "", time.Time{}, fmt.Errorf("sasl: JWT without a %q claim naming its user", e.SubjectClaim)
	}
	return user, claims.Expiry.Time(), nil
}
