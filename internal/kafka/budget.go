package kafka

import (
	"context"
	"sync"
)

// DefaultQueuedMaxRequestBytes bounds the bytes of the requests every
// connection together is reading, and has read but not yet started
// (Kafka's queued.max.request.bytes, which Kafka leaves unbounded).
const DefaultQueuedMaxRequestBytes = 256 << 20

// byteBudget is a count of bytes that requests take before they are
// allocated and give back once answered: a connection whose request does
// not fit waits, reading nothing more, as Kafka mutes a channel when its
// memory pool is empty. Before, ten connections each sending 99 MiB of a
// 100 MiB frame held a gigabyte.
type byteBudget struct {
	mu      sync.Mutex
	free    int64
	total   int64
	changed chan struct{} // closed, and replaced, when bytes are given back
}

func newByteBudget(total int64) *byteBudget {
	return &byteBudget{free: total, total: total, changed: make(chan struct{})}
}

// acquire takes n bytes, at most the whole budget (so a request larger than
// the budget waits until it is alone), waiting until they are free or ctx
// ends. It returns what it took, to give back with release.
func (b *byteBudget) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(n, b.total)
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return n, nil
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// take takes n bytes without waiting, even past the budget, for what
// must go on (a started request's answer): later acquires wait the longer.
func (b *byteBudget) take(n int64) {
	b.mu.Lock()
	b.free -= n
	b.mu.Unlock()
}

// tryAcquire takes up to n bytes, as many as are free, without waiting,
// and returns how many it took.
func (b *byteBudget) tryAcquire(n int64) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n = max(min(n, b.free), 0)
	b.free -= n
	return n
}

// release gives back n bytes acquire, take or tryAcquire took.
func (b *byteBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}
