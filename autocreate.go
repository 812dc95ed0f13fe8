// Auto-creation of topics a client names, bounded by a token bucket
// (Config.AutoCreateRate).

package creek

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultAutoCreateRate is Config.AutoCreateRate's default: partitions a
// second. A topic costs some 20 ms to create on disk (its files, the
// registry, their syncs), so a burst of 100 takes a request about two
// seconds, and the partitions it makes keep some 300 files open.
const DefaultAutoCreateRate = 10

// ErrAutoCreateThrottled is returned, with ErrUnknownTopic, for a topic
// auto-creation would make past Config.AutoCreateRate: clients retry an
// unknown topic, and find it once the rate allows.
var ErrAutoCreateThrottled = errors.New("creek: topic auto-creation throttled")

// autoCreate creates a topic on first use, if the node auto-creates
// topics, at most Config.AutoCreateRate partitions a second: before, one
// Metadata request naming 100,000 topics made 80,000 directories in two
// minutes. A topic another caller created first is no error.
func (n *Node) autoCreate(ctx context.Context, topic string) error {
	if !n.cfg.AutoCreateTopics {
		return ErrUnknownTopic
	}
	if !n.autoCreates.take(float64(n.cfg.AutoCreatePartitions)) {
		return fmt.Errorf("%w: %q: %w", ErrUnknownTopic, topic, ErrAutoCreateThrottled)
	}
	err := n.CreateTopic(ctx, topic, TopicSpec{Partitions: n.cfg.AutoCreatePartitions})
	if errors.Is(err, ErrTopicExists) {
		return nil
	}
	return err
}

// tokenBucket allows rate events a second on average, and bursts of up
// to burst.
type tokenBucket struct {
	rate, burst float64
	now         func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newTokenBucket(rate, burst float64, now func() time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, now: now, tokens: burst, last: now()}
}

// take takes n tokens if it holds them. An n larger than the burst is
// allowed once the bucket is full, so that it is not refused for ever.
func (b *tokenBucket) take(n float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < min(n, b.burst) {
		return false
	}
	b.tokens -= n
	return true
}
