// ACLs in a cluster (issue 17): the bindings of the committed metadata,
// which every node's authorizer decides requests by; created and deleted
// on the controller's leader, to which the other nodes forward CreateAcls
// and DeleteAcls.

package creek

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/controller"
	"github.com/creekmq/creek/internal/kafka"
)

// clusterACLs is a cluster node's authorizer: kafka.Authorizer over the
// committed bindings, with the node's own super users and
// AllowIfNoACL.
type clusterACLs struct {
	n     *Node
	empty acl.Authorizer // the node's ACLConfig, without bindings
	// caughtUp waits for the node to catch up with the metadata, for at
	// most a while, and reports whether it has:
	// clusterController.awaitCaughtUp.
	caughtUp func() bool

	built  atomic.Pointer[builtACLs] // the authorizer of the bindings last seen
	alters sync.Mutex                // on the controller's leader, one change at a time
}

// builtACLs is an authorizer over one value of the metadata's ACLs.
type builtACLs struct {
	from *controller.ACLs
	a    acl.Authorizer
}

var _ kafka.Authorizer = (*clusterACLs)(nil)

// authorizer returns the authorizer of the bindings this node's metadata
// holds, built again only when they changed: the metadata replaces its
// ACLs whole at each change, so the value tells. A node that has not
// caught up with the metadata (a restarted one replaying it) decides by
// its super users alone, failing closed: its bindings may lack a denial,
// or with AllowIfNoACL every binding, committed since.
func (c *clusterACLs) authorizer() *acl.Authorizer {
	if !c.caughtUp() {
		closed := acl.Authorizer{SuperUsers: c.empty.SuperUsers}
		return &closed
	}
	current := c.n.controller.fsm.Metadata().ACLs
	if b := c.built.Load(); b != nil && b.from == current {
		return &b.a
	}
	b := &builtACLs{from: current, a: c.empty.Clone()}
	if current != nil {
		if err := b.a.Add(current.Bindings...); err != nil { // committed ones were valid when created
			c.n.log.Error("could not take the cluster's ACLs", "err", err)
		}
	}
	c.built.Store(b)
	return &b.a
}

// clusterACLsVersion is clusterACLs' version: the metadata's bindings,
// and whether the node had caught up with them.
type clusterACLsVersion struct {
	acls     *controller.ACLs
	caughtUp bool
}

// version is versionedAuthorizer's.
func (c *clusterACLs) version() any {
	ctl := c.n.controller
	if ctl == nil {
		return clusterACLsVersion{}
	}
	return clusterACLsVersion{acls: ctl.fsm.Metadata().ACLs, caughtUp: ctl.registered()}
}

// Authorized is kafka.Authorizer's.
func (c *clusterACLs) Authorized(p kafka.Principal, host string, op acl.Operation, t acl.ResourceType, name string) bool {
	return c.authorizer().Authorized(string(p), host, op, t, name)
}

// AuthorizedByType is kafka.Authorizer's.
func (c *clusterACLs) AuthorizedByType(p kafka.Principal, host string, op acl.Operation, t acl.ResourceType) bool {
	return c.authorizer().AuthorizedByType(string(p), host, op, t)
}

// DescribeACLs is kafka.Authorizer's: the bindings this node's metadata
// holds.
func (c *clusterACLs) DescribeACLs(f acl.Filter) []acl.Binding { return c.authorizer().Find(f) }

// onLeader runs change on the controller's leader, one at a time, and
// reports true; or reports false when another node leads, for the caller
// to forward the request there; err is why neither could be done.
func (c *clusterACLs) onLeader(ctx context.Context, change func()) (bool, error) {
	leader, err := c.n.controller.awaitLeader(ctx)
	if err != nil || leader != c.n.nodeID() {
		return false, err
	}
	c.alters.Lock()
	defer c.alters.Unlock()
	change()
	return true, nil
}

// CreateACLs adds the bindings to the cluster's: on the controller's
// leader, checked as one node checks them and committed as one
// CreateACLs; elsewhere, forwarded to the leader.
func (c *clusterACLs) CreateACLs(ctx context.Context, bindings []acl.Binding) []error {
	var errs []error
	here, err := c.onLeader(ctx, func() {
		a := c.authorizer().Clone()
		bytes := 0
		for _, b := range a.Bindings() {
			bytes += acl.EncodedSize(b)
		}
		var added []acl.Binding
		errs, added, _ = planACLCreations(&a, bytes, maxACLs, bindings)
		if len(added) == 0 {
			return
		}
		if err := c.n.controller.propose(ctx, controller.Command{CreateACLs: &controller.CreateACLs{
			Bindings: acl.Marshal(added), Max: maxACLs, MaxBytes: maxACLBytes}}); err != nil {
			fill(errs, err)
		}
	})
	switch {
	case err != nil:
		return fill(make([]error, len(bindings)), err)
	case !here:
		return c.forwardCreate(ctx, bindings)
	}
	return errs
}

// DeleteACLs removes the bindings each filter matches from the cluster's:
// on the controller's leader, the matches committed as one DeleteACLs;
// elsewhere, forwarded to the leader.
func (c *clusterACLs) DeleteACLs(ctx context.Context, filters []acl.Filter) ([][]acl.Binding, []error) {
	var deleted [][]acl.Binding
	errs := make([]error, len(filters))
	here, err := c.onLeader(ctx, func() {
		a := c.authorizer().Clone()
		var gone []acl.Binding
		if deleted, gone = removeACLs(&a, filters); len(gone) == 0 {
			return
		}
		if err := c.n.controller.propose(ctx, controller.Command{DeleteACLs: &controller.DeleteACLs{
			Bindings: acl.Marshal(gone)}}); err != nil {
			deleted = make([][]acl.Binding, len(filters))
			fill(errs, err)
		}
	})
	switch {
	case err != nil:
		return make([][]acl.Binding, len(filters)), fill(errs, err)
	case !here:
		return c.forwardDelete(ctx, filters)
	}
	return deleted, errs
}

// fill sets every entry of errs to err, and returns errs.
func fill(errs []error, err error) []error {
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// forwardCreate asks the controller's leader to create the bindings, and
// returns its answer for each.
func (c *clusterACLs) forwardCreate(ctx context.Context, bindings []acl.Binding) []error {
	req := kmsg.NewPtrCreateACLsRequest()
	for _, b := range bindings {
		rc := kmsg.NewCreateACLsRequestCreation()
		rc.ResourceType, rc.ResourceName = kmsg.ACLResourceType(b.Type), b.Name
		rc.ResourcePatternType = kmsg.ACLResourcePatternType(b.Pattern)
		rc.Principal, rc.Host = b.Principal, b.Host
		rc.Operation, rc.PermissionType = kmsg.ACLOperation(b.Operation), kmsg.ACLPermissionType(b.Permission)
		req.Creations = append(req.Creations, rc)
	}
	errs := make([]error, len(bindings))
	resp, err := c.n.askController(ctx, req)
	if err != nil {
		return fill(errs, err)
	}
	results := resp.(*kmsg.CreateACLsResponse).Results
	if len(results) != len(bindings) {
		return fill(errs, fmt.Errorf("the controller answered for %d of %d ACLs", len(results), len(bindings)))
	}
	for i, r := range results {
		errs[i] = errorForCode(r.ErrorCode, "create an ACL on the controller")
	}
	return errs
}

// forwardDelete asks the controller's leader to delete what the filters
// match, and returns its answer for each filter.
func (c *clusterACLs) forwardDelete(ctx context.Context, filters []acl.Filter) ([][]acl.Binding, []error) {
	req := kmsg.NewPtrDeleteACLsRequest()
	orNil := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for _, f := range filters {
		rf := kmsg.NewDeleteACLsRequestFilter()
		rf.ResourceType, rf.ResourceName = kmsg.ACLResourceType(f.Type), orNil(f.Name)
		rf.ResourcePatternType = kmsg.ACLResourcePatternType(f.Pattern)
		rf.Principal, rf.Host = orNil(f.Principal), orNil(f.Host)
		rf.Operation, rf.PermissionType = kmsg.ACLOperation(f.Operation), kmsg.ACLPermissionType(f.Permission)
		req.Filters = append(req.Filters, rf)
	}
	deleted, errs := make([][]acl.Binding, len(filters)), make([]error, len(filters))
	resp, err := c.n.askController(ctx, req)
	if err != nil {
		return deleted, fill(errs, err)
	}
	results := resp.(*kmsg.DeleteACLsResponse).Results
	if len(results) != len(filters) {
		return deleted, fill(errs, fmt.Errorf("the controller answered for %d of %d filters", len(results), len(filters)))
	}
	for i, r := range results {
		if errs[i] = errorForCode(r.ErrorCode, "delete ACLs on the controller"); errs[i] != nil {
			continue
		}
		for _, m := range r.MatchingACLs {
			deleted[i] = append(deleted[i], acl.Binding{Type: acl.ResourceType(m.ResourceType), Name: m.ResourceName,
				Pattern: acl.PatternType(m.ResourcePatternType), Principal: m.Principal, Host: m.Host,
				Operation: acl.Operation(m.Operation), Permission: acl.Permission(m.PermissionType)})
		}
	}
	return deleted, errs
}
