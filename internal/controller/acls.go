// The cluster's ACL bindings (issue 17): what every node's authorizer
// decides requests by, changed by CreateACLs and DeleteACLs.

package controller

import (
	"encoding/json"

	"github.com/creekmq/creek/internal/acl"
)

// ACLs is the cluster's ACL bindings, in the order they were created.
// Metadata shares it between clones and never changes it: a change
// replaces it whole, so a node may keep an authorizer built from it for
// as long as the metadata's ACLs are this value.
type ACLs struct {
	Bindings []acl.Binding
}

// MarshalJSON encodes the bindings as internal/acl does.
func (a *ACLs) MarshalJSON() ([]byte, error) {
	return json.Marshal(acl.Marshal(a.Bindings))
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (a *ACLs) UnmarshalJSON(b []byte) error {
	var raw []byte
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	bindings, err := acl.Unmarshal(raw)
	if err != nil {
		return err
	}
	a.Bindings = bindings
	return nil
}

// ACLBindings returns the cluster's bindings, which the caller must not
// change; none for nil.
func (m *Metadata) ACLBindings() []acl.Binding {
	if m.ACLs == nil {
		return nil
	}
	return m.ACLs.Bindings
}

// CreateACLs adds bindings, those already there changing nothing. It is
// rejected whole if the cluster would hold more than Max bindings or
// MaxBytes of them encoded.
type CreateACLs struct {
	Bindings []byte `json:"bindings"` // internal/acl's encoding
	Max      int    `json:"max"`
	MaxBytes int    `json:"maxBytes"`
}

// DeleteACLs removes bindings, those not there changing nothing: the ones
// the controller's leader found a DeleteAcls request's filters to match.
type DeleteACLs struct {
	Bindings []byte `json:"bindings"` // internal/acl's encoding
}

// createACLs applies CreateACLs to a copy of the bindings.
func (m *Metadata) createACLs(c *CreateACLs) error {
	add, err := acl.Unmarshal(c.Bindings)
	if err != nil {
		return rejected("create ACLs: %v", err)
	}
	next := append([]acl.Binding(nil), m.ACLBindings()...)
	have := map[acl.Binding]bool{}
	size := 0
	for _, b := range next {
		have[b] = true
		size += acl.EncodedSize(b)
	}
	for _, b := range add {
		if !have[b] {
			have[b] = true
			next = append(next, b)
			size += acl.EncodedSize(b)
		}
	}
	if len(next) > c.Max || size > c.MaxBytes {
		return rejected("%d ACLs of %d bytes; at most %d of %d bytes", len(next), size, c.Max, c.MaxBytes)
	}
	m.ACLs = &ACLs{Bindings: next}
	return nil
}

// deleteACLs applies DeleteACLs to a copy of the bindings.
func (m *Metadata) deleteACLs(c *DeleteACLs) error {
	gone, err := acl.Unmarshal(c.Bindings)
	if err != nil {
		return rejected("delete ACLs: %v", err)
	}
	drop := map[acl.Binding]bool{}
	for _, b := range gone {
		drop[b] = true
	}
	var next []acl.Binding
	for _, b := range m.ACLBindings() {
		if !drop[b] {
			next = append(next, b)
		}
	}
	m.ACLs = &ACLs{Bindings: next}
	return nil
}
