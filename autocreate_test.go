package creek

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/creekmq/creek/internal/fsx"
)

// TestAutoCreationIsRateLimited: auto-creation makes a burst of ten
// seconds' worth of partitions at once, then AutoCreateRate a second; a
// topic past it is unknown (and throttled) for now, and is made once time
// has passed. Before, one Metadata request naming 100,000 topics made
// 80,000 directories in two minutes.
func TestAutoCreationIsRateLimited(t *testing.T) {
	clock := new(fakeClock).set(5_000)
	n, err := openNode(fsx.NewMem(), "/n", Config{Logger: discardLogger(), AutoCreateTopics: true,
		AutoCreatePartitions: 2, AutoCreateRate: 4}, clock.now)
	require.NoError(t, err)
	defer n.Close()
	p, err := n.NewProducer(ProducerConfig{})
	require.NoError(t, err)
	defer p.Close()
	produce := func(topic string) error {
		return p.Produce(t.Context(), &Record{Topic: topic, Value: []byte("v")})
	}
	for i := range 20 { // a burst of 40 partitions
		require.NoError(t, produce(fmt.Sprintf("burst-%d", i)))
	}
	err = produce("one-too-many")
	require.ErrorIs(t, err, ErrAutoCreateThrottled)
	require.ErrorIs(t, err, ErrUnknownTopic)
	assert.False(t, n.hasTopic("one-too-many"))
	require.NoError(t, produce("burst-3"), "a topic made before is no creation")

	clock.advance(time.Second) // four partitions: two topics
	require.NoError(t, produce("later-1"))
	require.NoError(t, produce("later-2"))
	require.ErrorIs(t, produce("later-3"), ErrAutoCreateThrottled)
}
