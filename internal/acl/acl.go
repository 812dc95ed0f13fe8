// Package acl is Kafka's authorizer model (issue 17; KIP-11, KIP-290):
// ACL bindings of a principal and a host to an operation on a resource
// pattern, allowed or denied, and the decision a request gets from them —
// deny wins, super users pass, allow.everyone.if.no.acl.found for
// resources no ACL names, and the operations an allowed one implies. It
// does no I/O and keeps no state but the bindings it is given; the node
// checks each request with it (internal/kafka's APIAccess says what each
// API needs) and keeps the bindings in its directory (Marshal).
package acl

import (
	"errors"
	"fmt"
	"strings"
)

// ResourceType is what an ACL applies to, numbered as Kafka's.
type ResourceType int8

// Kafka's resource types; Any matches all in a filter.
const (
	AnyResource     ResourceType = 1
	Topic           ResourceType = 2
	Group           ResourceType = 3
	Cluster         ResourceType = 4
	TransactionalID ResourceType = 5
	DelegationToken ResourceType = 6
	User            ResourceType = 7
)

// PatternType is how an ACL's resource name matches, numbered as Kafka's.
type PatternType int8

// Kafka's pattern types. A binding's is Literal or Prefixed; AnyPattern
// and Match are for filters: Match finds the bindings that would apply to
// a name (the literal name, the wildcard, and prefixes of it).
const (
	AnyPattern PatternType = 1
	Match      PatternType = 2
	Literal    PatternType = 3
	Prefixed   PatternType = 4
)

// Operation is what a principal does to a resource, numbered as Kafka's.
type Operation int8

// Kafka's operations; AnyOperation matches all in a filter, All is every
// operation in a binding.
const (
	AnyOperation    Operation = 1
	All             Operation = 2
	Read            Operation = 3
	Write           Operation = 4
	Create          Operation = 5
	Delete          Operation = 6
	Alter           Operation = 7
	Describe        Operation = 8
	ClusterAction   Operation = 9
	DescribeConfigs Operation = 10
	AlterConfigs    Operation = 11
	IdempotentWrite Operation = 12
	CreateTokens    Operation = 13
	DescribeTokens  Operation = 14
)

// Permission is whether a binding allows or denies, numbered as Kafka's.
type Permission int8

// Kafka's permissions; AnyPermission matches both in a filter.
const (
	AnyPermission Permission = 1
	Deny          Permission = 2
	Allow         Permission = 3
)

// Wildcard is the resource name, principal ("User:*") and host that match
// all.
const Wildcard = "*"

// WildcardPrincipal matches every principal.
const WildcardPrincipal = "User:*"

// Binding is one ACL: Principal from Host may (Allow) or may not (Deny) do
// Operation to the resources of Type whose names match Name as Pattern
// says.
type Binding struct {
	Type       ResourceType
	Name       string
	Pattern    PatternType
	Principal  string // "User:alice", or WildcardPrincipal
	Host       string // an IP address, or Wildcard
	Operation  Operation
	Permission Permission
}

// ErrInvalidBinding is wrapped by the errors of bindings that are not
// ACLs: Kafka's INVALID_REQUEST.
var ErrInvalidBinding = errors.New("acl: not an ACL binding")

// Validate reports what makes b no ACL: a filter's value (any, match), a
// type, operation or permission Kafka does not have, an empty name or a
// principal that is not "type:name", or a cluster not named
// "kafka-cluster".
func (b Binding) Validate() error {
	fail := func(why string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidBinding, fmt.Sprintf(why, args...))
	}
	switch {
	case b.Type < Topic || b.Type > User:
		return fail("resource type %d", b.Type)
	case b.Pattern != Literal && b.Pattern != Prefixed:
		return fail("pattern type %d", b.Pattern)
	case b.Operation < All || b.Operation > DescribeTokens:
		return fail("operation %d", b.Operation)
	case b.Permission != Allow && b.Permission != Deny:
		return fail("permission %d", b.Permission)
	case b.Name == "":
		return fail("an empty resource name")
	case b.Pattern == Prefixed && b.Name == Wildcard:
		return fail("a prefixed wildcard")
	case b.Type == Cluster && b.Name != ClusterName:
		return fail("the cluster resource is named %q, not %q", ClusterName, b.Name)
	case b.Host == "":
		return fail("an empty host")
	}
	if kind, name, ok := strings.Cut(b.Principal, ":"); !ok || kind == "" || name == "" {
		return fail("principal %q is not type:name", b.Principal)
	}
	return nil
}

// ClusterName is the name of the one cluster resource.
const ClusterName = "kafka-cluster"

// appliesTo reports whether b's resource pattern covers the resource of
// type t named name.
func (b Binding) appliesTo(t ResourceType, name string) bool {
	if b.Type != t {
		return false
	}
	switch b.Pattern {
	case Literal:
		return b.Name == name || b.Name == Wildcard
	case Prefixed:
		return strings.HasPrefix(name, b.Name)
	}
	return false
}

// covers reports whether b is about principal from host.
func (b Binding) covers(principal, host string) bool {
	return (b.Principal == principal || b.Principal == WildcardPrincipal) && (b.Host == host || b.Host == Wildcard)
}

var typeNames = map[ResourceType]string{AnyResource: "ANY", Topic: "TOPIC", Group: "GROUP", Cluster: "CLUSTER",
	TransactionalID: "TRANSACTIONAL_ID", DelegationToken: "DELEGATION_TOKEN", User: "USER"}

// String returns Kafka's name of t.
func (t ResourceType) String() string {
	if name, ok := typeNames[t]; ok {
		return name
	}
	return fmt.Sprintf("ResourceType(%d)", int8(t))
}

var operationNames = map[Operation]string{AnyOperation: "ANY", All: "ALL", Read: "READ", Write: "WRITE",
	Create: "CREATE", Delete: "DELETE", Alter: "ALTER", Describe: "DESCRIBE", ClusterAction: "CLUSTER_ACTION",
	DescribeConfigs: "DESCRIBE_CONFIGS", AlterConfigs: "ALTER_CONFIGS", IdempotentWrite: "IDEMPOTENT_WRITE",
	CreateTokens: "CREATE_TOKENS", DescribeTokens: "DESCRIBE_TOKENS"}

// String returns Kafka's name of op.
func (op Operation) String() string {
	if name, ok := operationNames[op]; ok {
		return name
	}
	return fmt.Sprintf("Operation(%d)", int8(op))
}
