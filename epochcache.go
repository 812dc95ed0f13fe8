// The leader-epoch cache of a partition (KIP-101): its checkpoint file,
// loaded, saved and rebuilt from the log; the rules are internal/epochs'.

package creek

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/epochs"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
)

// epochCheckpointName is the file, in a partition's directory, that keeps
// its leader epochs: where each leader's batches begin (KIP-101).
const epochCheckpointName = "leader-epoch-checkpoint"

// epochCache is a partition's leader epochs (an epochs.List) kept in its
// checkpoint file. It is written to its file before the log holds a batch
// of a new epoch, so the file never lags the log; entries past the log's
// end after a crash are dropped on open.
type epochCache struct {
	fs   fsx.FS
	dir  string
	mu   sync.Mutex
	list epochs.List
}

// openEpochCache loads a partition's epochs, dropping those that start
// past the log's end. Without a file (a log written before epochs were
// kept) it rebuilds them from the batches' headers.
func openEpochCache(fs fsx.FS, dir string, l *Log) (*epochCache, error) {
	c := &epochCache{fs: fs, dir: dir}
	b, err := framefile.ReadFile(fs, filepath.Join(dir, epochCheckpointName), 1<<20)
	switch {
	case err == nil:
		if c.list, err = epochs.UnmarshalCheckpoint(b); err != nil {
			l.log.Warn("ignoring a damaged leader epoch checkpoint; rebuilding it from the log", "err", err)
			return c, c.rebuild(l)
		}
	case errors.Is(err, os.ErrNotExist):
		return c, c.rebuild(l)
	default:
		return nil, err
	}
	if c.list.ForgetAfter(l.EndOffset(), math.MaxInt32) {
		return c, c.saveLocked()
	}
	return c, nil
}

// rebuild reads the epochs from the headers of every batch in the log.
func (c *epochCache) rebuild(l *Log) error {
	c.list = epochs.List{}
	var assignErr error
	err := l.forEachHeader(l.StartOffset(), func(h batch.Header) {
		if e := h.PartitionLeaderEpoch; e > c.list.Latest() && assignErr == nil {
			_, assignErr = c.list.Assign(e, h.BaseOffset)
		}
	})
	if err = errors.Join(err, assignErr); err != nil {
		return err
	}
	return c.saveLocked()
}

// latest returns the newest epoch, or -1 when there is none.
func (c *epochCache) latest() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.list.Latest()
}

// assign records that epoch begins at start, unless it is already known
// (epochs.List.Assign), and saves the change.
func (c *epochCache) assign(epoch int32, start int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed, err := c.list.Assign(epoch, start)
	if !changed || err != nil {
		return err
	}
	return c.saveLocked()
}

// endOffsetFor answers OffsetForLeaderEpoch (epochs.List.EndOffsetFor).
func (c *epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.list.EndOffsetFor(epoch, logEnd)
}

// truncateFrom forgets the epochs that begin at or after end, after the
// log was truncated there (epochs.List.TruncateFrom).
func (c *epochCache) truncateFrom(end int64) error {
	return c.cut(func() bool { return c.list.TruncateFrom(end) })
}

// forgetAfter forgets, after a follower's log was cut at end where it
// diverged from its leader's, the epochs past end and those at end newer
// than keep, the leader's epoch that ends there (epochs.List.ForgetAfter).
func (c *epochCache) forgetAfter(end int64, keep int32) error {
	return c.cut(func() bool { return c.list.ForgetAfter(end, keep) })
}

// cut applies a cut of the list under the lock and saves it if it changed.
func (c *epochCache) cut(cut func() (changed bool)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !cut() {
		return nil
	}
	return c.saveLocked()
}

func (c *epochCache) saveLocked() error {
	return framefile.WriteAtomic(c.fs, c.dir, epochCheckpointName, c.list.MarshalCheckpoint())
}
