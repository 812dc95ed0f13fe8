// ACLs (issue 17): the authorizer that decides each Kafka request by its
// principal's ACL bindings, kept in the node's directory and managed with
// CreateAcls, DescribeAcls and DeleteAcls.

package creek

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
// DeleteAcls (kadm's CreateACLs, `creek acl`); in a cluster they are the
// cluster's, in its replicated metadata (clusteracl.go), and the nodes'
// own principal must be among SuperUsers. A connection's principal
// is its SASL user ("User:alice"), else the subject of its verified TLS
// client certificate, else "User:ANONYMOUS". In-process Producers and
// Consumers are the application's and are not checked, unless they name a
// Principal (actingas.go).
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

	mu      sync.RWMutex
	a       acl.Authorizer
	bytes   int           // the bindings' encoded size
	changes atomic.Uint64 // the bindings' changes, their version
}

// version is versionedAuthorizer's: the count of changes.
func (s *aclStore) version() any { return s.changes.Load() }

var _ kafka.Authorizer = (*aclStore)(nil)

// openACLStore reads the node's ACLs; a directory without the file has
// none.
func openACLStore(fs fsx.FS, dir string, cfg *ACLConfig) (*aclStore, error) {
	s := &aclStore{fs: fs, dir: dir, max: maxACLs, a: cfg.emptyAuthorizer()}
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

// emptyAuthorizer returns an authorizer of cfg without bindings: its
// super users, and whether no ACL allows.
func (cfg *ACLConfig) emptyAuthorizer() acl.Authorizer {
	a := acl.Authorizer{AllowIfNoACL: cfg.AllowIfNoACL, SuperUsers: map[string]bool{}}
	for _, u := range cfg.SuperUsers {
		a.SuperUsers[u] = true
	}
	return a
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
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.a.Clone()
	errs, added, bytes := planACLCreations(&next, s.bytes, s.max, bindings)
	if len(added) == 0 {
		return errs
	}
	before, beforeBytes := s.a, s.bytes
	s.a, s.bytes = next, bytes
	if err := s.saveLocked(); err != nil {
		s.a, s.bytes = before, beforeBytes
		for i := range errs {
			errs[i] = fmt.Errorf("save the ACLs: %w", err)
		}
		return errs
	}
	s.changes.Add(1)
	return errs
}

// planACLCreations adds to a, whose bindings take bytes encoded, those of
// bindings that are ACLs and not there yet, within max bindings and
// maxACLBytes, and returns an error or nil for each binding, those it
// added, and the bytes a's bindings then take.
func planACLCreations(a *acl.Authorizer, bytes, max int, bindings []acl.Binding) ([]error, []acl.Binding, int) {
	errs := make([]error, len(bindings))
	var added []acl.Binding
	for i, b := range bindings {
		if err := b.Validate(); err != nil {
			errs[i] = err
			continue
		}
		if a.Has(b) {
			continue
		}
		if a.Len() >= max || bytes+acl.EncodedSize(b) > maxACLBytes {
			errs[i] = fmt.Errorf("%w: at most %d ACLs, %d MiB of them", kerr.PolicyViolation, max, maxACLBytes>>20)
			continue
		}
		if errs[i] = a.Add(b); errs[i] == nil {
			bytes += acl.EncodedSize(b)
			added = append(added, b)
		}
	}
	return errs, added, bytes
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
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.a.Clone()
	deleted, gone := removeACLs(&next, filters)
	errs := make([]error, len(filters))
	if len(gone) == 0 {
		return deleted, errs
	}
	before, beforeBytes := s.a, s.bytes
	s.a = next
	for _, b := range gone {
		s.bytes -= acl.EncodedSize(b)
	}
	if err := s.saveLocked(); err != nil {
		s.a, s.bytes = before, beforeBytes
		for i := range errs {
			deleted[i], errs[i] = nil, fmt.Errorf("save the ACLs: %w", err)
		}
		return deleted, errs
	}
	s.changes.Add(1)
	return deleted, errs
}

// removeACLs removes from a the bindings each filter matches, a binding
// two filters match going with the first, and returns them by filter and
// all together.
func removeACLs(a *acl.Authorizer, filters []acl.Filter) (byFilter [][]acl.Binding, all []acl.Binding) {
	byFilter = make([][]acl.Binding, len(filters))
	for i, f := range filters {
		byFilter[i] = a.Remove(f)
		all = append(all, byFilter[i]...)
	}
	return byFilter, all
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
	if p, ok := c.nodePrincipal(); ok && !slices.Contains(c.ACL.SuperUsers, p) {
		// Replica fetches, ISR changes and forwarded requests come as the
		// node's principal, which only a super user's powers let through,
		// as Kafka's inter-broker principal must be one.
		errs = append(errs, fmt.Errorf("%w: with ACL in a cluster the nodes' principal, %s here, must be in ACL.SuperUsers",
			ErrInvalidConfig, p))
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

// nodePrincipal returns the principal this node's requests to the other
// nodes come as, when it can be known before it runs: User:ANONYMOUS on
// a PLAINTEXT inter-broker listener, or the subject of the certificate
// of ClusterConfig.TLS; false outside a cluster, or for a certificate
// given only by a callback.
func (c Config) nodePrincipal() (string, bool) {
	listeners := c.listeners()
	if c.Cluster == nil || len(listeners) == 0 {
		return "", false
	}
	if t := c.Cluster.TLS; t != nil {
		if len(t.Certificates) == 0 || len(t.Certificates[0].Certificate) == 0 {
			return "", false
		}
		cert, err := x509.ParseCertificate(t.Certificates[0].Certificate[0])
		if err != nil {
			return "", false
		}
		return "User:" + cert.Subject.String(), true
	}
	return string(kafka.Anonymous), true
}
