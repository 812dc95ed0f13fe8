package sasl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
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
			b = binary.BigEndian.AppendUint16(b, uint16(len(u)))
			b = append(b, u...)
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
	r := reader{b: b}
	n := r.uint32()
	c := Credentials{}
	var last string
	var lastM ScramMechanism
	for i := uint32(0); i < n && r.err == nil; i++ {
		user := string(r.bytes(int(r.uint16())))
		m := ScramMechanism(r.byte())
		iterations := int(r.uint32())
		salt := r.bytes(int(r.uint16()))
		stored := r.bytes(int(r.byte()))
		server := r.bytes(int(r.byte()))
		if r.err != nil {
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
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("bytes after the last credential")
	}
	if r.err != nil {
		return nil, fmt.Errorf("sasl: credentials: %w", r.err)
	}
	return c, nil
}

// reader reads big-endian fields, remembering the first shortfall.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = errors.New("cut short")
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) uint16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) uint32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) bytes(n int) []byte { return slices.Clone(r.take(n)) }
