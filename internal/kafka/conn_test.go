package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/internal/kafka"
)

// TestConnNegotiatesAndRequests: a node-to-node connection asks at the
// highest version both serve, and a cancelled wait breaks only that
// connection.
func TestConnNegotiatesAndRequests(t *testing.T) {
	n := openNode(t, creek.Config{})
	require.NoError(t, n.CreateTopic(t.Context(), "t", creek.TopicSpec{Partitions: 2}))
	c, err := kafka.Dial(t.Context(), n.Addr().String(), "test-node")
	require.NoError(t, err)
	defer c.Close()

	resp, err := c.Request(t.Context(), kmsg.NewPtrMetadataRequest())
	require.NoError(t, err)
	meta := resp.(*kmsg.MetadataResponse)
	assert.Equal(t, int16(13), meta.Version, "the highest both serve")
	require.Len(t, meta.Topics, 1)
	assert.Len(t, meta.Topics[0].Partitions, 2)

	_, err = c.Request(t.Context(), kmsg.NewPtrDescribeDelegationTokenRequest())
	require.ErrorContains(t, err, "not served")

	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes, fetch.SessionEpoch = 60_000, 1, 1<<20, -1
	info, err := n.DescribeTopic("t")
	require.NoError(t, err)
	fetch.Topics = []kmsg.FetchRequestTopic{{Topic: "t", TopicID: info.ID, // by ID at the version negotiated
		Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1 << 20}}}}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond) // the one real timeout: the wait it ends
	defer cancel()
	_, err = c.Request(ctx, fetch)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = c.Request(t.Context(), kmsg.NewPtrMetadataRequest())
	require.ErrorContains(t, err, "broken", "the stream is out of step after an abandoned request")

	again, err := kafka.Dial(t.Context(), n.Addr().String(), "test-node")
	require.NoError(t, err)
	defer again.Close()
	_, err = again.Request(t.Context(), kmsg.NewPtrMetadataRequest())
	require.NoError(t, err)
}
