package sasl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OAuthBearer is OAUTHBEARER's name, as SaslHandshake gives it.
const OAuthBearer = "OAUTHBEARER"

// TokenValidator checks an OAUTHBEARER bearer token (RFC 7628, KIP-255)
// and returns the user it names and when it expires; an error refuses
// it. It is the embedding application's: a JWT verified against its
// issuer's keys, an opaque token asked of its introspection endpoint.
type TokenValidator func(token string) (user string, expires time.Time, err error)

// Refusal is an authentication failure with what the client is told,
// which SaslAuthenticate's error message carries; it wraps
// ErrAuthentication.
type Refusal struct {
	Message string // for the client; no secret
	Reason  error  // for the server's log
}

// Error gives the refusal's message and its reason.
func (r *Refusal) Error() string {
	return fmt.Sprintf("%v: %s: %v", ErrAuthentication, r.Message, r.Reason)
}

// Unwrap returns ErrAuthentication.
func (r *Refusal) Unwrap() error { return ErrAuthentication }

// oauthServer steps OAUTHBEARER: the client's one message with its token,
// answered with nothing when the token is good; when it is not, with
// RFC 7628's error status, after which the client sends a lone 0x01 and
// the authentication fails.
type oauthServer struct {
	validate TokenValidator

	step    int
	refused error
	expires time.Time
}

// NewOAuthBearer returns a Server of OAUTHBEARER that checks tokens with
// validate.
func NewOAuthBearer(validate TokenValidator) Server { return &oauthServer{validate: validate} }

// invalidToken is RFC 7628's error status for a token refused.
const invalidToken = `{"status":"invalid_token"}`

func (s *oauthServer) Step(in []byte) (out []byte, user string, done bool, err error) {
	s.step++
	switch {
	case s.step == 1:
		token, err := parseOAuthBearer(in)
		if err != nil {
			return nil, "", false, err
		}
		if s.validate == nil {
			s.refused = errors.New("no token validator")
			return []byte(invalidToken), "", false, nil
		}
		user, expires, err := s.validate(token)
		if err == nil && user == "" {
			err = errors.New("the token names no user")
		}
		if err != nil {
			s.refused = err
			return []byte(invalidToken), "", false, nil
		}
		s.expires = expires
		return nil, user, true, nil
	case s.step == 2 && s.refused != nil:
		if !bytes.Equal(in, []byte{1}) {
			return nil, "", false, fmt.Errorf("%w: OAUTHBEARER: after an error status, a message other than 0x01", ErrAuthentication)
		}
		return nil, "", false, &Refusal{Message: invalidToken, Reason: s.refused}
	}
	return nil, "", false, fmt.Errorf("%w: OAUTHBEARER: a message after the authentication ended", ErrAuthentication)
}

// SessionEnd returns when the token authenticated expires: a session
// lasts no longer (KIP-368). Zero before it authenticated, or for a token
// without an end.
func (s *oauthServer) SessionEnd() time.Time { return s.expires }

// parseOAuthBearer returns the bearer token of OAUTHBEARER's client
// message: a GS2 header without channel binding ("n," and an optional
// "a=" identity, ","), then key=value pairs, each ending with 0x01, one of
// them auth="Bearer " and the token, and a last 0x01.
func parseOAuthBearer(b []byte) (string, error) {
	fail := func(why string) (string, error) {
		return "", fmt.Errorf("%w: OAUTHBEARER: %s", ErrAuthentication, why)
	}
	msg := string(b)
	if !strings.HasPrefix(msg, "n,") && !strings.HasPrefix(msg, "y,") {
		return fail("channel binding is not supported")
	}
	_, rest, ok := strings.Cut(msg[2:], ",")
	if !ok || len(rest) < 3 || !strings.HasPrefix(rest, "\x01") || !strings.HasSuffix(rest, "\x01\x01") {
		return fail("not a GS2 header and 0x01-separated pairs")
	}
	var token string
	for _, kv := range strings.Split(rest[1:len(rest)-2], "\x01") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fail("a pair without a key")
		}
		if k == "auth" {
			if token, ok = strings.CutPrefix(v, "Bearer "); !ok || token == "" {
				return fail("auth is not a bearer token")
			}
		}
	}
	if token == "" {
		return fail("no auth pair")
	}
	return token, nil
}

// UnsecuredJWT returns a TokenValidator of unsecured JWTs (RFC 7519, "alg"
// "none", no signature), as Kafka's default validator takes them: for
// tests and development only, as anyone may make one. The user is the
// "sub" claim; "exp" (seconds since the epoch) must be after now.
func UnsecuredJWT(now func() time.Time) TokenValidator {
	if now == nil {
		now = time.Now
	}
	return func(token string) (string, time.Time, error) {
		parts := strings.Split(token, ".")
		if len(parts) != 3 || parts[2] != "" {
			return "", time.Time{}, errors.New("not an unsecured JWT: header.claims. with no signature")
		}
		var header struct {
			Alg string `json:"alg"`
		}
		var claims struct {
			Sub string   `json:"sub"`
			Exp *float64 `json:"exp"`
		}
		for i, into := range []any{&header, &claims} {
			b, err := base64.RawURLEncoding.DecodeString(parts[i])
			if err != nil {
				return "", time.Time{}, fmt.Errorf("JWT part %d is not base64url: %w", i+1, err)
			}
			if err := json.Unmarshal(b, into); err != nil {
				return "", time.Time{}, fmt.Errorf("JWT part %d is not a JSON object: %w", i+1, err)
			}
		}
		switch {
		case header.Alg != "none":
			return "", time.Time{}, fmt.Errorf("an unsecured JWT's alg is none, not %q", header.Alg)
		case claims.Sub == "":
			return "", time.Time{}, errors.New("no sub claim")
		case claims.Exp == nil:
			return "", time.Time{}, errors.New("no exp claim")
		}
		expires := time.UnixMilli(int64(*claims.Exp * 1000))
		if !now().Before(expires) {
			return "", time.Time{}, fmt.Errorf("expired at %v", expires)
		}
		return claims.Sub, expires, nil
	}
}
