package kafka_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek"
)

// metadataOf returns a Metadata request naming names.
func metadataOf(names ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	for i := range names {
		req.Topics = append(req.Topics, kmsg.MetadataRequestTopic{Topic: &names[i]})
	}
	return req
}

// produceTo returns a Produce request naming count partitions of topic,
// each with no records.
func produceTo(topic string, count int) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks = 1
	rt := kmsg.ProduceRequestTopic{Topic: topic}
	for i := range count {
		rt.Partitions = append(rt.Partitions, kmsg.ProduceRequestTopicPartition{Partition: int32(i)})
	}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	return req
}

// TestMetadataAnswersATopicNamedTwiceOnce: a request of fifty thousand
// empty names gets one answer, as Kafka gives. Before, each name got its
// own, some 250 bytes of memory per byte received.
func TestMetadataAnswersATopicNamedTwiceOnce(t *testing.T) {
	n := openNode(t, creek.Config{})
	w := dial(t, n.Addr())
	w.send(metadataOf(make([]string, 50_000)...), 4, 1)
	resp := kmsg.NewPtrMetadataResponse()
	w.receive(resp, 4)
	require.Len(t, resp.Topics, 1)
	assert.Equal(t, int16(3), resp.Topics[0].ErrorCode, "UNKNOWN_TOPIC_OR_PARTITION")
}

// TestRequestNamingTooManyEntriesClosesItsConnection: a Produce naming
// more partitions than MaxRequestEntries, refused before it is decoded,
// and a Metadata naming more topics, each close their own connection;
// requests within the bound, and other connections, go on.
func TestRequestNamingTooManyEntriesClosesItsConnection(t *testing.T) {
	n := openNode(t, creek.Config{MaxRequestEntries: 1000})
	require.NoError(t, n.CreateTopic(t.Context(), "t", creek.TopicSpec{}))
	good := dial(t, n.Addr())
	names := make([]string, 1001)
	for i := range names {
		names[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	for name, send := range map[string]func(w *wire){
		"produce v7":  func(w *wire) { w.send(produceTo("t", 1001), 7, 1) },
		"produce v9":  func(w *wire) { w.send(produceTo("t", 1001), 9, 1) },
		"metadata v4": func(w *wire) { w.send(metadataOf(names...), 4, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			bad := dial(t, n.Addr())
			send(bad)
			assert.True(t, bad.closed(), "the server closed the connection")
		})
	}
	good.send(produceTo("t", 1000), 9, 2)
	resp := kmsg.NewPtrProduceResponse()
	require.Equal(t, int32(2), good.receive(resp, 9))
	assert.Len(t, resp.Topics[0].Partitions, 1000)
	good.send(metadataOf(names[:1000]...), 12, 3)
	require.Equal(t, int32(3), good.receive(kmsg.NewPtrMetadataResponse(), 12))
}

// TestFrameOtherThanProduceIsBoundedByTheBudget: a request other than
// Produce is charged 32 bytes of the node's budget per byte, before it is
// read, as decoding it and answering it take that much; one whose charge
// would pass the whole budget closes its connection. A Produce of the same
// size is charged its size, and served.
func TestFrameOtherThanProduceIsBoundedByTheBudget(t *testing.T) {
	n := openNode(t, creek.Config{QueuedMaxRequestBytes: 64 << 10})
	require.NoError(t, n.CreateTopic(t.Context(), "t", creek.TopicSpec{}))
	long := make([]string, 500)
	for i := range long {
		long[i] = "a-topic-name-of-some-length-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	big := dial(t, n.Addr())
	big.send(metadataOf(long...), 12, 1) // some 24 KiB: a charge of 770 KiB
	assert.True(t, big.closed(), "the server closed the connection")

	w := dial(t, n.Addr())
	w.send(metadataOf(long[:30]...), 12, 2) // under 2 KiB
	require.Equal(t, int32(2), w.receive(kmsg.NewPtrMetadataResponse(), 12))
	w.send(produceTo("t", 3000), 9, 3) // some 20 KiB
	require.Equal(t, int32(3), w.receive(kmsg.NewPtrProduceResponse(), 9))
}

// TestFetchRecordsAreChargedToTheBudget: with a budget of 2 MiB, a Fetch
// asking for everything gets about half of it (its records are held twice,
// read and encoded), and once its answer is written the budget is given
// back, so a later fetch gets as much again.
func TestFetchRecordsAreChargedToTheBudget(t *testing.T) {
	n := openNode(t, creek.Config{QueuedMaxRequestBytes: 2 << 20})
	produceBig(t, n, 20, 200<<10)
	w := dial(t, n.Addr())
	fetch := func(id int32) int {
		req := fetchBig(1<<31 - 1)
		w.send(req, 11, id)
		resp := kmsg.NewPtrFetchResponse()
		w.receive(resp, 11)
		got := len(resp.Topics[0].Partitions[0].RecordBatches)
		require.LessOrEqual(t, got, 1<<20+210<<10, "half the budget and one batch at most")
		return got
	}
	require.Greater(t, fetch(0), 600<<10, "most of half the budget")
	// The node gives the charge back just after its write, which may be
	// after this client has read the answer and asked again.
	for i := int32(1); fetch(i) < 600<<10; i++ {
		require.Less(t, i, int32(1000), "the budget never came back")
	}
}
