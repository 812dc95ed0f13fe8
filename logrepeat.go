// Rate-limited logging: a node logs the same line at most a few times a
// second.

package creek

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxRepeatsPerSecond is how many lines with one message a node logs
// within any second. A fault that repeats at every fetch or every request
// (a peer gone, a log that cannot continue) must not fill a disk: past the
// limit lines are dropped and counted, and the next line with that message
// that is written says how many were.
const maxRepeatsPerSecond = 10

// repeatLimiter is a slog.Handler that passes on at most
// maxRepeatsPerSecond records with the same message within any second of
// their times.
type repeatLimiter struct {
	inner slog.Handler
	state *repeatState // shared by the handlers WithAttrs and WithGroup derive
}

type repeatState struct {
	mu       sync.Mutex
	messages map[string]*repeats
}

// repeats is what one message has written lately.
type repeats struct {
	last       [maxRepeatsPerSecond]time.Time // the times of the newest lines written, a ring
	next       int                            // the ring's oldest entry, overwritten next
	suppressed int                            // lines dropped since the last one written
}

// limitRepeats returns a logger that writes through l's handler with
// repeats limited.
func limitRepeats(l *slog.Logger) *slog.Logger {
	if _, limited := l.Handler().(*repeatLimiter); limited {
		return l
	}
	return slog.New(&repeatLimiter{inner: l.Handler(), state: &repeatState{messages: map[string]*repeats{}}})
}

func (h *repeatLimiter) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *repeatLimiter) Handle(ctx context.Context, r slog.Record) error {
	pass, suppressed := h.state.admit(r.Message, r.Time)
	if !pass {
		return nil
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeats_suppressed", suppressed))
	}
	return h.inner.Handle(ctx, r)
}

// admit reports whether a line with msg at time at may be written — the
// ring's oldest line is a second old or more — and how many lines with
// msg were dropped since the last one written.
func (s *repeatState) admit(msg string, at time.Time) (pass bool, suppressed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.messages[msg]
	if r == nil {
		r = &repeats{}
		s.messages[msg] = r
	}
	if oldest := r.last[r.next]; !oldest.IsZero() && at.Sub(oldest) < time.Second {
		r.suppressed++
		return false, 0
	}
	r.last[r.next] = at
	r.next = (r.next + 1) % len(r.last)
	suppressed, r.suppressed = r.suppressed, 0
	return true, suppressed
}

func (h *repeatLimiter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &repeatLimiter{inner: h.inner.WithAttrs(attrs), state: h.state}
}

func (h *repeatLimiter) WithGroup(name string) slog.Handler {
	return &repeatLimiter{inner: h.inner.WithGroup(name), state: h.state}
}
