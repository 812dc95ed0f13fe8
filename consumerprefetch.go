// Read-ahead: the next window of a partition the consumer reads from a
// backlog, fetched and decoded while the caller handles the last Poll.

package creek

import "context"

// maxPrefetchBytes bounds what a consumer reads ahead over all its
// partitions, as Kafka's fetch.max.bytes bounds a fetch (50 MiB).
const maxPrefetchBytes = 50 << 20

// prefetch is one partition's next window, read in the background from
// the position the consumer will have once the caller has the records
// Poll returned: a backlog is then read at the pace of the log rather than
// of read, decode and handle in turn. Only a read that returns records is
// kept; anything else (the end of the log, an error, a position that
// moved) is left to Poll's own read, so the semantics stay Poll's.
type prefetch struct {
	from    int64         // the position it reads from
	done    chan struct{} // closed once records and bytes are set
	records []Record      // decoded, Topic and Partition set; nil if the read failed or found nothing
	bytes   int           // what it holds of maxPrefetchBytes
}

// takePrefetched returns the window read ahead for tp from offset, if
// there is one, waiting for it to be read; the rest beyond budget stays
// for the next Poll. It reports false if there is none to use.
func (c *Consumer) takePrefetched(tp TopicPartition, offset int64, budget int) ([]Record, bool) {
	c.mu.Lock()
	pf := c.prefetched[tp]
	delete(c.prefetched, tp)
	c.mu.Unlock()
	if pf == nil {
		return nil, false
	}
	<-pf.done // a local read of one window
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prefetchBytes -= pf.bytes
	if pf.from != offset || len(pf.records) == 0 {
		return nil, false
	}
	records := pf.records
	if len(records) > budget {
		rest := &prefetch{from: records[budget].Offset, done: pf.done, records: records[budget:]}
		if c.prefetched[tp] == nil && !c.closed {
			c.prefetched[tp] = rest
		}
		records = records[:budget:budget] // the caller may append without writing over the rest
	}
	return records, true
}

// startPrefetch reads tp's next window from offset in the background, if
// the partition is led here, nothing is read ahead for it yet, and the
// consumer's budget has room.
func (c *Consumer) startPrefetch(tp TopicPartition, p *partition, offset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.prefetched[tp] != nil || c.prefetchBytes+c.cfg.PartitionMaxBytes > maxPrefetchBytes {
		return
	}
	pf := &prefetch{from: offset, done: make(chan struct{}), bytes: c.cfg.PartitionMaxBytes}
	c.prefetched[tp] = pf
	c.prefetchBytes += pf.bytes
	c.prefetching.Add(1)
	go func() {
		defer c.prefetching.Done()
		defer close(pf.done)
		if p.checkLeader(-1) != nil {
			return
		}
		b, err := p.fetch(context.Background(), nil, offset, FetchOptions{MaxBytes: c.cfg.PartitionMaxBytes})
		if err != nil {
			return
		}
		records, err := appendRecords(nil, b, offset, c.cfg.MaxPollRecords)
		if err != nil {
			return
		}
		for i := range records {
			records[i].Topic, records[i].Partition = tp.Topic, tp.Partition
		}
		pf.records = records
	}()
}

// dropPrefetchedLocked forgets what was read ahead for partitions no
// longer read.
func (c *Consumer) dropPrefetchedLocked() {
	for tp := range c.prefetched {
		if pos := c.assigned[tp]; pos == nil || pos.paused {
			c.prefetchBytes -= c.prefetched[tp].bytes
			delete(c.prefetched, tp)
		}
	}
}
