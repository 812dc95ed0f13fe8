package creek

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestSubscriptionRoundTrip(t *testing.T) {
	sub := GroupSubscription{MemberID: "m", InstanceID: "i", Topics: []string{"a", "b"},
		Owned: []TopicPartition{{"a", 0}, {"a", 2}, {"b", 1}}, Generation: 7}
	for _, a := range []Assignor{CooperativeStickyAssignor(), StickyAssignor()} {
		t.Run(a.Name(), func(t *testing.T) {
			got, err := decodeSubscription("m", "i", encodeSubscription(sub, a))
			require.NoError(t, err)
			assert.Equal(t, sub, got)
		})
	}
	t.Run("range carries no ownership", func(t *testing.T) {
		got, err := decodeSubscription("m", "", encodeSubscription(sub, RangeAssignor()))
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b"}, got.Topics)
		assert.Empty(t, got.Owned)
	})
}

// TestSubscriptionFromOlderClients decodes what a Kafka client of protocol
// version 0 sends: topics only, no generation.
func TestSubscriptionFromOlderClients(t *testing.T) {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 0
	meta.Topics = []string{"z", "a"}
	got, err := decodeSubscription("m", "", meta.AppendTo(nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "z"}, got.Topics, "sorted")
	assert.Equal(t, int32(-1), got.Generation)
}

func TestAssignmentRoundTrip(t *testing.T) {
	tps := []TopicPartition{{"b", 1}, {"a", 2}, {"a", 0}}
	got, err := decodeAssignment(encodeAssignment(tps))
	require.NoError(t, err)
	assert.Equal(t, []TopicPartition{{"a", 0}, {"a", 2}, {"b", 1}}, got)

	var fromKafka kmsg.ConsumerMemberAssignment
	require.NoError(t, fromKafka.ReadFrom(encodeAssignment(tps)), "Kafka clients read creek's assignments")
	assert.Len(t, fromKafka.Topics, 2)

	none, err := decodeAssignment(nil)
	require.NoError(t, err)
	assert.Empty(t, none, "an empty assignment is no partitions")
	_, err = decodeAssignment([]byte{0, 0, 0, 0, 0, 9})
	require.ErrorIs(t, err, ErrCorrupt)
}

func FuzzDecodeSubscription(f *testing.F) {
	f.Add(encodeSubscription(GroupSubscription{Topics: []string{"t"}, Owned: []TopicPartition{{"t", 1}}, Generation: 3},
		CooperativeStickyAssignor()))
	f.Add(encodeSubscription(GroupSubscription{Topics: []string{"t"}, Owned: []TopicPartition{{"t", 1}}}, StickyAssignor()))
	f.Add([]byte{0, 3, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		sub, err := decodeSubscription("m", "", b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		again, err := decodeSubscription("m", "", encodeSubscription(sub, CooperativeStickyAssignor()))
		require.NoError(t, err)
		assert.Equal(t, sub.Topics, again.Topics)
		assert.ElementsMatch(t, sub.Owned, again.Owned)
	})
}

func FuzzDecodeAssignment(f *testing.F) {
	f.Add(encodeAssignment([]TopicPartition{{"a", 0}, {"b", 3}}))
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 1, 'x', 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		tps, err := decodeAssignment(b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		again, err := decodeAssignment(encodeAssignment(tps))
		require.NoError(t, err)
		assert.Equal(t, tps, again)
	})
}
