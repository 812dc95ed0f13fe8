package sasl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/creekmq/creek/internal/framefile"
)

// Credentials are the SCRAM credentials of a node's users, by user and
// mechanism. The caller locks.
type Credentials map[string]map[ScramMechanism]ScramCredential

// Lookup is a ScramLookup of c.
func (c Credentials) Lookup(m ScramMechanism, user string) (ScramCredential, bool) {
	cred, ok := c[user][m]
	return cred, ok
}

// Set gives user cred, for cred's mechanism.
func (c Credentials) Set(user string, cred ScramCredential) {
	if c[user] == nil {
		c[user] = map[ScramMechanism]ScramCredential{}
	}
	c[user][cred.Mechanism] = cred
}

// Delete removes user's credential for m, and reports whether there was
// one.
func (c Credentials) Delete(user string, m ScramMechanism) bool {
	if _, ok := c[user][m]; !ok {
		return false
	}
	delete(c[user], m)
	if len(c[user]) == 0 {
		delete(c, user)
	}
	return true
}

// Count returns how many credentials c holds, over all users and
// mechanisms.
func (c Credentials) Count() int {
	n := 0
	for _, byMechanism := range c {
		n += len(byMechanism)
	}
	return n
}

// Users returns the users with credentials, sorted.
func (c Credentials) Users() []string {
	users := make([]string, 0, len(c))
	for u := range c {
		users = append(users, u)
	}
	slices.Sort(users)
	return users
}

// Mechanisms returns user's mechanisms, in order.
func (c Credentials) Mechanisms(user string) []ScramMechanism {
	var out []ScramMechanism
	for _, m := range []ScramMechanism{ScramSHA256, ScramSHA512} {
		if _, ok := c[user][m]; ok {
			out = append(out, m)
		}
	}
	return out
}

// Marshal encodes c, big-endian, users sorted and each one's mechanisms in
// order:
//
//	credentials (4) | per credential: user length (2) | user |
//	  mechanism (1) | iterations (4) | salt length (2) | salt |
//	  stored key length (1) | stored key | server key length (1) | server key
//
// The caller frames it (its magic, version and CRC are the file's).
func (c Credentials) Marshal() []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(c.Count()))
	for _, u := range c.Users() {
		for _, m := range c.Mechanisms(u) {
			cred := c[u][m]
			b = framefile.AppendString16(b, u)
			b = append(b, byte(m))
			b = binary.BigEndian.AppendUint32(b, uint32(cred.Iterations))
			b = binary.BigEndian.AppendUint16(b, uint16(len(cred.Salt)))
			b = append(b, cred.Salt...)
			b = append(append(b, byte(len(cred.StoredKey))), cred.StoredKey...)
			b = append(append(b, byte(len(cred.ServerKey))), cred.ServerKey...)
		}
	}
	return b
}

// UnmarshalCredentials decodes what Marshal encodes. Bytes that do not
// parse, a mechanism unknown, iterations out of bounds, keys not of the
// mechanism's size, or credentials out of Marshal's order (or twice) give
// an error.
func UnmarshalCredentials(b []byte) (Credentials, error) {
	r := framefile.NewFields(b)
	n := r.Uint32()
	c := Credentials{}
	var last string
	var lastM ScramMechanism
	for i := uint32(0); i < n && r.Err() == nil; i++ {
		user := r.String16()
		m := ScramMechanism(r.Byte())
		iterations := int(r.Uint32())
		salt := r.Bytes(int(r.Uint16()))
		stored := r.Bytes(int(r.Byte()))
		server := r.Bytes(int(r.Byte()))
		if r.Err() != nil {
			break
		}
		if m != ScramSHA256 && m != ScramSHA512 {
			return nil, fmt.Errorf("sasl: credential %d: unknown mechanism %d", i, m)
		}
		size := m.hash()().Size()
		if user == "" || iterations < MinScramIterations || iterations > MaxScramIterations || len(salt) == 0 ||
			len(stored) != size || len(server) != size {
			return nil, fmt.Errorf("sasl: credential %d of %s is not one", i, m.Name())
		}
		if i > 0 && (user < last || user == last && m <= lastM) {
			return nil, fmt.Errorf("sasl: credential %d is out of order, or twice", i)
		}
		last, lastM = user, m
		c.Set(user, ScramCredential{Mechanism: m, Salt: salt, Iterations: iterations, StoredKey: stored, ServerKey: server})
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("sasl: credentials: %w", err)
	}
	if r.Len() != 0 {
		return nil, errors.New("sasl: credentials: bytes after the last credential")
	}
	return c, nil
}
