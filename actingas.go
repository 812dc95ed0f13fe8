// Embedded clients as principals (issue 17): a Producer or Consumer whose
// config names a Principal is authorized by the node's ACLs as a Kafka
// client of that principal is; one that names none is the application's
// own, trusted, as before.

package creek

import (
	"fmt"
	"sync"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/kafka"
)

// actingAs is the principal an embedded client acts as, and the grants
// found for it since the node's ACLs last changed. The zero value and a
// nil one check nothing.
type actingAs struct {
	n         *Node
	principal kafka.Principal

	mu      sync.Mutex
	version any            // the ACLs' version the grants were found at
	granted map[grant]bool // what was allowed at version
}

// grant is an operation on a resource.
type grant struct {
	op   acl.Operation
	t    acl.ResourceType
	name string
}

// versionedAuthorizer is an authorizer that tells when its bindings
// change: version is comparable, and another value after each change.
type versionedAuthorizer interface {
	kafka.Authorizer
	version() any
}

// newActingAs returns what a client of config principal acts as: nil,
// checking nothing, when it names none or the node has no ACLs.
func newActingAs(n *Node, principal string) *actingAs {
	if principal == "" || n.acls == nil {
		return nil
	}
	return &actingAs{n: n, principal: kafka.Principal(principal)}
}

// may returns nil when the principal may do op to the resource of type t
// named name, and otherwise the error Kafka's client would get. An
// allowed check is remembered until the ACLs change, so a producer asks
// the authorizer once per topic, not per record.
func (a *actingAs) may(op acl.Operation, t acl.ResourceType, name string) error {
	if a == nil {
		return nil
	}
	g := grant{op, t, name}
	authorizer := a.n.acls.(versionedAuthorizer)
	version := authorizer.version()
	a.mu.Lock()
	if a.version != version {
		a.version, a.granted = version, map[grant]bool{}
	}
	ok := a.granted[g]
	a.mu.Unlock()
	if ok || authorizer.Authorized(a.principal, "", op, t, name) {
		if !ok {
			a.mu.Lock()
			if a.version == version {
				a.granted[g] = true
			}
			a.mu.Unlock()
		}
		return nil
	}
	return fmt.Errorf("%w: %s may not %v %v %q", refusalOf(t), a.principal, op, t, name)
}

// mayAny is may for some resource of type t.
func (a *actingAs) mayAny(op acl.Operation, t acl.ResourceType) bool {
	return a == nil || a.n.acls.AuthorizedByType(a.principal, "", op, t)
}

// refusalOf returns the error of a refused operation on a resource of
// type t, as Kafka names them.
func refusalOf(t acl.ResourceType) error {
	switch t {
	case acl.Topic:
		return ErrTopicAuthorizationFailed
	case acl.Group:
		return ErrGroupAuthorizationFailed
	case acl.TransactionalID:
		return ErrTransactionalIDAuthorizationFailed
	}
	return ErrClusterAuthorizationFailed
}
