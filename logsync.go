// Group commit: concurrent appenders to a log share one fsync.

package creek

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// groupCommit lets concurrent appenders share fsyncs. An appender that needs
// its batch durable waits until the durable offset passes it; if no sync is
// running, it runs one itself, covering every batch written so far. Appenders
// that arrive during that sync wait, and the first of them to wake runs the
// next sync for all of them. There is no syncer goroutine to stop.
type groupCommit struct {
	mu      sync.Mutex
	cond    *sync.Cond
	syncing bool
	durable int64 // every offset below this is synced
	err     error // a failed sync; the log refuses appends after it

	syncedBytes atomic.Int64 // appended byte count at the last sync
}

func (g *groupCommit) wait() {
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.cond.Wait()
}

func (g *groupCommit) broadcast() {
	if g.cond != nil {
		g.cond.Broadcast()
	}
}

// markDurable records that every offset below offset is synced.
func (g *groupCommit) markDurable(offset int64) {
	g.mu.Lock()
	g.durable = max(g.durable, offset)
	g.mu.Unlock()
}

// unsyncedBytes returns how many of the total appended bytes wait for a sync.
func (g *groupCommit) unsyncedBytes(total int64) int64 { return total - g.syncedBytes.Load() }

// waitDurable returns once every offset below end is synced.
func (l *Log) waitDurable(end int64) error {
	g := &l.group
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.durable < end {
		if g.err != nil {
			return g.err // wraps ErrLogFailed
		}
		if g.syncing {
			g.wait()
			continue
		}
		g.syncing = true
		g.mu.Unlock()
		target, bytes, err := l.syncActive()
		g.mu.Lock()
		g.syncing = false
		g.broadcast()
		if errors.Is(err, ErrClosed) {
			return err
		}
		if err != nil {
			g.err = err
			continue
		}
		g.durable = max(g.durable, target)
		g.syncedBytes.Store(max(g.syncedBytes.Load(), bytes))
	}
	return nil
}

// syncActive syncs the active segment, waits for the background flushes of
// segments rolled before it, and returns the end offset and the appended
// byte count that are then durable.
func (l *Log) syncActive() (end, bytes int64, err error) {
	l.appendMu.Lock()
	if err := l.appendableLocked(); err != nil {
		l.appendMu.Unlock()
		return 0, 0, err
	}
	s, flushed := l.active, l.lastFlush
	end, bytes = l.endOffset.Load(), l.stats.bytes.Load()
	// Holding segsMu shared keeps the segment open (truncation and deletion
	// take it exclusively) without blocking appenders during the fsync.
	l.segsMu.RLock()
	l.appendMu.Unlock()
	err = s.sync(false)
	l.segsMu.RUnlock()
	if err == nil {
		l.stats.syncs.Add(1)
	}
	if flushed != nil {
		<-flushed // not while holding segsMu: a roll waiting for it would block the flush
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err != nil {
		return 0, 0, l.failLocked(err)
	}
	if err := l.appendableLocked(); err != nil {
		return 0, 0, err // a background flush failed
	}
	return end, bytes, nil
}

// startBackground starts the goroutine that syncs on an interval and applies
// retention and compaction, when the config asks for any of them.
func (l *Log) startBackground() {
	periodic := l.cfg.Sync == SyncPeriodically
	housekeeping := l.cfg.Retention > 0 || l.cfg.RetentionBytes > 0 || l.cfg.Cleanup.compacts()
	if !periodic && !housekeeping {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		var syncTick, checkTick <-chan time.Time
		if periodic {
			t := time.NewTicker(l.cfg.SyncInterval)
			defer t.Stop()
			syncTick = t.C
		}
		if housekeeping {
			t := time.NewTicker(l.cfg.CheckInterval)
			defer t.Stop()
			checkTick = t.C
		}
		for {
			select {
			case <-l.closing:
				return
			case <-syncTick:
				if err := l.Sync(); err != nil && !errors.Is(err, ErrClosed) {
					l.log.Error("periodic sync", "err", err)
				}
			case <-checkTick:
				l.housekeep()
			}
		}
	}()
}

// setDurable sets the durable offset, which truncation lowers.
func (g *groupCommit) setDurable(offset int64) {
	g.mu.Lock()
	g.durable = offset
	g.mu.Unlock()
}
