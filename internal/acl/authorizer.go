package acl

import (
	"fmt"
	"strings"
)

// Authorizer decides requests by a set of bindings, as Kafka's
// StandardAuthorizer does. The zero value denies everything to everyone
// but super users; it is not safe for concurrent use (the caller swaps a
// new one in, or locks).
type Authorizer struct {
	// SuperUsers pass every check (super.users).
	SuperUsers map[string]bool
	// AllowIfNoACL allows an operation on a resource that no binding
	// names at all (allow.everyone.if.no.acl.found).
	AllowIfNoACL bool

	bindings []Binding
	set      map[Binding]bool
	literal  map[resource][]Binding     // literal bindings by type and name (the wildcard's under "*")
	prefixed map[ResourceType][]Binding // prefixed bindings by type
}

// resource is a type and a name, a literal binding's index key.
type resource struct {
	t    ResourceType
	name string
}

// index adds b to the lookups Authorized uses.
func (a *Authorizer) index(b Binding) {
	if a.set == nil {
		a.set, a.literal, a.prefixed = map[Binding]bool{}, map[resource][]Binding{}, map[ResourceType][]Binding{}
	}
	a.set[b] = true
	if b.Pattern == Prefixed {
		a.prefixed[b.Type] = append(a.prefixed[b.Type], b)
	} else {
		k := resource{b.Type, b.Name}
		a.literal[k] = append(a.literal[k], b)
	}
}

// reindex rebuilds the lookups from the bindings.
func (a *Authorizer) reindex() {
	a.set, a.literal, a.prefixed = nil, nil, nil
	for _, b := range a.bindings {
		a.index(b)
	}
}

// Bindings returns the authorizer's bindings, in the order they were
// added.
func (a *Authorizer) Bindings() []Binding { return append([]Binding(nil), a.bindings...) }

// Has reports whether a holds b.
func (a *Authorizer) Has(b Binding) bool { return a.set[b] }

// Len returns how many bindings a holds.
func (a *Authorizer) Len() int { return len(a.bindings) }

// Clone returns a copy of a that changes to a leave alone.
func (a *Authorizer) Clone() Authorizer {
	c := *a
	c.bindings = append([]Binding(nil), a.bindings...)
	c.reindex()
	return c
}

// Add adds bindings, each validated first; one already there is not added
// twice. It adds none when one is invalid.
func (a *Authorizer) Add(bs ...Binding) error {
	for _, b := range bs {
		if err := b.Validate(); err != nil {
			return err
		}
	}
	for _, b := range bs {
		if !a.set[b] {
			a.bindings = append(a.bindings, b)
			a.index(b)
		}
	}
	return nil
}

// Remove removes the bindings f matches and returns them.
func (a *Authorizer) Remove(f Filter) []Binding {
	var removed []Binding
	kept := a.bindings[:0]
	for _, b := range a.bindings {
		if f.Matches(b) {
			removed = append(removed, b)
		} else {
			kept = append(kept, b)
		}
	}
	a.bindings = kept
	if len(removed) > 0 {
		a.reindex()
	}
	return removed
}

// Find returns the bindings f matches.
func (a *Authorizer) Find(f Filter) []Binding {
	var out []Binding
	for _, b := range a.bindings {
		if f.Matches(b) {
			out = append(out, b)
		}
	}
	return out
}

// Authorized reports whether principal from host may do op to the
// resource of type t named name: a super user may; otherwise a binding
// that denies it (op, or All) refuses it whatever allows it; then one
// that allows it, or an operation that implies it, grants it; failing
// all, it is allowed only when no binding names the resource and
// AllowIfNoACL is set.
func (a *Authorizer) Authorized(principal, host string, op Operation, t ResourceType, name string) bool {
	if a.SuperUsers[principal] {
		return true
	}
	named, allowed := false, false
	for _, list := range [][]Binding{a.literal[resource{t, name}], a.literal[resource{t, Wildcard}], a.prefixed[t]} {
		for _, b := range list {
			if !b.appliesTo(t, name) {
				continue
			}
			named = true
			if !b.covers(principal, host) {
				continue
			}
			switch {
			case b.Permission == Deny && (b.Operation == op || b.Operation == All):
				return false
			case b.Permission == Allow && grants(b.Operation, op):
				allowed = true
			}
		}
	}
	return allowed || !named && a.AllowIfNoACL
}

// AuthorizedByType reports whether principal from host may do op to at
// least one resource of type t, as Kafka's authorizeByResourceType
// answers an idempotent producer's InitProducerId without a
// transactional ID (WRITE on any topic): a super user may; a denial of
// op on every resource of the type (the literal wildcard) refuses it;
// otherwise an allowing binding not overridden by a denial of the same
// resource (literal), or of a prefix of it, grants it; failing that, it
// is allowed only when no binding names a resource of the type and
// AllowIfNoACL is set.
func (a *Authorizer) AuthorizedByType(principal, host string, op Operation, t ResourceType) bool {
	if a.SuperUsers[principal] {
		return true
	}
	var denied []Binding
	typed := false
	for _, b := range a.bindings {
		if b.Type != t {
			continue
		}
		typed = true
		if b.covers(principal, host) && b.Permission == Deny && (b.Operation == op || b.Operation == All) {
			if b.Pattern == Literal && b.Name == Wildcard {
				return false
			}
			denied = append(denied, b)
		}
	}
	for _, b := range a.bindings {
		if b.Type != t || !b.covers(principal, host) || b.Permission != Allow || !grants(b.Operation, op) {
			continue
		}
		overridden := false
		for _, d := range denied {
			if d.Pattern == Literal && d.Name == b.Name && b.Pattern == Literal ||
				d.Pattern == Prefixed && strings.HasPrefix(b.Name, d.Name) && b.Name != Wildcard {
				overridden = true
				break
			}
		}
		if !overridden {
			return true
		}
	}
	return !typed && a.AllowIfNoACL
}

// grants reports whether an allowed operation permits op: itself, All,
// and the implications Kafka makes — Read, Write, Delete or Alter let a
// principal Describe; AlterConfigs lets it DescribeConfigs.
func grants(allowed, op Operation) bool {
	switch {
	case allowed == op || allowed == All:
		return true
	case op == Describe:
		return allowed == Read || allowed == Write || allowed == Delete || allowed == Alter
	case op == DescribeConfigs:
		return allowed == AlterConfigs
	}
	return false
}

// Filter selects bindings, as DescribeAcls and DeleteAcls name them: a
// value of Any (or "" for Name, Principal and Host) matches all.
type Filter struct {
	Type       ResourceType
	Name       string
	Pattern    PatternType
	Principal  string
	Host       string
	Operation  Operation
	Permission Permission
}

// Validate reports a filter value Kafka does not have: a type, pattern
// type, operation or permission out of their ranges (UNKNOWN among them).
func (f Filter) Validate() error {
	switch {
	case f.Type < AnyResource || f.Type > User:
		return fmt.Errorf("%w: filter resource type %d", ErrInvalidBinding, f.Type)
	case f.Pattern < AnyPattern || f.Pattern > Prefixed:
		return fmt.Errorf("%w: filter pattern type %d", ErrInvalidBinding, f.Pattern)
	case f.Operation < AnyOperation || f.Operation > DescribeTokens:
		return fmt.Errorf("%w: filter operation %d", ErrInvalidBinding, f.Operation)
	case f.Permission < AnyPermission || f.Permission > Allow:
		return fmt.Errorf("%w: filter permission %d", ErrInvalidBinding, f.Permission)
	}
	return nil
}

// Matches reports whether f selects b. A Match pattern selects the
// bindings that would apply to a resource of that name: literal with the
// name or the wildcard, and prefixed with a prefix of it.
func (f Filter) Matches(b Binding) bool {
	switch {
	case f.Type != AnyResource && f.Type != b.Type,
		f.Principal != "" && f.Principal != b.Principal,
		f.Host != "" && f.Host != b.Host,
		f.Operation != AnyOperation && f.Operation != b.Operation,
		f.Permission != AnyPermission && f.Permission != b.Permission:
		return false
	}
	switch f.Pattern {
	case AnyPattern:
		return f.Name == "" || f.Name == b.Name
	case Match:
		return f.Name == "" || b.appliesTo(b.Type, f.Name)
	}
	return f.Pattern == b.Pattern && (f.Name == "" || f.Name == b.Name)
}
