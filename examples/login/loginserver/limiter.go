package loginserver

import (
	"sync"
	"time"
)

// Limiter counts failed logins per email: after MaxFailures within Window
// the email is locked until Window has passed since the first failure.
type Limiter struct {
	MaxFailures int
	Window      time.Duration
	now         func() time.Time

	mu       sync.Mutex
	failures map[string]*failures
}

type failures struct {
	count int
	since time.Time
}

// NewLimiter returns a limiter of maxFailures per window.
func NewLimiter(maxFailures int, window time.Duration) *Limiter {
	return &Limiter{MaxFailures: maxFailures, Window: window, now: time.Now, failures: map[string]*failures{}}
}

// Locked reports whether an email has failed too often.
func (l *Limiter) Locked(email string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.currentLocked(normalize(email))
	return f != nil && f.count >= l.MaxFailures
}

// Fail records a failed attempt.
func (l *Limiter) Fail(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := normalize(email)
	f := l.currentLocked(key)
	if f == nil {
		f = &failures{since: l.now()}
		l.failures[key] = f
	}
	f.count++
}

// Succeed forgets an email's failures.
func (l *Limiter) Succeed(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, normalize(email))
}

// currentLocked returns an email's failures in the current window.
func (l *Limiter) currentLocked(key string) *failures {
	f := l.failures[key]
	if f != nil && l.now().Sub(f.since) >= l.Window {
		delete(l.failures, key)
		return nil
	}
	return f
}
