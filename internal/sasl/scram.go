package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ScramMechanism is one of SCRAM's hash functions.
type ScramMechanism int8

// The SCRAM mechanisms Kafka has, numbered as Kafka's ScramMechanism
// (DescribeUserScramCredentials and AlterUserScramCredentials carry the
// number).
const (
	ScramSHA256 ScramMechanism = 1
	ScramSHA512 ScramMechanism = 2
)

// Iteration bounds of a SCRAM credential, Kafka's.
const (
	MinScramIterations = 4096
	MaxScramIterations = 16384
)

// Name returns the mechanism's SASL name: SCRAM-SHA-256 or SCRAM-SHA-512.
func (m ScramMechanism) Name() string {
	switch m {
	case ScramSHA256:
		return "SCRAM-SHA-256"
	case ScramSHA512:
		return "SCRAM-SHA-512"
	}
	return fmt.Sprintf("ScramMechanism(%d)", int8(m))
}

// ScramMechanismNamed returns the mechanism of a SASL name.
func ScramMechanismNamed(name string) (ScramMechanism, bool) {
	for _, m := range []ScramMechanism{ScramSHA256, ScramSHA512} {
		if m.Name() == name {
			return m, true
		}
	}
	return 0, false
}

func (m ScramMechanism) hash() func() hash.Hash {
	if m == ScramSHA512 {
		return sha512.New
	}
	return sha256.New
}

// ScramCredential is what a server keeps of a user's password for one
// mechanism (RFC 5802): the salt, the iterations, and two keys derived
// from the salted password, from which the password cannot be had back.
type ScramCredential struct {
	Mechanism  ScramMechanism
	Salt       []byte
	Iterations int
	StoredKey  []byte // H(HMAC(SaltedPassword, "Client Key"))
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key")
}

// NewScramCredential derives password's credential for m with salt and
// iterations; a nil salt is 32 random bytes. Iterations must be within
// MinScramIterations and MaxScramIterations, as Kafka's are.
func NewScramCredential(m ScramMechanism, password string, salt []byte, iterations int) (ScramCredential, error) {
	if iterations < MinScramIterations || iterations > MaxScramIterations {
		return ScramCredential{}, fmt.Errorf("sasl: %d iterations, outside [%d, %d]", iterations, MinScramIterations, MaxScramIterations)
	}
	salt, salted, err := SaltPassword(m, password, salt, iterations)
	if err != nil {
		return ScramCredential{}, err
	}
	return ScramCredentialFromSalted(m, salt, iterations, salted)
}

// SaltPassword returns Hi(password, salt, iterations) for m, what a
// client sends AlterUserScramCredentials, and the salt: salt itself, or
// 32 random bytes when it is nil.
func SaltPassword(m ScramMechanism, password string, salt []byte, iterations int) ([]byte, []byte, error) {
	if m != ScramSHA256 && m != ScramSHA512 {
		return nil, nil, fmt.Errorf("sasl: unknown SCRAM mechanism %d", m)
	}
	if salt == nil {
		salt = make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return nil, nil, err
		}
	}
	h := m.hash()
	salted, err := pbkdf2.Key(h, password, salt, iterations, h().Size())
	return salt, salted, err
}

// ScramCredentialFromSalted derives a credential from the salted password
// a client computed (Hi(password, salt, iterations)), which is what
// AlterUserScramCredentials sends: the password itself never reaches the
// server.
func ScramCredentialFromSalted(m ScramMechanism, salt []byte, iterations int, salted []byte) (ScramCredential, error) {
	if m != ScramSHA256 && m != ScramSHA512 {
		return ScramCredential{}, fmt.Errorf("sasl: unknown SCRAM mechanism %d", m)
	}
	h := m.hash()
	switch {
	case iterations < MinScramIterations || iterations > MaxScramIterations:
		return ScramCredential{}, fmt.Errorf("sasl: %d iterations, outside [%d, %d]", iterations, MinScramIterations, MaxScramIterations)
	case len(salt) == 0:
		return ScramCredential{}, fmt.Errorf("sasl: an empty salt")
	case len(salted) != h().Size():
		return ScramCredential{}, fmt.Errorf("sasl: a salted password of %d bytes, want %d", len(salted), h().Size())
	}
	client := hmacOf(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(client)
	return ScramCredential{Mechanism: m, Salt: bytes.Clone(salt), Iterations: iterations,
		StoredKey: stored.Sum(nil), ServerKey: hmacOf(h, salted, []byte("Server Key"))}, nil
}

func hmacOf(h func() hash.Hash, key, msg []byte) []byte {
	mac := hmac.New(h, key)
	mac.Write(msg)
	return mac.Sum(nil)
}

// ScramLookup returns user's credential for a mechanism, false when the
// user has none.
type ScramLookup func(m ScramMechanism, user string) (ScramCredential, bool)

// scramServer steps one SCRAM authentication: the client's first
// message, answered with the server's, then the client's final one, with
// its proof, answered with the server's signature.
type scramServer struct {
	m      ScramMechanism
	lookup ScramLookup
	random io.Reader

	step      int // messages taken
	gs2Header string
	user      string
	cred      ScramCredential
	nonce     string // the client's and the server's
	authStart string // client-first-message-bare "," server-first-message
}

// NewScram returns a Server of mechanism m that finds users' credentials
// with lookup; random makes the server's nonces (crypto/rand's Reader
// when nil).
func NewScram(m ScramMechanism, lookup ScramLookup, random io.Reader) Server {
	if random == nil {
		random = rand.Reader
	}
	return &scramServer{m: m, lookup: lookup, random: random}
}

func (s *scramServer) Step(in []byte) (out []byte, user string, done bool, err error) {
	s.step++
	switch s.step {
	case 1:
		out, err = s.first(string(in))
		return out, "", false, err
	case 2:
		out, err = s.final(string(in))
		if err != nil {
			return nil, "", false, err
		}
		return out, s.user, true, nil
	}
	return nil, "", false, fmt.Errorf("%w: %s: a message after the authentication ended", ErrAuthentication, s.m.Name())
}

// first takes client-first-message: gs2-header client-first-message-bare,
// where the header is "n," or "y," (no channel binding, which Kafka does
// not offer either) and an optional "a=" authorization identity, and the
// bare message "n=" user ",r=" nonce, then extensions.
func (s *scramServer) first(msg string) ([]byte, error) {
	fail := func(why string) ([]byte, error) {
		return nil, fmt.Errorf("%w: %s: client-first-message: %s", ErrAuthentication, s.m.Name(), why)
	}
	if !strings.HasPrefix(msg, "n,") && !strings.HasPrefix(msg, "y,") {
		return fail("channel binding is not supported")
	}
	authz, bare, ok := strings.Cut(msg[2:], ",")
	if !ok {
		return fail("no authorization identity field")
	}
	s.gs2Header = msg[:2+len(authz)+1]
	if authz != "" {
		name, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return fail("a bad authorization identity field")
		}
		if authz, ok = decodeSaslName(name); !ok {
			return fail("a bad authorization identity")
		}
	}
	fields := strings.Split(bare, ",")
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "n=") || !strings.HasPrefix(fields[1], "r=") {
		return fail("want n=user,r=nonce")
	}
	user, ok := decodeSaslName(fields[0][2:])
	if !ok || user == "" {
		return fail("a bad user name")
	}
	clientNonce := fields[1][2:]
	if !validNonce(clientNonce) {
		return fail("a bad nonce")
	}
	for _, ext := range fields[2:] {
		k, v, ok := strings.Cut(ext, "=")
		if !ok || k == "" {
			return fail("a bad extension")
		}
		if k == "tokenauth" && v == "true" {
			return nil, fmt.Errorf("%w: %s: delegation tokens are not supported", ErrAuthentication, s.m.Name())
		}
	}
	if authz != "" && authz != user {
		return nil, fmt.Errorf("%w: %s: user %q may not act as %q", ErrAuthentication, s.m.Name(), user, authz)
	}
	cred, ok := s.lookup(s.m, user)
	if !ok || cred.Mechanism != s.m {
		return nil, fmt.Errorf("%w: %s: invalid user name or password", ErrAuthentication, s.m.Name())
	}
	serverNonce := make([]byte, 24)
	if _, err := io.ReadFull(s.random, serverNonce); err != nil {
		return nil, err
	}
	s.user, s.cred = user, cred
	s.nonce = clientNonce + base64.RawURLEncoding.EncodeToString(serverNonce)
	serverFirst := "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(cred.Salt) + ",i=" + strconv.Itoa(cred.Iterations)
	s.authStart = bare + "," + serverFirst
	return []byte(serverFirst), nil
}

// final takes client-final-message: "c=" base64 of the gs2 header, ",r="
// the nonce, extensions, ",p=" base64 of the proof; and answers "v=" the
// server's signature.
func (s *scramServer) final(msg string) ([]byte, error) {
	fail := func(why string) ([]byte, error) {
		return nil, fmt.Errorf("%w: %s: client-final-message: %s", ErrAuthentication, s.m.Name(), why)
	}
	withoutProof, proof64, ok := cutLast(msg, ",p=")
	if !ok {
		return fail("no proof")
	}
	fields := strings.Split(withoutProof, ",")
	if len(fields) < 2 || fields[0] != "c="+base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) {
		return fail("channel binding does not match the first message's header")
	}
	// The nonce must end with the server's (the client's and its own), as
	// Kafka checks it: librdkafka sends its own nonce before the whole of
	// the server's.
	if nonce, ok := strings.CutPrefix(fields[1], "r="); !ok || !strings.HasSuffix(nonce, s.nonce) || !validNonce(nonce) {
		return fail("the nonce does not match")
	}
	proof, err := base64.StdEncoding.DecodeString(proof64)
	h := s.m.hash()
	if err != nil || len(proof) != h().Size() {
		return fail("a bad proof")
	}
	authMessage := []byte(s.authStart + "," + withoutProof)
	clientKey := hmacOf(h, s.cred.StoredKey, authMessage)
	for i := range clientKey {
		clientKey[i] ^= proof[i]
	}
	stored := h()
	stored.Write(clientKey)
	if !hmac.Equal(stored.Sum(nil), s.cred.StoredKey) {
		return nil, fmt.Errorf("%w: %s: invalid user name or password", ErrAuthentication, s.m.Name())
	}
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacOf(h, s.cred.ServerKey, authMessage))), nil
}

// cutLast cuts s around the last sep.
func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// decodeSaslName decodes a saslname: UTF-8 in which "," is "=2C" and "="
// is "=3D", and no other "=" may appear.
func decodeSaslName(s string) (string, bool) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, ',') {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// validNonce reports whether s is a nonce: printable ASCII but ",".
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}
