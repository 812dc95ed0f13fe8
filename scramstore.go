// SCRAM users (issue 17): the credentials SCRAM-SHA-256 and SCRAM-SHA-512
// authenticate, kept in the node's directory, managed with
// AlterUserScramCredentials and DescribeUserScramCredentials (KIP-554).

package creek

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	creds sasl.Credentials // the node's own, outside a cluster
	// committed, in a cluster, returns the credentials of the committed
	// metadata, which replace the node's own (clusterscram.go).
	committed func() sasl.Credentials
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
	if s.creds, err = seedCredentials(seed); err != nil {
		return nil, err
	}
	if len(seed) > 0 {
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// seedCredentials derives SASLConfig.ScramUsers' credentials for both
// mechanisms.
func seedCredentials(users map[string]string) (sasl.Credentials, error) {
	creds := sasl.Credentials{}
	for user, password := range users {
		for _, m := range []sasl.ScramMechanism{sasl.ScramSHA256, sasl.ScramSHA512} {
			cred, err := sasl.NewScramCredential(m, password, nil, scramIterations)
			if err != nil {
				return nil, err
			}
			creds.Set(user, cred)
		}
	}
	return creds, nil
}

func (s *scramStore) saveLocked() error {
	return framefile.WriteAtomic(s.fs, s.dir, scramFileName, scramFormat.Seal(s.creds.Marshal()))
}

// lookup is the SCRAM servers' ScramLookup: what is stored when the
// authentication begins.
func (s *scramStore) lookup(m sasl.ScramMechanism, user string) (sasl.ScramCredential, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.currentLocked().Lookup(m, user)
}

// currentLocked returns the credentials in force: the cluster's committed
// ones in a cluster, the node's own outside one. The caller must not
// change them.
func (s *scramStore) currentLocked() sasl.Credentials {
	if s.committed != nil {
		return s.committed()
	}
	return s.creds
}

// scramEdit is what an alteration asks of one user's credentials: some to
// set, some mechanisms' to delete.
type scramEdit struct {
	set    []sasl.ScramCredential
	delete []sasl.ScramMechanism
}

// parseScram turns AlterUserScramCredentials' deletions and upsertions
// into each user's edit, as Kafka's controller reads them: an empty name
// or a salted password, salt or iteration count that make no credential
// (UNACCEPTABLE_CREDENTIAL), a mechanism unknown
// (UNSUPPORTED_SASL_MECHANISM), a user and mechanism named twice
// (DUPLICATE_RESOURCE) refuse all of that user's. The errors have an
// entry for every user named, nil for one whose edit stands.
func parseScram(deletions []kafka.ScramDeletion, upsertions []kafka.ScramUpsertion) (map[string]error, map[string]*scramEdit) {
	out, edits := map[string]error{}, map[string]*scramEdit{}
	seen := map[[2]any]bool{}
	fail := func(user string, err error) {
		if out[user] == nil {
			out[user] = err
		}
	}
	note := func(user string, mechanism int8) (sasl.ScramMechanism, *scramEdit, bool) {
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
			if edits[user] == nil {
				edits[user] = &scramEdit{}
			}
			return m, edits[user], true
		}
		return 0, nil, false
	}
	for _, d := range deletions {
		if m, e, ok := note(d.User, d.Mechanism); ok {
			e.delete = append(e.delete, m)
		}
	}
	for _, u := range upsertions {
		m, e, ok := note(u.User, u.Mechanism)
		if !ok {
			continue
		}
		cred, err := sasl.ScramCredentialFromSalted(m, u.Salt, int(u.Iterations), u.SaltedPassword)
		if err != nil {
			fail(u.User, fmt.Errorf("%w: %v", kerr.UnacceptableCredential, err))
			continue
		}
		e.set = append(e.set, cred)
	}
	for user := range edits {
		if out[user] != nil {
			delete(edits, user)
		}
	}
	return out, edits
}

// checkScram applies edits to a copy of current, user by user in name
// order, and returns the copy: a user whose edit deletes a credential it
// does not have (RESOURCE_NOT_FOUND), or whose new credentials would take
// the total past max (POLICY_VIOLATION), gets the error in out, and none
// of its edit; edits keeps only the users applied.
func checkScram(current sasl.Credentials, max int, out map[string]error, edits map[string]*scramEdit) sasl.Credentials {
	next := sasl.Credentials{}
	for user, byMechanism := range current {
		next[user] = maps.Clone(byMechanism)
	}
	for _, user := range slices.Sorted(maps.Keys(edits)) {
		e := edits[user]
		if i := slices.IndexFunc(e.delete, func(m sasl.ScramMechanism) bool { _, ok := next.Lookup(m, user); return !ok }); i >= 0 {
			out[user] = fmt.Errorf("%w: %q has no %s credential", kerr.ResourceNotFound, user, e.delete[i].Name())
			delete(edits, user)
			continue
		}
		added := -len(e.delete)
		for _, c := range e.set {
			if _, had := next.Lookup(c.Mechanism, user); !had || slices.Contains(e.delete, c.Mechanism) {
				added++
			}
		}
		if added > 0 && next.Count()+added > max {
			out[user] = fmt.Errorf("%w: the cluster holds at most %d SCRAM credentials", kerr.PolicyViolation, max)
			delete(edits, user)
			continue
		}
		for _, m := range e.delete {
			next.Delete(user, m)
		}
		for _, c := range e.set {
			next.Set(user, c)
		}
	}
	return next
}

// alter applies deletions and upsertions to the node's own credentials,
// as Kafka's controller does: each user's together or none of them (see
// parseScram and checkScram). It returns an entry for every user named.
func (s *scramStore) alter(deletions []kafka.ScramDeletion, upsertions []kafka.ScramUpsertion) map[string]error {
	out, edits := parseScram(deletions, upsertions)
	s.mu.Lock()
	defer s.mu.Unlock()
	next := checkScram(s.creds, s.max, out, edits)
	if len(edits) == 0 {
		return out
	}
	before := s.creds
	s.creds = next
	if err := s.saveLocked(); err != nil {
		s.creds = before
		for user := range edits {
			out[user] = fmt.Errorf("save the SCRAM credentials: %w", err)
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
	creds := s.currentLocked()
	errs := map[string]error{}
	if len(users) == 0 {
		users = creds.Users()
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
		case len(creds[u]) == 0:
			errs[u] = fmt.Errorf("%w: %q has no SCRAM credential", kerr.ResourceNotFound, u)
			continue
		}
		su := kafka.ScramUser{User: u}
		for _, m := range creds.Mechanisms(u) {
			su.Mechanisms = append(su.Mechanisms, int8(m))
			su.Iterations = append(su.Iterations, int32(creds[u][m].Iterations))
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
func (b kafkaBroker) AlterScramUsers(ctx context.Context, deletions []kafka.ScramDeletion,
	upsertions []kafka.ScramUpsertion) map[string]error {
	return b.n.alterScram(ctx, deletions, upsertions)
}

// alterScram applies SCRAM credential changes to the node's credentials,
// or in a cluster to the cluster's.
func (n *Node) alterScram(ctx context.Context, deletions []kafka.ScramDeletion, upsertions []kafka.ScramUpsertion) map[string]error {
	if n.controller != nil {
		return n.alterClusterScram(ctx, deletions, upsertions)
	}
	return n.scram.alter(deletions, upsertions)
}

// SetScramPassword gives user SCRAM-SHA-256 and SCRAM-SHA-512 credentials
// for password (4,096 iterations, new random salts), as
// AlterUserScramCredentials would; the password is not kept. The node's
// SASL clients (in a cluster, every node's) may then authenticate as
// user.
func (n *Node) SetScramPassword(ctx context.Context, user, password string) error {
	var upsertions []kafka.ScramUpsertion
	for _, m := range []sasl.ScramMechanism{sasl.ScramSHA256, sasl.ScramSHA512} {
		salt, salted, err := sasl.SaltPassword(m, password, nil, scramIterations)
		if err != nil {
			return err
		}
		upsertions = append(upsertions, kafka.ScramUpsertion{User: user, Mechanism: int8(m), Iterations: scramIterations,
			Salt: salt, SaltedPassword: salted})
	}
	return n.alterScram(ctx, nil, upsertions)[user]
}

// DeleteScramUser removes user's SCRAM credentials, if any.
func (n *Node) DeleteScramUser(ctx context.Context, user string) error {
	n.scram.mu.RLock()
	mechanisms := n.scram.currentLocked().Mechanisms(user)
	n.scram.mu.RUnlock()
	var deletions []kafka.ScramDeletion
	for _, m := range mechanisms {
		deletions = append(deletions, kafka.ScramDeletion{User: user, Mechanism: int8(m)})
	}
	if len(deletions) == 0 {
		return nil
	}
	err := n.alterScram(ctx, deletions, nil)[user]
	if errors.Is(err, kerr.ResourceNotFound) {
		return nil // deleted meanwhile
	}
	return err
}
