package sasl

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Plain is PLAIN's name, as SaslHandshake gives it.
const Plain = "PLAIN"

// PlainCheck reports whether password is user's. It is the embedding
// application's (a static table, a directory, anything): creek keeps no
// PLAIN passwords.
type PlainCheck func(user, password string) bool

// plainServer is PLAIN's one step: the client's message is
// [authzid] NUL authcid NUL passwd.
type plainServer struct{ check PlainCheck }

// NewPlain returns a Server of PLAIN that checks passwords with check.
func NewPlain(check PlainCheck) Server { return &plainServer{check: check} }

func (s *plainServer) Step(in []byte) (out []byte, user string, done bool, err error) {
	authz, authc, pass, err := ParsePlain(in)
	if err != nil {
		return nil, "", false, err
	}
	if authz != "" && authz != authc {
		return nil, "", false, fmt.Errorf("%w: PLAIN: user %q may not act as %q", ErrAuthentication, authc, authz)
	}
	if s.check == nil || !s.check(authc, pass) {
		return nil, "", false, fmt.Errorf("%w: PLAIN: invalid user name or password", ErrAuthentication)
	}
	return nil, authc, true, nil
}

// ParsePlain splits a PLAIN message into its authorization identity (""
// when not given), its user and its password. Each is UTF-8 without NUL,
// the user and the password not empty, and no part longer than 255 bytes
// (RFC 4616).
func ParsePlain(b []byte) (authz, user, password string, err error) {
	parts := bytes.Split(b, []byte{0})
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: PLAIN: a message of %d parts, want 3", ErrAuthentication, len(parts))
	}
	for i, p := range parts {
		if len(p) > 255 || i > 0 && len(p) == 0 {
			return "", "", "", fmt.Errorf("%w: PLAIN: part %d is empty or longer than 255 bytes", ErrAuthentication, i+1)
		}
		if !utf8.Valid(p) {
			return "", "", "", fmt.Errorf("%w: PLAIN: part %d is not UTF-8", ErrAuthentication, i+1)
		}
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), nil
}
