// SCRAM users (issue 17): the credentials SCRAM-SHA-256 and SCRAM-SHA-512
// authenticate, kept in the node's directory, managed with
// AlterUserScramCredentials and DescribeUserScramCredentials (KIP-554).

package creek

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/kafka"
	"github.com/creekmq/creek/internal/sasl"
)

// scramFileName is the node's SCRAM credentials file: internal/sasl's
// encoding in a framefile frame, written whole at each change.
const scramFileName = "creek.scram"

// scramMagic is the SCRAM credentials file's magic number. Part of the
// format.
const scramMagic = 0x63726b75 // "crku"

var scramFormat = framefile.Format{Name: "SCRAM credentials", Magic: scramMagic,
	VersionWidth: framefile.Version16, Oldest: 1, Current: 1}

// maxScramCredentials bounds the credentials a node keeps (a user has one
// per mechanism): every one is in memory and in the file written whole
// at each change, and a client that may alter them could otherwise grow
// both without end. Upsertions past it are refused with POLICY_VIOLATION.
const maxScramCredentials = 100_000

// scramStore holds the node's SCRAM credentials.
type scramStore struct {
	fs  fsx.FS
	dir string
	max int // credentials at most: maxScramCredentials

	mu    sync.RWMutex
	creds sasl.Credentials
}

// openScramStore reads the node's credentials. A directory without the
// file starts with seed's users (SASLConfig.ScramUsers), their
// credentials derived for both mechanisms, as Kafka's storage tool adds
// users when it formats a directory; later changes are the file's.
func openScramStore(fs fsx.FS, dir string, seed map[string]string) (*scramStore, error) {
	s := &scramStore{fs: fs, dir: dir, max: maxScramCredentials, creds: sasl.Credentials{}}
	b, err := framefile.ReadFile(fs, filepath.Join(dir, scramFileName), 16<<20)
	switch {
	case err == nil:
		_, body, err := scramFormat.Open(b)
		if err == nil {
			s.creds, err = sasl.UnmarshalCredentials(body)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", scramFileName, err)
		}
		return s, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	for user, password := range seed {
		for _, m := range []sasl.ScramMechanism{sasl.ScramSHA256, sasl.ScramSHA512} {
			cred, err := sasl.NewScramCredential(m, password, nil, scramIterations)
			if err != nil {
				return nil, err
			}
			s.creds.Set(user, cred)
		}
	}
	if len(seed) > 0 {
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *scramStore) saveLocked() error {
	return framefile.WriteAtomic(s.fs, s.dir, scramFileName, scramFormat.Seal(s.creds.Marshal()))
}

// lookup is the SCRAM servers' ScramLookup: what is stored when the
// authentication begins.
func (s *scramStore) lookup(m sasl.ScramMechanism, user string) (sasl.ScramCredential, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.creds.Lookup(m, user)
}

// alter applies deletions and upsertions, as Kafka's controller does:
// each user's together or none of them, and an error for each user whose
// are refused: an empty name or a salted password, salt or iteration
// count that make no credential (UNACCEPTABLE_CREDENTIAL), a mechanism
// unknown (UNSUPPORTED_SASL_MECHANISM), a user and mechanism named twice
// (DUPLICATE_RESOURCE), a deletion of no credential
// (RESOURCE_NOT_FOUND). It returns an entry for every user named.
func (s *scramStore) alter(deletions []kafka.ScramDeletion, upsertions []kafka.ScramUpsertion) map[string]error {
	type change struct {
		cred   *sasl.ScramCredential // an upsertion's
		m      sasl.ScramMechanism
		delete bool
	}
	out := map[string]error{}
	changes := map[string][]change{}
	seen := map[[2]any]bool{}
	fail := func(user string, err error) {
		if out[user] == nil {
			out[user] = err
		}
	}
	note := func(user string, mechanism int8) (sasl.ScramMechanism, bool) {
		if _, named := out[user]; !named {
			out[user] = nil // every user named gets an entry
		}
		m := sasl.ScramMechanism(mechanism)
		switch {
		case user == "":
			fail(user, fmt.Errorf("%w: an empty user name", kerr.UnacceptableCredential))
		case m != sasl.ScramSHA256 && m != sasl.ScramSHA512:
			fail(user, fmt.Errorf("%w: mechanism %d", kerr.UnsupportedSaslMechanism, mechanism))
		case seen[[2]any{user, m}]:
			fail(user, fmt.Errorf("%w: %s named twice for %q", kerr.DuplicateResource, m.Name(), user))
		default:
			seen[[2]any{user, m}] = true
			return m, true
		}
		return 0, false
	}
	for _, d := range deletions {
		if m, ok := note(d.User, d.Mechanism); ok {
			changes[d.User] = append(changes[d.User], change{m: m, delete: true})
		}
	}
	for _, u := range upsertions {
		m, ok := note(u.User, u.Mechanism)
		if !ok {
			continue
		}
		cred, err := sasl.ScramCredentialFromSalted(m, u.Salt, int(u.Iterations), u.SaltedPassword)
		if err != nil {
			fail(u.User, fmt.Errorf("%w: %v", kerr.UnacceptableCredential, err))
			continue
		}
		changes[u.User] = append(changes[u.User], change{cred: &cred, m: m})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	before := sasl.Credentials{}
	for user, byMechanism := range s.creds {
		for _, cred := range byMechanism {
			before.Set(user, cred)
		}
	}
	changed := false
	for user, list := range changes {
		if out[user] != nil {
			continue
		}
		for _, c := range list {
			if _, ok := s.creds.Lookup(c.m, user); c.delete && !ok {
				out[user] = fmt.Errorf("%w: %q has no %s credential", kerr.ResourceNotFound, user, c.m.Name())
				break
			}
		}
		if out[user] != nil {
			continue // none of its changes
		}
		added := 0
		for _, c := range list {
			_, had := s.creds.Lookup(c.m, user)
			switch {
			case c.delete:
				added--
			case !had:
				added++
			}
		}
		if added > 0 && s.creds.Count()+added > s.max {
			out[user] = fmt.Errorf("%w: the node holds at most %d SCRAM credentials", kerr.PolicyViolation, s.max)
			continue
		}
		for _, c := range list {
			if c.delete {
				s.creds.Delete(user, c.m)
			} else {
				s.creds.Set(user, *c.cred)
			}
		}
		changed = true
	}
	if !changed {
		return out
	}
	if err := s.saveLocked(); err != nil {
		s.creds = before
		for user := range changes {
			if out[user] == nil {
				out[user] = fmt.Errorf("save the SCRAM credentials: %w", err)
			}
		}
	}
	return out
}

// describe returns the named users' credentials, every user's when users
// is empty; a user named with none gets RESOURCE_NOT_FOUND, one named
// twice DUPLICATE_RESOURCE.
func (s *scramStore) describe(users []string) ([]kafka.ScramUser, map[string]error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	errs := map[string]error{}
	if len(users) == 0 {
		users = s.creds.Users()
	}
	count := map[string]int{}
	for _, u := range users {
		count[u]++
	}
	var out []kafka.ScramUser
	for _, u := range users {
		switch {
		case count[u] > 1:
			errs[u] = fmt.Errorf("%w: %q named twice", kerr.DuplicateResource, u)
			continue
		case len(s.creds[u]) == 0:
			errs[u] = fmt.Errorf("%w: %q has no SCRAM credential", kerr.ResourceNotFound, u)
			continue
		}
		su := kafka.ScramUser{User: u}
		for _, m := range s.creds.Mechanisms(u) {
			su.Mechanisms = append(su.Mechanisms, int8(m))
			su.Iterations = append(su.Iterations, int32(s.creds[u][m].Iterations))
		}
		out = append(out, su)
	}
	return out, errs
}

// DescribeScramUsers serves DescribeUserScramCredentials.
func (b kafkaBroker) DescribeScramUsers(users []string) ([]kafka.ScramUser, map[string]error) {
	return b.n.scram.describe(users)
}

// AlterScramUsers serves AlterUserScramCredentials.
func (b kafkaBroker) AlterScramUsers(deletions []kafka.ScramDeletion, upsertions []kafka.ScramUpsertion) map[string]error {
	return b.n.scram.alter(deletions, upsertions)
}

// SetScramPassword gives user SCRAM-SHA-256 and SCRAM-SHA-512 credentials
// for password (4,096 iterations, new random salts), as
// AlterUserScramCredentials would; the password is not kept. The node's
// SASL clients may then authenticate as user.
func (n *Node) SetScramPassword(user, password string) error {
	if user == "" {
		return fmt.Errorf("%w: an empty user name", ErrInvalidConfig)
	}
	var creds []sasl.ScramCredential
	for _, m := range []sasl.ScramMechanism{sasl.ScramSHA256, sasl.ScramSHA512} {
		cred, err := sasl.NewScramCredential(m, password, nil, scramIterations)
		if err != nil {
			return err
		}
		creds = append(creds, cred)
	}
	return n.scram.set(user, creds)
}

// DeleteScramUser removes user's SCRAM credentials, if any.
func (n *Node) DeleteScramUser(user string) error { return n.scram.set(user, nil) }

// set replaces user's credentials with creds (none: the user goes).
func (s *scramStore) set(user string, creds []sasl.ScramCredential) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.creds[user]
	delete(s.creds, user)
	for _, c := range creds {
		s.creds.Set(user, c)
	}
	if err := s.saveLocked(); err != nil {
		delete(s.creds, user)
		for _, c := range before {
			s.creds.Set(user, c)
		}
		return err
	}
	return nil
}
