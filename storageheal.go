// Healing a failed log: probing the disk until it takes writes, then
// reopening.

package creek

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// A partition whose log failed (a write or sync error: a full disk, an
// I/O error) refuses appends with ErrLogFailed, KAFKA_STORAGE_ERROR on the
// wire, and heals itself: it probes its directory with a write and a sync
// of probeBytes until both succeed, then reopens its log, which recovers
// from what is on disk as at a restart (cutting a torn tail, trusting
// nothing a failed sync may have lost). Before, it stayed failed until the
// process restarted, although space was freed.

// probeBytes is what a probe writes: room for a batch or so.
const probeBytes = 1 << 20

// The pause between probes doubles from healBackoffMin to healBackoffMax.
const (
	healBackoffMin = 100 * time.Millisecond
	healBackoffMax = 30 * time.Second
)

// probeName is the probe's file in the partition's directory.
const probeName = ".storage-probe"

// healLater starts healing the partition if err says its log failed and
// it is not healing already.
func (p *partition) healLater(err error) {
	if !errors.Is(err, ErrLogFailed) || !p.healing.CompareAndSwap(false, true) {
		return
	}
	p.healWG.Add(1)
	go func() {
		defer p.healWG.Done()
		defer p.healing.Store(false)
		p.heal()
	}()
}

// heal probes, with backoff, until the directory takes writes again, then
// reopens the log; it returns then, or when the partition closes.
func (p *partition) heal() {
	backoff := healBackoffMin
	for {
		t := time.NewTimer(backoff)
		select {
		case <-p.closing:
			t.Stop()
			return
		case <-t.C:
		}
		err := p.probe()
		if err == nil {
			err = p.reopenFailedLog()
		}
		if err == nil {
			return
		}
		p.logger.Warn("partition storage still failing; appends refused", "topic", p.topic,
			"partition", p.index, "err", err, "retry_in", backoff)
		backoff = min(2*backoff, healBackoffMax)
	}
}

// probe writes and syncs probeBytes in the partition's directory, then
// removes them.
func (p *partition) probe() error {
	path := filepath.Join(p.dir, probeName)
	f, err := p.fs.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	_, err = f.WriteAt(make([]byte, probeBytes), 0)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close(), p.fs.Remove(path))
}

// reopenFailedLog closes the failed log and opens it again, with the
// producer table and leader epochs rebuilt for what it holds. Appends,
// fetches and role changes wait meanwhile.
func (p *partition) reopenFailedLog() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log.appendable() == nil {
		return nil // healed meanwhile
	}
	before := p.log.EndOffset()
	if err := p.log.Close(); err != nil {
		p.logger.Warn("closing a failed log", "topic", p.topic, "partition", p.index, "err", err)
	}
	l, err := p.openLog(p.cfg)
	if err != nil {
		return err
	}
	p.log = l
	if err := p.epochs.forgetAfter(l.EndOffset(), math.MaxInt32); err != nil {
		return err
	}
	if err := p.reloadProducersLocked(); err != nil {
		return err
	}
	p.logger.Info("partition storage recovered; appends resume", "topic", p.topic, "partition", p.index,
		"log_end_before", before, "log_end", l.EndOffset())
	p.wake()
	return nil
}
