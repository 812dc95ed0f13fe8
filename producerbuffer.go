// The producer's buffer: bytes reserved by queued records (BufferBytes).

package creek

import "context"

// reserve takes size bytes of buffer, waiting for space while ctx lasts.
func (p *Producer) reserve(ctx context.Context, size int) error {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return ErrProducerClosed
		}
		// A record larger than the whole buffer goes alone when it is empty.
		if p.buffered+int64(size) <= p.cfg.BufferBytes || p.buffered == 0 {
			p.buffered += int64(size)
			p.mu.Unlock()
			return nil
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *Producer) release(size int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(size)
}

func (p *Producer) releaseLocked(size int) {
	p.buffered -= int64(size)
	close(p.freed)
	p.freed = make(chan struct{})
	if p.buffered == 0 {
		close(p.idle)
		p.idle = make(chan struct{})
	}
}
