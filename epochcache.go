// The leader-epoch cache of a partition: where each epoch began (KIP-101).

package creek

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/framefile"
	"github.com/creekmq/creek/internal/fsx"
)

// epochCheckpointName is the file, in a partition's directory, that keeps
// its leader epochs: where each leader's batches begin (KIP-101).
const epochCheckpointName = "leader-epoch-checkpoint"

// epochStart is where one leader epoch's batches begin in the log.
type epochStart struct {
	epoch int32
	start int64
}

// epochCache is a partition's leader epochs, each with the offset its
// first batch has or will have, in increasing order of both: what a leader
// answers OffsetForLeaderEpoch from, and what a follower finds its
// divergence point by. It is written to its file before the log holds a
// batch of a new epoch, so the file never lags the log; entries past the
// log's end after a crash are dropped on open.
type epochCache struct {
	fs   fsx.FS
	dir  string
	mu   sync.Mutex
	list []epochStart
}

// openEpochCache loads a partition's epochs, dropping those that start
// past the log's end. Without a file (a log written before epochs were
// kept) it rebuilds them from the batches' headers.
func openEpochCache(fs fsx.FS, dir string, l *Log) (*epochCache, error) {
	c := &epochCache{fs: fs, dir: dir}
	b, err := framefile.ReadFile(fs, filepath.Join(dir, epochCheckpointName), 1<<20)
	switch {
	case err == nil:
		if c.list, err = decodeEpochCheckpoint(b); err != nil {
			l.log.Warn("ignoring a damaged leader epoch checkpoint; rebuilding it from the log", "err", err)
			return c, c.rebuild(l)
		}
	case errors.Is(err, os.ErrNotExist):
		return c, c.rebuild(l)
	default:
		return nil, err
	}
	end := l.EndOffset()
	kept := c.list[:0]
	for _, e := range c.list {
		if e.start <= end {
			kept = append(kept, e)
		}
	}
	if len(kept) < len(c.list) {
		c.list = kept
		return c, c.saveLocked()
	}
	return c, nil
}

// rebuild reads the epochs from the headers of every batch in the log.
func (c *epochCache) rebuild(l *Log) error {
	c.list = nil
	err := l.forEachHeader(l.StartOffset(), func(h batch.Header) {
		if e := h.PartitionLeaderEpoch; e >= 0 && (len(c.list) == 0 || e > c.list[len(c.list)-1].epoch) {
			c.list = append(c.list, epochStart{epoch: e, start: h.BaseOffset})
		}
	})
	if err != nil {
		return err
	}
	return c.saveLocked()
}

// latest returns the newest epoch, or -1 when there is none.
func (c *epochCache) latest() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.list) == 0 {
		return -1
	}
	return c.list[len(c.list)-1].epoch
}

// assign records that epoch begins at start, unless it is already known.
// An epoch older than the newest is refused: batches never go back.
func (c *epochCache) assign(epoch int32, start int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.list); n > 0 {
		last := c.list[n-1]
		if epoch == last.epoch {
			return nil
		}
		if epoch < last.epoch || start < last.start {
			return fmt.Errorf("leader epoch %d at %d after epoch %d at %d", epoch, start, last.epoch, last.start)
		}
	}
	c.list = append(c.list, epochStart{epoch: epoch, start: start})
	return c.saveLocked()
}

// endOffsetFor answers OffsetForLeaderEpoch as Kafka does: for the newest
// epoch, the log end offset; for an older one, the largest epoch not above
// it and the start of the next epoch; for one older than every epoch, the
// epoch asked and the first epoch's start; (-1, -1) for an epoch newer
// than all or for none.
func (c *epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.list)
	if epoch < 0 || n == 0 {
		return -1, -1
	}
	if epoch == c.list[n-1].epoch {
		return epoch, logEnd
	}
	higher := 0
	for higher < n && c.list[higher].epoch <= epoch {
		higher++
	}
	switch {
	case higher == n:
		return -1, -1
	case higher == 0:
		return epoch, c.list[0].start
	}
	return c.list[higher-1].epoch, c.list[higher].start
}

// truncateFrom forgets the epochs that begin at or after end, after the
// log was truncated there.
func (c *epochCache) truncateFrom(end int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.list)
	for n > 0 && c.list[n-1].start >= end {
		n--
	}
	if n == len(c.list) {
		return nil
	}
	c.list = c.list[:n]
	return c.saveLocked()
}

// forgetAfter forgets, after a follower's log was cut at end where it
// diverged from its leader's, the epochs that begin past end, and those
// that begin at end and are newer than keep, the leader's epoch that ends
// there: such an epoch holds nothing the leader has (a follower that led
// it wrote nothing in it), and naming it in a fetch would find the logs
// diverged again.
func (c *epochCache) forgetAfter(end int64, keep int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.list)
	for n > 0 && (c.list[n-1].start > end || c.list[n-1].start == end && c.list[n-1].epoch > keep) {
		n--
	}
	if n == len(c.list) {
		return nil
	}
	c.list = c.list[:n]
	return c.saveLocked()
}

func (c *epochCache) saveLocked() error {
	return framefile.WriteAtomic(c.fs, c.dir, epochCheckpointName, encodeEpochCheckpoint(c.list))
}

// The checkpoint is text, as Kafka's is: a version line, a count line,
// then one "epoch start" line per epoch.
const epochCheckpointVersion = 0

func encodeEpochCheckpoint(list []epochStart) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n%d\n", epochCheckpointVersion, len(list))
	for _, e := range list {
		fmt.Fprintf(&b, "%d %d\n", e.epoch, e.start)
	}
	return []byte(b.String())
}

// maxEpochEntries bounds a checkpoint: a count beyond it is damage.
const maxEpochEntries = 1 << 16

func decodeEpochCheckpoint(b []byte) ([]epochStart, error) {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 2 || lines[0] != strconv.Itoa(epochCheckpointVersion) {
		return nil, fmt.Errorf("leader epoch checkpoint: unknown version or too short")
	}
	count, err := strconv.Atoi(lines[1])
	if err != nil || count < 0 || count > maxEpochEntries || count != len(lines)-2 {
		return nil, fmt.Errorf("leader epoch checkpoint: count %q for %d entries", lines[1], len(lines)-2)
	}
	list := make([]epochStart, 0, count)
	for _, line := range lines[2:] {
		epochText, startText, ok := strings.Cut(line, " ")
		epoch, err1 := strconv.ParseInt(epochText, 10, 32)
		start, err2 := strconv.ParseInt(startText, 10, 64)
		if !ok || err1 != nil || err2 != nil || epoch < 0 || start < 0 {
			return nil, fmt.Errorf("leader epoch checkpoint: bad entry %q", line)
		}
		if n := len(list); n > 0 && (int32(epoch) <= list[n-1].epoch || start < list[n-1].start) {
			return nil, fmt.Errorf("leader epoch checkpoint: entry %q out of order", line)
		}
		list = append(list, epochStart{epoch: int32(epoch), start: start})
	}
	return list, nil
}
