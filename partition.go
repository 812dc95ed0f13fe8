package creek

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/creekmq/creek/internal/batch"
	"github.com/creekmq/creek/internal/fsx"
)

// partition is one partition of a topic on this node: its log, the topic
// settings it applies to batches, and the readers waiting for new data.
type partition struct {
	topic string
	index int32
	dir   string
	now   func() time.Time

	// mu guards log and cfg. Produce and Fetch hold it shared while they use
	// the log; a config change holds it exclusively to swap in a log opened
	// with the new settings.
	mu  sync.RWMutex
	log *Log
	cfg topicConfig

	waitMu  sync.Mutex
	arrived chan struct{} // closed, and replaced, when a batch is appended
}

func partitionDir(nodeDir, topic string, index int32) string {
	return filepath.Join(nodeDir, fmt.Sprintf("%s-%d", topic, index))
}

func openPartition(fs fsx.FS, nodeDir, topic string, index int32, cfg topicConfig, logger LogConfig, now func() time.Time) (*partition, error) {
	p := &partition{topic: topic, index: index, dir: partitionDir(nodeDir, topic, index), now: now, cfg: cfg,
		arrived: make(chan struct{})}
	lc := cfg.log
	lc.Logger = logger.Logger
	l, err := openLogAt(fs, p.dir, lc, now)
	if err != nil {
		return nil, fmt.Errorf("partition %s-%d: %w", topic, index, err)
	}
	p.log = l
	return p, nil
}

// produce appends one batch as the topic's settings say: recompressed when
// compression.type names a codec other than the batch's, stamped with the
// log append time under LogAppendTime, and with leader epoch 0 (a single
// node is always the leader). It returns the base offset and the time the
// batch was stamped with (-1 under CreateTime). It writes to b and may
// return a new batch in its place.
func (p *partition) produce(b []byte) (base, appendTime int64, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	h, err := batch.Validate(b)
	if err != nil {
		return -1, -1, fmt.Errorf("produce to %s-%d: %w", p.topic, p.index, err)
	}
	if !p.cfg.keepCompression && h.Compression() != p.cfg.compression && !h.Control() {
		if b, err = recompress(b, h, p.cfg.compression); err != nil {
			return -1, -1, fmt.Errorf("produce to %s-%d: %w", p.topic, p.index, err)
		}
	}
	batch.SetPartitionLeaderEpoch(b, 0)
	appendTime = -1
	if p.cfg.timestampType == batch.LogAppendTime {
		appendTime = p.now().UnixMilli()
		batch.SetLogAppendTime(b, appendTime)
	}
	if base, err = p.log.Append(b); err != nil {
		return -1, -1, fmt.Errorf("produce to %s-%d: %w", p.topic, p.index, err)
	}
	p.wake()
	return base, appendTime, nil
}

// wake tells waiting readers that a batch arrived.
func (p *partition) wake() {
	p.waitMu.Lock()
	close(p.arrived)
	p.arrived = make(chan struct{})
	p.waitMu.Unlock()
}

func (p *partition) arrival() <-chan struct{} {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	return p.arrived
}

// FetchOptions bound a fetch, as a Kafka Fetch request does.
type FetchOptions struct {
	MaxBytes int           // at most this much, but always a whole batch; default 1 MiB
	MinBytes int           // wait until this much is there; default 1
	MaxWait  time.Duration // but no longer than this; zero returns at once
}

// fetch appends to dst the batches from offset on, waiting as opts say for
// enough to arrive. It returns when ctx ends with what it has and ctx's
// error.
func (p *partition) fetch(ctx context.Context, dst []byte, offset int64, opts FetchOptions) ([]byte, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	opts.MinBytes = max(opts.MinBytes, 1)
	var deadline <-chan time.Time
	if opts.MaxWait > 0 {
		t := time.NewTimer(opts.MaxWait)
		defer t.Stop()
		deadline = t.C
	}
	p.mu.RLock()
	first, end := p.log.StartOffset(), p.log.EndOffset()
	p.mu.RUnlock()
	if offset < first || offset > end {
		return dst, fmt.Errorf("fetch %s-%d: %w: %d is outside [%d, %d]", p.topic, p.index, ErrOffsetOutOfRange, offset, first, end)
	}
	start, next := len(dst), offset
	for {
		arrived := p.arrival() // before reading, so an append after the read wakes us
		var err error
		p.mu.RLock()
		for next < p.log.EndOffset() && len(dst)-start < opts.MaxBytes {
			before := len(dst)
			dst, err = p.log.Read(dst, next, opts.MaxBytes-(len(dst)-start))
			if err != nil || len(dst) == before {
				break
			}
			if len(dst)-start > opts.MaxBytes && before > start {
				dst = dst[:before] // only the first batch may pass MaxBytes (KIP-74)
				break
			}
			next = lastOffsetIn(dst[before:]) + 1
		}
		p.mu.RUnlock()
		if err != nil || len(dst)-start >= opts.MinBytes || deadline == nil {
			return dst, err
		}
		select {
		case <-arrived:
		case <-deadline:
			return dst, nil
		case <-ctx.Done():
			return dst, ctx.Err()
		}
	}
}

// lastOffsetIn returns the last offset of the last batch in b, or -1.
func lastOffsetIn(b []byte) int64 {
	last := int64(-1)
	for len(b) > 0 {
		one, rest, err := batch.Next(b)
		if err != nil {
			break
		}
		h, _ := batch.ParseHeader(one)
		last = h.LastOffset()
		b = rest
	}
	return last
}

// recompress rebuilds b with codec, keeping every record and header field.
func recompress(b []byte, h batch.Header, codec batch.Compression) ([]byte, error) {
	records, err := decodeRecords(b)
	if err != nil {
		return nil, err
	}
	opts := h.BuildOptions()
	opts.Compression = codec
	out, err := batch.Build(opts, records...)
	if err != nil {
		return nil, err
	}
	batch.SetBaseOffset(out, h.BaseOffset)
	return out, nil
}

// reconfigure reopens the partition's log with cfg; reads and appends in
// flight finish first.
func (p *partition) reconfigure(fs fsx.FS, cfg topicConfig, logger LogConfig) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.log.Close(); err != nil {
		return err
	}
	lc := cfg.log
	lc.Logger = logger.Logger
	l, err := openLogAt(fs, p.dir, lc, p.now)
	if err != nil {
		return fmt.Errorf("partition %s-%d: %w", p.topic, p.index, err)
	}
	p.log, p.cfg = l, cfg
	return nil
}

func (p *partition) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Close()
}
