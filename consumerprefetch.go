// Read-ahead: the next windows of a partition the consumer reads from a
// backlog, fetched and decoded while the caller handles the last Poll.

package creek

import (
	"context"
	"slices"
)

const (
	// maxPrefetchBytes bounds what a consumer reads ahead over all its
	// partitions, as Kafka's fetch.max.bytes bounds a fetch (50 MiB).
	maxPrefetchBytes = 50 << 20
	// windowsAhead is how many windows of one partition are read ahead:
	// two, so that one is read from the log while the one before it is
	// decoded.
	windowsAhead = 2
)

// prefetch is one window of a partition, read in the background from the
// position the consumer will have once the caller has the records before
// it: a backlog is then read at the pace of the log rather than of read,
// decode and handle in turn. Only a window of records is kept; anything
// else (the end of the log, an error, only control batches, a position
// that moved) is left to Poll's own read, so the semantics stay Poll's.
type prefetch struct {
	from    int64         // the position it reads from
	next    int64         // where the window after it starts, once read; -1 before
	done    chan struct{} // closed once records is set
	records []Record      // decoded, Topic and Partition set; nil if the read failed or found none
	bytes   int           // what it holds of maxPrefetchBytes
}

// takePrefetched returns the window read ahead for tp from offset, if
// there is one, waiting for it to be read; the records beyond budget stay
// for the next Poll. It reports false if there is none to use, and then
// forgets what was read ahead for tp.
func (c *Consumer) takePrefetched(tp TopicPartition, offset int64, budget int) ([]Record, bool) {
	c.mu.Lock()
	queue := c.prefetched[tp]
	c.mu.Unlock()
	if len(queue) == 0 {
		return nil, false
	}
	pf := queue[0]
	<-pf.done // a local read of one window
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.prefetched[tp]) == 0 || c.prefetched[tp][0] != pf { // dropped meanwhile
		return nil, false
	}
	if pf.from != offset || len(pf.records) == 0 {
		c.dropPrefetchedLocked(tp)
		return nil, false
	}
	records := pf.records
	if len(records) <= budget {
		c.prefetchBytes -= pf.bytes
		c.prefetched[tp] = c.prefetched[tp][1:]
		return records, true
	}
	// The rest of the window stays at the head, from the next offset.
	pf.records, pf.from = records[budget:], records[budget].Offset
	return records[:budget:budget], true // the caller may append without writing over the rest
}

// startPrefetch reads the next window of tp in the background, if fewer
// than windowsAhead are read ahead for it and the consumer's budget has
// room: from offset when none is, otherwise from where the last one read
// ahead ends, once that one knows (readAhead then starts it).
func (c *Consumer) startPrefetch(tp TopicPartition, p *partition, offset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startPrefetchLocked(tp, p, offset)
}

func (c *Consumer) startPrefetchLocked(tp TopicPartition, p *partition, offset int64) {
	queue := c.prefetched[tp]
	if c.closed || len(queue) >= windowsAhead || c.prefetchBytes+c.cfg.PartitionMaxBytes > maxPrefetchBytes {
		return
	}
	if len(queue) > 0 {
		if offset = queue[len(queue)-1].next; offset < 0 {
			return // still being read: it starts the next once it knows where that begins
		}
	}
	pf := &prefetch{from: offset, next: -1, done: make(chan struct{}), bytes: c.cfg.PartitionMaxBytes}
	c.prefetched[tp] = append(queue, pf)
	c.prefetchBytes += pf.bytes
	c.prefetching.Add(1)
	go c.readAhead(tp, p, pf)
}

// readAhead reads pf's window, starts the read of the window after it,
// then decodes its own: the log is read while the window before is
// decoded, and windows are decoded side by side.
func (c *Consumer) readAhead(tp TopicPartition, p *partition, pf *prefetch) {
	defer c.prefetching.Done()
	defer close(pf.done)
	if p.checkLeader(-1) != nil {
		return
	}
	b, aborted, err := p.fetchIsolated(context.Background(), nil, pf.from,
		FetchOptions{MaxBytes: c.cfg.PartitionMaxBytes, isolation: c.cfg.Isolation})
	if err != nil || len(b) < c.cfg.PartitionMaxBytes/2 {
		return // the end of the log is near: Poll reads the rest itself
	}
	c.mu.Lock()
	pf.next = lastOffsetIn(b) + 1
	if queue := c.prefetched[tp]; len(queue) > 0 && queue[len(queue)-1] == pf {
		c.startPrefetchLocked(tp, p, pf.next)
	}
	c.mu.Unlock()
	if !c.readsAhead(tp, pf) {
		return // closed, or dropped by a Seek: its records would be thrown away
	}
	records, err := appendRecords(nil, b, tp, pf.from, -1, newAbortedFilter(aborted))
	if err != nil {
		return
	}
	pf.records = records
}

// readsAhead reports whether pf is still read ahead for tp.
func (c *Consumer) readsAhead(tp TopicPartition, pf *prefetch) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && slices.Contains(c.prefetched[tp], pf)
}

// dropPrefetched forgets what was read ahead for tp.
func (c *Consumer) dropPrefetched(tp TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropPrefetchedLocked(tp)
}

// dropPrefetchedLocked forgets what was read ahead for tp.
func (c *Consumer) dropPrefetchedLocked(tp TopicPartition) {
	for _, pf := range c.prefetched[tp] {
		c.prefetchBytes -= pf.bytes
	}
	delete(c.prefetched, tp)
}

// dropUnreadLocked forgets what was read ahead for partitions no longer
// read.
func (c *Consumer) dropUnreadLocked() {
	for tp := range c.prefetched {
		if pos := c.assigned[tp]; pos == nil || pos.paused {
			c.dropPrefetchedLocked(tp)
		}
	}
}
