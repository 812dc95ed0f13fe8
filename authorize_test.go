package creek

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/kafka"
)

// aclNode is a node deciding requests by ACLs, with a super user "admin"
// and an ordinary user "alice", both by SASL PLAIN (password "pw").
type aclNode struct {
	n            *Node
	admin, alice *kgo.Client
	adm          *kadm.Client
}

// The resources the authorization tests name.
const (
	aclTopic = "acl-topic"
	aclGroup = "acl-group"
	aclTxnID = "acl-txn"
)

func newACLNode(t *testing.T, acls *ACLConfig) *aclNode {
	t.Helper()
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: discardLogger(), ACL: acls,
		SASL: &SASLConfig{Plain: func(user, password string) bool { return password == "pw" }}})
	admin := securedClient(t, n, nil, plain.Auth{User: "admin", Pass: "pw"}.AsMechanism())
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(int16(kmsg.AddPartitionsToTxn), 3) // 4+ are the brokers' own
	versions.SetMaxKeyVersion(int16(kmsg.Produce), 12)           // topics by name
	versions.SetMaxKeyVersion(int16(kmsg.Fetch), 12)
	alice, err := kgo.NewClient(kgo.SeedBrokers(n.Addr().String()), kgo.SASL(plain.Auth{User: "alice", Pass: "pw"}.AsMechanism()),
		kgo.MaxVersions(versions), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	require.NoError(t, err)
	t.Cleanup(alice.Close)
	return &aclNode{n: n, admin: admin, alice: alice, adm: kadm.NewClient(admin)}
}

// allow gives alice op on every resource of type rt.
func (a *aclNode) allow(t *testing.T, op acl.Operation, rt acl.ResourceType) {
	t.Helper()
	name := acl.Wildcard
	if rt == acl.Cluster {
		name = acl.ClusterName
	}
	req := kmsg.NewPtrCreateACLsRequest()
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceType(rt), name, kmsg.ACLResourcePatternTypeLiteral
	c.Principal, c.Host = "User:alice", acl.Wildcard
	c.Operation, c.PermissionType = kmsg.ACLOperation(op), kmsg.ACLPermissionTypeAllow
	req.Creations = append(req.Creations, c)
	resp, err := req.RequestWith(t.Context(), a.admin)
	require.NoError(t, err)
	require.Zero(t, resp.Results[0].ErrorCode)
}

// forgetAlice removes every ACL of alice's.
func (a *aclNode) forgetAlice(t *testing.T) {
	t.Helper()
	_, err := a.adm.DeleteACLs(t.Context(), kadm.NewACLs().Allow("User:alice").AnyResource().Operations(kadm.OpAny).
		ResourcePatternType(kadm.ACLPatternAny).AllowHosts())
	require.NoError(t, err)
}

// as sends req to the node as alice, and returns every error code in the
// response.
func (a *aclNode) as(t *testing.T, req kmsg.Request) []int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := a.alice.Broker(0).Request(ctx, req)
	require.NoError(t, err, "%T", req)
	return errorCodes(reflect.ValueOf(resp))
}

// errorCodes returns the values of every ErrorCode field in v, however
// deep.
func errorCodes(v reflect.Value) []int16 {
	var out []int16
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = append(out, errorCodes(v.Elem())...)
		}
	case reflect.Slice:
		for i := range v.Len() {
			out = append(out, errorCodes(v.Index(i))...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); strings.HasSuffix(f.Name, "ErrorCode") && f.Type.Kind() == reflect.Int16 {
				out = append(out, int16(v.Field(i).Int()))
			} else if f.IsExported() {
				out = append(out, errorCodes(v.Field(i))...)
			}
		}
	}
	return out
}

// authorizationRequests builds, for each API served, a request that
// names aclTopic, aclGroup and aclTxnID where it names resources.
var authorizationRequests = map[int16]func() kmsg.Request{
	int16(kmsg.Produce): func() kmsg.Request {
		b, _ := batch.Build(batch.BuildOptions{}, batch.Record{Value: []byte("v")})
		r := kmsg.NewPtrProduceRequest()
		r.Acks, r.TimeoutMillis, r.TransactionID = 1, 5000, kmsg.StringPtr(aclTxnID)
		t := kmsg.NewProduceRequestTopic()
		t.Topic = aclTopic
		p := kmsg.NewProduceRequestTopicPartition()
		p.Records = b
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.Fetch): func() kmsg.Request {
		r := kmsg.NewPtrFetchRequest()
		r.MaxBytes = 1 << 20
		t := kmsg.NewFetchRequestTopic()
		t.Topic = aclTopic
		p := kmsg.NewFetchRequestTopicPartition()
		p.PartitionMaxBytes = 1 << 20
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.ListOffsets): func() kmsg.Request {
		r := kmsg.NewPtrListOffsetsRequest()
		t := kmsg.NewListOffsetsRequestTopic()
		t.Topic = aclTopic
		t.Partitions = append(t.Partitions, kmsg.NewListOffsetsRequestTopicPartition())
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.Metadata): func() kmsg.Request {
		r := kmsg.NewPtrMetadataRequest()
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(aclTopic)
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.OffsetCommit): func() kmsg.Request {
		r := kmsg.NewPtrOffsetCommitRequest()
		r.Group, r.Generation = aclGroup, -1
		t := kmsg.NewOffsetCommitRequestTopic()
		t.Topic = aclTopic
		t.Partitions = append(t.Partitions, kmsg.NewOffsetCommitRequestTopicPartition())
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.OffsetFetch): func() kmsg.Request {
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Group = aclGroup
		t := kmsg.NewOffsetFetchRequestTopic()
		t.Topic, t.Partitions = aclTopic, []int32{0}
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.FindCoordinator): func() kmsg.Request {
		r := kmsg.NewPtrFindCoordinatorRequest()
		r.CoordinatorKey, r.CoordinatorKeys = aclGroup, []string{aclGroup}
		return r
	},
	int16(kmsg.JoinGroup): func() kmsg.Request {
		r := kmsg.NewPtrJoinGroupRequest()
		r.Group, r.SessionTimeoutMillis, r.RebalanceTimeoutMillis, r.ProtocolType = aclGroup, 10000, 10000, "consumer"
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name = "range"
		r.Protocols = append(r.Protocols, p)
		return r
	},
	int16(kmsg.Heartbeat): func() kmsg.Request {
		r := kmsg.NewPtrHeartbeatRequest()
		r.Group, r.MemberID = aclGroup, "nobody"
		return r
	},
	int16(kmsg.LeaveGroup): func() kmsg.Request {
		r := kmsg.NewPtrLeaveGroupRequest()
		r.Group = aclGroup
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = "nobody"
		r.Members = append(r.Members, m)
		return r
	},
	int16(kmsg.SyncGroup): func() kmsg.Request {
		r := kmsg.NewPtrSyncGroupRequest()
		r.Group, r.MemberID = aclGroup, "nobody"
		return r
	},
	int16(kmsg.DescribeGroups): func() kmsg.Request {
		r := kmsg.NewPtrDescribeGroupsRequest()
		r.Groups = []string{aclGroup}
		return r
	},
	int16(kmsg.ListGroups): func() kmsg.Request { return kmsg.NewPtrListGroupsRequest() },
	int16(kmsg.CreateTopics): func() kmsg.Request {
		r := kmsg.NewPtrCreateTopicsRequest()
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = "acl-created", 1, 1
		r.Topics, r.ValidateOnly = append(r.Topics, t), true
		return r
	},
	int16(kmsg.DeleteTopics): func() kmsg.Request {
		r := kmsg.NewPtrDeleteTopicsRequest()
		t := kmsg.NewDeleteTopicsRequestTopic()
		t.Topic = kmsg.StringPtr("acl-missing")
		r.Topics, r.TopicNames = append(r.Topics, t), []string{"acl-missing"}
		return r
	},
	int16(kmsg.DeleteRecords): func() kmsg.Request {
		r := kmsg.NewPtrDeleteRecordsRequest()
		t := kmsg.NewDeleteRecordsRequestTopic()
		t.Topic = aclTopic
		t.Partitions = append(t.Partitions, kmsg.NewDeleteRecordsRequestTopicPartition())
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.InitProducerID): func() kmsg.Request {
		r := kmsg.NewPtrInitProducerIDRequest()
		r.TransactionalID, r.TransactionTimeoutMillis = kmsg.StringPtr(aclTxnID), 10000
		return r
	},
	int16(kmsg.OffsetForLeaderEpoch): func() kmsg.Request {
		r := kmsg.NewPtrOffsetForLeaderEpochRequest()
		r.ReplicaID = -1
		t := kmsg.NewOffsetForLeaderEpochRequestTopic()
		t.Topic = aclTopic
		t.Partitions = append(t.Partitions, kmsg.NewOffsetForLeaderEpochRequestTopicPartition())
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.AddPartitionsToTxn): func() kmsg.Request {
		r := kmsg.NewPtrAddPartitionsToTxnRequest()
		r.TransactionalID, r.ProducerID, r.ProducerEpoch = aclTxnID, 1, 0
		t := kmsg.NewAddPartitionsToTxnRequestTopic()
		t.Topic, t.Partitions = aclTopic, []int32{0}
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.AddOffsetsToTxn): func() kmsg.Request {
		r := kmsg.NewPtrAddOffsetsToTxnRequest()
		r.TransactionalID, r.ProducerID, r.Group = aclTxnID, 1, aclGroup
		return r
	},
	int16(kmsg.EndTxn): func() kmsg.Request {
		r := kmsg.NewPtrEndTxnRequest()
		r.TransactionalID, r.ProducerID = aclTxnID, 1
		return r
	},
	int16(kmsg.WriteTxnMarkers): func() kmsg.Request {
		r := kmsg.NewPtrWriteTxnMarkersRequest()
		m := kmsg.NewWriteTxnMarkersRequestMarker()
		m.ProducerID = 1
		t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		t.Topic, t.Partitions = aclTopic, []int32{0}
		m.Topics = append(m.Topics, t)
		r.Markers = append(r.Markers, m)
		return r
	},
	int16(kmsg.TxnOffsetCommit): func() kmsg.Request {
		r := kmsg.NewPtrTxnOffsetCommitRequest()
		r.TransactionalID, r.Group, r.ProducerID = aclTxnID, aclGroup, 1
		t := kmsg.NewTxnOffsetCommitRequestTopic()
		t.Topic = aclTopic
		t.Partitions = append(t.Partitions, kmsg.NewTxnOffsetCommitRequestTopicPartition())
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.DescribeACLs): func() kmsg.Request {
		r := kmsg.NewPtrDescribeACLsRequest()
		r.ResourceType, r.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
		r.Operation, r.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
		return r
	},
	int16(kmsg.CreateACLs): func() kmsg.Request {
		r := kmsg.NewPtrCreateACLsRequest()
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, "bobs", kmsg.ACLResourcePatternTypePrefixed
		c.Principal, c.Host, c.Operation, c.PermissionType = "User:bob", "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
		r.Creations = append(r.Creations, c)
		return r
	},
	int16(kmsg.DeleteACLs): func() kmsg.Request {
		r := kmsg.NewPtrDeleteACLsRequest()
		f := kmsg.NewDeleteACLsRequestFilter()
		f.ResourceType, f.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
		f.Principal, f.Operation, f.PermissionType = kmsg.StringPtr("User:bob"), kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
		r.Filters = append(r.Filters, f)
		return r
	},
	int16(kmsg.DescribeConfigs): func() kmsg.Request {
		r := kmsg.NewPtrDescribeConfigsRequest()
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, aclTopic
		r.Resources = append(r.Resources, res)
		return r
	},
	int16(kmsg.AlterConfigs): func() kmsg.Request {
		r := kmsg.NewPtrAlterConfigsRequest()
		res := kmsg.NewAlterConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, aclTopic
		r.Resources, r.ValidateOnly = append(r.Resources, res), true
		return r
	},
	int16(kmsg.IncrementalAlterConfigs): func() kmsg.Request {
		r := kmsg.NewPtrIncrementalAlterConfigsRequest()
		res := kmsg.NewIncrementalAlterConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, aclTopic
		r.Resources, r.ValidateOnly = append(r.Resources, res), true
		return r
	},
	int16(kmsg.CreatePartitions): func() kmsg.Request {
		r := kmsg.NewPtrCreatePartitionsRequest()
		t := kmsg.NewCreatePartitionsRequestTopic()
		t.Topic, t.Count = aclTopic, 2
		r.Topics, r.ValidateOnly = append(r.Topics, t), true
		return r
	},
	int16(kmsg.DeleteGroups): func() kmsg.Request {
		r := kmsg.NewPtrDeleteGroupsRequest()
		r.Groups = []string{"acl-missing"}
		return r
	},
	int16(kmsg.OffsetDelete): func() kmsg.Request {
		r := kmsg.NewPtrOffsetDeleteRequest()
		r.Group = aclGroup
		t := kmsg.NewOffsetDeleteRequestTopic()
		t.Topic = aclTopic
		t.Partitions = append(t.Partitions, kmsg.NewOffsetDeleteRequestTopicPartition())
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.AlterPartition): func() kmsg.Request {
		r := kmsg.NewPtrAlterPartitionRequest()
		t := kmsg.NewAlterPartitionRequestTopic()
		t.Topic = aclTopic
		p := kmsg.NewAlterPartitionRequestTopicPartition()
		p.NewISR = []int32{0}
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.ElectLeaders): func() kmsg.Request {
		r := kmsg.NewPtrElectLeadersRequest()
		t := kmsg.NewElectLeadersRequestTopic()
		t.Topic, t.Partitions = aclTopic, []int32{0}
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.AlterPartitionAssignments): func() kmsg.Request {
		r := kmsg.NewPtrAlterPartitionAssignmentsRequest()
		t := kmsg.NewAlterPartitionAssignmentsRequestTopic()
		t.Topic = aclTopic
		p := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
		t.Partitions = append(t.Partitions, p) // null replicas: cancel a reassignment there is not
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.ListPartitionReassignments): func() kmsg.Request { return kmsg.NewPtrListPartitionReassignmentsRequest() },
	int16(kmsg.DescribeUserSCRAMCredentials): func() kmsg.Request {
		return kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	},
	int16(kmsg.AlterUserSCRAMCredentials): func() kmsg.Request {
		r := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
		d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		d.Name, d.Mechanism = "nobody", 1
		r.Deletions = append(r.Deletions, d)
		return r
	},
	int16(kmsg.DescribeCluster): func() kmsg.Request { return kmsg.NewPtrDescribeClusterRequest() },
	int16(kmsg.DescribeProducers): func() kmsg.Request {
		r := kmsg.NewPtrDescribeProducersRequest()
		t := kmsg.NewDescribeProducersRequestTopic()
		t.Topic, t.Partitions = aclTopic, []int32{0}
		r.Topics = append(r.Topics, t)
		return r
	},
	int16(kmsg.DescribeTransactions): func() kmsg.Request {
		r := kmsg.NewPtrDescribeTransactionsRequest()
		r.TransactionalIDs = []string{aclTxnID}
		return r
	},
	int16(kmsg.ListTransactions): func() kmsg.Request { return kmsg.NewPtrListTransactionsRequest() },
}

// authenticationAPIs are served before any principal is known: they need
// no permission, and the SASL tests prove them.
var authenticationAPIs = []int16{int16(kmsg.ApiVersions), int16(kmsg.SASLHandshake), int16(kmsg.SASLAuthenticate)}

// authorizationCodes are Kafka's refusals of a principal.
var authorizationCodes = []int16{kerr.TopicAuthorizationFailed.Code, kerr.GroupAuthorizationFailed.Code,
	kerr.ClusterAuthorizationFailed.Code, kerr.TransactionalIDAuthorizationFailed.Code}

// TestEveryAPIAuthorizedAsKafkaDoes goes through kafka.APIAccess row by
// row, for every API the node advertises: a principal without any ACL is
// refused with the row's error, one missing any single permission of the
// row gets that permission's error, and one with all of them is served
// (whatever else the request meets, no authorization error). An API
// without a row is served to a principal without ACLs.
func TestEveryAPIAuthorizedAsKafkaDoes(t *testing.T) {
	a := newACLNode(t, &ACLConfig{SuperUsers: []string{"User:admin"}})
	require.NoError(t, a.n.CreateTopic(t.Context(), aclTopic, TopicSpec{}))
	versions, err := kmsg.NewPtrApiVersionsRequest().RequestWith(t.Context(), a.admin)
	require.NoError(t, err)
	require.NotEmpty(t, versions.ApiKeys)
	for _, k := range versions.ApiKeys {
		name := kmsg.NameForKey(k.ApiKey)
		if slices.Contains(authenticationAPIs, k.ApiKey) {
			continue
		}
		build, ok := authorizationRequests[k.ApiKey]
		if !assert.True(t, ok, "no request for %s: every API served is checked", name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			defer a.forgetAlice(t)
			row := kafka.APIAccess[k.ApiKey]
			refusals := func(codes []int16) []int16 {
				var out []int16
				for _, c := range codes {
					if slices.Contains(authorizationCodes, c) {
						out = append(out, c)
					}
				}
				return out
			}
			if len(row) == 0 {
				assert.Empty(t, refusals(a.as(t, build())), "needs no permission")
				return
			}
			assert.Contains(t, a.as(t, build()), row[0].Refusal.Code, "without any ACL")
			for i, missing := range row {
				t.Run(fmt.Sprintf("without %v on %v", missing.Operation, missing.Resource), func(t *testing.T) {
					defer a.forgetAlice(t)
					for j, x := range row {
						if j != i {
							a.allow(t, x.Operation, x.Resource)
						}
					}
					assert.Contains(t, a.as(t, build()), missing.Refusal.Code)
				})
			}
			for _, x := range row {
				a.allow(t, x.Operation, x.Resource)
			}
			assert.Empty(t, refusals(a.as(t, build())), "with every permission of its row")
		})
	}
}

// TestClusterAuthorizedOperations: DescribeCluster reports the operations
// a principal may do to the cluster when asked, as bits, and none at all
// without DESCRIBE on it, as Kafka reports them (Metadata up to v10 does
// the same, by the same helper).
func TestClusterAuthorizedOperations(t *testing.T) {
	a := newACLNode(t, &ACLConfig{SuperUsers: []string{"User:admin"}})
	operations := func() int32 {
		t.Helper()
		req := kmsg.NewPtrDescribeClusterRequest()
		req.IncludeClusterAuthorizedOperations = true
		resp, err := a.alice.Broker(0).Request(t.Context(), req)
		require.NoError(t, err)
		return resp.(*kmsg.DescribeClusterResponse).ClusterAuthorizedOperations
	}
	a.allow(t, acl.Create, acl.Cluster)
	assert.Zero(t, operations(), "CREATE without DESCRIBE: none reported")
	a.allow(t, acl.Alter, acl.Cluster) // implies DESCRIBE
	assert.Equal(t, int32(1<<acl.Create|1<<acl.Alter|1<<acl.Describe), operations())
}
