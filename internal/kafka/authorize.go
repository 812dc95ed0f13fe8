package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// Authorizer decides what a principal may do, as Kafka's authorizer
// (authorizer.class.name) does, and keeps the ACLs it decides by. Without
// one (Config.Authorizer nil) every request is served, and the ACL
// requests are answered SECURITY_DISABLED, as by Kafka without an
// authorizer.
type Authorizer interface {
	// Authorized reports whether principal from host may do op to the
	// resource of type t named name.
	Authorized(principal Principal, host string, op acl.Operation, t acl.ResourceType, name string) bool
	// AuthorizedByType reports whether principal from host may do op to
	// some resource of type t.
	AuthorizedByType(principal Principal, host string, op acl.Operation, t acl.ResourceType) bool
	// CreateACLs adds bindings, and returns an error, or nil, for each.
	CreateACLs(ctx context.Context, bindings []acl.Binding) []error
	// DescribeACLs returns the bindings filter matches.
	DescribeACLs(filter acl.Filter) []acl.Binding
	// DeleteACLs removes the bindings each filter matches, and returns
	// them, or an error, for each filter.
	DeleteACLs(ctx context.Context, filters []acl.Filter) ([][]acl.Binding, []error)
}

// Access is one permission a request may need: an operation on a kind of
// resource, and the error a principal without it gets.
type Access struct {
	Operation acl.Operation
	Resource  acl.ResourceType
	Refusal   *kerr.Error
}

// APIAccess says, for every API the listener serves, what Kafka checks
// before it serves a request (KafkaApis): the handlers check these, and
// authorize_test.go goes through the table row by row, refusing each
// permission in turn. A row lists its permissions in the order they are
// checked: a principal without any gets the first one's error. An API without a row needs none (ApiVersions, the
// SASL requests, DescribeCluster, as Metadata answers anyone with what it
// may describe). Where Kafka accepts either of two permissions the row
// has the narrower; the handler's comment names the other:
//   - CreateTopics: CREATE on the cluster, or on each topic.
//   - InitProducerId without a transactional ID: IDEMPOTENT_WRITE on the
//     cluster, or WRITE on any topic.
//   - ListGroups, ListTransactions, Metadata of every topic and OffsetFetch
//     of every topic are not refused: what the principal may not describe
//     is left out.
var APIAccess = map[int16][]Access{
	int16(kmsg.Produce): {{acl.Write, acl.TransactionalID, kerr.TransactionalIDAuthorizationFailed},
		{acl.Write, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.Fetch):        {{acl.Read, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.ListOffsets):  {{acl.Describe, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.Metadata):     {{acl.Describe, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.OffsetCommit): {{acl.Read, acl.Group, kerr.GroupAuthorizationFailed}, {acl.Read, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.OffsetFetch): {{acl.Describe, acl.Group, kerr.GroupAuthorizationFailed},
		{acl.Describe, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.FindCoordinator): {{acl.Describe, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.JoinGroup):       {{acl.Read, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.SyncGroup):       {{acl.Read, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.Heartbeat):       {{acl.Read, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.LeaveGroup):      {{acl.Read, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.DescribeGroups):  {{acl.Describe, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.ListGroups):      nil,

	int16(kmsg.InitProducerID):       {{acl.Write, acl.TransactionalID, kerr.TransactionalIDAuthorizationFailed}},
	int16(kmsg.OffsetForLeaderEpoch): {{acl.Describe, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.AddPartitionsToTxn): {{acl.Write, acl.TransactionalID, kerr.TransactionalIDAuthorizationFailed},
		{acl.Write, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.AddOffsetsToTxn): {{acl.Write, acl.TransactionalID, kerr.TransactionalIDAuthorizationFailed},
		{acl.Read, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.EndTxn):          {{acl.Write, acl.TransactionalID, kerr.TransactionalIDAuthorizationFailed}},
	int16(kmsg.WriteTxnMarkers): {{acl.ClusterAction, acl.Cluster, kerr.ClusterAuthorizationFailed}},
	int16(kmsg.TxnOffsetCommit): {{acl.Write, acl.TransactionalID, kerr.TransactionalIDAuthorizationFailed},
		{acl.Read, acl.Group, kerr.GroupAuthorizationFailed}, {acl.Read, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.DescribeTransactions): {{acl.Describe, acl.TransactionalID, kerr.TransactionalIDAuthorizationFailed}},
	int16(kmsg.ListTransactions):     nil,
	int16(kmsg.DescribeProducers):    {{acl.Read, acl.Topic, kerr.TopicAuthorizationFailed}},

	int16(kmsg.DescribeACLs): {{acl.Describe, acl.Cluster, kerr.ClusterAuthorizationFailed}},
	int16(kmsg.CreateACLs):   {{acl.Alter, acl.Cluster, kerr.ClusterAuthorizationFailed}},
	int16(kmsg.DeleteACLs):   {{acl.Alter, acl.Cluster, kerr.ClusterAuthorizationFailed}},

	int16(kmsg.CreateTopics): {{acl.Create, acl.Topic, kerr.TopicAuthorizationFailed},
		{acl.DescribeConfigs, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.DeleteTopics):               {{acl.Delete, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.CreatePartitions):           {{acl.Alter, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.DescribeConfigs):            {{acl.DescribeConfigs, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.AlterConfigs):               {{acl.AlterConfigs, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.IncrementalAlterConfigs):    {{acl.AlterConfigs, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.DeleteRecords):              {{acl.Delete, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.DeleteGroups):               {{acl.Delete, acl.Group, kerr.GroupAuthorizationFailed}},
	int16(kmsg.OffsetDelete):               {{acl.Delete, acl.Group, kerr.GroupAuthorizationFailed}, {acl.Read, acl.Topic, kerr.TopicAuthorizationFailed}},
	int16(kmsg.AlterPartition):             {{acl.ClusterAction, acl.Cluster, kerr.ClusterAuthorizationFailed}},
	int16(kmsg.ElectLeaders):               {{acl.Alter, acl.Cluster, kerr.ClusterAuthorizationFailed}},
	int16(kmsg.AlterPartitionAssignments):  {{acl.Alter, acl.Cluster, kerr.ClusterAuthorizationFailed}},
	int16(kmsg.ListPartitionReassignments): {{acl.Describe, acl.Cluster, kerr.ClusterAuthorizationFailed}},

	int16(kmsg.DescribeUserSCRAMCredentials): {{acl.Describe, acl.Cluster, kerr.ClusterAuthorizationFailed}},
	int16(kmsg.AlterUserSCRAMCredentials):    {{acl.Alter, acl.Cluster, kerr.ClusterAuthorizationFailed}},
}

// may reports whether the request's principal may do op to the resource
// of type t named name: always without an authorizer. A denial is logged
// (at info; the node's logger passes ten lines of a message a second), as
// Kafka's authorizer logs them.
func (s *Server) may(ctx context.Context, op acl.Operation, t acl.ResourceType, name string) bool {
	if s.mayQuietly(ctx, op, t, name) {
		return true
	}
	s.cfg.Logger.Info("kafka request denied by ACLs", "principal", PrincipalFrom(ctx), "host", clientAddrFrom(ctx),
		"operation", op, "resource_type", t, "resource", name, "client", clientIDFrom(ctx))
	return false
}

// mayQuietly is may without the log of a denial: for a check that only
// filters what a response shows (every topic a Metadata request may
// describe), or that an alternative may still pass, as Kafka checks them
// with logIfDenied off.
func (s *Server) mayQuietly(ctx context.Context, op acl.Operation, t acl.ResourceType, name string) bool {
	a := s.cfg.Authorizer
	return a == nil || a.Authorized(PrincipalFrom(ctx), clientAddrFrom(ctx), op, t, name)
}

// mayCluster reports whether the request's principal may do op to the
// cluster.
func (s *Server) mayCluster(ctx context.Context, op acl.Operation) bool {
	return s.may(ctx, op, acl.Cluster, acl.ClusterName)
}

// mayAny reports whether the request's principal may do op to some
// resource of type t.
func (s *Server) mayAny(ctx context.Context, op acl.Operation, t acl.ResourceType) bool {
	a := s.cfg.Authorizer
	return a == nil || a.AuthorizedByType(PrincipalFrom(ctx), clientAddrFrom(ctx), op, t)
}

// refusedTopics returns those of topics the request's principal may not
// do op to, nil when it may do it to all (and always without an
// authorizer, without a lookup on the hot path).
func (s *Server) refusedTopics(ctx context.Context, op acl.Operation, topics func(yield func(string) bool)) map[string]bool {
	if s.cfg.Authorizer == nil {
		return nil
	}
	var refused map[string]bool
	for name := range topics {
		if !refused[name] && !s.may(ctx, op, acl.Topic, name) {
			if refused == nil {
				refused = map[string]bool{}
			}
			refused[name] = true
		}
	}
	return refused
}

// authorizedOperations returns the bit field of operations, among ops,
// the request's principal may do to a resource (Kafka's
// *AuthorizedOperations fields: bit n set for operation n).
func (s *Server) authorizedOperations(ctx context.Context, t acl.ResourceType, name string, ops ...acl.Operation) int32 {
	var bits int32
	for _, op := range ops {
		if s.mayQuietly(ctx, op, t, name) {
			bits |= 1 << op
		}
	}
	return bits
}

// clusterAuthorizedOperations returns the operations the request's
// principal may do to the cluster, none unless it may DESCRIBE it, as
// Kafka reports them in Metadata and DescribeCluster.
func (s *Server) clusterAuthorizedOperations(ctx context.Context) int32 {
	if !s.mayQuietly(ctx, acl.Describe, acl.Cluster, acl.ClusterName) {
		return 0
	}
	return s.authorizedOperations(ctx, acl.Cluster, acl.ClusterName, clusterOperations...)
}

// The operations Kafka reports in the *AuthorizedOperations fields of
// each resource type.
var (
	topicOperations = []acl.Operation{acl.Read, acl.Write, acl.Create, acl.Delete, acl.Alter, acl.Describe,
		acl.DescribeConfigs, acl.AlterConfigs}
	groupOperations   = []acl.Operation{acl.Read, acl.Delete, acl.Describe}
	clusterOperations = []acl.Operation{acl.Create, acl.Alter, acl.Describe, acl.ClusterAction,
		acl.DescribeConfigs, acl.AlterConfigs, acl.IdempotentWrite}
)

// notRequested is an *AuthorizedOperations field's value when the request
// did not ask for it (Kafka's Integer.MIN_VALUE).
const notRequested = -2147483648
