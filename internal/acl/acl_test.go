package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func allow(t ResourceType, name string, p PatternType, principal string, op Operation) Binding {
	return Binding{Type: t, Name: name, Pattern: p, Principal: principal, Host: Wildcard, Operation: op, Permission: Allow}
}

func deny(t ResourceType, name string, p PatternType, principal string, op Operation) Binding {
	b := allow(t, name, p, principal, op)
	b.Permission = Deny
	return b
}

// TestAuthorized: the decision, row by row: deny wins, wildcards and
// prefixes apply, operations imply what Kafka says, super users pass,
// and a resource no binding names is allowed only with AllowIfNoACL.
func TestAuthorized(t *testing.T) {
	a := &Authorizer{SuperUsers: map[string]bool{"User:root": true}}
	require.NoError(t, a.Add(
		allow(Topic, "orders", Literal, "User:alice", Read),
		allow(Topic, "logs-", Prefixed, "User:alice", Write),
		deny(Topic, "logs-secret", Literal, "User:alice", All),
		allow(Topic, Wildcard, Literal, "User:reader", Read),
		deny(Topic, "orders", Literal, WildcardPrincipal, Delete),
		allow(Topic, "orders", Literal, "User:bob", All),
		allow(Group, "g", Literal, "User:alice", Read),
		allow(Cluster, ClusterName, Literal, "User:ops", AlterConfigs),
		Binding{Type: Topic, Name: "local", Pattern: Literal, Principal: "User:carol", Host: "10.0.0.1", Operation: Read, Permission: Allow},
	))
	for _, tc := range []struct {
		principal, host string
		op              Operation
		t               ResourceType
		name            string
		want            bool
	}{
		{"User:alice", "1.1.1.1", Read, Topic, "orders", true},
		{"User:alice", "1.1.1.1", Describe, Topic, "orders", true},       // Read implies Describe
		{"User:alice", "1.1.1.1", Write, Topic, "orders", false},         // not granted
		{"User:alice", "1.1.1.1", Write, Topic, "logs-app", true},        // prefixed
		{"User:alice", "1.1.1.1", Describe, Topic, "logs-app", true},     // Write implies Describe
		{"User:alice", "1.1.1.1", Write, Topic, "logs-secret", false},    // deny wins
		{"User:alice", "1.1.1.1", Describe, Topic, "logs-secret", false}, // deny All
		{"User:reader", "1.1.1.1", Read, Topic, "anything", true},        // wildcard name
		{"User:reader", "1.1.1.1", Write, Topic, "anything", false},
		{"User:bob", "1.1.1.1", Write, Topic, "orders", true},   // All
		{"User:bob", "1.1.1.1", Delete, Topic, "orders", false}, // deny for everyone wins over All
		{"User:alice", "1.1.1.1", Read, Group, "g", true},
		{"User:alice", "1.1.1.1", Read, Group, "h", false},
		{"User:ops", "1.1.1.1", DescribeConfigs, Cluster, ClusterName, true}, // AlterConfigs implies DescribeConfigs
		{"User:ops", "1.1.1.1", Alter, Cluster, ClusterName, false},
		{"User:carol", "10.0.0.1", Read, Topic, "local", true},
		{"User:carol", "10.0.0.2", Read, Topic, "local", false},   // another host
		{"User:root", "1.1.1.1", Delete, Topic, "orders", true},   // a super user
		{"User:nobody", "1.1.1.1", Read, Topic, "unnamed", false}, // no ACL, none allowed
		{"User:alice", "1.1.1.1", Read, TransactionalID, "tx", false},
	} {
		got := a.Authorized(tc.principal, tc.host, tc.op, tc.t, tc.name)
		assert.Equal(t, tc.want, got, "%s from %s: %d on %d %q", tc.principal, tc.host, tc.op, tc.t, tc.name)
	}

	a.AllowIfNoACL = true
	assert.True(t, a.Authorized("User:nobody", "h", Write, TransactionalID, "tx"), "no binding names it")
	assert.False(t, a.Authorized("User:nobody", "h", Read, Topic, "unnamed"), "the wildcard binding names every topic")
	assert.False(t, a.Authorized("User:nobody", "h", Read, Topic, "orders"), "bindings name it, none for nobody")
	assert.False(t, a.Authorized("User:nobody", "h", Read, Topic, "logs-x"), "a prefix names it")
	assert.False(t, (&Authorizer{}).Authorized("User:x", "h", Read, Topic, "t"), "the zero value denies")
}

func TestValidate(t *testing.T) {
	good := allow(Topic, "t", Literal, "User:a", Read)
	require.NoError(t, good.Validate())
	for name, edit := range map[string]func(*Binding){
		"any resource":       func(b *Binding) { b.Type = AnyResource },
		"match pattern":      func(b *Binding) { b.Pattern = Match },
		"any operation":      func(b *Binding) { b.Operation = AnyOperation },
		"any permission":     func(b *Binding) { b.Permission = AnyPermission },
		"empty name":         func(b *Binding) { b.Name = "" },
		"prefixed wildcard":  func(b *Binding) { b.Name, b.Pattern = Wildcard, Prefixed },
		"a cluster misnamed": func(b *Binding) { b.Type, b.Name = Cluster, "c" },
		"no host":            func(b *Binding) { b.Host = "" },
		"bare principal":     func(b *Binding) { b.Principal = "alice" },
		"unknown operation":  func(b *Binding) { b.Operation = 15 },
	} {
		b := good
		edit(&b)
		assert.ErrorIs(t, b.Validate(), ErrInvalidBinding, name)
		assert.ErrorIs(t, (&Authorizer{}).Add(good, b), ErrInvalidBinding, name)
	}
	a := &Authorizer{}
	require.NoError(t, a.Add(good, good))
	assert.Len(t, a.Bindings(), 1, "a binding is there once")
}

// TestFilters: DescribeAcls' and DeleteAcls' filters, Match finding the
// bindings that apply to a name.
func TestFilters(t *testing.T) {
	literal := allow(Topic, "orders", Literal, "User:a", Read)
	wildcard := allow(Topic, Wildcard, Literal, "User:b", Write)
	prefix := deny(Topic, "ord", Prefixed, "User:a", Read)
	other := allow(Group, "orders", Literal, "User:a", Read)
	a := &Authorizer{}
	require.NoError(t, a.Add(literal, wildcard, prefix, other))
	anyFilter := Filter{Type: AnyResource, Pattern: AnyPattern, Operation: AnyOperation, Permission: AnyPermission}
	for name, tc := range map[string]struct {
		edit func(*Filter)
		want []Binding
	}{
		"everything":   {func(*Filter) {}, []Binding{literal, wildcard, prefix, other}},
		"topics":       {func(f *Filter) { f.Type = Topic }, []Binding{literal, wildcard, prefix}},
		"named orders": {func(f *Filter) { f.Name = "orders" }, []Binding{literal, other}},
		"literal":      {func(f *Filter) { f.Pattern = Literal }, []Binding{literal, wildcard, other}},
		"prefixed":     {func(f *Filter) { f.Pattern = Prefixed }, []Binding{prefix}},
		"match orders": {func(f *Filter) { f.Type, f.Pattern, f.Name = Topic, Match, "orders" }, []Binding{literal, wildcard, prefix}},
		"match other":  {func(f *Filter) { f.Type, f.Pattern, f.Name = Topic, Match, "x" }, []Binding{wildcard}},
		"principal a":  {func(f *Filter) { f.Principal = "User:a" }, []Binding{literal, prefix, other}},
		"denials":      {func(f *Filter) { f.Permission = Deny }, []Binding{prefix}},
		"writes":       {func(f *Filter) { f.Operation = Write }, []Binding{wildcard}},
		"host of none": {func(f *Filter) { f.Host = "10.0.0.1" }, nil},
	} {
		f := anyFilter
		tc.edit(&f)
		assert.Equal(t, tc.want, a.Find(f), name)
	}
	f := anyFilter
	f.Principal = "User:a"
	assert.Equal(t, []Binding{literal, prefix, other}, a.Remove(f))
	assert.Equal(t, []Binding{wildcard}, a.Bindings(), "what the filter did not match stays")
}

// FuzzBindings: any bytes give bindings or an error, never a panic, and
// what decodes encodes to the same bytes.
func FuzzBindings(f *testing.F) {
	f.Add(Marshal([]Binding{
		{Type: Topic, Name: "orders", Pattern: Prefixed, Principal: "User:alice", Host: Wildcard, Operation: Read, Permission: Allow},
		{Type: Cluster, Name: ClusterName, Pattern: Literal, Principal: WildcardPrincipal, Host: "10.0.0.1", Operation: Alter, Permission: Deny},
	}))
	f.Add([]byte{0, 0, 0, 1, 2, 3, 3, 3, 0, 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Unmarshal(b)
		if err != nil {
			return
		}
		assert.Equal(t, b, Marshal(got))
	})
}

func TestBindingsRoundTrip(t *testing.T) {
	in := []Binding{
		{Type: Topic, Name: "orders", Pattern: Prefixed, Principal: "User:alice", Host: Wildcard, Operation: Read, Permission: Allow},
		{Type: Group, Name: Wildcard, Pattern: Literal, Principal: "User:bob", Host: "::1", Operation: All, Permission: Deny},
	}
	out, err := Unmarshal(Marshal(in))
	require.NoError(t, err)
	assert.Equal(t, in, out)
	_, err = Unmarshal(Marshal(append(in, in[0])))
	assert.Error(t, err, "a binding twice")
	_, err = Unmarshal(Marshal([]Binding{{Type: AnyResource, Name: "x", Pattern: Literal, Principal: "User:a", Host: "*", Operation: Read, Permission: Allow}}))
	assert.ErrorIs(t, err, ErrInvalidBinding)
	_, err = Unmarshal(Marshal(in)[:10])
	assert.Error(t, err)
}

func TestAuthorizedByType(t *testing.T) {
	const alice = "User:alice"
	cases := []struct {
		name     string
		bindings []Binding
		noACL    bool
		want     bool
	}{
		{"nothing", nil, false, false},
		{"nothing, allowed if no ACL", nil, true, true},
		{"bindings of the type name no one else", []Binding{allow(Topic, "x", Literal, "User:bob", Write)}, true, false},
		{"a literal allow", []Binding{allow(Topic, "orders", Literal, alice, Write)}, false, true},
		{"a prefixed allow", []Binding{allow(Topic, "ord", Prefixed, alice, Write)}, false, true},
		{"All grants it", []Binding{allow(Topic, "orders", Literal, alice, All)}, false, true},
		{"another operation does not", []Binding{allow(Topic, "orders", Literal, alice, Read)}, false, false},
		{"another type does not", []Binding{allow(Group, "orders", Literal, alice, Write)}, false, false},
		{"a wildcard deny refuses it", []Binding{allow(Topic, "orders", Literal, alice, Write), deny(Topic, Wildcard, Literal, alice, Write)}, false, false},
		{"a deny of the same name overrides", []Binding{allow(Topic, "orders", Literal, alice, Write), deny(Topic, "orders", Literal, alice, Write)}, false, false},
		{"a deny of a prefix overrides", []Binding{allow(Topic, "orders", Literal, alice, Write), deny(Topic, "or", Prefixed, alice, All)}, false, false},
		{"a deny elsewhere leaves it", []Binding{allow(Topic, "orders", Literal, alice, Write), deny(Topic, "payments", Literal, alice, Write)}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Authorizer{AllowIfNoACL: c.noACL}
			require.NoError(t, a.Add(c.bindings...))
			assert.Equal(t, c.want, a.AuthorizedByType(alice, "10.0.0.1", Write, Topic))
		})
	}
	super := Authorizer{SuperUsers: map[string]bool{alice: true}}
	assert.True(t, super.AuthorizedByType(alice, "h", Write, Topic))
}

func TestEncodedSize(t *testing.T) {
	b := allow(Topic, "orders", Prefixed, "User:alice", Read)
	assert.Len(t, Marshal([]Binding{b, b}), 4+2*EncodedSize(b))
}
