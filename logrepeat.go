package creek

import (
	"context"
	"log/slog"
	"sync"
)

// maxRepeatsPerSecond is how many lines with one message a node logs in a
// second. A fault that repeats at every fetch or every request (a peer
// gone, a log that cannot continue) must not fill a disk: past the limit
// lines are counted, and one line per message gives the count when the
// second is over.
const maxRepeatsPerSecond = 10

// repeatLimiter is a slog.Handler that passes on at most
// maxRepeatsPerSecond records with the same message in each second of
// their time.
type repeatLimiter struct {
	inner slog.Handler
	state *repeatState // shared by the handlers WithAttrs and WithGroup derive
}

type repeatState struct {
	mu         sync.Mutex
	second     int64          // the Unix second being counted
	counts     map[string]int // records per message in that second
	suppressed map[string]int // records dropped per message, not yet reported
}

// limitRepeats returns a logger that writes through l's handler with
// repeats limited.
func limitRepeats(l *slog.Logger) *slog.Logger {
	if _, limited := l.Handler().(*repeatLimiter); limited {
		return l
	}
	return slog.New(&repeatLimiter{inner: l.Handler(), state: &repeatState{counts: map[string]int{}, suppressed: map[string]int{}}})
}

func (h *repeatLimiter) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *repeatLimiter) Handle(ctx context.Context, r slog.Record) error {
	pass, report := h.state.admit(r)
	for msg, n := range report {
		summary := slog.NewRecord(r.Time, slog.LevelWarn, "log lines suppressed: the same message repeated", 0)
		summary.AddAttrs(slog.String("message", msg), slog.Int("suppressed", n))
		if err := h.inner.Handle(ctx, summary); err != nil {
			return err
		}
	}
	if !pass {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

// admit counts r and reports whether it may be written, and the counts
// suppressed in seconds now over.
func (s *repeatState) admit(r slog.Record) (pass bool, report map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := r.Time.Unix(); sec != s.second {
		s.second = sec
		clear(s.counts)
		if len(s.suppressed) > 0 {
			report, s.suppressed = s.suppressed, map[string]int{}
		}
	}
	s.counts[r.Message]++
	if s.counts[r.Message] > maxRepeatsPerSecond {
		s.suppressed[r.Message]++
		return false, report
	}
	return true, report
}

func (h *repeatLimiter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &repeatLimiter{inner: h.inner.WithAttrs(attrs), state: h.state}
}

func (h *repeatLimiter) WithGroup(name string) slog.Handler {
	return &repeatLimiter{inner: h.inner.WithGroup(name), state: h.state}
}
