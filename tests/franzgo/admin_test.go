package franzgo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAdmin drives creek with franz-go's admin client: topics, configs,
// partitions, offsets by time, record deletion, groups.
func TestAdmin(t *testing.T) {
	n := openNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cl := newClient(t, n)
	adm := kadm.NewClient(cl)

	created, err := adm.CreateTopic(ctx, 2, -1, map[string]*string{"retention.ms": kadm.StringPtr("3600000")}, "orders")
	require.NoError(t, err)
	require.NoError(t, created.Err)
	_, err = adm.CreateTopic(ctx, 1, -1, nil, "orders")
	require.ErrorIs(t, err, kerr.TopicAlreadyExists)
	_, err = adm.CreateTopic(ctx, 1, 3, nil, "replicated")
	require.ErrorIs(t, err, kerr.InvalidReplicationFactor)

	topics, err := adm.ListTopics(ctx)
	require.NoError(t, err)
	require.True(t, topics.Has("orders"))
	assert.Len(t, topics["orders"].Partitions, 2)

	configs, err := adm.DescribeTopicConfigs(ctx, "orders")
	require.NoError(t, err)
	require.NoError(t, configs[0].Err)
	var retention kadm.Config
	for _, c := range configs[0].Configs {
		if c.Key == "retention.ms" {
			retention = c
		}
	}
	require.NotNil(t, retention.Value)
	assert.Equal(t, "3600000", *retention.Value)
	assert.Equal(t, kmsg.ConfigSourceDynamicTopicConfig, retention.Source)
	altered, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: kadm.StringPtr("compact")}}, "orders")
	require.NoError(t, err)
	require.NoError(t, altered[0].Err)
	info, err := n.DescribeTopic("orders")
	require.NoError(t, err)
	assert.Equal(t, "compact", info.Configs["cleanup.policy"])
	altered, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: kadm.StringPtr("sometimes")}}, "orders")
	require.NoError(t, err)
	require.ErrorIs(t, altered[0].Err, kerr.InvalidConfig)

	grown, err := adm.CreatePartitions(ctx, 2, "orders") // add two
	require.NoError(t, err)
	require.NoError(t, grown["orders"].Err)
	info, _ = n.DescribeTopic("orders")
	assert.Len(t, info.Partitions, 4)

	producer := newClient(t, n, kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	before := time.Now().Add(-time.Second)
	for i := range 10 {
		rec := &kgo.Record{Value: []byte{byte(i)}, Timestamp: before.Add(time.Duration(i) * time.Minute)}
		require.NoError(t, producer.ProduceSync(ctx, rec).FirstErr())
	}
	byTime, err := adm.ListOffsetsAfterMilli(ctx, before.Add(5*time.Minute).UnixMilli(), "orders")
	require.NoError(t, err)
	at, _ := byTime.Lookup("orders", 0)
	require.NoError(t, at.Err)
	assert.Equal(t, int64(5), at.Offset, "the first record at or after the time")

	deleted, err := adm.DeleteRecords(ctx, kadm.Offsets{"orders": {0: {At: 3}}})
	require.NoError(t, err)
	low, _ := deleted.Lookup("orders", 0)
	require.NoError(t, low.Err)
	assert.Equal(t, int64(3), low.LowWatermark)
	starts, err := adm.ListStartOffsets(ctx, "orders")
	require.NoError(t, err)
	start, _ := starts.Lookup("orders", 0)
	assert.Equal(t, int64(3), start.Offset)

	commit := kadm.Offsets{}
	commit.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 7, LeaderEpoch: -1})
	committed, err := adm.CommitOffsets(ctx, "audit", commit)
	require.NoError(t, err)
	require.NoError(t, committed.Error())
	fetched, err := adm.FetchOffsets(ctx, "audit")
	require.NoError(t, err)
	got, _ := fetched.Lookup("orders", 0)
	assert.Equal(t, int64(7), got.At)
	lags, err := adm.Lag(ctx, "audit")
	require.NoError(t, err)
	lag := lags["audit"].Lag.TotalByTopic()["orders"]
	assert.Equal(t, int64(3), lag.Lag, "ten records, committed at seven")
	groups, err := adm.ListGroups(ctx)
	require.NoError(t, err)
	assert.Contains(t, groups.Groups(), "audit")
	described, err := adm.DescribeGroups(ctx, "audit")
	require.NoError(t, err)
	assert.Equal(t, "Empty", described["audit"].State, "a group with offsets and no members")
	deletedGroups, err := adm.DeleteGroups(ctx, "audit")
	require.NoError(t, err)
	require.NoError(t, deletedGroups.Error())
	groups, err = adm.ListGroups(ctx)
	require.NoError(t, err)
	assert.NotContains(t, groups.Groups(), "audit")

	gone, err := adm.DeleteTopics(ctx, "orders")
	require.NoError(t, err)
	require.NoError(t, gone.Error())
	_, err = n.DescribeTopic("orders")
	require.Error(t, err)
	cluster, err := adm.BrokerMetadata(ctx)
	require.NoError(t, err)
	assert.Len(t, cluster.Brokers, 1)
}
