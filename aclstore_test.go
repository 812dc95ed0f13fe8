package creek

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/creekmq/creek/internal/acl"
	"github.com/creekmq/creek/internal/testcert"
)

func plainClient(t *testing.T, n *Node, user string) *kgo.Client {
	return securedClient(t, n, nil, plain.Auth{User: user, Pass: "pw"}.AsMechanism())
}

// TestACLsManagedOverKafka: kadm creates, describes and deletes ACLs;
// they decide what a stock producer and consumer may do, deny winning
// over allow; and they are the node's after a restart.
func TestACLsManagedOverKafka(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: discardLogger(),
		SASL: &SASLConfig{Plain: func(user, password string) bool { return password == "pw" }},
		ACL:  &ACLConfig{SuperUsers: []string{"User:admin"}}}
	n, err := Open(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "orders", TopicSpec{}))
	require.NoError(t, n.CreateTopic(ctx, "payroll", TopicSpec{}))
	adm := kadm.NewClient(plainClient(t, n, "admin"))

	alice := plainClient(t, n, "alice")
	err = alice.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr()
	require.ErrorIs(t, err, kerr.TopicAuthorizationFailed, "no ACL: denied")

	created, err := adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").ResourcePatternType(kadm.ACLPatternPrefixed).
		Topics("ord", "pay").Groups("alice-").Operations(kadm.OpRead, kadm.OpWrite, kadm.OpDescribe).AllowHosts())
	require.NoError(t, err)
	for _, c := range created {
		require.NoError(t, c.Err)
	}
	created, err = adm.CreateACLs(ctx, kadm.NewACLs().Deny("User:alice").Topics("payroll").Operations(kadm.OpAll).DenyHosts())
	require.NoError(t, err)
	require.NoError(t, created[0].Err)

	described, err := adm.DescribeACLs(ctx, kadm.NewACLs().Allow("User:alice").AnyResource().
		ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).AllowHosts())
	require.NoError(t, err)
	require.NoError(t, described[0].Err)
	assert.Len(t, described[0].Described, 9, "three topics and groups prefixes by three operations")

	require.NoError(t, alice.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr())
	err = alice.ProduceSync(ctx, &kgo.Record{Topic: "payroll", Value: []byte("v")}).FirstErr()
	require.ErrorIs(t, err, kerr.TopicAuthorizationFailed, "deny wins over the prefixed allow")

	consumer, err := kgo.NewClient(kgo.SeedBrokers(n.Addr().String()), kgo.SASL(plain.Auth{User: "alice", Pass: "pw"}.AsMechanism()),
		kgo.ConsumerGroup("alice-readers"), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	fetches := consumer.PollRecords(ctx, 1)
	require.NoError(t, fetches.Err0())
	require.Equal(t, 1, fetches.NumRecords())
	require.NoError(t, consumer.CommitUncommittedOffsets(ctx))
	consumer.Close()

	topics, err := kadm.NewClient(alice).ListTopics(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"orders"}, topics.Names(), "Metadata of every topic shows what alice may describe")
	groups, err := kadm.NewClient(alice).ListGroups(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"alice-readers"}, groups.Groups())

	require.NoError(t, n.Close())
	n, err = Open(cfg)
	require.NoError(t, err)
	defer n.Close()
	adm = kadm.NewClient(plainClient(t, n, "admin"))
	alice = plainClient(t, n, "alice")
	require.NoError(t, alice.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr(), "ACLs kept")

	deleted, err := adm.DeleteACLs(ctx, kadm.NewACLs().Allow("User:alice").AnyResource().
		ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).AllowHosts())
	require.NoError(t, err)
	require.NoError(t, deleted[0].Err)
	assert.Len(t, deleted[0].Deleted, 9)
	err = alice.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr()
	require.ErrorIs(t, err, kerr.TopicAuthorizationFailed)
	groups, err = kadm.NewClient(alice).ListGroups(ctx)
	require.NoError(t, err)
	assert.Empty(t, groups.Groups())
}

// TestACLAlternatives: where Kafka accepts either of two permissions, each
// serves — CREATE on the cluster or on the topic, IDEMPOTENT_WRITE on the
// cluster or WRITE on some topic for an idempotent producer's ID — a
// follower's fetch needs CLUSTER_ACTION, AllowIfNoACL lets through what
// no ACL names, and bindings that are no ACLs are refused.
func TestACLAlternatives(t *testing.T) {
	a := newACLNode(t, &ACLConfig{SuperUsers: []string{"User:admin"}, AllowIfNoACL: true})
	ctx := t.Context()
	require.NoError(t, a.n.CreateTopic(ctx, aclTopic, TopicSpec{}))

	create := authorizationRequests[int16(kmsg.CreateTopics)]
	a.allow(t, acl.Create, acl.Cluster)
	assert.NotContains(t, a.as(t, create()), kerr.TopicAuthorizationFailed.Code, "CREATE on the cluster")
	a.forgetAlice(t)
	a.allow(t, acl.Create, acl.Topic)
	a.allow(t, acl.DescribeConfigs, acl.Topic) // the topic is named now: its configs need it
	assert.NotContains(t, a.as(t, create()), kerr.TopicAuthorizationFailed.Code, "CREATE on the topic")
	a.forgetAlice(t)

	idempotent := func() kmsg.Request { return kmsg.NewPtrInitProducerIDRequest() }
	a.allow(t, acl.Read, acl.Cluster) // the cluster and topics are named: AllowIfNoACL no longer applies
	a.allow(t, acl.Read, acl.Topic)
	assert.Contains(t, a.as(t, idempotent()), kerr.ClusterAuthorizationFailed.Code)
	a.allow(t, acl.Write, acl.Topic)
	assert.Equal(t, []int16{0}, a.as(t, idempotent()), "WRITE on some topic")
	a.forgetAlice(t)
	a.allow(t, acl.Read, acl.Topic)
	a.allow(t, acl.IdempotentWrite, acl.Cluster)
	assert.Equal(t, []int16{0}, a.as(t, idempotent()), "IDEMPOTENT_WRITE on the cluster")

	follower := authorizationRequests[int16(kmsg.Fetch)]().(*kmsg.FetchRequest)
	follower.ReplicaID = 1
	a.allow(t, acl.All, acl.Topic)
	assert.Contains(t, a.as(t, follower), kerr.TopicAuthorizationFailed.Code, "a follower's fetch needs the cluster")
	a.forgetAlice(t)
	a.allow(t, acl.ClusterAction, acl.Cluster)
	assert.NotContains(t, a.as(t, follower), kerr.TopicAuthorizationFailed.Code, "and only the cluster")
	a.forgetAlice(t)

	assert.NotContains(t, a.as(t, authorizationRequests[int16(kmsg.DescribeGroups)]()), kerr.GroupAuthorizationFailed.Code,
		"AllowIfNoACL: no ACL names a group")

	bad := kmsg.NewPtrCreateACLsRequest()
	for _, principal := range []string{"alice", "User:"} {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, "x", kmsg.ACLResourcePatternTypeLiteral
		c.Principal, c.Host, c.Operation, c.PermissionType = principal, "*", kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
		bad.Creations = append(bad.Creations, c)
	}
	resp, err := bad.RequestWith(ctx, a.admin)
	require.NoError(t, err)
	for _, r := range resp.Results {
		assert.Equal(t, kerr.InvalidRequest.Code, r.ErrorCode)
	}
}

// TestACLRequestsWithoutAnAuthorizer: a node without Config.ACL serves
// everyone and answers the ACL requests SECURITY_DISABLED, as Kafka
// without an authorizer.
func TestACLRequestsWithoutAnAuthorizer(t *testing.T) {
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: discardLogger()})
	client := securedClient(t, n, nil, nil)
	for _, build := range []func() kmsg.Request{authorizationRequests[int16(kmsg.DescribeACLs)],
		authorizationRequests[int16(kmsg.CreateACLs)], authorizationRequests[int16(kmsg.DeleteACLs)]} {
		resp, err := client.Request(t.Context(), build())
		require.NoError(t, err)
		assert.Contains(t, errorCodes(reflect.ValueOf(resp)), kerr.SecurityDisabled.Code)
	}
}

// TestACLConfigRefused: ACLs need a listener, super users that are
// principals, and in a cluster the nodes' own principal among the super
// users.
func TestACLConfigRefused(t *testing.T) {
	certs := testcert.New(t)
	identity := certs.ClientWith(certs.NodeCert(t, "node-1"))
	ssl := []Listener{{Name: "INTERNAL", Addr: "127.0.0.1:0", Protocol: ProtocolSSL, TLS: certs.Server}}
	key := []byte("0123456789abcdef")
	for name, cfg := range map[string]Config{
		"no listener": {ACL: &ACLConfig{}},
		"a cluster whose PLAINTEXT nodes are no super users": {Listen: "127.0.0.1:0", ACL: &ACLConfig{},
			Cluster: &ClusterConfig{}},
		"a cluster whose node certificate is no super user": {Listeners: ssl, Cluster: &ClusterConfig{TLS: identity,
			EncryptionKey: key}, ACL: &ACLConfig{SuperUsers: []string{"User:CN=node-2"}}},
		"not a principal":   {Listen: "127.0.0.1:0", ACL: &ACLConfig{SuperUsers: []string{"admin"}}},
		"every super users": {Listen: "127.0.0.1:0", ACL: &ACLConfig{SuperUsers: []string{"User:*"}}},
	} {
		_, err := Open(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
}

// TestACLAutoCreation: a Metadata request that would create a topic on
// first use needs CREATE (TOPIC_AUTHORIZATION_FAILED without it, and no
// topic), as Kafka answers.
func TestACLAutoCreation(t *testing.T) {
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: discardLogger(), AutoCreateTopics: true,
		ACL:  &ACLConfig{SuperUsers: []string{"User:admin"}},
		SASL: &SASLConfig{Plain: func(user, password string) bool { return password == "pw" }}})
	a := &aclNode{n: n, admin: plainClient(t, n, "admin"), alice: plainClient(t, n, "alice")}
	metadata := func() kmsg.Request {
		r := kmsg.NewPtrMetadataRequest()
		topic := kmsg.NewMetadataRequestTopic()
		topic.Topic, r.AllowAutoTopicCreation = kmsg.StringPtr("made-on-use"), true
		r.Topics = append(r.Topics, topic)
		return r
	}
	a.allow(t, acl.Describe, acl.Topic)
	assert.Contains(t, a.as(t, metadata()), kerr.TopicAuthorizationFailed.Code)
	assert.Empty(t, n.Topics(), "not made")
	a.allow(t, acl.Create, acl.Topic)
	assert.NotContains(t, a.as(t, metadata()), kerr.TopicAuthorizationFailed.Code)
	require.Len(t, n.Topics(), 1)
	assert.Equal(t, "made-on-use", n.Topics()[0].Name)
}

// TestACLDenialsLogged: a request an ACL refuses is logged with its
// principal, operation and resource, as Kafka's authorizer logs it; what
// only filters a response (the topics a Metadata request for every topic
// may not describe) is not.
func TestACLDenialsLogged(t *testing.T) {
	var logs lines
	n := newTestNode(t, Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		SASL: &SASLConfig{Plain: func(_, password string) bool { return password == "pw" }},
		ACL:  &ACLConfig{SuperUsers: []string{"User:admin"}}})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, n.CreateTopic(ctx, "orders", TopicSpec{}))
	alice := plainClient(t, n, "alice")
	_, err := kadm.NewClient(alice).ListTopics(ctx)
	require.NoError(t, err)
	assert.Zero(t, logs.count("denied"), "a Metadata request for every topic only filters")

	err = alice.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr()
	require.ErrorIs(t, err, kerr.TopicAuthorizationFailed)
	assert.NotZero(t, logs.count(`msg="kafka request denied by ACLs" principal=User:alice`))
	assert.NotZero(t, logs.count("resource_type=TOPIC resource=orders"))
}
