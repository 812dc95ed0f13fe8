// ACLs (issue 17): the authorizer that decides each Kafka request by its
// principal's ACL bindings, kept in the node's directory and managed with
// CreateAcls, DescribeAcls and DeleteAcls.

package creek

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
	"github.com/creekmq/creek/internal/kafka"
)

// ACLConfig makes the Kafka listener decide every request by ACLs, as
// Kafka's StandardAuthorizer does: a principal may do what a binding
// allows it and none denies it, each API checked as Kafka checks it
// (TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED,
// CLUSTER_AUTHORIZATION_FAILED...), and Metadata, ListGroups and
// ListTransactions tell it only of what it may describe. The bindings are
// the node's, kept in its directory, changed with CreateAcls and
// DeleteAcls (kadm's CreateACLs, `creek acl`). A connection's principal
// is its SASL user ("User:alice"), else the subject of its verified TLS
// client certificate, else "User:ANONYMOUS". In-process Producers and
// Consumers are the application's and are not checked.
type ACLConfig struct {
	// SuperUsers may do everything (super.users), e.g. "User:admin".
	SuperUsers []string
	// AllowIfNoACL allows what is done to a resource no binding names
	// (allow.everyone.if.no.acl.found); by default it is denied.
	AllowIfNoACL bool
}

// aclFileName is the node's ACL file: internal/acl's encoding in a
// framefile frame, written whole at each change.
const aclFileName = "creek.acls"

// aclMagic is the ACL file's magic number. Part of the format.
const aclMagic = 0x63726b61 // "crka"

var aclFormat = framefile.Format{Name: "ACLs", Magic: aclMagic, VersionWidth: framefile.Version16, Oldest: 1, Current: 1}

// maxACLs bounds the bindings a node keeps: each is in memory, looked
// through for requests, and in the file written whole at each change.
// Creations past it, or past maxACLBytes, are refused with
// POLICY_VIOLATION.
const maxACLs = 100_000

// maxACLBytes bounds the ACL file, below what openACLStore reads.
const maxACLBytes = 32 << 20

// aclStore is the node's authorizer: kafka.Authorizer over the bindings
// in its file.
type aclStore struct {
	fs  fsx.FS
	dir string
	max int // bindings at most: maxACLs

	mu    sync.RWMutex
	a     acl.Authorizer
	bytes int // the bindings' encoded size
}

var _ kafka.Authorizer = (*aclStore)(nil)

// openACLStore reads the node's ACLs; a directory without the file has
// none.
func openACLStore(fs fsx.FS, dir string, cfg *ACLConfig) (*aclStore, error) {
	s := &aclStore{fs: fs, dir: dir, max: maxACLs}
	s.a.AllowIfNoACL = cfg.AllowIfNoACL
	s.a.SuperUsers = map[string]bool{}
	for _, u := range cfg.SuperUsers {
		s.a.SuperUsers[u] = true
	}
	b, err := framefile.ReadFile(fs, filepath.Join(dir, aclFileName), 64<<20)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, err
	}
	_, body, err := aclFormat.Open(b)
	var bindings []acl.Binding
	if err == nil {
		bindings, err = acl.Unmarshal(body)
	}
	if err == nil {
		err = s.a.Add(bindings...)
	}
	for _, b := range bindings {
		s.bytes += acl.EncodedSize(b)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", aclFileName, err)
	}
	return s, nil
}

func (s *aclStore) saveLocked() error {
	return framefile.WriteAtomic(s.fs, s.dir, aclFileName, aclFormat.Seal(acl.Marshal(s.a.Bindings())))
}

// Authorized is kafka.Authorizer's.
func (s *aclStore) Authorized(p kafka.Principal, host string, op acl.Operation, t acl.ResourceType, name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.a.Authorized(string(p), host, op, t, name)
}

// AuthorizedByType is kafka.Authorizer's.
func (s *aclStore) AuthorizedByType(p kafka.Principal, host string, op acl.Operation, t acl.ResourceType) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.a.AuthorizedByType(string(p), host, op, t)
}

// CreateACLs adds the bindings and saves them; one already there is
// accepted again. An error refuses one: past the budget
// (POLICY_VIOLATION), or all of them when the file cannot be written.
func (s *aclStore) CreateACLs(_ context.Context, bindings []acl.Binding) []error {
	errs := make([]error, len(bindings))
	s.mu.Lock()
	defer s.mu.Unlock()
	before, beforeBytes := s.a.Clone(), s.bytes
	changed := false
	for i, b := range bindings {
		if err := b.Validate(); err != nil {
			errs[i] = err
			continue
		}
		if s.a.Has(b) {
			continue
		}
		if s.a.Len() >= s.max || s.bytes+acl.EncodedSize(b) > maxACLBytes {
			errs[i] = fmt.Errorf("%w: the node holds at most %d ACLs, %d MiB of them", kerr.PolicyViolation, s.max, maxACLBytes>>20)
			continue
		}
		if errs[i] = s.a.Add(b); errs[i] == nil {
			s.bytes += acl.EncodedSize(b)
			changed = true
		}
	}
	if changed {
		if err := s.saveLocked(); err != nil {
			s.a, s.bytes = before, beforeBytes
			for i := range errs {
				errs[i] = fmt.Errorf("save the ACLs: %w", err)
			}
		}
	}
	return errs
}

// DescribeACLs is kafka.Authorizer's.
func (s *aclStore) DescribeACLs(f acl.Filter) []acl.Binding {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.a.Find(f)
}

// DeleteACLs removes the bindings each filter matches and saves the rest;
// when the file cannot be written, none is removed and each filter gets
// the error.
func (s *aclStore) DeleteACLs(_ context.Context, filters []acl.Filter) ([][]acl.Binding, []error) {
	deleted := make([][]acl.Binding, len(filters))
	errs := make([]error, len(filters))
	s.mu.Lock()
	defer s.mu.Unlock()
	before, beforeBytes := s.a.Clone(), s.bytes
	changed := false
	for i, f := range filters {
		deleted[i] = s.a.Remove(f)
		for _, b := range deleted[i] {
			s.bytes -= acl.EncodedSize(b)
		}
		changed = changed || len(deleted[i]) > 0
	}
	if changed {
		if err := s.saveLocked(); err != nil {
			s.a, s.bytes = before, beforeBytes
			for i := range errs {
				deleted[i], errs[i] = nil, fmt.Errorf("save the ACLs: %w", err)
			}
		}
	}
	return deleted, errs
}

// validateACL reports what is wrong with Config.ACL.
func (c Config) validateACL() error {
	if c.ACL == nil {
		return nil
	}
	var errs []error
	if len(c.listeners()) == 0 {
		errs = append(errs, fmt.Errorf("%w: ACL decides the Kafka listeners' requests: it needs Listen or Listeners", ErrInvalidConfig))
	}
	if c.Cluster != nil {
		// The nodes of a cluster reach each other on the Kafka listener
		// without an identity of their own, and each would keep its own
		// bindings: ACLs wait for node identities and replicated ACLs.
		errs = append(errs, fmt.Errorf("%w: ACL is not yet supported with Cluster", ErrInvalidConfig))
	}
	for _, u := range c.ACL.SuperUsers {
		if kind, name, ok := strings.Cut(u, ":"); !ok || kind == "" || name == "" {
			errs = append(errs, fmt.Errorf("%w: ACL.SuperUsers has %q, not a principal (User:name)", ErrInvalidConfig, u))
		}
	}
	if slices.Contains(c.ACL.SuperUsers, acl.WildcardPrincipal) {
		errs = append(errs, fmt.Errorf("%w: ACL.SuperUsers has %s: every principal would be a super user", ErrInvalidConfig, acl.WildcardPrincipal))
	}
	return errors.Join(errs...)
}
