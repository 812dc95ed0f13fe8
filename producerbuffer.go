// The producer's buffer: bytes reserved by queued records (BufferBytes).

package creek

import "context"

// reserveLocked takes size bytes of buffer, waiting for space while ctx
// lasts; it releases p.mu while it waits.
func (p *Producer) reserveLocked(ctx context.Context, size int) error {
	for {
		if p.closed {
			return ErrProducerClosed
		}
		// A record larger than the whole buffer goes alone when it is empty.
		if p.buffered+int64(size) <= p.cfg.BufferBytes || p.buffered == 0 {
			p.buffered += int64(size)
			return nil
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			p.mu.Lock()
			return ctx.Err()
		}
		p.mu.Lock()
	}
}

// releaseLocked gives back size bytes of buffer.
func (p *Producer) releaseLocked(size int) {
	p.buffered -= int64(size)
	close(p.freed)
	p.freed = make(chan struct{})
	if p.buffered == 0 {
		close(p.idle)
		p.idle = make(chan struct{})
	}
}
